"""PolicyWallet's access rules, on the embedded chain and on anvil."""

import pytest
from eth_abi import encode

from aigora.agent.intents import Call, approve_call, selector_of, transfer_call
from aigora.agent.policy import MAX_UINT256, TRANSFER_FROM
from aigora.agent.vaults import DEPOSIT
from aigora.agent.wallet import execute, set_policy
from aigora.core.errors import ContractRevert

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
