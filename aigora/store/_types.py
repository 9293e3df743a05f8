"""Column types and value checks shared by the models.

Kept apart from `models` so that migrations and future models reuse one definition of "a UTC
timestamp" and "a 0x hex string" instead of growing their own.
"""

import re
from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_HEX = re.compile(r"0x[0-9a-fA-F]*")


def require_utc(value: datetime) -> datetime:
    """`value` converted to UTC; a naive datetime is refused because its zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: pass an aware datetime (UTC)")
    return value.astimezone(UTC)


def require_hex(value: str, n_bytes: int, field: str) -> str:
    """`value` if it is `0x` followed by exactly `n_bytes` bytes of hex, else ValueError.

    Case is preserved: callers decide whether it carries meaning (EIP-55 addresses) or not.
    """
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) != 2 + 2 * n_bytes:
        raise ValueError(f"{field} must be 0x followed by {2 * n_bytes} hex digits, got {value!r}")
    return value


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in aware and comes out aware, in UTC, on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no zones, so the value is stored as naive UTC and
    the zone is put back on read. Naive datetimes are refused rather than silently assumed UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = require_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
