"""The off-chain check: would `PolicyWallet.execute` accept these calls, and if not, why not.

Pure functions over a `Policy` and a `WalletState`; the rules mirror the contract's one for one, so
a refusal is explained before anything is sent. The contract enforces them regardless.
"""

from dataclasses import dataclass, replace

from eth_abi import decode

from aigora.agent.intents import Call, Pay, Stake, Swap, Tip, build_calls
from aigora.agent.policy import (
    APPROVE,
    INCREASE_ALLOWANCE,
    MAX_UINT256,
    TRANSFER,
    TRANSFER_FROM,
    Policy,
    format_amount,
)
from aigora.agent.swaps import is_decoded_swap, swap_ends


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


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reasons: tuple[str, ...] = ()
    state_after: WalletState | None = None

    def explain(self) -> str:
        return "allowed" if self.allowed else "; ".join(self.reasons)


def _roll_period(policy: Policy, state: WalletState) -> WalletState:
    if state.now >= state.period_start + policy.period_s:
        elapsed = state.now - state.period_start
        return replace(
            state,
            period_start=state.period_start + elapsed - elapsed % policy.period_s,
            period_spent=0,
        )
    return state


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
    if selector == APPROVE:
        if who.lower() not in allow:
            reasons.append(f"{who} is not an allowed spender")
        if amount == MAX_UINT256:
            reasons.append("unlimited approvals are refused")
    state = _roll_period(policy, state)
    amt = format_amount
    if amount > policy.per_tx_cap:
        reasons.append(f"{amt(amount)} is over the per-transaction cap of {amt(policy.per_tx_cap)}")
    if state.period_spent + amount > policy.period_cap:
        left = max(policy.period_cap - state.period_spent, 0)
        reasons.append(f"{amt(amount)} is over what is left this period ({amt(left)})")
    if state.spent_total + amount > policy.budget:
        left = max(policy.budget - state.spent_total, 0)
        reasons.append(f"{amt(amount)} is over what is left of the budget ({amt(left)})")
    if selector == TRANSFER and amount > state.balance:
        reasons.append(f"the wallet holds only {amt(state.balance)}")
    if reasons:
        return Verdict(False, tuple(reasons))
    after = replace(
        state,
        spent_total=state.spent_total + amount,
        period_spent=state.period_spent + amount,
        balance=state.balance - amount if selector == TRANSFER else state.balance,
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


def check_intent(policy: Policy, state: WalletState, intent: AnyIntent) -> Verdict:
    """Would the wallet carry out `intent` now? Also applies the off-chain recipient role."""
    if isinstance(intent, Pay) and policy.open_recipients and policy.recipient_role:
        return Verdict(False, ("this mandate only tips authors of answers you rate helpful",))
    return check_calls(policy, state, build_calls(intent, policy, state.address))
