"""Mandates in words compiled into a typed `Policy`, offline by rules, or by a configured model.

Either way the words first become a `MandateDraft` (what the mandate says, in tokens and days),
and one function, `policy_from_draft`, turns a draft into the policy: the rules read the draft out
of the words (`draft_of_words`); a model proposes it by calling the one tool `propose_policy`,
whose JSON schema is the draft's. So a model can propose but never widen what the schema allows,
its draft meets the same defaults and refusals as the rules', and the owner confirms the
plain-words rendering either way.

The rules cover the common shapes: a cap per period ("at most 5 tokens a day"), a total ("never
more than 50 in total"), a duration ("for 30 days" or "until 2027-01-31"), a cap per payment ("at
most 2 per tip"), recipients by address, recipients by role ("the authors of answers I rate
helpful"), vaults ("stake in 0x..."), swap routers with the tokens a swap may buy ("swap via 0x...
into 0x... or 0x..."), a swap cap ("never swap more than 10 a week"), and a share kept in a vault
("keep at least 80% in the vault", "at most 100 in the vault"). What a mandate leaves unsaid is
refused, except where a default is strictly narrower and said in `notes`.
"""

import calendar
import json
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aigora.agent.errors import MandateError, ModelError, PolicyError
from aigora.agent.intents import (
    DEPOSIT_SIGNATURE,
    REDEEM_SIGNATURE,
    SWAP_SIGNATURE,
    WITHDRAW_SIGNATURE,
    selector_of,
)
from aigora.agent.model_planner import ModelEndpoint, post_chat, tool_calls_of
from aigora.agent.planner import to_units
from aigora.agent.policy import BPS, DAY, Address, AllowedCall, KeepInVault, Limit, Policy

_NUM = r"(\d+(?:\.\d+)?)"
_UNIT = r"(?:\s*(?:tokens?|[A-Z]{2,8}))?"
_ADDR = re.compile(r"0x[0-9a-fA-F]{40}")
_PERIODS = {
    "hour": 3600,
    "hourly": 3600,
    "day": DAY,
    "daily": DAY,
    "week": 7 * DAY,
    "weekly": 7 * DAY,
    "month": 30 * DAY,
    "monthly": 30 * DAY,
}
_DURATION_UNITS = {"hour": 3600, "day": DAY, "week": 7 * DAY, "month": 30 * DAY, "year": 365 * DAY}
_PERIOD_CAP = re.compile(
    rf"(?:at most|up to|no more than|max(?:imum)?(?: of)?)\s+{_NUM}{_UNIT}\s+"
    r"(?:(?:a|an|per|each|every)\s+(hour|day|week|month)|(hourly|daily|weekly|monthly))",
    re.I,
)
_TOTAL = re.compile(
    rf"(?:(?:never )?more than|at most|up to|no more than|budget of|total of)\s+{_NUM}{_UNIT}\s+"
    r"(?:in total|overall|altogether|total)"
    rf"|(?:total budget|budget)\s+(?:of\s+)?{_NUM}",
    re.I,
)
_PER_TX = re.compile(
    rf"(?:at most|up to|no more than)?\s*{_NUM}{_UNIT}\s+(?:per|each|a)\s+"
    r"(?:tip|payment|transaction|transfer|time)\b",
    re.I,
)
_TIP_AMOUNT = re.compile(rf"\btip\w*\s+(?:\S+\s+){{0,6}}?{_NUM}{_UNIT}\s+each\b", re.I)
_DURATION = re.compile(r"\bfor\s+(?:the next\s+)?(\d+)\s+(hour|day|week|month|year)s?\b", re.I)
_UNTIL = re.compile(r"\buntil\s+(\d{4})-(\d{2})-(\d{2})\b", re.I)
_HELPFUL_AUTHORS = re.compile(r"authors?\b.*\b(?:rate|rated|mark|find)\b.*\bhelpful", re.I)
_POOL = re.compile(r"\bstak\w*\b[^.]*?\b(?:in|into|with|pool)\s+(0x[0-9a-fA-F]{40})", re.I)
_ROUTER = re.compile(r"\bswap\w*\b[^.]*?\b(?:via|through|on|using)\s+(0x[0-9a-fA-F]{40})", re.I)
_PERIOD = r"(?:(?:a|an|per|each|every)\s+(hour|day|week|month)|(hourly|daily|weekly|monthly))"
_SWAP_CAP = re.compile(
    rf"\b(?:never\s+)?swap\w*\s+(?:at most|up to|no more than|more than|max(?:imum)?(?: of)?)\s+"
    rf"{_NUM}{_UNIT}\s+{_PERIOD}",
    re.I,
)
_KEEP = re.compile(
    r"\bkeep\s+(?:at least\s+)?(\d+(?:\.\d+)?)\s*%\s+(?:of\s+\w+\s+)?in\s+"
    r"(?:the\s+vault|(0x[0-9a-fA-F]{40}))",
    re.I,
)
_VAULT_CAP = re.compile(
    rf"(?:at most|up to|no more than)\s+{_NUM}{_UNIT}\s+in\s+(?:the\s+vault|0x[0-9a-fA-F]{{40}})",
    re.I,
)
DEFAULT_DAYS = 30
"""A mandate that says no end ends after this many days (narrower than never; noted)."""
_SWAP_INTO = re.compile(
    r"\bswap\w*\b[^.;]*?\binto\s+(0x[0-9a-fA-F]{40}(?:\s*(?:,|and|or)\s*0x[0-9a-fA-F]{40})*)", re.I
)


