"""A deployed token and registry with three funded operators-to-be."""

from dataclasses import dataclass

import pytest

from aigora.chain import Chain
from aigora.chain.client import TxSigner
from aigora.chain.deploy import Deployment, RegistryParams, deploy_foundation

MIN_BOND = 1_000
UNBONDING_DELAY = 3_600
FUNDS = 100_000


@dataclass
class Setup:
    chain: Chain
    deployment: Deployment
    owner: TxSigner
    alice: TxSigner
    bob: TxSigner
    carol: TxSigner
    min_bond: int = MIN_BOND
    unbonding_delay: int = UNBONDING_DELAY

    @property
    def token(self):
        return self.deployment.token

    @property
    def registry(self):
        return self.deployment.registry

    def balance(self, who: str) -> int:
        return self.chain.call(self.token.functions.balanceOf(who))

    def register(self, signer: TxSigner, bond: int = MIN_BOND, endpoint: str = "http://op") -> None:
        self.chain.transact(signer, self.token.functions.approve(self.registry.address, bond))
        self.chain.transact(signer, self.registry.functions.register_operator(bond, endpoint))


@pytest.fixture
def setup(chain: Chain) -> Setup:
    owner, alice, bob, carol = chain.dev_signers()[:4]
    params = RegistryParams(min_bond=MIN_BOND, unbonding_delay_s=UNBONDING_DELAY)
    deployment = deploy_foundation(chain, owner, params)
    for who in (alice, bob, carol):
        chain.transact(owner, deployment.token.functions.mint(who.address, FUNDS))
    return Setup(chain, deployment, owner, alice, bob, carol)
