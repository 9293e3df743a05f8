# pragma version ~=0.4.3
"""
@title Aigora policy wallet
@notice Holds one ERC-20 (the policy token) for a person and lets an AI agent's key move it only
        within a policy the owner sets: a per-transaction cap, a per-period cap, a total budget,
        an expiry, a recipient allowlist, an allowlist of (target, selector) calls and the tokens a
        swap may buy. Everything else is refused (deny by default). The owner can replace or
        revoke the policy, withdraw any token or ether the wallet holds and change the agent at
        any time; the agent can only call `execute`.
@dev Guarantees, whatever calldata the agent sends:
     - tokens leave through `transfer` only to an allowlisted recipient (or anyone when the owner
       opened recipients), and through `approve` only to an allowlisted spender, never unlimited;
     - every transfer and every approval counts against the limit its counterparty belongs to:
       the default limit (`per_tx_cap`, `period_cap` per `period_s`) or one of up to three more
       the owner names (say "swaps: 10 a week"). A periodic limit counts against the total
       `budget` too; an exposure limit (`period_s` 0, for an ERC-4626 vault) bounds instead what
       is in it net: approvals to its one member add, and what the wallet's policy-token balance
       measurably gains in a `withdraw` or `redeem` on it subtracts. One member, because a
       withdrawal frees only room its own member used: with two, taking out a position one held
       before the epoch began (any `set_policy` restarts the counters, not the positions) would
       free room for deposits into the other, and a stolen key could move a whole old vault
       position into a hostile vault. So the policy token the agent can move or make movable,
       net of what came back from vaults, is at most
       min(budget, sum over periodic limits of cap * periods overlapping [start, expiry))
       + sum over exposure limits of cap;
     - an ERC-4626 `deposit`, `withdraw` or `redeem` must be canonically encoded and name the
       wallet as receiver (and owner): shares and assets only ever come back to the wallet. A
       target allowed one of them is a vault: set_policy refuses any other function on it, and
       `mint` (whose receiver the wallet does not read) anywhere. A vault is never paid by
       `transfer` (not even with open recipients): that is a gift to every other share, and
       withdrawing as much from a position older than the epoch would free the room again, so a
       stolen key could hand a whole old position to the vault's other holders, round by round;
     - transfer/approve/transferFrom/increaseAllowance selectors are refused on any target other
       than the policy token, other functions are refused on the policy token, and calls to the
       wallet itself are refused; the wallet never delegatecalls and sends no ether in `execute`;
     - a swap (`swap_exact_in`, or Uniswap V2's `swapExactTokensForTokens`) must be canonically
       ABI-encoded, spend the policy token, buy a token the policy lists and pay the wallet itself
       or an allowlisted address other than the router; the recipient is read from the calldata,
       and a call whose recipient cannot be read is refused. A target allowed a swap is a router:
       set_policy refuses any other function on it, and refuses the common routers' swap
       functions this wallet does not decode (`UNDECODED_SWAPS`), so an agent never names its own
       recipient. The swap's input counts against the caps through the approval that precedes it;
     - whatever the wallet holds (swap outputs, other tokens, ether forced into it) the agent
       cannot move except as above, and the owner can always withdraw;
     - `set_policy` starts a new policy epoch: the old allowlists vanish and the spend counters
       restart, so `budget` means "at most this much more from now on".
"""

# ERC-20 selectors decoded or refused by name.
TRANSFER: constant(bytes4) = 0xa9059cbb  # transfer(address,uint256)
APPROVE: constant(bytes4) = 0x095ea7b3  # approve(address,uint256)
TRANSFER_FROM: constant(bytes4) = 0x23b872dd  # transferFrom(address,address,uint256)
INCREASE_ALLOWANCE: constant(bytes4) = 0x39509351  # increaseAllowance(address,uint256)

