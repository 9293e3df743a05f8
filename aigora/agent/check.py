"""The off-chain check: would `PolicyWallet.execute` accept these calls, and if not, why not.

Pure functions over a `Policy` and a `WalletState`; the rules mirror the contract's one for one, so
a refusal is explained before anything is sent. The contract enforces them regardless.
"""

from dataclasses import dataclass, replace

from eth_abi import decode

from aigora.agent.intents import AnyIntent, Call, Pay, Stake, Swap, Unstake, build_calls
from aigora.agent.policy import (
    APPROVE,
    BPS,
    INCREASE_ALLOWANCE,
    MAX_UINT256,
    TRANSFER,
    TRANSFER_FROM,
    Policy,
    format_amount,
)
from aigora.agent.swaps import is_decoded_swap, swap_ends
from aigora.agent.vaults import DEPOSIT, WITHDRAW, is_vault_call, vault_call


@dataclass(frozen=True)
class LimitState:
    """One limit's counters as the contract keeps them (`PolicyWallet.limits(i)`)."""

    period_start: int
    spent: int


@dataclass(frozen=True)
class WalletState:
    """What the contract's counters say, at `now` (the latest block's timestamp)."""

    address: str
    now: int
    spent_total: int
    period_start: int
    period_spent: int
    balance: int
    revoked: bool = False
    extra_limits: tuple[LimitState, ...] = ()
    """The counters of the policy's `limits`, in order (fresh when empty)."""
    in_vault: int = 0
    """The wallet's assets in the policy's `keep_in_vault` vault."""

    def limit(self, i: int) -> LimitState:
        if i == 0:
            return LimitState(self.period_start, self.period_spent)
        if i <= len(self.extra_limits):
            return self.extra_limits[i - 1]
        return LimitState(self.period_start, 0)

    def with_limit(self, i: int, counters: LimitState) -> "WalletState":
        if i == 0:
            return replace(self, period_start=counters.period_start, period_spent=counters.spent)
        extra = list(self.extra_limits)
        while len(extra) < i:
            extra.append(LimitState(self.period_start, 0))
        extra[i - 1] = counters
        return replace(self, extra_limits=tuple(extra))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reasons: tuple[str, ...] = ()
    state_after: WalletState | None = None

    def explain(self) -> str:
        return "allowed" if self.allowed else "; ".join(self.reasons)


def _roll_period(counters: LimitState, period_s: int, now: int) -> LimitState:
    if period_s and now >= counters.period_start + period_s:
        elapsed = now - counters.period_start
        return LimitState(counters.period_start + elapsed - elapsed % period_s, 0)
    return counters


