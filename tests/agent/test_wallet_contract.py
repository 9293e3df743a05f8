"""PolicyWallet's access rules, its limits and its vault calls, on the embedded chain and on anvil
(the markets: the dev chain's pool and vault from `deploy_markets`, and a `HostileVault`)."""

from collections import Counter
from dataclasses import replace

import pytest
from eth_abi import encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigora.agent.check import check_call
from aigora.agent.errors import PolicyError
from aigora.agent.intents import (
    Call,
    Stake,
    Unstake,
    approve_call,
    build_calls,
    selector_of,
    transfer_call,
)
from aigora.agent.policy import MAX_UINT256, TRANSFER, TRANSFER_FROM, Policy, worst_case_loss
from aigora.agent.vaults import DEPOSIT, MINT, WITHDRAW
from aigora.agent.wallet import execute, read_state, set_policy
from aigora.core.errors import ContractRevert

from .boa_chain import BoaChain
from .markets_kit import (
    WEEK,
    MarketsSetup,
    add_markets,
    deposit_data,
    markets_policy,
    sized_to_limit,
    swap_data,
    withdraw_data,
)

UNIT = 10**18
DAY = 86_400


def _refused(s, call, reason: str, signer=None) -> None:
    before = s.balance(s.wallet.address)
    with pytest.raises(ContractRevert) as info:
        execute(s.chain, signer or s.agent, s.wallet, call)
    assert reason in info.value.reason
    assert s.balance(s.wallet.address) == before


def test_agent_pays_an_allowlisted_recipient_within_caps(setup):
    s = setup
    result = execute(
        s.chain, s.agent, s.wallet, transfer_call(s.token.address, s.alice.address, 5 * UNIT)
    )
    assert s.balance(s.alice.address) == 5 * UNIT
    (log,) = s.chain.events_in(result, s.wallet.events.Executed)
    assert (log.args.counterparty, log.args.amount) == (s.alice.address, 5 * UNIT)
    assert s.chain.call(s.wallet.functions.spent_total()) == 5 * UNIT


def test_deny_by_default(setup):
    s = setup
    token = s.token.address
    _refused(s, transfer_call(token, s.mallory.address, 1), "recipient not in the policy")
    _refused(s, transfer_call(token, s.alice.address, 5 * UNIT + 1), "per-transaction cap")
    _refused(s, approve_call(token, s.alice.address, MAX_UINT256), "unlimited approval")
    _refused(s, approve_call(token, s.mallory.address, 1), "spender not in the policy")
    data = TRANSFER_FROM + encode(
        ["address", "address", "uint256"], [s.wallet.address, s.mallory.address, 1]
    )
    _refused(s, Call(token, data), "call not in the policy")
    _refused(s, Call(s.wallet.address, b"\x00" * 4), "wallet itself")
    _refused(s, Call(s.mallory.address, b"\x12\x34\x56\x78"), "call not in the policy")


def test_period_and_budget_caps(setup):
    s = setup
    token = s.token.address
    for _ in range(2):
        execute(s.chain, s.agent, s.wallet, transfer_call(token, s.alice.address, 5 * UNIT))
    _refused(s, transfer_call(token, s.alice.address, 1), "per-period cap")
    s.chain.advance_time(DAY)
    for _ in range(2):
        execute(s.chain, s.agent, s.wallet, transfer_call(token, s.bob.address, 5 * UNIT))
    s.chain.advance_time(DAY)
    execute(s.chain, s.agent, s.wallet, transfer_call(token, s.bob.address, 5 * UNIT))
    _refused(s, transfer_call(token, s.bob.address, 1), "total budget")
    assert s.balance(s.alice.address) + s.balance(s.bob.address) == 25 * UNIT


def test_expiry_stops_the_agent(setup):
    s = setup
    s.chain.advance_time(10 * DAY + 1)
    _refused(s, transfer_call(s.token.address, s.alice.address, 1), "expired")


