"""The typed policy an owner signs: what a `PolicyWallet` lets its agent do, and in plain words.

A `Policy` is the single source of truth for three things that must agree: the arguments of
`PolicyWallet.set_policy`, the off-chain check (`check.py`) and the sentence the owner confirms.
Amounts are integers in the token's smallest unit; JSON carries them as decimal strings.
"""

import time
from typing import Annotated, Any

from eth_utils import is_address, to_checksum_address
from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationError

from aigora.agent.errors import PolicyError
from aigora.agent.swaps import MAX_TOKENS_OUT, UNDECODED_SWAPS, is_decoded_swap
from aigora.agent.vaults import MINT, is_vault_call

TRANSFER = bytes.fromhex("a9059cbb")
APPROVE = bytes.fromhex("095ea7b3")
TRANSFER_FROM = bytes.fromhex("23b872dd")
INCREASE_ALLOWANCE = bytes.fromhex("39509351")
TOKEN_SELECTORS = (TRANSFER, APPROVE, TRANSFER_FROM, INCREASE_ALLOWANCE)
MAX_UINT256 = 2**256 - 1
MAX_RECIPIENTS = 64
MAX_CALLS = 16
MAX_LIMITS = 4
"""The default limit and up to three more (`PolicyWallet.MAX_LIMITS`)."""
BPS = 10_000
DEFAULT_SLIPPAGE_BPS = 100
"""A swap's minimum output may be at most 1% under the router's quote when the agent checks it
(off chain: the contract cannot know a fair price)."""
DAY = 86_400
ROLES = {"helpful-authors": "authors of answers you rate helpful"}


