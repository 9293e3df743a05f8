"""The dev payment token: ERC-20 behaviour, mint rights and its reverts, on both backends."""

import pytest

from aigora.core.errors import ContractRevert

ZERO = "0x" + "00" * 20


def test_token_metadata(setup):
    token, chain = setup.token, setup.chain
    assert chain.call(token.functions.symbol()) == "AIGD"
    assert chain.call(token.functions.decimals()) == 18
    assert chain.call(token.functions.minter()) == setup.owner.address
    assert chain.call(token.functions.totalSupply()) == 3 * 100_000


def test_only_the_minter_mints(setup):
    with pytest.raises(ContractRevert, match="only the minter") as info:
        setup.chain.transact(setup.alice, setup.token.functions.mint(setup.alice.address, 1))
    assert info.value.reason == "only the minter"
    assert setup.balance(setup.alice.address) == 100_000


def test_transfer_moves_funds_and_logs(setup):
    result = setup.chain.transact(
        setup.alice, setup.token.functions.transfer(setup.bob.address, 250)
    )
    assert setup.balance(setup.alice.address) == 100_000 - 250
    assert setup.balance(setup.bob.address) == 100_000 + 250
    (log,) = setup.chain.events_in(result, setup.token.events.Transfer)
    assert (log.args.sender, log.args.receiver, log.args.value) == (
        setup.alice.address,
        setup.bob.address,
        250,
    )


def test_transfer_reverts_keep_balances(setup):
    with pytest.raises(ContractRevert, match="insufficient balance"):
        setup.chain.transact(setup.alice, setup.token.functions.transfer(setup.bob.address, 10**9))
    with pytest.raises(ContractRevert, match="transfer to the zero address"):
        setup.chain.transact(setup.alice, setup.token.functions.transfer(ZERO, 1))
    assert setup.balance(setup.alice.address) == 100_000


def test_transfer_from_spends_allowance(setup):
    chain, token = setup.chain, setup.token
    chain.transact(setup.alice, token.functions.approve(setup.bob.address, 300))
    with pytest.raises(ContractRevert, match="insufficient allowance"):
        chain.transact(
            setup.bob, token.functions.transferFrom(setup.alice.address, setup.bob.address, 301)
        )
    chain.transact(
        setup.bob, token.functions.transferFrom(setup.alice.address, setup.carol.address, 200)
    )
    assert chain.call(token.functions.allowance(setup.alice.address, setup.bob.address)) == 100
    assert setup.balance(setup.carol.address) == 100_200