def test_approvals_count_against_the_budget_and_a_deposit_mints_to_the_wallet(setup):
    s = setup
    execute(s.chain, s.agent, s.wallet, approve_call(s.token.address, s.vault.address, 4 * UNIT))
    deposit = Call(
        s.vault.address, DEPOSIT + encode(["uint256", "address"], [4 * UNIT, s.wallet.address])
    )
    execute(s.chain, s.agent, s.wallet, deposit)
    assert s.chain.call(s.vault.functions.balanceOf(s.wallet.address)) == 4 * UNIT
    assert (
        s.chain.call(s.wallet.functions.spent_total()) == 4 * UNIT
    )  # the vault is in the default limit
    # an allowlisted contract function that is no vault call is an ordinary call
    execute(s.chain, s.agent, s.wallet, approve_call(s.token.address, s.spender.address, UNIT))
    stake = Call(s.spender.address, selector_of("stake(uint256)") + encode(["uint256"], [UNIT]))
    execute(s.chain, s.agent, s.wallet, stake)
    assert s.chain.call(s.spender.functions.staked(s.wallet.address)) == UNIT
    assert s.chain.call(s.wallet.functions.spent_total()) == 5 * UNIT
    # the spender's other functions are not allowlisted
    pull = Call(s.spender.address, selector_of("pull(address,address,uint256)") + b"\x00" * 96)
    _refused(s, pull, "call not in the policy")


def test_only_the_owner_changes_policy(setup):
    s = setup
    for signer in (s.agent, s.mallory):
        with pytest.raises(ContractRevert, match="only the owner"):
            set_policy(s.chain, signer, s.wallet, s.policy)
        for fn in (
            s.wallet.functions.revoke(),
            s.wallet.functions.set_agent(signer.address),
            s.wallet.functions.set_owner(signer.address),
            s.wallet.functions.withdraw(signer.address, 1),
            s.wallet.functions.clear_approval(signer.address),
        ):
            with pytest.raises(ContractRevert, match="only the owner"):
                s.chain.transact(signer, fn)
    # and not through execute either: calls to the wallet itself are refused
    data = s.wallet.functions.set_agent(s.mallory.address)._encode_transaction_data()
    _refused(s, Call(s.wallet.address, bytes.fromhex(data[2:])), "wallet itself")
    with pytest.raises(ContractRevert, match="only the agent"):
        execute(s.chain, s.mallory, s.wallet, transfer_call(s.token.address, s.alice.address, 1))


def test_owner_revokes_and_replaces_the_policy(setup):
    s = setup
    result = s.chain.transact(s.owner, s.wallet.functions.revoke())
    assert s.chain.events_in(result, s.wallet.events.Revoked)
    _refused(s, transfer_call(s.token.address, s.alice.address, 1), "expired or revoked")
    narrower = s.policy_with(recipients=(s.bob.address,), expiry=s.chain.now() + DAY)
    set_policy(s.chain, s.owner, s.wallet, narrower)
    _refused(s, transfer_call(s.token.address, s.alice.address, 1), "recipient not in the policy")
    execute(s.chain, s.agent, s.wallet, transfer_call(s.token.address, s.bob.address, UNIT))
    s.chain.transact(s.owner, s.wallet.functions.withdraw(s.owner.address, 10 * UNIT))
    assert s.balance(s.wallet.address) == 1_000 * UNIT - 11 * UNIT


def test_owner_takes_back_an_allowance_after_revoking(setup):
    s = setup
    execute(s.chain, s.agent, s.wallet, approve_call(s.token.address, s.spender.address, 3 * UNIT))
    allowance = s.token.functions.allowance(s.wallet.address, s.spender.address)
    assert s.chain.call(allowance) == 3 * UNIT
    s.chain.transact(s.owner, s.wallet.functions.revoke())
    assert s.chain.call(allowance) == 3 * UNIT  # revoking alone leaves it in the token
    result = s.chain.transact(s.owner, s.wallet.functions.clear_approval(s.spender.address))
    assert s.chain.events_in(result, s.wallet.events.ApprovalCleared)
    assert s.chain.call(allowance) == 0