def _amount(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("an amount is an integer, not a boolean")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_UINT256:
        raise ValueError(f"an amount is a non-negative integer (smallest units), got {value!r}")
    return value


def _address(value: Any) -> str:
    if not isinstance(value, str) or not is_address(value) or not value.startswith("0x"):
        raise ValueError(f"not an address: {value!r}")
    return to_checksum_address(value)


def _selector(value: Any) -> bytes:
    if isinstance(value, str):
        value = bytes.fromhex(value.removeprefix("0x")) if len(value) == 10 else b""
    if not isinstance(value, bytes) or len(value) != 4:
        raise ValueError(f"a selector is 4 bytes (0x + 8 hex digits), got {value!r}")
    return value


Amount = Annotated[int, BeforeValidator(_amount), PlainSerializer(str, return_type=str)]
Address = Annotated[str, BeforeValidator(_address)]
Selector = Annotated[
    bytes, BeforeValidator(_selector), PlainSerializer(lambda b: "0x" + b.hex(), return_type=str)
]


class AllowedCall(BaseModel):
    """One (target, selector) pair the agent may call, with what it is, in words."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    target: Address
    selector: Selector
    label: str = ""


class Limit(BaseModel):
    """A limit beyond the policy's default one, for the allowlisted addresses in `members`.

    Periodic (`period_s` > 0): at most `cap` per period, counted against the budget too. Exposure
    (`period_s` 0, for a vault): at most `cap` in it net, i.e. what went to its one member less
    what withdrawals from it measurably brought back; not counted against the budget. One member:
    with two, withdrawing a position one of them held before the policy started would free room
    for the other.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    label: str = ""
    per_tx_cap: Amount
    cap: Amount
    period_s: int = 0
    members: tuple[Address, ...]

    @property
    def is_exposure(self) -> bool:
        return self.period_s == 0


class KeepInVault(BaseModel):
    """An aim the agent keeps, checked off chain: at least `share_bps` of what the wallet holds
    (liquid plus its assets in `vault`) stays in `vault`, so an unstake below it is refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    vault: Address
    share_bps: int


class Policy(BaseModel):
    """What the agent may do with the wallet's token. Anything not listed is refused.

    `recipients` may receive `transfer`s; `spenders` may receive bounded `approve`s (stake and swap
    contracts). On-chain both sit in one allowlist, so a spender could also be paid directly;
    every token leaving either way counts against the same caps. A vault never is: it is paid
    only by a deposit (a transfer would be a gift to its other holders). `open_recipients` lets
    the agent pay anyone (the caps still bind) but a vault; `recipient_role` then narrows whom the
    planner may pick, off chain only (the contract cannot know who wrote an answer you liked).

    `tokens_out` are the tokens a swap may buy. A swap's output goes to the wallet itself (where
    only the owner can move it, by `withdraw_token`) or to an allowlisted address, never to one the
    agent names otherwise; `open_recipients` does not open swap recipients.

    `per_tx_cap`, `period_cap` and `period_s` are the default limit, for every counterparty not a
    member of one of `limits`. A vault (a target allowed ERC-4626 calls) takes deposits for the
    wallet only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    token: Address
    per_tx_cap: Amount
    period_cap: Amount
    period_s: int
    budget: Amount
    expiry: int
    recipients: tuple[Address, ...] = ()
    spenders: tuple[Address, ...] = ()
    open_recipients: bool = False
    recipient_role: str | None = None
    calls: tuple[AllowedCall, ...] = ()
    tokens_out: tuple[Address, ...] = ()
    limits: tuple[Limit, ...] = ()
    keep_in_vault: KeepInVault | None = None
    max_slippage_bps: int = DEFAULT_SLIPPAGE_BPS
    purpose: str = ""

    def model_post_init(self, _context: Any) -> None:
        problems = policy_problems(self)
        if problems:
            raise PolicyError("; ".join(problems))

    # ---- on-chain form ------------------------------------------------------------------------

    def allowlist(self) -> list[str]:
        """The contract's recipient allowlist: recipients and spenders, without duplicates."""
        return list(dict.fromkeys([*self.recipients, *self.spenders]))

    def onchain_calls(self) -> list[tuple[str, bytes]]:
        """(target, selector) pairs for `set_policy`: token transfer/approve, then other calls."""
        pairs: list[tuple[str, bytes]] = []
        if self.recipients or self.open_recipients:
            pairs.append((self.token, TRANSFER))
        if self.spenders:
            pairs.append((self.token, APPROVE))
        pairs += [(c.target, c.selector) for c in self.calls]
        return list(dict.fromkeys(pairs))

    def set_policy_args(self) -> tuple[Any, ...]:
        calls = self.onchain_calls()
        return (
            self.per_tx_cap,
            self.period_cap,
            self.period_s,
            self.budget,
            self.expiry,
            self.open_recipients,
            self.allowlist(),
            [t for t, _ in calls],
            [s for _, s in calls],
            list(self.tokens_out),
            [(lim.per_tx_cap, lim.cap, lim.period_s) for lim in self.limits],
            [m for lim in self.limits for m in lim.members],
            [i for i, lim in enumerate(self.limits, start=1) for _ in lim.members],
        )

    def limit_index(self, counterparty: str) -> int:
        """The limit `counterparty` counts against: 0 (the default) or 1 + its index in limits."""
        for i, lim in enumerate(self.limits, start=1):
            if counterparty.lower() in {m.lower() for m in lim.members}:
                return i
        return 0

    def limit_caps(self, index: int) -> tuple[int, int, int]:
        """(per-transaction cap, cap, period in seconds; 0 for exposure) of limit `index`."""
        if index == 0:
            return self.per_tx_cap, self.period_cap, self.period_s
        lim = self.limits[index - 1]
        return lim.per_tx_cap, lim.cap, lim.period_s

    def vaults(self) -> list[str]:
        """Targets allowed an ERC-4626 call, in order."""
        return list(dict.fromkeys(c.target for c in self.calls if is_vault_call(c.selector)))

    # ---- words and bounds ---------------------------------------------------------------------

    def worst_case_loss(self, start: int) -> int:
        """The most token the agent can move or make movable from `start` (the policy's start)."""
        return worst_case_loss(self, start)

    def describe(
        self, *, decimals: int = 18, symbol: str = "tokens", start: int | None = None
    ) -> str:
        return describe(self, decimals=decimals, symbol=symbol, start=start)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> "Policy":
        return parse_policy(text)


def parse_policy(data: str | bytes | dict[str, Any]) -> "Policy":
    """A Policy from JSON or a dict (for example a model's output); PolicyError if it is not one."""
    try:
        if isinstance(data, dict):
            return Policy.model_validate(data)
        return Policy.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "policy"
        raise PolicyError(f"invalid policy: {where}: {first['msg']}") from None


