"""One text form for instants and dates, identical on SQLite and PostgreSQL.

Instants are UTC, stored as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` so that they sort
as text and hash the same in every implementation of the ledger.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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


# --- local time: documents print times in the agency's own zone -------------------------

#: The zone of an organization that names none, nor any of its ancestors.
DEFAULT_ZONE = "America/Mexico_City"


#: The zones an organization may keep: Mexico's (IANA's ``zone1970.tab`` for MX). Every
#: day the system decides on is the agency's (``UnitOfWork.today``), so a zone elsewhere
#: would move its midnight: Pago Pago's clock (UTC-11) keeps a credential that ended on the
#: 6th in Tijuana valid until 03:00 there on the 7th.
MEXICO_ZONES = (
    "America/Mexico_City", "America/Cancun", "America/Merida", "America/Monterrey",
    "America/Matamoros", "America/Chihuahua", "America/Ciudad_Juarez", "America/Ojinaga",
    "America/Mazatlan", "America/Bahia_Banderas", "America/Hermosillo", "America/Tijuana",
)


def zone_named(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (``America/Hermosillo``), one of ``MEXICO_ZONES``;
    ValidationFailed naming the field when it is not one this system knows, or not
    Mexico's."""
    from resguardo.domain.errors import T_, ValidationFailed
    text = (name or "").strip()
    if not text or "/" not in text or text.startswith(("/", ".")) or ".." in text:
        raise ValidationFailed(T_("time zone %(zone)s is not an IANA zone such as "
                                  "America/Mexico_City or America/Hermosillo"),
                               field="time_zone", zone=repr(text))
    try:
        zone = ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(T_("time zone %(zone)s is not an IANA zone such as "
                                  "America/Mexico_City or America/Hermosillo"),
                               field="time_zone", zone=repr(text)) from None
    if text not in MEXICO_ZONES:
        raise ValidationFailed(T_("time zone %(zone)s is not one of Mexico's: %(zones)s"),
                               field="time_zone", zone=repr(text),
                               zones=", ".join(MEXICO_ZONES))
    return zone


def in_zone(instant: datetime | str, zone: str) -> datetime:
    """An instant (stored text, aware, or naive UTC) as ``zone``'s wall clock shows it.

    The one conversion from the log's UTC to an agency's own time: its ``date()`` is the
    agency's calendar day (18:07 on 6 December in Guadalajara is 00:07 UTC on the 7th).
    The zone is the organization's ``repo.place(org_id)["time_zone"]``."""
    dt = parse_instant(instant) if isinstance(instant, str) else instant
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(ZoneInfo(zone))


def end_of_day(day: date, zone: str) -> datetime:
    """The last second of ``day`` on ``zone``'s calendar (23:59:59 there), in UTC: a
    deadline given as a date ("present them by the 8th") in the agency's own time."""
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(zone)).astimezone(UTC)


def local(instant: datetime | str, zone: str, *, seconds: bool = False) -> str:
    """An instant in ``zone``'s wall-clock time, saying the zone and its offset:
    ``2026-12-06 10:45 (America/Hermosillo, UTC-07:00)``."""
    here = in_zone(instant, zone)
    offset = here.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    shown = here.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{shown} ({zone}, UTC{sign}{hh:02d}:{mm:02d})"