def test_owner_cannot_allowlist_token_tricks(setup):
    s = setup
    args = list(s.policy.set_policy_args())
    args[7], args[8] = [s.spender.address], [TRANSFER_FROM]
    with pytest.raises(ContractRevert, match="token functions only on the policy token"):
        s.chain.transact(s.owner, s.wallet.functions.set_policy(*args))
    args[7], args[8] = [s.wallet.address], [b"\x00" * 4]
    with pytest.raises(ContractRevert, match="wallet itself"):
        s.chain.transact(s.owner, s.wallet.functions.set_policy(*args))


# ---- limits beyond the default one, and vaults ---------------------------------------------------


@pytest.fixture
def m(setup) -> MarketsSetup:
    m = add_markets(setup)
    set_policy(setup.chain, setup.owner, setup.wallet, markets_policy(m))
    return m


def _policy_of(m: MarketsSetup) -> Policy:
    return markets_policy(m)


def _limit(s, i: int) -> tuple[int, int, int, int, int]:
    return tuple(s.chain.call(s.wallet.functions.limits(i)))


def _send(s, call: Call):
    return execute(s.chain, s.agent, s.wallet, call)


def _executed(s, result) -> tuple[str, int]:
    (log,) = s.chain.events_in(result, s.wallet.events.Executed)
    return log.args.counterparty, log.args.amount


def test_swaps_have_a_weekly_cap_of_their_own_beside_the_daily_default(m):
    """The issue's "never swap more than 10 a week" on the real pool: the week's cap binds swaps
    alone, the default limit's day cap binds payments alone, the budget binds both."""
    s = m.s
    token, pool, stable = s.token.address, m.pool.address, m.stable.address
    wallet = s.wallet.address

    def swap(amount: int):
        _send(s, approve_call(token, pool, amount))
        return _send(s, Call(pool, swap_data(token, stable, amount, wallet)))

    quote = s.chain.call(m.pool.functions.quote(token, stable, 6 * UNIT))
    swap(6 * UNIT)
    assert s.chain.call(m.stable.functions.balanceOf(wallet)) == quote  # the pool paid the wallet
    _refused(s, approve_call(token, pool, 4 * UNIT + 1), "over the per-period cap")
    # the day's default cap is all there for payments: the swaps used none of it
    for _ in range(2):
        _send(s, transfer_call(token, s.alice.address, 5 * UNIT))
    _refused(s, transfer_call(token, s.alice.address, 1), "over the per-period cap")
    assert _limit(s, 0)[4] == 10 * UNIT
    assert _limit(s, 1)[4] == 6 * UNIT
    assert s.chain.call(s.wallet.functions.spent_total()) == 16 * UNIT
    # a day on, payments are free again and swaps still are not
    s.chain.advance_time(DAY)
    _send(s, transfer_call(token, s.bob.address, 5 * UNIT))
    swap(4 * UNIT)
    _refused(s, approve_call(token, pool, 1), "over the per-period cap")
    # a week after the policy started, the swaps' week starts over
    s.chain.advance_time(6 * DAY)
    swap(10 * UNIT)
    assert _limit(s, 1)[4] == 10 * UNIT
    assert s.chain.call(s.wallet.functions.spent_total()) == 35 * UNIT


