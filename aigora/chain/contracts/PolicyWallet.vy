# pragma version ~=0.4.3
"""
@title Aigora policy wallet
@notice Holds one ERC-20 (the policy token) for a person and lets an AI agent's key move it only
        within a policy the owner sets: a per-transaction cap, a per-period cap, a total budget,
        an expiry, a recipient allowlist and an allowlist of (target, selector) calls. Everything
        else is refused (deny by default). The owner can replace or revoke the policy, withdraw
        and change the agent at any time; the agent can only call `execute`.
@dev Guarantees, whatever calldata the agent sends:
     - tokens leave through `transfer` only to an allowlisted recipient (or anyone when the owner
       opened recipients), and through `approve` only to an allowlisted spender, never unlimited;
     - every transfer and every approval counts against all three caps, so the policy token the
       agent can move or make movable is at most
       min(budget, period_cap * periods that overlap [policy start, expiry));
     - transfer/approve/transferFrom/increaseAllowance selectors are refused on any target other
       than the policy token, other functions are refused on the policy token, and calls to the
       wallet itself are refused; the wallet never delegatecalls and holds no ether;
     - `set_policy` starts a new policy epoch: the old allowlists vanish and the spend counters
       restart, so `budget` means "at most this much more from now on".
"""

# ERC-20 selectors decoded or refused by name.
TRANSFER: constant(bytes4) = 0xa9059cbb  # transfer(address,uint256)
APPROVE: constant(bytes4) = 0x095ea7b3  # approve(address,uint256)
TRANSFER_FROM: constant(bytes4) = 0x23b872dd  # transferFrom(address,address,uint256)
INCREASE_ALLOWANCE: constant(bytes4) = 0x39509351  # increaseAllowance(address,uint256)

MAX_RECIPIENTS: constant(uint256) = 64
MAX_CALLS: constant(uint256) = 16
MAX_DATA: constant(uint256) = 1024

interface ERC20:
    def transfer(_to: address, _value: uint256) -> bool: nonpayable
    def approve(_spender: address, _value: uint256) -> bool: nonpayable


event Executed:
    epoch: indexed(uint256)
    target: indexed(address)
    selector: bytes4
    counterparty: address
    amount: uint256

event PolicySet:
    epoch: indexed(uint256)
    per_tx_cap: uint256
    period_cap: uint256
    period_s: uint256
    budget: uint256
    expiry: uint256
    open_recipients: bool
    recipient_count: uint256
    call_count: uint256

event Revoked:
    epoch: indexed(uint256)

event AgentSet:
    agent: indexed(address)

event OwnerSet:
    owner: indexed(address)

event ApprovalCleared:
    spender: indexed(address)

event Withdrawn:
    receiver: indexed(address)
    amount: uint256


owner: public(address)
agent: public(address)
token: public(immutable(address))

epoch: public(uint256)
per_tx_cap: public(uint256)
period_cap: public(uint256)
period_s: public(uint256)
budget: public(uint256)
expiry: public(uint256)
open_recipients: public(bool)

spent_total: public(uint256)
period_start: public(uint256)
period_spent: public(uint256)

recipient_allowed: HashMap[uint256, HashMap[address, bool]]
call_allowed: HashMap[uint256, HashMap[address, HashMap[bytes4, bool]]]


@deploy
def __init__(_agent: address, _token: address):
    """@notice The deployer owns the wallet; the policy starts empty, so the agent can do nothing."""
    assert _token != empty(address), "token is the zero address"
    self.owner = msg.sender
    self.agent = _agent
    token = _token
    log OwnerSet(owner=msg.sender)
    log AgentSet(agent=_agent)


# ---- reading ---------------------------------------------------------------------------------


@view
@external
def is_recipient(_who: address) -> bool:
    return self.open_recipients or self.recipient_allowed[self.epoch][_who]


@view
@external
def is_call_allowed(_target: address, _selector: bytes4) -> bool:
    return self.call_allowed[self.epoch][_target][_selector]


@view
@external
def period_spent_now() -> uint256:
    """@notice What the current period has spent, as the next `execute` will see it."""
    if self.period_s == 0 or block.timestamp < self.period_start + self.period_s:
        return self.period_spent
    return 0


# ---- the agent ---------------------------------------------------------------------------------


@external
@nonreentrant
def execute(_target: address, _data: Bytes[MAX_DATA]) -> Bytes[32]:
    """
    @notice Call `_target` with `_data` from the wallet, if and only if the policy allows it.
    @dev Only the agent. No ether is sent; the call is a plain CALL, never a delegatecall.
    """
    assert msg.sender == self.agent, "only the agent"
    assert msg.sender != empty(address), "no agent"
    assert block.timestamp < self.expiry, "policy expired or revoked"
    assert _target != self, "calls to the wallet itself are refused"
    assert _target != empty(address), "call to the zero address"
    assert len(_data) >= 4, "calldata has no selector"
    selector: bytes4 = convert(slice(_data, 0, 4), bytes4)
    assert self.call_allowed[self.epoch][_target][selector], "call not in the policy"

    counterparty: address = empty(address)
    amount: uint256 = 0
    if _target == token:
        assert selector == TRANSFER or selector == APPROVE, "only transfer and approve on the token"
        assert len(_data) == 68, "malformed token call"
        counterparty, amount = abi_decode(slice(_data, 4, 64), (address, uint256))
        assert counterparty != self, "token call naming the wallet"
        if selector == TRANSFER:
            assert self.open_recipients or self.recipient_allowed[self.epoch][counterparty], "recipient not in the policy"
        else:
            assert self.recipient_allowed[self.epoch][counterparty], "spender not in the policy"
            assert amount != max_value(uint256), "unlimited approval refused"
        self._spend(amount)
    else:
        assert selector != TRANSFER and selector != APPROVE, "token functions only on the policy token"
        assert selector != TRANSFER_FROM and selector != INCREASE_ALLOWANCE, "token functions only on the policy token"

    response: Bytes[32] = raw_call(_target, _data, max_outsize=32, revert_on_failure=True)
    if _target == token and len(response) > 0:
        assert convert(response, bool), "token call returned false"
    log Executed(epoch=self.epoch, target=_target, selector=selector, counterparty=counterparty, amount=amount)
    return response