# Swaps whose recipient and output token the wallet reads from the calldata.
SWAP_EXACT_IN: constant(bytes4) = 0xc4282b5a  # swap_exact_in(address,address,uint256,uint256,address)
# Uniswap V2 swapExactTokensForTokens(uint256,uint256,address[],address,uint256)
SWAP_EXACT_TOKENS_FOR_TOKENS: constant(bytes4) = 0x38ed1739
# Common routers' swap functions that name a recipient the wallet does not decode: never allowed.
UNDECODED_SWAPS: constant(bytes4[15]) = [
    0x8803dbee,  # V2 swapTokensForExactTokens(uint256,uint256,address[],address,uint256)
    0x18cbafe5,  # V2 swapExactTokensForETH(uint256,uint256,address[],address,uint256)
    0x4a25d94a,  # V2 swapTokensForExactETH(uint256,uint256,address[],address,uint256)
    0x5c11d795,  # V2 swapExactTokensForTokensSupportingFeeOnTransferTokens(...)
    0x791ac947,  # V2 swapExactTokensForETHSupportingFeeOnTransferTokens(...)
    0x414bf389,  # V3 exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))
    0xc04b8d59,  # V3 exactInput((bytes,address,uint256,uint256,uint256))
    0xdb3e2198,  # V3 exactOutputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))
    0xf28c0498,  # V3 exactOutput((bytes,address,uint256,uint256,uint256))
    0x04e45aaf,  # SwapRouter02 exactInputSingle((address,address,uint24,address,uint256,uint256,uint160))
    0xb858183f,  # SwapRouter02 exactInput((bytes,address,uint256,uint256))
    0x5023b4df,  # SwapRouter02 exactOutputSingle((address,address,uint24,address,uint256,uint256,uint160))
    0x09b81346,  # SwapRouter02 exactOutput((bytes,address,uint256,uint256))
    0x3593564c,  # Universal Router execute(bytes,bytes[],uint256)
    0x24856bc3,  # Universal Router execute(bytes,bytes[])
]

# ERC-4626 calls whose receiver (and owner) the wallet reads: they must name the wallet.
DEPOSIT: constant(bytes4) = 0x6e553f65  # deposit(uint256,address)
WITHDRAW: constant(bytes4) = 0xb460af94  # withdraw(uint256,address,address)
REDEEM: constant(bytes4) = 0xba087652  # redeem(uint256,address,address)
MINT: constant(bytes4) = 0x94bf804d  # mint(uint256,address): receiver not read, never allowed

MAX_RECIPIENTS: constant(uint256) = 64
# the default limit (index 0) and up to three the owner names
MAX_LIMITS: constant(uint256) = 4
MAX_CALLS: constant(uint256) = 16
MAX_TOKENS_OUT: constant(uint256) = 16
MAX_DATA: constant(uint256) = 1024
# swapExactTokensForTokens: selector, 5 head words, the path's length, then its elements
V2_PATH_AT: constant(uint256) = 196
MAX_PATH: constant(uint256) = (MAX_DATA - V2_PATH_AT) // 32

interface ERC20:
    def transfer(_to: address, _value: uint256) -> bool: nonpayable
    def approve(_spender: address, _value: uint256) -> bool: nonpayable
    def balanceOf(_owner: address) -> uint256: view


struct LimitSpec:
    per_tx_cap: uint256
    cap: uint256
    period_s: uint256  # 0: an exposure limit (no period, no budget; `cap` bounds what is in it)


struct Limit:
    per_tx_cap: uint256
    cap: uint256
    period_s: uint256
    period_start: uint256
    spent: uint256  # this period's spending, or an exposure limit's net exposure


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
    token_out_count: uint256
    limit_count: uint256

event Revoked:
    epoch: indexed(uint256)

event AgentSet:
    agent: indexed(address)

event OwnerSet:
    owner: indexed(address)

event ApprovalCleared:
    spender: indexed(address)

event Withdrawn:
    token: indexed(address)  # empty for ether
    receiver: indexed(address)
    amount: uint256


owner: public(address)
agent: public(address)
token: public(immutable(address))

epoch: public(uint256)
budget: public(uint256)
expiry: public(uint256)
open_recipients: public(bool)
started_at: public(uint256)

spent_total: public(uint256)
limits: public(Limit[MAX_LIMITS])
limit_count: public(uint256)
limit_of: public(HashMap[uint256, HashMap[address, uint256]])

recipient_allowed: HashMap[uint256, HashMap[address, bool]]
call_allowed: HashMap[uint256, HashMap[address, HashMap[bytes4, bool]]]
token_out_allowed: HashMap[uint256, HashMap[address, bool]]
is_router: HashMap[uint256, HashMap[address, bool]]
is_vault: HashMap[uint256, HashMap[address, bool]]


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
def is_token_out(_token: address) -> bool:
    return self.token_out_allowed[self.epoch][_token]


