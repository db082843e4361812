"""The fold of the last entries from an unknown state (``trace_custody.UNKNOWN_STATE``): when
it tells every shown column, it tells what the whole history's replay tells."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from resguardo.domain.firearm_state import RULES
from resguardo.domain.timefmt import iso
from resguardo.domain.trace_custody import (
    CUSTODY_EVENTS,
    NOT_CUSTODY,
    UNKNOWN,
    UNKNOWN_STATE,
    custody_on,
    moment_at,
    parse_moment,
    setters,
    settled,
    unknown_columns,
)

START = datetime(2025, 3, 3, 8, 0)
_TYPES = sorted(CUSTODY_EVENTS - {"firearm.registered"})


def _payload(event_type: str, n: int) -> dict:
    # every field a rule may read, with values that tell one entry from another
    return {"officer_id": 100 + n % 4, "location_id": 200 + n % 3, "agency_id": 1,
            "to_agency_id": 2, "status": "in_storage", "licence_id": None,
            **({"location_id": None} if event_type == "firearm.recovered" and n % 2 else {})}


_ENTRY = st.tuples(st.sampled_from(_TYPES), st.integers(0, 11), st.sampled_from([0, 0, 1, 90]))


@st.composite
def histories(draw):  # type: ignore[no-untyped-def]
    """A registration, then entries of any custody kind (the fold does not judge them)."""
    at = START
    entries = [("firearm.registered", iso(at), _payload("firearm.registered", 0))]
    for event_type, n, minutes in draw(st.lists(_ENTRY, max_size=40)):
        at += timedelta(minutes=minutes)
        entries.append((event_type, iso(at), _payload(event_type, n)))
    return entries


@given(history=histories(), cut=st.integers(0, 45), minutes=st.integers(-60, 60 * 70),
       whole_day=st.booleans())
def test_the_last_entries_settled_from_unknown_tell_what_the_whole_replay_tells(
        history, cut, minutes, whole_day):
    instant = START + timedelta(minutes=minutes)
    moment = parse_moment(instant.date().isoformat() if whole_day
                          else instant.strftime("%Y-%m-%dT%H:%M"))
    included = [e for e in history if moment.includes(e[1])]
    whole = custody_on(history, moment)
    last = custody_on(included[cut:], moment, start=UNKNOWN_STATE)
    if settled(last):
        assert last.custodian_id == whole.custodian_id
        for column in ("status", "location_id", "custodian_id", "record_officer_id"):
            assert getattr(last.state, column) == getattr(whole.state, column)
    if cut == 0 and included and not whole_day:  # from the registration on, all is told
        assert settled(last)
    # (a whole day that holds the registration leaves the holder when the day began
    # unknown: the service then replays from nothing, there being nothing before)
    if cut == 0:
        assert custody_on(included, moment) == whole


def test_a_column_no_replayed_entry_set_stays_unknown():
    history = [("firearm.registered", iso(START), _payload("firearm.registered", 0)),
               ("firearm.assigned_of_record", iso(START + timedelta(hours=1)), {"officer_id": 7}),
               ("custody.issued", iso(START + timedelta(hours=2)), {"officer_id": 7}),
               ("custody.returned", iso(START + timedelta(hours=3)), {"location_id": 3})]
    last = custody_on(history[2:], moment_at(START + timedelta(hours=4)), start=UNKNOWN_STATE)
    assert unknown_columns(last) == {"record_officer_id"}
    assert last.state.record_officer_id is UNKNOWN
    assert (last.state.status, last.state.location_id, last.custodian_id) == ("in_storage", 3,
                                                                              None)
    # the entries to look for further back are those whose rule sets the officer of record
    assert {"firearm.assigned_of_record", "firearm.unassigned_of_record",
            "firearm.registered"} <= setters({"record_officer_id"})
    assert "custody.issued" not in setters({"record_officer_id"})
    with_it = custody_on(history[1:], moment_at(START + timedelta(hours=4)), start=UNKNOWN_STATE)
    assert settled(with_it) and with_it.state.record_officer_id == 7


def test_custody_and_what_is_not_custody_are_apart_and_every_rule_is_one_of_them():
    assert not CUSTODY_EVENTS & NOT_CUSTODY
    assert set(RULES) <= CUSTODY_EVENTS | NOT_CUSTODY