@internal
def _spend(_amount: uint256):
    """Count `_amount` against the per-transaction, per-period and total caps, or revert."""
    assert _amount <= self.per_tx_cap, "over the per-transaction cap"
    if block.timestamp >= self.period_start + self.period_s:
        # Periods are aligned to the policy's start, so a burst cannot straddle a boundary twice.
        elapsed: uint256 = block.timestamp - self.period_start
        self.period_start += elapsed - elapsed % self.period_s
        self.period_spent = 0
    assert self.period_spent + _amount <= self.period_cap, "over the per-period cap"
    assert self.spent_total + _amount <= self.budget, "over the total budget"
    self.period_spent += _amount
    self.spent_total += _amount


# ---- the owner ---------------------------------------------------------------------------------


@external
@nonreentrant
def set_policy(
    _per_tx_cap: uint256,
    _period_cap: uint256,
    _period_s: uint256,
    _budget: uint256,
    _expiry: uint256,
    _open_recipients: bool,
    _recipients: DynArray[address, MAX_RECIPIENTS],
    _targets: DynArray[address, MAX_CALLS],
    _selectors: DynArray[bytes4, MAX_CALLS],
):
    """
    @notice Replace the whole policy in one step: a new epoch, fresh allowlists, counters at zero.
    """
    assert msg.sender == self.owner, "only the owner"
    assert _period_s > 0, "period must be positive"
    assert len(_targets) == len(_selectors), "targets and selectors differ in length"
    epoch: uint256 = self.epoch + 1
    self.epoch = epoch
    self.per_tx_cap = _per_tx_cap
    self.period_cap = _period_cap
    self.period_s = _period_s
    self.budget = _budget
    self.expiry = _expiry
    self.open_recipients = _open_recipients
    self.spent_total = 0
    self.period_start = block.timestamp
    self.period_spent = 0
    for r: address in _recipients:
        assert r != self, "the wallet cannot be a recipient"
        self.recipient_allowed[epoch][r] = True
    for i: uint256 in range(MAX_CALLS):
        if i >= len(_targets):
            break
        target: address = _targets[i]
        selector: bytes4 = _selectors[i]
        assert target != self, "calls to the wallet itself are refused"
        if target == token:
            assert selector == TRANSFER or selector == APPROVE, "only transfer and approve on the token"
        else:
            assert selector != TRANSFER and selector != APPROVE, "token functions only on the policy token"
            assert selector != TRANSFER_FROM and selector != INCREASE_ALLOWANCE, "token functions only on the policy token"
        self.call_allowed[epoch][target][selector] = True
    log PolicySet(
        epoch=epoch,
        per_tx_cap=_per_tx_cap,
        period_cap=_period_cap,
        period_s=_period_s,
        budget=_budget,
        expiry=_expiry,
        open_recipients=_open_recipients,
        recipient_count=len(_recipients),
        call_count=len(_targets),
    )


@external
@nonreentrant
def revoke():
    """@notice Stop the agent at once: a new, empty, expired policy epoch."""
    assert msg.sender == self.owner, "only the owner"
    self.epoch += 1
    self.expiry = 0
    self.budget = 0
    self.per_tx_cap = 0
    self.period_cap = 0
    self.open_recipients = False
    log Revoked(epoch=self.epoch)


@external
@nonreentrant
def clear_approval(_spender: address):
    """
    @notice Set the wallet's token allowance for `_spender` back to zero. Revoking a policy stops
            the agent, but an allowance it granted earlier lives in the token: this takes it back.
    """
    assert msg.sender == self.owner, "only the owner"
    assert extcall ERC20(token).approve(_spender, 0), "token approve returned false"
    log ApprovalCleared(spender=_spender)


@external
def set_agent(_agent: address):
    assert msg.sender == self.owner, "only the owner"
    self.agent = _agent
    log AgentSet(agent=_agent)


@external
def set_owner(_owner: address):
    assert msg.sender == self.owner, "only the owner"
    assert _owner != empty(address), "owner is the zero address"
    self.owner = _owner
    log OwnerSet(owner=_owner)


@external
@nonreentrant
def withdraw(_to: address, _amount: uint256):
    """@notice The owner moves the policy token out, with no policy limits (also: approve pending)."""
    assert msg.sender == self.owner, "only the owner"
    assert extcall ERC20(token).transfer(_to, _amount), "token transfer returned false"
    log Withdrawn(receiver=_to, amount=_amount)