def check_call(policy: Policy, state: WalletState, call: Call) -> Verdict:
    """One `execute(target, data)`, as the contract sees it."""
    if state.revoked or state.now >= policy.expiry:
        return Verdict(False, ("the policy has expired or was revoked",))
    if call.target.lower() == state.address.lower():
        return Verdict(False, ("calls to the wallet itself are refused",))
    if len(call.data) < 4:
        return Verdict(False, ("calldata has no selector",))
    selector = call.data[:4]
    is_token = call.target.lower() == policy.token.lower()
    allowed_pairs = {(t.lower(), s) for t, s in policy.onchain_calls()}
    if (call.target.lower(), selector) not in allowed_pairs:
        return Verdict(
            False, (f"calling 0x{selector.hex()} on {call.target} is not in the policy",)
        )
    if not is_token:
        if selector in (TRANSFER, APPROVE, TRANSFER_FROM, INCREASE_ALLOWANCE):
            return Verdict(False, ("token functions only on the policy token",))
        if is_decoded_swap(selector):
            reasons = swap_problems(policy, state, call)
            if reasons:
                return Verdict(False, reasons)
        if is_vault_call(selector):
            return check_vault_call(policy, state, call)
        return Verdict(True, state_after=state)
    if selector not in (TRANSFER, APPROVE) or len(call.data) != 68:
        return Verdict(False, ("malformed token call",))
    who, amount = decode(["address", "uint256"], call.data[4:])
    allow = {a.lower() for a in policy.allowlist()}
    reasons = []
    if who.lower() == state.address.lower():
        reasons.append("token call naming the wallet")
    if selector == TRANSFER and not (policy.open_recipients or who.lower() in allow):
        reasons.append(f"{who} is not an allowed recipient")
    if selector == TRANSFER and who.lower() in {v.lower() for v in policy.vaults()}:
        reasons.append(f"{who} is a vault: it is paid only by a deposit")
    if selector == APPROVE:
        if who.lower() not in allow:
            reasons.append(f"{who} is not an allowed spender")
        if amount == MAX_UINT256:
            reasons.append("unlimited approvals are refused")
    i = policy.limit_index(who)
    per_tx, cap, period_s = policy.limit_caps(i)
    counters = _roll_period(state.limit(i), period_s, state.now)
    amt = format_amount
    if amount > per_tx:
        reasons.append(f"{amt(amount)} is over the per-transaction cap of {amt(per_tx)}")
    if counters.spent + amount > cap:
        left = amt(max(cap - counters.spent, 0))
        if period_s:
            reasons.append(f"{amt(amount)} is over what is left this period ({left})")
        else:
            name = policy.limits[i - 1].label or "exposure"
            reasons.append(f"{amt(amount)} is over the room left in the {name} limit ({left})")
    budgeted = period_s > 0
    if budgeted and state.spent_total + amount > policy.budget:
        left = max(policy.budget - state.spent_total, 0)
        reasons.append(f"{amt(amount)} is over what is left of the budget ({amt(left)})")
    if selector == TRANSFER and amount > state.balance:
        reasons.append(f"the wallet holds only {amt(state.balance)}")
    if reasons:
        return Verdict(False, tuple(reasons))
    after = replace(
        state.with_limit(i, LimitState(counters.period_start, counters.spent + amount)),
        spent_total=state.spent_total + amount if budgeted else state.spent_total,
        balance=state.balance - amount if selector == TRANSFER else state.balance,
    )
    return Verdict(True, state_after=after)


