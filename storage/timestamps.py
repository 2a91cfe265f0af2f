"""Times as the database keeps them: integer microseconds since the Unix epoch (UTC).

Pure functions, no ORM: rows compute their keyset cursor with them without loading
peewee. ``storage.models`` re-exports them.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_micros(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1_000_000)


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)