@view
@external
def per_tx_cap() -> uint256:
    """@notice The default limit's cap per transaction."""
    return self.limits[0].per_tx_cap


@view
@external
def period_cap() -> uint256:
    return self.limits[0].cap


@view
@external
def period_s() -> uint256:
    return self.limits[0].period_s


@view
@external
def period_start() -> uint256:
    return self.limits[0].period_start


@view
@external
def period_spent() -> uint256:
    return self.limits[0].spent


@view
@external
def counters() -> (uint256, uint256, uint256, Limit[MAX_LIMITS]):
    """@notice What the next `execute` starts from, in one call: `spent_total`, `expiry`,
            `limit_count` and every limit (caps and counters)."""
    return self.spent_total, self.expiry, self.limit_count, self.limits


@view
@external
def period_spent_now() -> uint256:
    """@notice What the default limit's period has spent, as the next `execute` will see it."""
    limit: Limit = self.limits[0]
    if limit.period_s == 0 or block.timestamp < limit.period_start + limit.period_s:
        return limit.spent
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
            assert not self.is_vault[self.epoch][counterparty], "a vault is paid only by a deposit"
        else:
            assert self.recipient_allowed[self.epoch][counterparty], "spender not in the policy"
            assert amount != max_value(uint256), "unlimited approval refused"
        self._spend(counterparty, amount)
    else:
        assert selector != TRANSFER and selector != APPROVE, "token functions only on the policy token"
        assert selector != TRANSFER_FROM and selector != INCREASE_ALLOWANCE, "token functions only on the policy token"
        if selector == SWAP_EXACT_IN or selector == SWAP_EXACT_TOKENS_FOR_TOKENS:
            # input the policy token, output a listed token, recipient the wallet or an
            # allowlisted address that is not the router
            token_in: address = empty(address)
            token_out: address = empty(address)
            token_in, token_out, counterparty = self._swap_ends(_data)
            assert token_in == token, "swap input is not the policy token"
            assert self.token_out_allowed[self.epoch][token_out], "swap output token not in the policy"
            assert counterparty != _target, "swap recipient is the router"
            assert counterparty == self or self.recipient_allowed[self.epoch][counterparty], "swap recipient not in the policy"
        elif selector == DEPOSIT:
            assert len(_data) == 68, "malformed vault call"
            counterparty = self._address_word(_data, 36, "malformed vault call")
            assert counterparty == self, "a deposit's shares must go to the wallet"
        elif selector == WITHDRAW or selector == REDEEM:
            assert len(_data) == 100, "malformed vault call"
            counterparty = self._address_word(_data, 36, "malformed vault call")
            assert counterparty == self, "a withdrawal must pay the wallet"
            assert self._address_word(_data, 68, "malformed vault call") == self, "a withdrawal must take the wallet's own shares"
            held: uint256 = staticcall ERC20(token).balanceOf(self)
            response: Bytes[32] = raw_call(_target, _data, max_outsize=32, revert_on_failure=True)
            amount = self._credit(_target, held)
            log Executed(epoch=self.epoch, target=_target, selector=selector, counterparty=counterparty, amount=amount)
            return response

    response: Bytes[32] = raw_call(_target, _data, max_outsize=32, revert_on_failure=True)
    if _target == token and len(response) > 0:
        assert convert(response, bool), "token call returned false"
    log Executed(epoch=self.epoch, target=_target, selector=selector, counterparty=counterparty, amount=amount)
    return response


