"""Which item a labeler is served next: one rule for gold and work alike, keyed by a job secret.

A sybil ring (one person, many addresses) gains only if it can tell gold items from work items:
then it answers gold right, work wrong in agreement, and is paid for labels it never made. So
nothing a labeler is served may depend on which items are gold:

- **Numbers.** An item's number (`position`, what tasks, answers and signatures name) is a keyed
  shuffle of its index in the spec (`item_positions`): where the requester put its gold says
  nothing.
- **Order.** A labeler walks the job's items in its own order, by `serving_key` =
  HMAC-SHA256(job secret, labeler, position): unpredictable without the secret (kept by the node,
  never served) and different for every address. It is served the first item in that order it was
  never assigned whose live or answered assignments are below the job's `overlap`; gold items are
  served by exactly this rule, under the same `overlap`. So every labeler meets gold at random
  places through its whole sequence, at the job's gold share, and sees a random subset of the
  gold pool.

What the rule guarantees: the items served to any set of addresses, in any order, pooled, are a
function of the secret, the addresses, the numbers and the assignment counts, and none of these
depends on which items are gold. Two sybils seeing the same item learns them nothing: a gold item
and a work item are equally likely to be shared. A labeler's sequence depends on others only
through which items are full; on a job with free slots it is the same whoever else labels.
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_BYTES = 32


def job_secret() -> bytes:
    """A fresh random secret for one job (the node keeps it; no one else ever sees it)."""
    return secrets.token_bytes(SECRET_BYTES)


def _mac(secret: bytes, *parts: bytes) -> bytes:
    return hmac.new(secret, b"\x00".join(parts), hashlib.sha256).digest()


def item_positions(secret: bytes, count: int) -> list[int]:
    """The served number of each spec index 0..count-1: a permutation keyed by `secret`."""
    order = sorted(range(count), key=lambda i: _mac(secret, b"position", i.to_bytes(8, "big")))
    positions = [0] * count
    for position, index in enumerate(order):
        positions[index] = position
    return positions


def serving_key(secret: bytes, labeler: str, position: int) -> bytes:
    """Where item `position` falls in `labeler`'s order (lowest first); addresses in any case."""
    return _mac(secret, b"serve", labeler.lower().encode(), position.to_bytes(8, "big"))


def next_position(secret: bytes, labeler: str, open_positions: Iterable[int]) -> int | None:
    """The first of `open_positions` (items never assigned to `labeler`, below overlap) in the
    labeler's order; None when there are none."""
    return min(open_positions, key=lambda p: serving_key(secret, labeler, p), default=None)