def test_vault_exposure_is_capped_and_freed_by_exactly_what_comes_back(m):
    s = m.s
    token, vault, wallet = s.token.address, m.vault.address, s.wallet.address
    policy = _policy_of(m)
    for call in build_calls(Stake(vault=vault, amount=80 * UNIT), policy, wallet):
        _send(s, call)
    assert m.shares(wallet) == 80 * UNIT
    assert _limit(s, 2)[4] == 80 * UNIT
    assert s.chain.call(s.wallet.functions.spent_total()) == 0  # exposure is not budget
    _refused(s, approve_call(token, vault, 20 * UNIT + 1), "over the exposure cap")
    # unstaking frees what the wallet's balance gained, no more
    held = s.balance(wallet)
    result = _send(s, build_calls(Unstake(vault=vault, amount=30 * UNIT), policy, wallet)[0])
    assert _executed(s, result) == (wallet, 30 * UNIT)
    assert s.balance(wallet) == held + 30 * UNIT
    assert _limit(s, 2)[4] == 50 * UNIT
    _send(s, approve_call(token, vault, 50 * UNIT))  # the room freed is there again
    _refused(s, approve_call(token, vault, 1), "over the exposure cap")
    _send(s, Call(vault, deposit_data(50 * UNIT, wallet)))
    # yield (on a dev chain, a donation) above what went in floors the exposure at 0
    s.chain.transact(s.owner, s.token.functions.transfer(vault, 100 * UNIT))
    shares = m.shares(wallet)
    held = s.balance(wallet)
    result = _send(s, Call(vault, withdraw_data(shares, wallet, wallet, redeem=True)))
    gained = s.balance(wallet) - held
    assert gained > 100 * UNIT
    assert _executed(s, result) == (wallet, gained)
    assert _limit(s, 2)[4] == 0
    _send(s, approve_call(token, vault, 100 * UNIT))  # room is the cap, not the cap plus yield
    _refused(s, approve_call(token, vault, 1), "over the exposure cap")


def test_a_hostile_vault_that_pays_nothing_back_frees_nothing(m):
    s = m.s
    token, hostile, wallet = s.token.address, m.hostile.address, s.wallet.address
    held = s.balance(wallet)
    # it pulls 10 more than deposited, out of the approval, and tries to reenter the wallet
    steal = s.wallet.functions.execute(token, transfer_call(token, s.mallory.address, UNIT).data)
    s.chain.transact(s.mallory, m.hostile.functions.set_extra_pull(10 * UNIT))
    s.chain.transact(
        s.mallory,
        m.hostile.functions.set_reentry(
            wallet, bytes.fromhex(steal._encode_transaction_data()[2:])
        ),
    )
    _send(s, approve_call(token, hostile, 20 * UNIT))
    _send(s, Call(hostile, deposit_data(10 * UNIT, wallet)))
    assert s.chain.call(m.hostile.functions.extra_pulled()) == 10 * UNIT
    assert not s.chain.call(m.hostile.functions.reentry_succeeded())
    assert s.balance(wallet) == held - 20 * UNIT  # no more than the approval
    assert s.balance(s.mallory.address) == 0
    assert _limit(s, 3)[4] == 20 * UNIT
    result = _send(s, Call(hostile, withdraw_data(20 * UNIT, wallet, wallet)))
    assert _executed(s, result) == (wallet, 0)
    assert _limit(s, 3)[4] == 20 * UNIT
    _refused(s, approve_call(token, hostile, 1), "over the exposure cap")
    # paying half back frees half
    s.chain.transact(s.mallory, m.hostile.functions.set_payback(5_000))
    result = _send(s, Call(hostile, withdraw_data(20 * UNIT, wallet, wallet, redeem=True)))
    assert _executed(s, result) == (wallet, 10 * UNIT)
    assert _limit(s, 3)[4] == 10 * UNIT
    assert s.balance(wallet) == held - 10 * UNIT


