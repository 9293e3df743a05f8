"""Model rules: unique keys, anchor kinds, hex shapes and UTC timestamps."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from aigora.store import Anchor, AnchorKind, Deployment, session_scope

from .factories import HASH, anchor, deployment


def test_one_deployment_per_chain_and_name(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(deployment(chain_id=1, name="Token"))
        session.add(deployment(chain_id=2, name="Token"))
        session.add(deployment(chain_id=1, name="Registry"))
    with pytest.raises(IntegrityError, match=r"(?i)unique"), session_scope(engine) as session:
        session.add(deployment(chain_id=1, name="Token"))


def test_one_anchor_per_chain_and_batch(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(anchor(chain_id=1, batch_id=7))
        session.add(anchor(chain_id=2, batch_id=7))
    with pytest.raises(IntegrityError, match=r"(?i)unique"), session_scope(engine) as session:
        session.add(anchor(chain_id=1, batch_id=7, kind=AnchorKind.RECEIPTS))


@pytest.mark.parametrize("kind", ["content", "attestations", "receipts", AnchorKind.RECEIPTS])
def test_known_anchor_kinds_are_accepted(engine: Engine, kind: str) -> None:
    with session_scope(engine) as session:
        session.add(anchor(kind=kind))
    with session_scope(engine) as session:
        assert session.scalars(select(Anchor.kind)).one() == str(kind)


def test_unknown_anchor_kind_is_refused_in_python() -> None:
    with pytest.raises(ValueError, match="anchor kind must be one of"):
        anchor(kind="payouts")


def test_unknown_anchor_kind_is_refused_by_the_database(engine: Engine) -> None:
    """The CHECK constraint guards writes that bypass the ORM."""
    with pytest.raises(IntegrityError, match=r"(?i)check"), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO anchors (chain_id, kind, root, batch_id, tx_hash, block_number,"
                " item_count, anchored_by, anchored_at)"
                " VALUES (1, 'payouts', :h, 1, :h, 1, 1, :a, '2025-01-01 00:00:00')"
            ),
            {"h": HASH, "a": "0x" + "00" * 20},
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("root", "ab" * 32),  # no 0x
        ("root", "0x" + "ab" * 31),  # too short
        ("root", "0x" + "zz" * 32),  # not hex
        ("tx_hash", "0x" + "ab" * 33),
        ("anchored_by", "0x1234"),
        ("item_count", -1),
    ],
)
def test_malformed_anchor_fields_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        anchor(**{field: value})


def test_hashes_are_stored_lower_case_and_addresses_keep_their_checksum() -> None:
    row = deployment(tx_hash="0x" + "AB" * 32, address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    assert row.tx_hash == "0x" + "ab" * 32
    assert row.address == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        deployment(deployed_at=datetime(2025, 1, 1))  # naive on purpose


def test_timestamps_come_back_aware_in_utc(engine: Engine) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2025, 6, 1, 14, 0, 0, 123456, tzinfo=plus_two)
    with session_scope(engine) as session:
        session.add(deployment(deployed_at=local))
    with session_scope(engine) as session:
        stored = session.scalars(select(Deployment.deployed_at)).one()
    assert stored == local
    assert stored.tzinfo is UTC
    assert stored.hour == 12
