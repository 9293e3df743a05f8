"""One poster's tree on a Distributor that any number of posters share, on titanoboa.

`Payouts.deploy()` deploys a token and a distributor with one funded poster; `join(label)` adds
another funded poster on the same contract. Every call goes to the instance's own poster's tree
unless `poster=` names another (which is how the attack tests aim a proof at the wrong tree).
`check_books` checks the invariant of every poster of the distributor and that the contract holds
exactly what they funded and have not yet paid out.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boa
from eth_account import Account
from eth_account.signers.local import LocalAccount

from aigora.chain.compile import source_path
from aigora.core.eip712 import Domain, sign_typed
from aigora.core.hashing import keccak
from aigora.core.merkle import StandardMerkleTree
from aigora.payouts import CLAIM_FEE_TYPES
from aigora.payouts._claims import DOMAIN_NAME, DOMAIN_VERSION

ENCODING = ["address", "uint256"]
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
POSTER_FUNDS = 10**30
HOUR = 3600


def key(label: str) -> LocalAccount:
    """A deterministic key, so signatures and addresses are the same on every run."""
    return Account.from_key(keccak(label.encode()))


def address(label: str) -> str:
    return str(key(label).address)


@cache
def token_deployer() -> Any:
    """Compile once per session; each test deploys fresh copies."""
    return boa.load_partial(str(source_path("Token")))


@cache
def distributor_deployer() -> Any:
    return boa.load_partial(str(source_path("Distributor")))


def tree_of(cumulative: Mapping[str, int]) -> StandardMerkleTree:
    return StandardMerkleTree.of([[a, v] for a, v in cumulative.items()], ENCODING)


@dataclass
class Payouts:
    """`poster`'s tree on a shared distributor; `post` publishes the poster's next epoch, and
    `funded` counts what its posts pulled (read from their `EpochPosted` logs)."""

    token: Any
    distributor: Any
    poster: str
    network: list["Payouts"]
    trees: list[StandardMerkleTree] = field(default_factory=list)
    funded: int = 0

    @classmethod
    def deploy(cls, label: str = "poster") -> "Payouts":
        token = token_deployer().deploy("Aigora Dev Token", "AIGD")
        distributor = distributor_deployer().deploy(token.address)
        return cls._funded(token, distributor, label, [])

    def join(self, label: str) -> "Payouts":
        """Another poster on the same distributor, funded and with the token approved."""
        return self._funded(self.token, self.distributor, label, self.network)

    @classmethod
    def _funded(cls, token: Any, distributor: Any, label: str, network: list) -> "Payouts":
        poster = address(label)
        token.mint(poster, POSTER_FUNDS)
        with boa.env.prank(poster):
            token.approve(distributor.address, 2**256 - 1)
        joined = cls(token, distributor, poster, network)
        network.append(joined)
        return joined

    @property
    def tree(self) -> StandardMerkleTree:
        return self.trees[-1]

    def post(
        self, cumulative: Mapping[str, int], *, total: int | None = None
    ) -> StandardMerkleTree:
        """Post the poster's next epoch; `total` defaults to the sum of the leaves."""
        tree = tree_of(cumulative)
        total = sum(cumulative.values()) if total is None else total
        with boa.env.prank(self.poster):
            self.distributor.post_epoch(len(self.trees) + 1, tree.root, total)
        (log,) = self.logged("EpochPosted")
        assert (log.poster, log.epoch, log.root) == (self.poster, len(self.trees) + 1, tree.root)
        self.funded += log.funded
        self.trees.append(tree)
        return tree

    def proof(self, account: str, cumulative: int) -> list[bytes]:
        return self.tree.get_proof([account, cumulative])

    def claim(
        self,
        account: str,
        cumulative: int,
        *,
        sender: str,
        proof: Sequence[bytes] | None = None,
        poster: str | None = None,
    ) -> list[Any]:
        """Send the claim (against `poster`'s tree, by default this one's, with a proof from
        this one's newest tree by default); returns the Claimed events it logged."""
        if proof is None:
            proof = self.proof(account, cumulative)
        with boa.env.prank(sender):
            self.distributor.claim(poster or self.poster, account, cumulative, proof)
        return self.logged("Claimed")

    def logged(self, event: str) -> list[Any]:
        """The `event` logs of the distributor's latest call (read them before calling again)."""
        return [e for e in self.distributor.get_logs() if type(e).__name__ == event]

    def balance(self, who: str) -> int:
        return self.token.balanceOf(who)

    def claimed(self, account: str) -> int:
        return self.distributor.claimed(self.poster, account)

    def claimable(self, account: str, cumulative: int, proof: Sequence[bytes]) -> int:
        return self.distributor.claimable(self.poster, account, cumulative, proof)

    def paid_total(self) -> int:
        return self.distributor.paid_total(self.poster)

    def cumulative_total(self) -> int:
        return self.distributor.cumulative_total(self.poster)

    def domain(self) -> Domain:
        return Domain(
            DOMAIN_NAME, DOMAIN_VERSION, boa.env.evm.patch.chain_id, self.distributor.address
        )

    def sign_fee(
        self,
        signer: LocalAccount,
        cumulative: int,
        fee: int,
        relayer: str,
        deadline: int,
        *,
        account: str | None = None,
    ) -> bytes:
        """The account's ClaimFee signature for a claim against this poster's tree."""
        message = {
            "poster": self.poster,
            "account": account or signer.address,
            "cumulativeAmount": cumulative,
            "fee": fee,
            "relayer": relayer,
            "deadline": deadline,
        }
        return sign_typed(signer, self.domain(), CLAIM_FEE_TYPES, "ClaimFee", message)

    def claim_with_fee(
        self,
        account: str,
        cumulative: int,
        fee: int,
        deadline: int,
        signature: bytes,
        *,
        sender: str,
        proof: Sequence[bytes] | None = None,
        poster: str | None = None,
    ) -> list[Any]:
        """Send the claim; returns the Claimed events it logged."""
        if proof is None:
            proof = self.proof(account, cumulative)
        with boa.env.prank(sender):
            self.distributor.claim_with_fee(
                poster or self.poster, account, cumulative, proof, fee, deadline, signature
            )
        return self.logged("Claimed")

    def check_books(self) -> None:
        """For every poster P of the distributor, paid_total(P) <= cumulative_total(P) == what
        P's posts pulled; and the contract holds exactly what was funded and not yet paid."""
        for each in self.network:
            assert each.paid_total() <= each.cumulative_total() == each.funded
        owed = sum(each.cumulative_total() - each.paid_total() for each in self.network)
        assert self.balance(self.distributor.address) == owed