def test_vault_calls_naming_anyone_but_the_wallet_are_refused(m):
    s = m.s
    token, vault, wallet, thief = (
        s.token.address,
        m.vault.address,
        s.wallet.address,
        s.agent.address,
    )
    _send(s, approve_call(token, vault, 10 * UNIT))
    _send(s, Call(vault, deposit_data(5 * UNIT, wallet)))
    dirty_wallet = b"\x01" + bytes(11) + bytes.fromhex(wallet[2:])
    for target in (vault, m.hostile.address):
        for data, reason in [
            (deposit_data(UNIT, thief), "a deposit's shares must go to the wallet"),
            (withdraw_data(UNIT, thief, wallet), "a withdrawal must pay the wallet"),
            (withdraw_data(UNIT, wallet, thief), "a withdrawal must take the wallet's own shares"),
            (withdraw_data(UNIT, thief, wallet, redeem=True), "a withdrawal must pay the wallet"),
            (
                withdraw_data(UNIT, wallet, thief, redeem=True),
                "a withdrawal must take the wallet's own shares",
            ),
            (deposit_data(UNIT, wallet)[:-1], "malformed vault call"),
            (deposit_data(UNIT, wallet) + b"\x00", "malformed vault call"),
            (withdraw_data(UNIT, wallet, wallet)[:-1], "malformed vault call"),
            (withdraw_data(UNIT, wallet, wallet) + bytes(32), "malformed vault call"),
            (deposit_data(UNIT, wallet)[:36] + dirty_wallet, "malformed vault call"),
            (withdraw_data(UNIT, wallet, wallet)[:68] + dirty_wallet, "malformed vault call"),
            (MINT + encode(["uint256", "address"], [UNIT, wallet]), "call not in the policy"),
            (
                TRANSFER + encode(["address", "uint256"], [thief, UNIT]),
                "call not in the policy",
            ),
        ]:
            _refused(s, Call(target, data), reason)
    assert m.shares(wallet) == 5 * UNIT
    assert m.shares(thief) == 0
    # nor can anyone take the wallet's shares without it
    for fn in (
        m.vault.functions.transferFrom(wallet, thief, UNIT),
        m.vault.functions.withdraw(UNIT, thief, wallet),
        m.vault.functions.redeem(UNIT, thief, wallet),
    ):
        with pytest.raises(ContractRevert):
            s.chain.transact(s.agent, fn)
    assert m.shares(wallet) == 5 * UNIT


def test_set_policy_refuses_limits_and_vault_calls_it_cannot_enforce(m):
    s = m.s
    policy = _policy_of(m)
    base = policy.set_policy_args()
    vault, hostile, pool = m.vault.address, m.hostile.address, m.pool.address

    def refused(reason: str, **changes) -> None:
        args = list(base)
        for at, value in changes.items():
            args[int(at[1:])] = value
        with pytest.raises(ContractRevert, match=reason):
            s.chain.transact(s.owner, s.wallet.functions.set_policy(*args))

    targets, selectors = base[7], base[8]
    refused("a vault's mint", a7=[*targets, vault], a8=[*selectors, MINT])
    refused("a vault's mint", a7=[*targets, s.spender.address], a8=[*selectors, MINT])
    max_deposit = selector_of("maxDeposit(address)")
    refused("a vault is called only through", a7=[*targets, vault], a8=[*selectors, max_deposit])
    refused(
        "a limit's member must be allowlisted", a11=[pool, vault, s.mallory.address], a12=[1, 2, 1]
    )
    refused("an address belongs to one limit", a11=[pool, vault, hostile, pool], a12=[1, 2, 3, 1])
    refused("no such limit", a11=[pool, vault, hostile], a12=[1, 2, 4])
    refused("no such limit", a11=[pool, vault, hostile], a12=[0, 2, 3])
    refused("members and their limits differ", a11=[pool, vault, hostile], a12=[1, 2])
    refused("an exposure limit has one member", a11=[pool, vault, hostile], a12=[1, 2, 2])
    # the policy's own check says the same before anything is sent
    for limits, reason in [
        (
            [{"per_tx_cap": 1, "cap": 1, "period_s": 0, "members": [vault, hostile]}],
            "exposure limit has one member",
        ),
        (
            [{"per_tx_cap": 1, "cap": 1, "period_s": 0, "members": [s.mallory.address]}],
            "not a recipient",
        ),
    ]:
        with pytest.raises(PolicyError, match=reason):
            Policy.model_validate({**policy.model_dump(), "limits": limits})
    assert s.chain.call(s.wallet.functions.limit_count()) == 4  # the policy set before stands