@dataclass(frozen=True)
class CompiledMandate:
    """The policy, the amount of one tip the planner uses, and what was assumed."""

    policy: Policy
    tip_amount: int
    notes: tuple[str, ...] = field(default_factory=tuple)


Period = Literal["hour", "day", "week", "month"]
Tokens = Annotated[str, Field(pattern=r"^\d{1,30}(\.\d{1,18})?$")]


class MandateDraft(BaseModel):
    """What a mandate says, before defaults: amounts in tokens as decimal strings ("2.5"),
    addresses as 0x-hex. Omit what the mandate does not say; nothing is guessed from it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    per_period: Tokens | None = Field(None, description="payments: at most this much per period")
    period: Period = Field("day", description="the period of per_period")
    per_payment: Tokens | None = Field(None, description="payments: at most this much at once")
    total: Tokens | None = Field(None, description="at most this much in total, ever")
    days: int | None = Field(None, ge=1, le=3650, description="the mandate lasts this many days")
    hours: int | None = Field(None, ge=1, le=87600, description="or this many hours")
    until: str | None = Field(
        None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="or it lasts until this date (UTC)"
    )
    recipients: tuple[Address, ...] = Field((), description="the addresses it may pay")
    helpful_authors: bool = Field(
        False, description="it may tip the authors of answers the owner rates helpful"
    )
    tip_each: Tokens | None = Field(None, description="the amount of one tip")
    stake_vaults: tuple[Address, ...] = Field((), description="ERC-4626 vaults it may stake in")
    swap_routers: tuple[Address, ...] = Field((), description="routers it may swap through")
    swap_tokens: tuple[Address, ...] = Field((), description="tokens a swap may buy")
    swap_cap: Tokens | None = Field(None, description="swaps: at most this much per swap_period")
    swap_period: Period = Field("week", description="the period of swap_cap")
    keep_percent: Tokens | None = Field(
        None, description="keep at least this percentage of the holdings in the vault"
    )
    keep_vault: Address | None = Field(None, description="that vault (omit: the chain's vault)")
    vault_cap: Tokens | None = Field(None, description="at most this much in that vault at once")


def draft_of_words(text: str) -> MandateDraft:
    """The rules' reading of a mandate (anything they do not find is left out)."""
    words = " ".join(text.split())
    fields: dict[str, Any] = {}
    swap_cap = _SWAP_CAP.search(words)
    rest = _SWAP_CAP.sub(" ", words) if swap_cap else words
    if swap_cap:
        fields["swap_cap"] = swap_cap.group(1)
        fields["swap_period"] = _period_name(swap_cap.group(2) or swap_cap.group(3))
    if m := _PERIOD_CAP.search(rest):
        fields["per_period"] = m.group(1)
        fields["period"] = _period_name(m.group(2) or m.group(3))
    if m := _DURATION.search(words):
        seconds = int(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
        fields["hours" if seconds % DAY else "days"] = seconds // (3600 if seconds % DAY else DAY)
    elif u := _UNTIL.search(words):
        fields["until"] = f"{u[1]}-{u[2]}-{u[3]}"
    if m := _TOTAL.search(words):
        fields["total"] = m.group(1) or m.group(2)
    if m := _PER_TX.search(rest):
        fields["per_payment"] = m.group(1)
    if m := _TIP_AMOUNT.search(words):
        fields["tip_each"] = m.group(1)
    if k := _KEEP.search(words):
        fields["keep_percent"] = k.group(1)
        fields["keep_vault"] = k.group(2)
        if v := _VAULT_CAP.search(words):
            fields["vault_cap"] = v.group(1)
    vaults = list(dict.fromkeys(_POOL.findall(words)))
    routers = list(dict.fromkeys(_ROUTER.findall(words)))
    tokens_out = list(dict.fromkeys(a for m in _SWAP_INTO.findall(words) for a in _ADDR.findall(m)))
    named = {*vaults, *routers, *tokens_out, *([k.group(2)] if k and k.group(2) else [])}
    fields["recipients"] = [a for a in dict.fromkeys(_ADDR.findall(words)) if a not in named]
    fields["helpful_authors"] = bool(_HELPFUL_AUTHORS.search(words))
    fields["stake_vaults"], fields["swap_routers"], fields["swap_tokens"] = (
        vaults,
        routers,
        tokens_out,
    )
    return MandateDraft.model_validate(fields)


def _period_name(word: str) -> str:
    return {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}.get(
        word.lower(), word.lower()
    )


def compile_mandate(
    text: str,
    *,
    token: str,
    now: int | None = None,
    decimals: int = 18,
    vault: str | None = None,
    router: str | None = None,
    swap_tokens: tuple[str, ...] = (),
    holdings: int | None = None,
) -> CompiledMandate:
    """The rule-based compiler; MandateError names what the mandate leaves unsaid.

    `vault`, `router` and `swap_tokens` are the markets "the vault" and an unnamed swap mean (a
    dev chain's, `aigora.chain.Markets`); `holdings` is what the wallet will hold, the default for
    how much a vault kept at a share may take in.
    """
    return policy_from_draft(
        draft_of_words(text),
        token=token,
        now=int(time.time()) if now is None else now,
        decimals=decimals,
        markets=(vault, router, tuple(swap_tokens)),
        holdings=holdings,
        purpose=" ".join(text.split())[:200],
    )


def policy_from_draft(
    draft: MandateDraft,
    *,
    token: str,
    now: int,
    decimals: int = 18,
    markets: tuple[str | None, str | None, tuple[str, ...]] = (None, None, ()),
    holdings: int | None = None,
    purpose: str = "",
) -> CompiledMandate:
    """The one place a draft becomes a policy: defaults (each noted), refusals, and the limits.
    `markets` is (vault, router, swap tokens) for what a draft leaves to the chain's markets."""
    vault, router, market_tokens = markets
    notes: list[str] = []

    swap_cap = draft.swap_cap is not None
    if draft.per_period is not None:
        period_cap = to_units(draft.per_period, decimals)
        period_s = _PERIODS[draft.period]
    elif swap_cap or draft.keep_percent is not None:
        period_cap, period_s = 0, DAY
        notes.append("no cap for payments given: the agent pays no one directly")
    else:
        raise MandateError('say how much per period, e.g. "at most 5 tokens a day"')

    if draft.days is not None:
        expiry = now + draft.days * DAY
    elif draft.hours is not None:
        expiry = now + draft.hours * 3600
    elif draft.until is not None:
        year, month, day = (int(x) for x in draft.until.split("-"))
        expiry = calendar.timegm((year, month, day, 0, 0, 0))
    else:
        expiry = now + DEFAULT_DAYS * DAY
        notes.append(f"no end given: the mandate ends in {DEFAULT_DAYS} days")
    if expiry <= now:
        raise MandateError("the mandate would already have ended")

    vaults = list(draft.stake_vaults)
    routers = list(draft.swap_routers)
    tokens_out = list(draft.swap_tokens)
    if swap_cap and not routers:
        if router is None:
            raise MandateError('say which router swaps go through, e.g. "swap via 0x..."')
        routers = [router]
    if swap_cap and not tokens_out:
        tokens_out = list(market_tokens)
    if routers and not tokens_out:
        raise MandateError('say which tokens a swap may buy, e.g. "swap via 0x... into 0x..."')
    if tokens_out and not routers:
        raise MandateError('say which router swaps go through, e.g. "swap via 0x... into 0x..."')

    limits: list[Limit] = []
    if draft.swap_cap is not None:
        cap = to_units(draft.swap_cap, decimals)
        limits.append(
            Limit(
                label="swaps",
                per_tx_cap=cap,
                cap=cap,
                period_s=_PERIODS[draft.swap_period],
                members=routers,
            )
        )
    keep = None
    if draft.keep_percent is not None:
        kept = draft.keep_vault or vault
        if kept is None:
            raise MandateError('say which vault, e.g. "keep at least 80% in 0x..."')
        share = Decimal(draft.keep_percent) * 100
        if share != share.to_integral_value() or not 0 < share <= BPS:
            raise MandateError("say the share kept in the vault as a percentage up to 100")
        keep = KeepInVault(vault=kept, share_bps=int(share))
        if draft.vault_cap is not None:
            in_vault = to_units(draft.vault_cap, decimals)
        elif holdings:
            in_vault = holdings
            notes.append("the vault may hold at most what the wallet is funded with now")
        else:
            raise MandateError('say how much the vault may hold, e.g. "at most 100 in the vault"')
        vaults = list(dict.fromkeys([*vaults, kept]))
        limits.append(
            Limit(label="vault", per_tx_cap=in_vault, cap=in_vault, period_s=0, members=[kept])
        )

    if draft.total is not None:
        budget = to_units(draft.total, decimals)
    else:
        budget = sum(
            cap * -(-(expiry - now) // period)
            for cap, period in [(period_cap, period_s)]
            + [(lim.cap, lim.period_s) for lim in limits if lim.period_s]
        )
        notes.append("no total given: the budget is the per-period caps times the periods")

    per_tx = to_units(draft.per_payment, decimals) if draft.per_payment else period_cap
    if draft.per_payment is None and period_cap:
        notes.append("no cap per payment given: one payment may use the whole period's cap")
    period_cap = min(period_cap, budget)
    per_tx = min(per_tx, period_cap)
    tip_amount = to_units(draft.tip_each, decimals) if draft.tip_each else min(10**decimals, per_tx)

    spenders = [*vaults, *routers]
    recipients = [a for a in draft.recipients if a not in spenders and a not in tokens_out]
    role = "helpful-authors" if draft.helpful_authors else None
    if role is None and not recipients and not spenders:
        raise MandateError(
            "say whom the agent may pay: addresses, or e.g. 'authors of answers I rate helpful'"
        )
    calls = [
        AllowedCall(target=v, selector=selector_of(sig), label=label)
        for v in vaults
        for sig, label in (
            (DEPOSIT_SIGNATURE, "deposit (shares to the wallet)"),
            (WITHDRAW_SIGNATURE, "withdraw (to the wallet)"),
            (REDEEM_SIGNATURE, "redeem (to the wallet)"),
        )
    ]
    calls += [
        AllowedCall(
            target=r, selector=selector_of(SWAP_SIGNATURE), label="swap with a minimum output"
        )
        for r in routers
    ]
    try:
        policy = Policy(
            token=token,
            per_tx_cap=per_tx,
            period_cap=period_cap,
            period_s=period_s,
            budget=budget,
            expiry=expiry,
            recipients=tuple(recipients),
            spenders=tuple(spenders),
            open_recipients=role is not None,
            recipient_role=role,
            calls=tuple(calls),
            tokens_out=tuple(tokens_out),
            limits=tuple(limits),
            keep_in_vault=keep,
            purpose=purpose,
        )
    except PolicyError as exc:
        raise MandateError(f"the mandate does not make a valid policy: {exc}") from None
    return CompiledMandate(policy, min(tip_amount, per_tx), tuple(notes))


PROPOSE_POLICY = "propose_policy"
_MODEL_PROMPT = (
    "Read the owner's mandate for a payment agent and call propose_policy once with what it "
    "says. Amounts are in tokens, as decimal strings. Leave out what the mandate does not say; "
    "never add a recipient, vault or router it does not name. The owner confirms the result."
)


def policy_tool() -> dict[str, Any]:
    """The one tool a model compiles a mandate with: its parameters are `MandateDraft`'s schema."""
    schema = MandateDraft.model_json_schema()
    schema["additionalProperties"] = False
    return {
        "type": "function",
        "function": {
            "name": PROPOSE_POLICY,
            "description": (MandateDraft.__doc__ or "").strip(),
            "parameters": schema,
        },
    }


def compile_with_model(
    text: str,
    *,
    url: str,
    model: str,
    token: str,
    now: int | None = None,
    decimals: int = 18,
    api_key: str | None = None,
    client: httpx.Client | None = None,
    vault: str | None = None,
    router: str | None = None,
    swap_tokens: tuple[str, ...] = (),
    holdings: int | None = None,
    timeout_s: float = 60.0,
) -> CompiledMandate:
    """Ask an OpenAI-compatible chat endpoint to call `propose_policy`; its draft goes through
    `policy_from_draft`, the rules' own path, so it meets the same defaults and refusals."""
    now = int(time.time()) if now is None else now
    body = {
        "model": model,
        "temperature": 0,
        "messages": [
            {"role": "system", "content": _MODEL_PROMPT},
            {"role": "user", "content": text},
        ],
        "tools": [policy_tool()],
        "tool_choice": {"type": "function", "function": {"name": PROPOSE_POLICY}},
    }
    endpoint = ModelEndpoint(url=url, model=model, timeout_s=timeout_s)
    http = client or httpx.Client(follow_redirects=False)
    try:
        reply = post_chat(http, endpoint, body, api_key)
    except ModelError as exc:
        raise MandateError(f"the model endpoint gave no usable policy: {exc}") from None
    finally:
        if client is None:
            http.close()
    proposals = [c for c in tool_calls_of(reply) if _tool_name(c) == PROPOSE_POLICY]
    if len(proposals) != 1:
        raise MandateError("the model did not propose exactly one policy (propose_policy)")
    arguments = proposals[0].get("function", {}).get("arguments")
    try:
        raw = json.loads(arguments) if isinstance(arguments, str) else arguments
        draft = MandateDraft.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) if first else "arguments"
        raise MandateError(f"the model's policy is malformed at {where}") from None
    compiled = policy_from_draft(
        draft,
        token=token,
        now=now,
        decimals=decimals,
        markets=(vault, router, tuple(swap_tokens)),
        holdings=holdings,
        purpose=" ".join(text.split())[:200],
    )
    return CompiledMandate(
        compiled.policy, compiled.tip_amount, ("compiled by a model", *compiled.notes)
    )


def _tool_name(call: Any) -> Any:
    return call.get("function", {}).get("name") if isinstance(call, dict) else None