def check_vault_call(policy: Policy, state: WalletState, call: Call) -> Verdict:
    """An ERC-4626 call as the wallet reads it, and the vault aim off chain: shares and assets go
    to the wallet only, and a withdrawal keeps `keep_in_vault`'s share. A withdrawal frees its
    assets from the vault's exposure limit (the contract frees what the balance gains)."""
    vc = vault_call(call.data)
    if vc is None:
        return Verdict(False, ("malformed vault call: the wallet cannot read its receiver",))
    wallet = state.address.lower()
    if vc.receiver.lower() != wallet or (vc.owner is not None and vc.owner.lower() != wallet):
        return Verdict(False, (f"a vault call must name the wallet, not {vc.receiver}",))
    keep = policy.keep_in_vault
    kept_here = keep is not None and keep.vault.lower() == call.target.lower()
    if vc.selector == DEPOSIT:
        if vc.amount > state.balance:
            return Verdict(False, (f"the wallet holds only {format_amount(state.balance)}",))
        after = replace(
            state,
            balance=state.balance - vc.amount,
            in_vault=state.in_vault + vc.amount if kept_here else state.in_vault,
        )
        return Verdict(True, state_after=after)
    if vc.selector != WITHDRAW:  # redeem counts shares: what comes back is the vault's to say
        return Verdict(True, state_after=state)
    if kept_here:
        assert keep is not None
        total = state.in_vault + state.balance
        if (state.in_vault - vc.amount) * BPS < keep.share_bps * total:
            floor = -(-keep.share_bps * total // BPS)
            return Verdict(
                False,
                (
                    f"taking {format_amount(vc.amount)} out would leave less than "
                    f"{keep.share_bps / 100:g}% in the vault (at least {format_amount(floor)})",
                ),
            )
    i = policy.limit_index(call.target)
    counters = state.limit(i)
    if i and policy.limits[i - 1].is_exposure:
        state = state.with_limit(
            i, LimitState(counters.period_start, counters.spent - min(vc.amount, counters.spent))
        )
    after = replace(
        state,
        balance=state.balance + vc.amount,
        in_vault=state.in_vault - vc.amount if kept_here else state.in_vault,
    )
    return Verdict(True, state_after=after)


def swap_problems(policy: Policy, state: WalletState, call: Call) -> tuple[str, ...]:
    """Why the wallet would refuse the swap `call` (empty when it would not), as `_check_swap`."""
    ends = swap_ends(call.data)
    if ends is None:
        return ("malformed swap call: the wallet cannot read its recipient",)
    reasons = []
    if ends.token_in.lower() != policy.token.lower():
        reasons.append(f"a swap must spend the policy token, not {ends.token_in}")
    if ends.token_out.lower() not in {t.lower() for t in policy.tokens_out}:
        reasons.append(f"{ends.token_out} is not a token the policy lets a swap buy")
    who = ends.recipient.lower()
    if who == call.target.lower():
        reasons.append("a swap may not pay the router itself")
    elif who != state.address.lower() and who not in {a.lower() for a in policy.allowlist()}:
        reasons.append(
            f"a swap may pay only the wallet or an allowed recipient, not {ends.recipient}"
        )
    return tuple(reasons)


def check_calls(policy: Policy, state: WalletState, calls: list[Call]) -> Verdict:
    """All of `calls` in order; the first refusal explains the whole."""
    for call in calls:
        verdict = check_call(policy, state, call)
        if not verdict.allowed:
            return verdict
        assert verdict.state_after is not None
        state = verdict.state_after
    return Verdict(True, state_after=state)


def check_swap_price(policy: Policy, intent: Swap, quote: int | None) -> Verdict:
    """A swap asks at least the router's quote less the policy's slippage, so a sandwich between
    this check and the swap can take at most that much. `quote` None: the router gave no price."""
    if quote is None:
        return Verdict(False, (f"{intent.router} gives no price for this swap",))
    floor = quote * (BPS - policy.max_slippage_bps) // BPS
    if intent.min_out < floor:
        return Verdict(
            False,
            (
                f"the minimum output {format_amount(intent.min_out)} is under the router's price "
                f"less {policy.max_slippage_bps / 100:g}% ({format_amount(floor)})",
            ),
        )
    return Verdict(True)


def check_intent(policy: Policy, state: WalletState, intent: AnyIntent) -> Verdict:
    """Would the wallet carry out `intent` now? Also applies the off-chain recipient role."""
    if isinstance(intent, Pay) and policy.open_recipients and policy.recipient_role:
        return Verdict(False, ("this mandate only tips authors of answers you rate helpful",))
    return check_calls(policy, state, build_calls(intent, policy, state.address))


def rebalance_intent(policy: Policy, state: WalletState) -> Stake | Unstake | None:
    """The move that brings the kept vault to exactly its share of what the wallet holds: stake
    the liquid above it (within the vault's room), or take out what is above it so payments have
    the most liquid the aim allows. None when there is no aim or nothing to move."""
    keep = policy.keep_in_vault
    if keep is None:
        return None
    total = state.in_vault + state.balance
    floor = -(-keep.share_bps * total // BPS)
    if state.in_vault > floor:
        return Unstake(vault=keep.vault, amount=state.in_vault - floor)
    i = policy.limit_index(keep.vault)
    per_tx, cap, period_s = policy.limit_caps(i)
    room = cap - _roll_period(state.limit(i), period_s, state.now).spent
    amount = min(floor - state.in_vault, state.balance, per_tx, max(room, 0))
    return Stake(vault=keep.vault, amount=amount) if amount > 0 else None