def policy_problems(p: Policy) -> list[str]:
    """Why `p` cannot be enforced as written (empty when it can)."""
    problems = []
    if p.period_s <= 0:
        problems.append("the period must be positive")
    if p.expiry < 0:
        problems.append("the expiry must be a time")
    if p.per_tx_cap > p.period_cap:
        problems.append("the per-transaction cap exceeds the per-period cap")
    if p.period_cap > p.budget:
        problems.append("the per-period cap exceeds the total budget")
    if len(p.allowlist()) > MAX_RECIPIENTS:
        problems.append(f"at most {MAX_RECIPIENTS} recipients and spenders")
    if len(p.onchain_calls()) > MAX_CALLS:
        problems.append(f"at most {MAX_CALLS} allowed calls")
    if p.recipient_role is not None and p.recipient_role not in ROLES:
        problems.append(f"unknown recipient role {p.recipient_role!r}")
    if len(p.tokens_out) > MAX_TOKENS_OUT:
        problems.append(f"at most {MAX_TOKENS_OUT} tokens a swap may buy")
    if p.token in p.tokens_out:
        problems.append("the policy token is not a token a swap may buy")
    problems += limit_problems(p)
    routers = {c.target for c in p.calls if is_decoded_swap(c.selector)}
    vaults = set(p.vaults())
    for c in p.calls:
        if c.target == p.token:
            problems.append("calls on the token itself are implied by recipients and spenders")
        elif c.selector in TOKEN_SELECTORS:
            problems.append(f"token function {c.selector.hex()} allowed on another contract")
        elif c.selector in UNDECODED_SWAPS:
            problems.append(
                f"swap function 0x{c.selector.hex()} names a recipient the wallet cannot read"
            )
        elif c.selector == MINT:
            problems.append("a vault's mint names a receiver the wallet does not read")
        elif c.target in routers and not is_decoded_swap(c.selector):
            problems.append(
                f"{c.target} is a router: only its swaps the wallet reads may be allowed"
            )
        elif c.target in vaults and not is_vault_call(c.selector):
            problems.append(f"{c.target} is a vault: only deposit, withdraw and redeem")
    return problems


def limit_problems(p: Policy) -> list[str]:
    """Why `p`'s extra limits and vault aim cannot be enforced as written."""
    problems = []
    if len(p.limits) > MAX_LIMITS - 1:
        problems.append(f"at most {MAX_LIMITS - 1} limits besides the default one")
    allow = {a.lower() for a in p.allowlist()}
    seen: set[str] = set()
    for lim in p.limits:
        name = lim.label or "a limit"
        if lim.period_s < 0:
            problems.append(f"{name}: the period must be positive, or 0 for an exposure limit")
        if lim.per_tx_cap > lim.cap:
            problems.append(f"{name}: the per-transaction cap exceeds the limit's cap")
        if not lim.is_exposure and lim.cap > p.budget:
            problems.append(f"{name}: the per-period cap exceeds the total budget")
        if not lim.members:
            problems.append(f"{name}: a limit needs at least one member")
        if lim.is_exposure and len(lim.members) > 1:
            problems.append(
                f"{name}: an exposure limit has one member (a withdrawal frees only the room its "
                "own vault used)"
            )
        for m in lim.members:
            if m.lower() not in allow:
                problems.append(f"{name}: {m} is not a recipient or spender of the policy")
            if m.lower() in seen:
                problems.append(f"{m} is in two limits")
            seen.add(m.lower())
    if not 0 <= p.max_slippage_bps < BPS:
        problems.append("the slippage allowed on a swap is between 0 and 100%")
    keep = p.keep_in_vault
    if keep is not None:
        if not 0 < keep.share_bps <= BPS:
            problems.append("the share kept in the vault is between 0 and 100%")
        if keep.vault not in p.vaults():
            problems.append(f"{keep.vault} is not a vault the policy may deposit in")
    return problems


