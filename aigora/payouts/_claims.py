"""Claiming payouts for someone else: a relayer sends the claim and pays its gas.

`Distributor.claim` pays the account whoever sends it, so a person with no ether and no token is
paid by any relayer (the node does it through `POST /claims/{account}`). One distributor serves a
whole network: every poster (a node's operator) has its own tree and funds, and a claim names the
poster whose tree pays it. A relayer may keep a fee out of the payout only with the account's
EIP-712 `ClaimFee` signature, which names the poster, the relayer, the exact cumulative amount and
a deadline; `fee_authorization` builds what the account signs.
"""

import re
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

from aigora.chain import Chain
from aigora.chain.client import TxSigner
from aigora.core.eip712 import Domain, typed_data
from aigora.core.errors import AigoraError
from aigora.core.merkle import StandardMerkleTree

DOMAIN_NAME = "Aigora Distributor"
DOMAIN_VERSION = "2"
CLAIM_FEE_TYPES = {
    "ClaimFee": [
        {"name": "poster", "type": "address"},
        {"name": "account", "type": "address"},
        {"name": "cumulativeAmount", "type": "uint256"},
        {"name": "fee", "type": "uint256"},
        {"name": "relayer", "type": "address"},
        {"name": "deadline", "type": "uint256"},
    ]
}


class NothingToClaim(AigoraError):
    """The account's cumulative amount has already been paid out."""


@dataclass(frozen=True)
class FeeAuthorization:
    """The account's signed consent to pay `fee` to the relayer that sends its claim."""

    fee: int
    deadline: int
    signature: bytes


@dataclass(frozen=True)
class ClaimResult:
    """A claim that landed: `paid` out of `poster`'s tree, `fee` of it to `relayer`."""

    poster: str
    account: str
    cumulative: int
    paid: int
    fee: int
    relayer: str
    tx_hash: str

    def to_json(self) -> dict[str, Any]:
        """As the API answers it: amounts as decimal strings (they exceed 2**53)."""
        return {
            **self.__dict__,
            **{k: str(getattr(self, k)) for k in ("cumulative", "paid", "fee")},
        }


ACCOUNT = re.compile(r"0x[0-9a-fA-F]{40}")


def check_account(account: str) -> str:
    """`account` if it is a 0x-hex address (the form claims and earnings take), else a clear
    error."""
    if not ACCOUNT.fullmatch(account):
        raise AigoraError(f"{account!r} is not a 0x-hex account address (0x and 40 hex digits)")
    return account


def distributor_domain(chain: Chain, distributor: Contract) -> Domain:
    return Domain(DOMAIN_NAME, DOMAIN_VERSION, chain.chain_id, distributor.address)


def fee_authorization(
    chain: Chain,
    distributor: Contract,
    *,
    poster: str,
    account: str,
    cumulative: int,
    fee: int,
    relayer: str,
    deadline: int,
) -> dict[str, Any]:
    """The typed data an account signs (`eth_signTypedData_v4`) to let `relayer` keep `fee` of
    its claim against `poster`'s tree (good for no other poster's)."""
    message = {
        "poster": poster,
        "account": account,
        "cumulativeAmount": cumulative,
        "fee": fee,
        "relayer": relayer,
        "deadline": deadline,
    }
    return typed_data(distributor_domain(chain, distributor), CLAIM_FEE_TYPES, "ClaimFee", message)


def claimable_now(
    chain: Chain,
    distributor: Contract,
    tree: StandardMerkleTree,
    *,
    poster: str,
    account: str,
    cumulative: int,
) -> int:
    """What a claim for the leaf `(account, cumulative)` of `poster`'s tree pays now (the
    distributor's `claimable`); `NothingToClaim` when all of it has been paid."""
    proof = tree.get_proof((account, cumulative))
    due = int(chain.call(distributor.functions.claimable(poster, account, cumulative, proof)))
    if due == 0:
        raise NothingToClaim(
            f"{account} has already been paid its {cumulative} units from {poster}'s tree"
        )
    return due


def relay_claim(
    chain: Chain,
    distributor: Contract,
    signer: TxSigner,
    tree: StandardMerkleTree,
    *,
    poster: str,
    account: str,
    cumulative: int,
    authorization: FeeAuthorization | None = None,
) -> ClaimResult:
    """Send `account`'s claim for its leaf `(account, cumulative)` of `poster`'s posted tree
    `tree` (the proof is a lookup, not a scan of the tree), paying the gas as `signer`. Raises
    `NothingToClaim` when all of it has been paid."""
    proof = tree.get_proof((account, cumulative))
    claimable_now(chain, distributor, tree, poster=poster, account=account, cumulative=cumulative)
    functions = distributor.functions
    if authorization is None:
        call = functions.claim(poster, account, cumulative, proof)
    else:
        call = functions.claim_with_fee(
            poster,
            account,
            cumulative,
            proof,
            authorization.fee,
            authorization.deadline,
            authorization.signature,
        )
    result = chain.transact(signer, call)
    (event,) = chain.events_in(result, distributor.events.Claimed)
    return ClaimResult(
        str(event.args.poster),
        str(event.args.account),
        int(event.args.cumulative),
        int(event.args.amount),
        int(event.args.fee),
        str(event.args.relayer),
        result.tx_hash,
    )
