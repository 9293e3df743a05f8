"""Valid example rows; a test overrides only the fields it is about."""

from datetime import UTC, datetime
from typing import Any

from aigora.store import Anchor, AnchorKind, Deployment

ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
HASH = "0x" + "ab" * 32
WHEN = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def deployment(**overrides: Any) -> Deployment:
    values: dict[str, Any] = {
        "chain_id": 31337,
        "name": "Registry",
        "address": ADDRESS,
        "source_hash": HASH,
        "tx_hash": HASH,
        "block_number": 1,
        "deployed_at": WHEN,
    }
    return Deployment(**(values | overrides))


def anchor(**overrides: Any) -> Anchor:
    values: dict[str, Any] = {
        "chain_id": 31337,
        "kind": AnchorKind.CONTENT,
        "root": HASH,
        "batch_id": 1,
        "tx_hash": HASH,
        "block_number": 2,
        "item_count": 10,
        "anchored_by": ADDRESS,
        "anchored_at": WHEN,
    }
    return Anchor(**(values | overrides))