def periods_between(start: int, end: int, period_s: int) -> int:
    """How many periods (aligned to `start`) overlap [start, end)."""
    if end <= start:
        return 0
    return -(-(end - start) // period_s)


def worst_case_loss(p: Policy, start: int) -> int:
    """The most policy token the agent can move or make movable from `start`, net of what came
    back from vaults: every periodic limit's cap times its periods, at most the budget, plus
    every exposure limit's cap (the contract's bound, `PolicyWallet.vy`'s docstring)."""
    periodic = p.period_cap * periods_between(start, p.expiry, p.period_s)
    periodic += sum(
        lim.cap * periods_between(start, p.expiry, lim.period_s)
        for lim in p.limits
        if not lim.is_exposure
    )
    return min(p.budget, periodic) + sum(lim.cap for lim in p.limits if lim.is_exposure)


def format_amount(amount: int, decimals: int = 18, symbol: str = "tokens") -> str:
    whole, frac = divmod(amount, 10**decimals)
    text = f"{whole:,}"
    if frac:
        text += "." + str(frac).rjust(decimals, "0").rstrip("0")
    return f"{text} {symbol}"


def format_period(seconds: int) -> str:
    for size, name in ((7 * DAY, "week"), (DAY, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0:
            n = seconds // size
            return name if n == 1 else f"{n} {name}s"
    return f"{seconds} seconds"


def describe(
    p: Policy, *, decimals: int = 18, symbol: str = "tokens", start: int | None = None
) -> str:
    """The policy in plain words, one rule a line, as the owner confirms it."""

    def amt(x: int) -> str:
        return format_amount(x, decimals, symbol)

    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(p.expiry))
    lines = []
    if p.purpose:
        lines.append(f"Purpose: {p.purpose}")
    lines += [
        ("Except as below, the" if p.limits else "The")
        + f" agent may send at most {amt(p.per_tx_cap)} in one transaction,",
        f"at most {amt(p.period_cap)} per {format_period(p.period_s)},",
        f"and at most {amt(p.budget)} in total,",
        f"until {when}; after that it can do nothing.",
    ]
    if p.open_recipients:
        whom = ROLES.get(p.recipient_role or "", "anyone")
        lines.append(
            f"It may pay {whom}"
            + (
                " (chosen by the agent's rules; the contract enforces only the amounts)."
                if p.recipient_role
                else "."
            )
        )
    elif p.recipients:
        lines.append("It may pay only: " + ", ".join(p.recipients) + ".")
    else:
        lines.append("It may pay no one directly.")
    if p.spenders:
        lines.append(
            "It may approve bounded amounts (never unlimited) for: " + ", ".join(p.spenders) + "."
        )
    for c in p.calls:
        lines.append(f"It may call {c.label or '0x' + c.selector.hex()} on {c.target}.")
    for lim in p.limits:
        name, whom = lim.label or "Limit", ", ".join(lim.members)
        if lim.is_exposure:
            lines.append(
                f"{name} ({whom}): at most {amt(lim.per_tx_cap)} at a time and at most "
                f"{amt(lim.cap)} in it at once; what comes back out frees room again."
            )
        else:
            lines.append(
                f"{name} ({whom}): at most {amt(lim.per_tx_cap)} in one transaction and at most "
                f"{amt(lim.cap)} per {format_period(lim.period_s)}, within the total."
            )
    if p.keep_in_vault is not None:
        share = p.keep_in_vault.share_bps / 100
        lines.append(
            f"It keeps at least {share:g}% of what the wallet holds in {p.keep_in_vault.vault} "
            "and never takes out below that (checked by the agent's code, not the contract)."
        )
    if p.tokens_out:
        lines.append(
            f"A swap must ask for at least the router's price less {p.max_slippage_bps / 100:g}% "
            "when the agent sends it (checked by the agent's code)."
        )
        lines.append(
            "A swap may buy only: "
            + ", ".join(p.tokens_out)
            + "; what it buys goes to the wallet, where only you can move it"
            + (", or to an address listed above." if p.recipients or p.spenders else ".")
        )
    lines.append("Everything else is refused. You can change or revoke this at any time.")
    if start is not None:
        lines.append(f"Worst case, the agent can spend {amt(worst_case_loss(p, start))} of yours.")
    return "\n".join(lines)
