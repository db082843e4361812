"""One text form for instants and dates, identical on SQLite and PostgreSQL.

Instants are UTC, stored as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` so that they sort
as text and hash the same in every implementation of the ledger.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """Format an aware (or naive UTC) instant in the stored form."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime:
    """Parse a stored or user-given instant (assumed UTC when it has no offset)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def iso_date(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def parse_date(text: str | None) -> date | None:
    if text is None or text == "":
        return None
    return date.fromisoformat(text[:10])