@pure
@internal
def _swap_ends(_data: Bytes[MAX_DATA]) -> (address, address, address):
    """(input token, output token, recipient) of a canonically encoded swap call, or revert.
    Canonical means what every ABI decoder reads the same way: exact length, clean address words
    and, for the path, the one offset a standard encoder writes."""
    if convert(slice(_data, 0, 4), bytes4) == SWAP_EXACT_IN:
        # (token_in, token_out, amount_in, min_out, recipient)
        assert len(_data) == 164, "malformed swap call"
        return (
            self._address_word(_data, 4, "malformed swap call"),
            self._address_word(_data, 36, "malformed swap call"),
            self._address_word(_data, 132, "malformed swap call"),
        )
    # (amountIn, amountOutMin, path, to, deadline); path is the only dynamic argument
    assert len(_data) >= V2_PATH_AT + 64, "malformed swap call"
    assert extract32(_data, 68, output_type=uint256) == 160, "malformed swap call"
    n: uint256 = extract32(_data, V2_PATH_AT - 32, output_type=uint256)
    assert n >= 2 and n <= MAX_PATH, "malformed swap call"
    assert len(_data) == V2_PATH_AT + 32 * n, "malformed swap call"
    return (
        self._address_word(_data, V2_PATH_AT, "malformed swap call"),
        self._address_word(_data, V2_PATH_AT + 32 * (n - 1), "malformed swap call"),
        self._address_word(_data, 100, "malformed swap call"),
    )


@pure
@internal
def _address_word(_data: Bytes[MAX_DATA], _at: uint256, _reason: String[32]) -> address:
    """The ABI word of `_data` at `_at` as an address; high bits set are refused, not masked."""
    word: uint256 = extract32(_data, _at, output_type=uint256)
    assert word <= convert(max_value(uint160), uint256), _reason
    return convert(convert(word, uint160), address)


@internal
def _spend(_counterparty: address, _amount: uint256):
    """Count `_amount` against `_counterparty`'s limit (and a periodic limit against the budget),
    or revert."""
    i: uint256 = self.limit_of[self.epoch][_counterparty]
    limit: Limit = self.limits[i]
    assert _amount <= limit.per_tx_cap, "over the per-transaction cap"
    if limit.period_s == 0:
        assert limit.spent + _amount <= limit.cap, "over the exposure cap"
        self.limits[i].spent = limit.spent + _amount
        return
    if block.timestamp >= limit.period_start + limit.period_s:
        # Periods are aligned to the policy's start, so a burst cannot straddle a boundary twice.
        elapsed: uint256 = block.timestamp - limit.period_start
        limit.period_start += elapsed - elapsed % limit.period_s
        limit.spent = 0
    assert limit.spent + _amount <= limit.cap, "over the per-period cap"
    assert self.spent_total + _amount <= self.budget, "over the total budget"
    limit.spent += _amount
    self.limits[i] = limit
    self.spent_total += _amount