def test_revoke_zeroes_every_limit(m):
    s = m.s
    _send(s, approve_call(s.token.address, m.pool.address, UNIT))
    _send(s, approve_call(s.token.address, m.vault.address, UNIT))
    _send(s, transfer_call(s.token.address, s.alice.address, UNIT))
    s.chain.transact(s.owner, s.wallet.functions.revoke())
    assert [_limit(s, i) for i in range(4)] == [(0, 0, 0, 0, 0)] * 4
    assert (
        s.chain.call(
            s.wallet.functions.limit_of(s.chain.call(s.wallet.functions.epoch()), m.vault.address)
        )
        == 0
    )
    _refused(s, approve_call(s.token.address, m.vault.address, 1), "expired or revoked")


def _stake_80(m: MarketsSetup) -> None:
    """Under the first policy the agent keeps 80 in the vault: the position the next outlives."""
    s = m.s
    stake = Stake(vault=m.vault.address, amount=80 * UNIT)
    for call in build_calls(stake, _policy_of(m), s.wallet.address):
        _send(s, call)


def _narrow(m: MarketsSetup, **changes) -> Policy:
    """The owner narrows the policy: 1 in all outside the vaults (swaps included)."""
    return markets_policy(
        m, per_tx_cap=UNIT, period_cap=UNIT, budget=UNIT, swap=(UNIT, UNIT, WEEK), **changes
    )


def test_an_old_vault_position_frees_no_room_for_another_vault(m):
    """A stolen agent key against an owner who keeps a vault position across policies: every
    `set_policy` restarts the exposure counters, not the position. If the vault and a hostile
    vault shared an exposure limit, withdrawing the old position 10 at a time would free room
    for 10 more into the hostile vault each time, and the whole position would end up there
    (90 of the owner's value for a worst case of 11). One member per exposure limit: the old
    position comes back to the wallet, and only the hostile vault's own cap can leave."""
    s = m.s
    token, vault, hostile, wallet = (
        s.token.address,
        m.vault.address,
        m.hostile.address,
        s.wallet.address,
    )
    _stake_80(m)
    # the owner narrows the policy: 1 in total outside the vaults, 10 at most in the hostile one
    narrow = _narrow(m, hostile_cap=10 * UNIT)
    shared = list(narrow.set_policy_args())
    shared[10] = [(UNIT, UNIT, WEEK), (10 * UNIT, 10 * UNIT, 0)]
    shared[11], shared[12] = [m.pool.address, vault, hostile], [1, 2, 2]
    with pytest.raises(ContractRevert, match="an exposure limit has one member"):
        s.chain.transact(s.owner, s.wallet.functions.set_policy(*shared))
    set_policy(s.chain, s.owner, s.wallet, narrow)
    start = s.chain.call(s.wallet.functions.started_at())

    def value() -> int:
        return s.balance(wallet) + m.in_vault(wallet)

    before = value()
    refusals = []
    for _ in range(9):  # the attack that drains a shared limit
        for call in (
            approve_call(token, hostile, 10 * UNIT),
            Call(hostile, deposit_data(10 * UNIT, wallet)),
            Call(vault, withdraw_data(10 * UNIT, wallet, wallet)),
        ):
            try:
                _send(s, call)
            except ContractRevert as exc:
                refusals.append(exc.reason)
    # the hostile vault's room is spent once; the old position only ever comes back
    assert Counter(refusals) == {
        "over the exposure cap": 8,
        "insufficient allowance": 8,  # the deposit after each refused approval
        "erc4626: withdraw more than maximum": 1,  # all 80 are back in the wallet
    }
    assert s.balance(hostile) == 10 * UNIT
    assert m.in_vault(wallet) == 0  # the old position came back to the wallet
    assert before - value() == 10 * UNIT <= worst_case_loss(narrow, start)


