"""Mandates in words compiled into a typed `Policy`, offline by rules, or by a configured model.

The rule-based compiler covers the common shapes: a cap per period ("at most 5 tokens a day"), a
total ("never more than 50 in total"), a duration ("for 30 days" or "until 2027-01-31"), a cap per
payment ("at most 2 per tip"), recipients by address, recipients by role ("the authors of answers
I rate helpful"), staking pools ("stake in 0x...") and swap routers with the tokens a swap may buy
("swap via 0x... into 0x... or 0x..."). What it
cannot find it refuses to guess, except where a default is strictly narrower and said in `notes`.
A model's output goes through the same `Policy` validation, so a model can propose but never
widen what the schema allows; the owner confirms the plain-words rendering either way.
"""

import calendar
import json
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from aigora.agent.errors import MandateError, PolicyError
from aigora.agent.intents import (
    DEPOSIT_SIGNATURE,
    REDEEM_SIGNATURE,
    SWAP_SIGNATURE,
    WITHDRAW_SIGNATURE,
    selector_of,
)
from aigora.agent.planner import to_units
from aigora.agent.policy import BPS, DAY, AllowedCall, KeepInVault, Limit, Policy, parse_policy

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
    now = int(time.time()) if now is None else now
    words = " ".join(text.split())
    notes: list[str] = []

    swap_cap = _SWAP_CAP.search(words)
    rest = _SWAP_CAP.sub(" ", words) if swap_cap else words
    m = _PERIOD_CAP.search(rest)
    if m:
        period_cap = to_units(m.group(1), decimals)
        period_s = _PERIODS[(m.group(2) or m.group(3)).lower()]
    elif swap_cap or _KEEP.search(words):
        period_cap, period_s = 0, DAY
        notes.append("no cap for payments given: the agent pays no one directly")
    else:
        raise MandateError('say how much per period, e.g. "at most 5 tokens a day"')

    m = _DURATION.search(words)
    u = _UNTIL.search(words)
    if m:
        expiry = now + int(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
    elif u:
        expiry = calendar.timegm((int(u[1]), int(u[2]), int(u[3]), 0, 0, 0))
    else:
        expiry = now + DEFAULT_DAYS * DAY
        notes.append(f"no end given: the mandate ends in {DEFAULT_DAYS} days")
    if expiry <= now:
        raise MandateError("the mandate would already have ended")

    pools = list(dict.fromkeys(_POOL.findall(words)))
    routers = list(dict.fromkeys(_ROUTER.findall(words)))
    tokens_out = list(dict.fromkeys(a for m in _SWAP_INTO.findall(words) for a in _ADDR.findall(m)))
    if swap_cap and not routers:
        if router is None:
            raise MandateError('say which router swaps go through, e.g. "swap via 0x..."')
        routers = [router]
    if swap_cap and not tokens_out:
        tokens_out = list(swap_tokens)
    if routers and not tokens_out:
        raise MandateError('say which tokens a swap may buy, e.g. "swap via 0x... into 0x..."')
    if tokens_out and not routers:
        raise MandateError('say which router swaps go through, e.g. "swap via 0x... into 0x..."')

    limits: list[Limit] = []
    if swap_cap:
        cap = to_units(swap_cap.group(1), decimals)
        cap_period = _PERIODS[(swap_cap.group(2) or swap_cap.group(3)).lower()]
        limits.append(
            Limit(label="swaps", per_tx_cap=cap, cap=cap, period_s=cap_period, members=routers)
        )
    keep = None
    k = _KEEP.search(words)
    if k:
        kept = k.group(2) or vault
        if kept is None:
            raise MandateError('say which vault, e.g. "keep at least 80% in 0x..."')
        share = Decimal(k.group(1)) * 100
        if share != share.to_integral_value() or not 0 < share <= BPS:
            raise MandateError("say the share kept in the vault as a percentage up to 100")
        keep = KeepInVault(vault=kept, share_bps=int(share))
        v = _VAULT_CAP.search(words)
        if v:
            in_vault = to_units(v.group(1), decimals)
        elif holdings:
            in_vault = holdings
            notes.append("the vault may hold at most what the wallet is funded with now")
        else:
            raise MandateError('say how much the vault may hold, e.g. "at most 100 in the vault"')
        pools = list(dict.fromkeys([*pools, kept]))
        limits.append(
            Limit(label="vault", per_tx_cap=in_vault, cap=in_vault, period_s=0, members=[kept])
        )

    m = _TOTAL.search(words)
    if m:
        budget = to_units(m.group(1) or m.group(2), decimals)
    else:
        budget = sum(
            cap * -(-(expiry - now) // period)
            for cap, period in [(period_cap, period_s)]
            + [(lim.cap, lim.period_s) for lim in limits if lim.period_s]
        )
        notes.append("no total given: the budget is the per-period caps times the periods")

    m = _PER_TX.search(rest)
    per_tx = to_units(m.group(1), decimals) if m else period_cap
    if not m and period_cap:
        notes.append("no cap per payment given: one payment may use the whole period's cap")
    period_cap = min(period_cap, budget)
    per_tx = min(per_tx, period_cap)

    m = _TIP_AMOUNT.search(words)
    tip_amount = to_units(m.group(1), decimals) if m else min(10**decimals, per_tx)

    spenders = [*pools, *routers]
    recipients = [
        a for a in dict.fromkeys(_ADDR.findall(words)) if a not in spenders and a not in tokens_out
    ]
    role = "helpful-authors" if _HELPFUL_AUTHORS.search(words) else None
    if role is None and not recipients and not spenders:
        raise MandateError(
            "say whom the agent may pay: addresses, or e.g. 'authors of answers I rate helpful'"
        )
    calls = [
        AllowedCall(target=p, selector=selector_of(sig), label=label)
        for p in pools
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
            purpose=words[:200],
        )
    except PolicyError as exc:
        raise MandateError(f"the mandate does not make a valid policy: {exc}") from None
    return CompiledMandate(policy, min(tip_amount, per_tx), tuple(notes))


_MODEL_PROMPT = """Turn the user's mandate for a payment agent into JSON with exactly these keys:
per_tx_cap, period_cap, budget (decimal token amounts as strings), period_s (seconds),
duration_s (seconds), recipients (addresses), spenders (addresses), open_recipients (bool),
recipient_role ("helpful-authors" or null). Reply with the JSON object only."""


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
) -> CompiledMandate:
    """Ask an OpenAI-compatible chat endpoint; its answer must pass the same Policy validation."""
    now = int(time.time()) if now is None else now
    body = {
        "model": model,
        "temperature": 0,
        "messages": [
            {"role": "system", "content": _MODEL_PROMPT},
            {"role": "user", "content": text},
        ],
    }
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    http = client or httpx.Client(timeout=60)
    try:
        response = http.post(url.rstrip("/") + "/chat/completions", json=body, headers=headers)
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
        raw: dict[str, Any] = json.loads(content.strip().removeprefix("```json").strip("`\n "))
    except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise MandateError(
            f"the model endpoint gave no usable policy: {type(exc).__name__}"
        ) from None
    finally:
        if client is None:
            http.close()
    if not isinstance(raw, dict):
        raise MandateError("the model endpoint gave no usable policy: not an object")
    try:
        fields = {
            "token": token,
            "per_tx_cap": to_units(raw["per_tx_cap"], decimals),
            "period_cap": to_units(raw["period_cap"], decimals),
            "budget": to_units(raw["budget"], decimals),
            "period_s": int(raw["period_s"]),
            "expiry": now + int(raw["duration_s"]),
            "recipients": raw.get("recipients") or [],
            "spenders": raw.get("spenders") or [],
            "open_recipients": bool(raw.get("open_recipients", False)),
            "recipient_role": raw.get("recipient_role"),
            "purpose": " ".join(text.split())[:200],
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise MandateError(f"the model's policy is missing or mistypes {exc}") from None
    if fields["spenders"]:
        raise MandateError("the model proposed spenders; name staking pools with the rule compiler")
    try:
        policy = parse_policy(fields)
    except PolicyError as exc:
        raise MandateError(f"the model's policy is invalid: {exc}") from None
    return CompiledMandate(policy, min(10**decimals, policy.per_tx_cap), ("compiled by a model",))
