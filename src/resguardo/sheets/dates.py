"""Dates and times as people type them in spreadsheets.

ISO (``2024-03-07``, ``2024-03-07 14:30``), day first (``07/03/2024``, the
Mexican default; ``month_first`` switches to ``03/07/2024``), two-digit years
(``07/03/24`` is 2024), ``-`` or ``.`` instead of ``/``, and times with
optional seconds and ``a.m.``/``p.m.``. Excel date cells reach here already
as ISO text (see ``xlsx``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(?:([ap])\.?\s*m\.?)?(?:\s*(?:hrs?|h)\.?)?"
_NUMERIC_DATE = re.compile(
    r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:(?:\s+|T)" + _TIME + r")?", re.IGNORECASE
)
_TIME_ONLY = re.compile(_TIME, re.IGNORECASE)


class DateError(ValueError):
    """Text that is not a date (or time) in any accepted form."""


def _clock(hh: str, mm: str, ss: str | None, half: str | None) -> time:
    hour = int(hh)
    if half:
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range for a.m./p.m.")
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    return time(hour, int(mm), int(ss or 0))


def parse_moment(text: str, *, month_first: bool = False) -> datetime | date | time:
    """A date, a date with time, or a time alone; ``DateError`` when it is none of them."""
    value = text.strip()
    if not value:
        raise DateError("empty date")
    try:
        if value[:4].isdigit() and len(value) >= 10 and value[4] == "-":
            if len(value) == 10:
                return date.fromisoformat(value)
            return datetime.fromisoformat(value)
        m = _NUMERIC_DATE.fullmatch(value)
        if m:
            first, second, year_text = m.group(1, 2, 3)
            day, month = (second, first) if month_first else (first, second)
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            day_part = date(year, int(month), int(day))
            if m.group(4) is None:
                return day_part
            return datetime.combine(day_part, _clock(*m.group(4, 5, 6, 7)))
        m = _TIME_ONLY.fullmatch(value)
        if m:
            return _clock(*m.group(1, 2, 3, 4))
    except ValueError as exc:
        raise DateError(f"not a valid date or time {text!r} ({exc})") from None
    order = "mm/dd/yyyy" if month_first else "dd/mm/yyyy"
    raise DateError(f"not a date or time {text!r}; write yyyy-mm-dd or {order}")


def parse_date(text: str, *, month_first: bool = False) -> date:
    """A calendar date (a date-and-time keeps its date); ``DateError`` otherwise."""
    value = parse_moment(text, month_first=month_first)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise DateError(f"a time is not a date: {text!r}")
