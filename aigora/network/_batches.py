"""What a batch served by a peer must satisfy before this node stores any of it, as pure rules,
cheapest first (in the manner of `aigora.verify`): each raises `BadBatch` naming what failed.

A batch is anchored on the registry as (anchorer, kind, root, item_count); a peer serves its
leaves as signed items. The node accepts the items only if there are exactly `item_count` of
them, each of a kind the batch's kind may hold, each validly signed in the network's domain,
no digest twice, and their digests rebuild the anchored root. A content item's body must hash
to its CID. Nothing about the peer is trusted: a peer can only withhold, never alter.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from aigora.content import InvalidSignedObject, Signed, batch_tree, check
from aigora.core.cid import cid_of
from aigora.core.eip712 import Domain
from aigora.core.errors import AigoraError

MAX_PAGE = 1_000
"""Items per page a node serves (and asks for)."""


class BadBatch(AigoraError):
    """What a peer served is not the anchored batch (named in the message)."""


@dataclass(frozen=True)
class FoundBatch:
    """A content or attestations batch as the registry's `BatchAnchored` event recorded it."""

    batch_id: int
    kind: int
    anchorer: str
    root: str
    item_count: int
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class CheckedItem:
    signed: Signed
    digest: str


def check_item_count(items: Sequence[Signed], batch: FoundBatch) -> None:
    if len(items) != batch.item_count:
        raise BadBatch(
            f"batch {batch.batch_id} anchors {batch.item_count} items; the peer served {len(items)}"
        )


def check_item_kinds(items: Sequence[Signed], allowed: tuple[str, ...], batch_id: int) -> None:
    for item in items:
        if item.kind not in allowed:
            raise BadBatch(f"batch {batch_id} cannot hold a {item.kind} item")


def check_signatures(
    items: Sequence[Signed], domain: Domain, now: int, batch_id: int
) -> list[CheckedItem]:
    """Every item validly signed by its signer in the network's domain; returns their digests."""
    checked = []
    for position, item in enumerate(items):
        try:
            digest = check(item, domain, now)
        except InvalidSignedObject as exc:
            raise BadBatch(f"batch {batch_id}, item {position}: {exc}") from None
        checked.append(CheckedItem(item, "0x" + digest.hex()))
    return checked


def check_distinct(items: Sequence[CheckedItem], batch_id: int) -> None:
    digests = [item.digest for item in items]
    if len(set(digests)) != len(digests):
        raise BadBatch(f"batch {batch_id}: the peer served one item twice")


def check_root(items: Sequence[CheckedItem], batch: FoundBatch) -> None:
    """The served items' digests rebuild the anchored root (a StandardMerkleTree: order-free)."""
    root = "0x" + batch_tree([item.digest for item in items]).root.hex()
    if root.lower() != batch.root.lower():
        raise BadBatch(
            f"batch {batch.batch_id}: the served items make root {root}, not the anchored "
            f"{batch.root}"
        )


def check_body(cid: str, body: bytes) -> None:
    actual = cid_of(body)
    if actual != cid:
        raise BadBatch(f"the body served for {cid} has CID {actual}")
