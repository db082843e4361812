"""Custody on a date: a firearm's state replayed from its own log entries.

Trace asks who held a weapon (or where it was stored) at a given moment. The
answer is not read from the projection, which only knows "now", but replayed
from the firearm's entries in log order with the same rules the projector
applies, stopping at the moment asked about.

A moment is either an instant (``2024-03-07T14:00``, UTC unless an offset is
given) or a whole UTC day (``2024-03-07``). For an instant, the state is the
one after every entry recorded at or before it. For a day, the state is the
one at the end of the day, and the custodian is the last officer who held the
weapon at any moment of that day: a pistol issued at 08:00 and returned at
20:00 was held that day by the officer who had it, even though it slept in
the armory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from resguardo.domain.errors import ValidationFailed
from resguardo.domain.firearm_state import COLUMNS, ROW_EVENTS, RULES, WeaponState, fold
from resguardo.domain.timefmt import iso, parse_instant

#: Entries that change where a firearm is, who holds it or its status (every entry of
#: ``firearm_state.RULES`` that changes its row, but a licence), or that a person tracing
#: it must see (a loss's notification). Requests, rejections and corrections are not
#: custody.
CUSTODY_EVENTS = (ROW_EVENTS - {"licence.firearm_attached"}) | {"firearm.loss_notified"}

#: Entries about a weapon (``subject_type`` firearm) that are not custody: requests,
#: their rejection, corrections, an override of a weapon of record, a negligence
#: finding, a licence. A chain's length is the weapon's entries less these.
NOT_CUSTODY = frozenset({
    "firearm.transfer_requested", "firearm.decommission_requested", "request.rejected",
    "entry.corrected", "entry.correction_requested", "licence.firearm_attached",
    "custody.override_granted", "firearm.negligence_determined",
})

#: A trace's ``custody`` is the window of a weapon's custody entries around the moment
#: asked about: the last ``CUSTODY_BEFORE`` at or before it and the first
#: ``CUSTODY_AFTER`` after it (the whole chain on request).
CUSTODY_BEFORE = 20
CUSTODY_AFTER = 5


@dataclass(frozen=True, slots=True)
class TraceMoment:
    """The instant or UTC day a trace asks about, as stored instants (sortable text)."""

    text: str
    start: str
    end: str
    whole_day: bool

    def includes(self, at: str) -> bool:
        """True when an entry recorded at ``at`` happened by the end of the moment."""
        return at < self.end if self.whole_day else at <= self.end


def parse_moment(text: str) -> TraceMoment:
    """``YYYY-MM-DD`` (a whole UTC day) or ``YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]`` (an instant)."""
    value = (text or "").strip()
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _bad_moment(text) from None
        start = datetime(day.year, day.month, day.day)
        return TraceMoment(value, iso(start), iso(start + timedelta(days=1)), True)
    if len(value) < 16 or value[10] not in "Tt ":
        raise _bad_moment(text)
    try:
        instant = parse_instant(value)
    except ValueError:
        raise _bad_moment(text) from None
    stamp = iso(instant)
    return TraceMoment(value, stamp, stamp, False)


def moment_at(instant: datetime) -> TraceMoment:
    """The moment of an instant (a trace without a date asks about now)."""
    stamp = iso(instant)
    return TraceMoment(stamp, stamp, stamp, False)


def _bad_moment(text: str) -> ValidationFailed:
    return ValidationFailed("date must be YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)", field="date",
                            value=text)


CustodyState = WeaponState
"""Where a firearm was and who held it (``record_officer_id``: the officer whose weapon of
record it was, apart from who held it); ``status`` is None before it was registered."""


def step(state: CustodyState, event_type: str, payload: dict) -> CustodyState:
    """The state after one entry: ``firearm_state.fold``, the projector's own rules."""
    return fold(state, event_type, payload)


@dataclass(frozen=True, slots=True)
class CustodyOnDate:
    """A firearm's state at a moment, and who held it then."""

    state: CustodyState
    custodian_id: int | None


def custody_on(entries: Iterable[tuple[str, str, dict]], moment: TraceMoment,
               start: CustodyState = CustodyState()) -> CustodyOnDate:
    """Replay ``(type, at, payload)`` entries, in log order, up to ``moment``.

    For an instant the custodian is the holder at that instant; for a whole
    day it is the last officer who held the weapon at any moment of the day.
    ``start`` is the state before the first entry: nothing (the whole history
    from its registration), or ``UNKNOWN_STATE`` for the last entries only
    (see :func:`settled`).
    """
    state = start
    holder: int | None = None
    for event_type, at, payload in entries:
        if not moment.includes(at):
            break
        if moment.whole_day and at < moment.start:
            state = step(state, event_type, payload)
            continue
        if moment.whole_day and holder is None:
            holder = state.custodian_id  # held when the day began
        state = step(state, event_type, payload)
        if state.custodian_id is not None:
            holder = state.custodian_id
    if not moment.whole_day or holder is None:
        holder = state.custodian_id
    return CustodyOnDate(state, holder)


class _Unknown:
    """A column whose value the entries replayed so far do not tell."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

#: The state before the last few entries of a history, every column unknown: the one
#: fold (``step``) replaces a column with what an entry sets, so after replaying the
#: last entries a column is known exactly when one of them set it, and its value is
#: the one the whole history's replay gives (a rule depends on its entry only, never
#: on the row it is applied to: ``firearm_state``).
UNKNOWN_STATE = CustodyState(**{column: UNKNOWN for column in COLUMNS})

#: What a trace shows of the state at the moment.
SHOWN = ("status", "location_id", "custodian_id", "record_officer_id")


def unknown_columns(on: CustodyOnDate) -> frozenset[str]:
    """The shown columns the replay of the last entries left unknown (the custodian on
    the date counts as ``custodian_id``)."""
    missing = {column for column in SHOWN if getattr(on.state, column) is UNKNOWN}
    if on.custodian_id is UNKNOWN:
        missing.add("custodian_id")
    return frozenset(missing)


def settled(on: CustodyOnDate) -> bool:
    """True when replaying the last entries from ``UNKNOWN_STATE`` told every shown column
    and the custodian: the answer is then the one the whole history gives."""
    return not unknown_columns(on)


def setters(columns: Iterable[str]) -> frozenset[str]:
    """The custody entries whose rule (or its legacy variant) may set any of ``columns``:
    the entries to look for further back when the last ones left those unknown."""
    wanted = set(columns)
    found = set()
    for event_type, rule in RULES.items():
        variants = [rule] + ([rule.legacy[1]] if rule.legacy is not None else [])
        if any(wanted & set(v.sets) for v in variants):
            found.add(event_type)
    return frozenset(found) & CUSTODY_EVENTS
