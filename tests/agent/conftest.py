"""A dev token, a PolicyWallet with a small policy, a funded owner, an ERC-4626 vault (the real
`Vault`) the agent may stake in, and a hostile spender (`RedTeamSpender`) whose `stake(uint256)`
the policy allowlists as an ordinary contract call (it is no vault: it pulls its approval and
keeps it)."""

from dataclasses import dataclass

import pytest
from web3.contract import Contract

from aigora.agent.intents import selector_of
from aigora.agent.policy import AllowedCall, Policy
from aigora.agent.wallet import deploy_wallet
from aigora.chain import Chain
from aigora.chain.client import TxSigner

from .markets_kit import vault_calls

UNIT = 10**18
DAY = 86_400
FUND = 1_000 * UNIT


@dataclass
class WalletSetup:
    chain: Chain
    token: Contract
    wallet: Contract
    spender: Contract
    vault: Contract
    owner: TxSigner
    agent: TxSigner
    alice: TxSigner
    bob: TxSigner
    mallory: TxSigner
    policy: Policy
    start: int

    def balance(self, who: str) -> int:
        return self.chain.call(self.token.functions.balanceOf(who))

    def policy_with(self, **changes) -> Policy:
        return Policy.model_validate({**self.policy.model_dump(), **changes})


def make_policy(token: str, now: int, recipients, spenders=(), calls=()) -> Policy:
    return Policy(
        token=token,
        per_tx_cap=5 * UNIT,
        period_cap=10 * UNIT,
        period_s=DAY,
        budget=25 * UNIT,
        expiry=now + 10 * DAY,
        recipients=tuple(recipients),
        spenders=tuple(spenders),
        calls=tuple(calls),
    )


def build_setup(chain: Chain) -> WalletSetup:
    owner, agent, alice, bob, mallory = chain.dev_signers()[:5]
    token, _ = chain.deploy(owner, "Token", "Test", "TST")
    chain.transact(owner, token.functions.mint(owner.address, 10 * FUND))
    spender, _ = chain.deploy(owner, "RedTeamSpender", token.address)
    vault, _ = chain.deploy(owner, "Vault", token.address, "Test Vault", "vTST")
    policy = make_policy(
        token.address,
        chain.now(),
        [alice.address, bob.address],
        [spender.address, vault.address],
        [
            AllowedCall(
                target=spender.address,
                selector=selector_of("stake(uint256)"),
                label="RedTeamSpender.stake",
            ),
            *vault_calls(vault.address),
        ],
    )
    wallet, _ = deploy_wallet(chain, owner, agent.address, policy, fund=FUND)
    start = chain.call(wallet.functions.period_start())
    return WalletSetup(
        chain, token, wallet, spender, vault, owner, agent, alice, bob, mallory, policy, start
    )


@pytest.fixture
def setup(chain: Chain) -> WalletSetup:
    return build_setup(chain)


@pytest.fixture(scope="session")
def setup_builder():
    """`build_setup` itself, for module-scoped fixtures that deploy once on a chain of their own."""
    return build_setup


@pytest.fixture
def embedded_setup() -> WalletSetup:
    with Chain.embedded() as chain:
        yield build_setup(chain)