# ---- the off-chain check agrees with the contract ---------------------------------------------

# What the wallet itself refuses in `execute` (a vault's or the token's own revert is not one: the
# wallet let that call through).
WALLET_REASONS = (
    "policy expired or revoked",
    "calls to the wallet itself are refused",
    "calldata has no selector",
    "call not in the policy",
    "malformed token call",
    "token call naming the wallet",
    "recipient not in the policy",
    "a vault is paid only by a deposit",
    "spender not in the policy",
    "unlimited approval refused",
    "token functions only on the policy token",
    "malformed swap call",
    "swap input is not the policy token",
    "swap output token not in the policy",
    "swap recipient is the router",
    "swap recipient not in the policy",
    "malformed vault call",
    "a deposit's shares must go to the wallet",
    "a withdrawal must pay the wallet",
    "a withdrawal must take the wallet's own shares",
    "over the per-transaction cap",
    "over the exposure cap",
    "over the per-period cap",
    "over the total budget",
)
_vault_amounts = st.one_of(
    st.sampled_from([0, 1, UNIT, 5 * UNIT, 10 * UNIT, 20 * UNIT, 20 * UNIT + 1, 40 * UNIT]),
    st.integers(0, 45 * UNIT),
)
_steps = st.lists(
    st.tuples(
        st.sampled_from(
            ["approve"] * 3
            + ["transfer", "deposit", "deposit", "withdraw", "redeem"]
            + ["malformed", "swap", "time"]
        ),
        st.integers(0, 7),  # the counterparty, receiver or target
        st.integers(0, 7),  # the owner a withdrawal names
        _vault_amounts,
        st.integers(0, 255),  # a variant
    ),
    min_size=1,
    max_size=10,
)
_caps = st.fixed_dictionaries(
    {
        "swap": st.sampled_from([(2 * UNIT, 4 * UNIT, DAY), (5 * UNIT, 5 * UNIT, WEEK)]),
        "vault_cap": st.sampled_from([10 * UNIT, 40 * UNIT]),
        "hostile_cap": st.sampled_from([None, 15 * UNIT]),
        "payback_bps": st.sampled_from([0, 5_000, 10_000]),
    }
)


@pytest.fixture(scope="module")
def boa_markets(setup_builder) -> MarketsSetup:
    return add_markets(setup_builder(BoaChain()))