@internal
def _credit(_vault: address, _held_before: uint256) -> uint256:
    """What a withdrawal from `_vault` measurably returned of the policy token, taken off its
    exposure limit (never below zero). Only a balance the token reports counts, so a vault that
    pays nothing back frees nothing."""
    held: uint256 = staticcall ERC20(token).balanceOf(self)
    if held <= _held_before:
        return 0
    gained: uint256 = held - _held_before
    i: uint256 = self.limit_of[self.epoch][_vault]
    if self.limits[i].period_s == 0:
        self.limits[i].spent -= min(gained, self.limits[i].spent)
    return gained


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
    _tokens_out: DynArray[address, MAX_TOKENS_OUT],
    _limits: DynArray[LimitSpec, MAX_LIMITS - 1],
    _members: DynArray[address, MAX_RECIPIENTS],
    _member_limits: DynArray[uint256, MAX_RECIPIENTS],
):
    """
    @notice Replace the whole policy in one step: a new epoch, fresh allowlists, counters at zero.
            `_tokens_out` are the tokens a swap may buy. `_limits` are the limits beyond the
            default one (`_per_tx_cap`, `_period_cap` per `_period_s`); `_members[i]`, an
            allowlisted address, belongs to limit `_member_limits[i]` (1 for `_limits[0]`, ...);
            every other counterparty to the default limit.
    """
    assert msg.sender == self.owner, "only the owner"
    assert _period_s > 0, "period must be positive"
    assert len(_targets) == len(_selectors), "targets and selectors differ in length"
    assert len(_members) == len(_member_limits), "members and their limits differ in length"
    epoch: uint256 = self.epoch + 1
    self.epoch = epoch
    self.budget = _budget
    self.expiry = _expiry
    self.open_recipients = _open_recipients
    self.started_at = block.timestamp
    self.spent_total = 0
    self.limits[0] = Limit(
        per_tx_cap=_per_tx_cap, cap=_period_cap, period_s=_period_s, period_start=block.timestamp, spent=0
    )
    for i: uint256 in range(1, MAX_LIMITS):
        if i > len(_limits):
            self.limits[i] = empty(Limit)
        else:
            spec: LimitSpec = _limits[i - 1]
            self.limits[i] = Limit(
                per_tx_cap=spec.per_tx_cap, cap=spec.cap, period_s=spec.period_s, period_start=block.timestamp, spent=0
            )
    self.limit_count = 1 + len(_limits)
    for r: address in _recipients:
        assert r != self, "the wallet cannot be a recipient"
        self.recipient_allowed[epoch][r] = True
    members_of: uint256[MAX_LIMITS] = empty(uint256[MAX_LIMITS])
    for i: uint256 in range(MAX_RECIPIENTS):
        if i >= len(_members):
            break
        member: address = _members[i]
        limit_index: uint256 = _member_limits[i]
        assert self.recipient_allowed[epoch][member], "a limit's member must be allowlisted"
        assert self.limit_of[epoch][member] == 0, "an address belongs to one limit"
        assert limit_index >= 1 and limit_index <= len(_limits), "no such limit"
        members_of[limit_index] += 1
        assert _limits[limit_index - 1].period_s > 0 or members_of[limit_index] == 1, "an exposure limit has one member"
        self.limit_of[epoch][member] = limit_index
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
            assert selector not in UNDECODED_SWAPS, "a swap whose recipient the wallet cannot read"
            assert selector != MINT, "a vault's mint names a receiver the wallet does not read"
            if selector == SWAP_EXACT_IN or selector == SWAP_EXACT_TOKENS_FOR_TOKENS:
                self.is_router[epoch][target] = True
            if selector == DEPOSIT or selector == WITHDRAW or selector == REDEEM:
                self.is_vault[epoch][target] = True
        self.call_allowed[epoch][target][selector] = True
    for i: uint256 in range(MAX_CALLS):
        if i >= len(_targets):
            break
        selector: bytes4 = _selectors[i]
        if self.is_router[epoch][_targets[i]]:
            assert selector == SWAP_EXACT_IN or selector == SWAP_EXACT_TOKENS_FOR_TOKENS, "a router is called only through swaps the wallet reads"
        if self.is_vault[epoch][_targets[i]]:
            assert selector == DEPOSIT or selector == WITHDRAW or selector == REDEEM, "a vault is called only through deposit, withdraw and redeem"
    for t: address in _tokens_out:
        assert t != token and t != self and t != empty(address), "not a token a swap may buy"
        self.token_out_allowed[epoch][t] = True
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
        token_out_count=len(_tokens_out),
        limit_count=1 + len(_limits),
    )


@external
@nonreentrant
def revoke():
    """@notice Stop the agent at once: a new, empty, expired policy epoch."""
    assert msg.sender == self.owner, "only the owner"
    self.epoch += 1
    self.expiry = 0
    self.budget = 0
    for i: uint256 in range(MAX_LIMITS):
        self.limits[i] = empty(Limit)
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
    self._withdraw_token(token, _to, _amount)


@external
@nonreentrant
def withdraw_token(_token: address, _to: address, _amount: uint256):
    """@notice The owner moves any ERC-20 the wallet holds out (swap outputs, tokens sent to it).
    @dev Tokens that return nothing from `transfer` (USDT-style) are accepted; `false` reverts."""
    assert msg.sender == self.owner, "only the owner"
    self._withdraw_token(_token, _to, _amount)


@external
@nonreentrant
def withdraw_ether(_to: address, _amount: uint256):
    """@notice The owner moves out ether the wallet holds. It accepts none by call (no payable
               function), but ether can be forced in (a self-destructing contract, a block reward)."""
    assert msg.sender == self.owner, "only the owner"
    raw_call(_to, b"", value=_amount, revert_on_failure=True)
    log Withdrawn(token=empty(address), receiver=_to, amount=_amount)


@internal
def _withdraw_token(_token: address, _to: address, _amount: uint256):
    assert extcall ERC20(_token).transfer(_to, _amount, default_return_value=True), "token transfer returned false"
    log Withdrawn(token=_token, receiver=_to, amount=_amount)