def _agreement_call(
    m: MarketsSetup, policy: Policy, kind: str, i: int, j: int, amount: int, k: int
) -> Call:
    s = m.s
    wallet, token = s.wallet.address, s.token.address
    people = [
        wallet,
        s.alice.address,
        s.mallory.address,
        m.vault.address,
        m.hostile.address,
        m.pool.address,
        s.spender.address,
        s.agent.address,
    ]
    vault = m.hostile.address if k % 2 else m.vault.address
    receiver = wallet if k % 3 else people[i]
    owner = wallet if k % 5 else people[j]
    match kind:
        case "approve":  # half of them to a limit's member: the vaults and the pool
            spender = people[3 + k // 2 % 3] if k % 4 < 2 else people[i]
            return approve_call(token, spender, sized_to_limit(policy, spender, amount, k // 8))
        case "transfer":
            return transfer_call(token, people[i], sized_to_limit(policy, people[i], amount, k))
        case "deposit":
            return Call(vault, deposit_data(amount, receiver))
        case "withdraw" | "redeem":
            return Call(vault, withdraw_data(amount, receiver, owner, redeem=kind == "redeem"))
        case "swap":
            return Call(m.pool.address, swap_data(token, m.stable.address, amount or 1, receiver))
    data = withdraw_data(amount, wallet, wallet) if k % 4 else deposit_data(amount, wallet)
    data = [data[:-1], data + b"\x00", data[:36] + b"\x01" + data[37:], data[:4]][(k // 4) % 4]
    return Call(vault, data)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(caps=_caps, steps=_steps)
def test_the_off_chain_check_and_the_contract_agree_on_vault_and_limit_calls(
    boa_markets, caps, steps
):
    """Random approvals, transfers, vault and swap calls against a fresh policy with a swap
    limit and two exposure limits: the Python check allows each exactly when the wallet lets it
    through, for the same reason when it refuses; and after a token call or a withdrawal from
    the real vault (which pays exactly what it is asked), the counters it predicts are the
    contract's."""
    m = boa_markets
    s, chain = m.s, m.s.chain
    wallet = s.wallet.address
    held = s.balance(wallet)
    if held < 1_000 * UNIT:
        chain.transact(s.owner, s.token.functions.mint(wallet, 1_000 * UNIT - held))
    chain.transact(s.mallory, m.hostile.functions.set_payback(caps.pop("payback_bps")))
    policy = markets_policy(m, expiry=chain.now() + 30 * DAY, **caps)
    set_policy(chain, s.owner, s.wallet, policy)
    for kind, i, j, amount, k in steps:
        if kind == "time":
            chain.advance_time([1, 3600, DAY, WEEK][k % 4])
            continue
        call = _agreement_call(m, policy, kind, i, j, amount, k)
        # the state as the next block sees it: mined one second after the latest
        state = replace(read_state(chain, s.wallet), now=chain.now() + 1)
        verdict = check_call(policy, state, call)
        try:
            execute(chain, s.agent, s.wallet, call)
            refused = ""
        except ContractRevert as exc:
            refused = exc.reason if exc.reason in WALLET_REASONS else ""
        assert verdict.allowed == (not refused), (kind, verdict.explain(), refused)
        if refused:
            continue
        predicted = verdict.state_after
        honest = call.target == s.token.address or (
            call.target == m.vault.address and call.selector == WITHDRAW
        )
        if predicted is not None and honest:
            actual = read_state(chain, s.wallet)
            assert (predicted.spent_total, predicted.extra_limits) == (
                actual.spent_total,
                actual.extra_limits,
            )
            assert (predicted.period_start, predicted.period_spent) == (
                actual.period_start,
                actual.period_spent,
            )


def test_a_vault_is_never_paid_directly_so_an_old_position_cannot_be_given_away(m):
    """A stolen agent key against an owner who kept a vault position across policies, with the
    attacker holding most of the vault's shares: paying the vault 10 (a gift that the attacker's
    shares mostly get) and withdrawing 10 of the old position (which frees the 10 again) would
    move the whole position to the attacker, round by round. The wallet pays a vault only by a
    deposit, whatever the policy says about recipients."""
    s = m.s
    token, vault, wallet = s.token.address, m.vault.address, s.wallet.address
    _stake_80(m)
    s.chain.transact(s.owner, s.token.functions.mint(s.mallory.address, 10_000 * UNIT))
    s.chain.transact(s.mallory, s.token.functions.approve(vault, 10_000 * UNIT))
    s.chain.transact(s.mallory, m.vault.functions.deposit(10_000 * UNIT, s.mallory.address))
    for open_recipients in (False, True):
        narrow = _narrow(m, vault_cap=10 * UNIT, open_recipients=open_recipients)
        set_policy(s.chain, s.owner, s.wallet, narrow)
        before = s.balance(wallet) + m.in_vault(wallet)
        _refused(s, transfer_call(token, vault, 10 * UNIT), "a vault is paid only by a deposit")
        verdict = check_call(narrow, read_state(s.chain, s.wallet), transfer_call(token, vault, 1))
        assert "paid only by a deposit" in verdict.explain()
        # what is left to the attacker: take the position out, which frees nothing new
        _send(s, Call(vault, withdraw_data(10 * UNIT, wallet, wallet)))
        assert _limit(s, 2)[4] == 0
        assert (
            s.balance(wallet) + m.in_vault(wallet) >= before - 1
        )  # rounding, in the vault's favour
