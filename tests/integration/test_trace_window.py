"""The bounded trace, on SQLite and PostgreSQL: a candidate's ``custody`` is the window around
the moment (the last ``CUSTODY_BEFORE`` entries at or before it, the first ``CUSTODY_AFTER``
after it), read without the whole history, and its state on the date is the one the replay
of the whole history gives (``--full-custody`` / ``custody=full``, which is that replay)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_trace_service import stolen_on_duty

from resguardo.domain.registry import FirearmInput
from resguardo.domain.trace_custody import CUSTODY_AFTER, CUSTODY_BEFORE, parse_moment
from resguardo.services import credential, custody, registry
from resguardo.services import trace as service

from world import do, look, shifts

_serials = itertools.count(1)
SHOWN = ("custodian_on_date", "status_on_date", "location_on_date", "officer_of_record_on_date")


def trace(app, serial, *, date_=None, full=False, user="investigador"):  # type: ignore[no-untyped-def]
    answer = do(app, user, service.trace, service.TraceInput(serial, date=date_, limit=1),
                full_custody=full)
    (candidate,) = answer["candidates"]
    return candidate


def window_of(chain, when):  # type: ignore[no-untyped-def]
    """The window the docs promise, cut from the whole chain."""
    if when is None:
        return chain[-CUSTODY_BEFORE:]
    moment = parse_moment(when)
    included = [e for e in chain if moment.includes(e["at"])]
    later = chain[len(included):]
    assert all(not moment.includes(e["at"]) for e in later)  # instants never go back
    return included[-CUSTODY_BEFORE:] + later[:CUSTODY_AFTER]


def assert_bounded_equals_full(app, serial, when):  # type: ignore[no-untyped-def]
    full = trace(app, serial, date_=when, full=True)
    bounded = trace(app, serial, date_=when)
    assert full["custody_complete"] is True
    assert full["custody_total"] == len(full["custody"])
    for key in SHOWN:
        assert bounded[key] == full[key], (key, when)
    assert bounded["custody"] == window_of(full["custody"], when), when
    assert bounded["custody_total"] == full["custody_total"]
    assert bounded["custody_complete"] == (len(bounded["custody"]) == full["custody_total"])


@pytest.fixture
def folios(world):  # type: ignore[no-untyped-def]
    """P1 to P3 with a credential folio: they may be given weapons of record."""
    for badge in ("P1", "P2", "P3"):
        do(world, "jefe1", registry.renew_officer, "MUN1", badge, credential_folio=f"C-{badge}")
    return world


def register(app, serial):  # type: ignore[no-untyped-def]
    do(app, "armero1", registry.register_firearm, "MUN1", "ARM1", FirearmInput(
        serial=serial, make="Glock", calibre="9x19mm", kind="pistol", model="17"))


class Weapon:
    """One weapon driven through random movements, as the desk records them."""

    def __init__(self, app, clock, serial):  # type: ignore[no-untyped-def]
        self.app, self.clock, self.serial = app, clock, serial
        self.status = "in_storage"
        self.location = "ARM1"
        self.record: str | None = None
        self.keep_record = False  # moves instead of withdrawing the designation or a loss

    def act(self, choice: int, badge: str, place: str) -> None:
        app, serial = self.app, self.serial
        if self.status == "in_storage":
            kind = choice % 6
            if self.keep_record and kind in (4, 5):
                kind = 2
            if kind in (0, 1):
                do(app, "armero1", custody.issue, serial, self.record or badge)
                self.status = "issued"
            elif kind == 2:
                self.location = "ARM2" if self.location == "ARM1" else "ARM1"
                do(app, "armero1", custody.move, serial, self.location)
            elif kind == 3:
                do(app, "armero1", custody.send_to_repair, serial, "Taller Centro")
                self.status = "in_repair"
            elif kind == 4 and self.record is None:
                do(app, "jefe1", credential.assign, badge, serial)
                self.record = badge
            elif kind == 4:
                do(app, "jefe1", credential.unassign, self.record, serial, "cambio de adscripción")
                self.record = None
            else:
                self._lose()
        elif self.status == "issued":
            if choice % 5 == 4 and not self.keep_record:
                self._lose()
            else:
                do(app, "armero1", custody.return_, serial, place)
                self.status, self.location = "in_storage", place
        elif self.status == "in_repair":
            do(app, "armero1", custody.return_from_repair, serial, place)
            self.status, self.location = "in_storage", place
        elif self.status in ("lost", "stolen"):
            do(app, "armero1", custody.recover, serial, "FGE Jalisco", "cateo")
            self.status = "held_as_evidence"
        elif self.status == "held_as_evidence":
            do(app, "jefe1", custody.release, serial, place, "oficio 12/2025")
            self.status, self.location = "in_storage", place

    def _lose(self) -> None:
        # the day it happened is the agency's (west of UTC: the evening is still "today")
        today = look(self.app, None, lambda uow: uow.today(uow.repo.org("MUN1").id))
        do(self.app, "armero1", custody.report_missing, self.serial, stolen=False,
           occurred_on=today, place="Col. Centro", on_duty=True,
           complaint_number="FGE/7/2025", complaint_authority="FGE Jalisco")
        self.status = "lost"
        self.record = None


#: minutes the clock moves between two entries: 0 gives entries at the same instant
_STEPS = st.sampled_from([0, 0, 1, 30, 60 * 5, 60 * 20, 60 * 24 * 2])
_MOVE = st.tuples(st.integers(0, 59), st.sampled_from(["P1", "P2", "P3"]),
                  st.sampled_from(["ARM1", "ARM2"]), _STEPS)
#: short histories, and longer than a window (so that the state is read further back)
_HISTORY = st.one_of(st.lists(_MOVE, max_size=8), st.lists(_MOVE, min_size=26, max_size=45))
#: moments: at (or a minute before or after) the instant of one of the history's entries,
#: chosen by its place in the history, as that instant or as its whole day
_MOMENTS = st.lists(st.tuples(st.floats(0, 1), st.sampled_from([-1, 0, 1]), st.booleans()),
                    min_size=1, max_size=3)


# no shrinking: each example writes a history to a real database (a failure prints it whole)
@settings(max_examples=20, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(of_record=st.sampled_from([None, "P1", "P3"]), history=_HISTORY, moments=_MOMENTS)
def test_the_bounded_answer_is_the_whole_replay_s_for_any_history_and_moment(
        world, folios, clock, of_record, history, moments):
    serial = f"HYP-{next(_serials):05d}"
    register(world, serial)
    instants = [clock.now]
    weapon = Weapon(world, clock, serial)
    if of_record is not None:  # a weapon of record from the start: its officer is far back
        clock.advance(minutes=1)
        do(world, "jefe1", credential.assign, of_record, serial)
        weapon.record, weapon.keep_record = of_record, True
        instants.append(clock.now)
    for choice, badge, place, minutes in history:
        clock.advance(minutes=minutes)
        weapon.act(choice, badge, place)
        instants.append(clock.now)
    asked: list[str | None] = [None, (instants[0] - timedelta(days=1)).date().isoformat()]
    for where, minutes, whole_day in moments:
        instant = instants[min(len(instants) - 1, int(where * len(instants)))]
        instant += timedelta(minutes=minutes)
        asked.append(instant.date().isoformat() if whole_day
                     else instant.strftime("%Y-%m-%dT%H:%M"))
    clock.advance(minutes=1)
    for when in asked:
        assert_bounded_equals_full(world, serial, when)


@pytest.fixture
def long_history(world, folios, clock):  # type: ignore[no-untyped-def]
    """GLK-A100 issued to P1 and returned 30 times, one movement an hour, then assigned of
    record to P2 and issued to P2 (a moment a whole window back needs the walk back)."""
    shifts(world, clock, "GLK-A100", "P1", "ARM2", 30)
    clock.advance(hours=1)
    do(world, "jefe1", credential.assign, "P2", "GLK-A100")
    clock.advance(hours=1)
    do(world, "armero1", custody.issue, "GLK-A100", "P2")
    clock.advance(hours=1)
    return world


def test_a_long_history_returns_a_window_and_says_how_long_the_chain_is(long_history):
    c = trace(long_history, "GLK-A100")
    assert len(c["custody"]) == CUSTODY_BEFORE
    assert c["custody_total"] == 1 + 60 + 2
    assert c["custody_complete"] is False
    assert c["custody"][-1]["event"] == "custody.issued"
    assert c["custody"][-1]["officer"] == "P2 Luis Mora"
    assert c["custodian_on_date"] == {"badge": "P2", "name": "Luis Mora"}
    assert c["officer_of_record_on_date"] == {"badge": "P2", "name": "Luis Mora"}
    full = trace(long_history, "GLK-A100", full=True)
    assert len(full["custody"]) == full["custody_total"] == 63
    assert full["custody"][-CUSTODY_BEFORE:] == c["custody"]


def test_a_dated_window_shows_the_entries_before_and_the_first_after(long_history):
    # 3 March 08:00 registered; the 10th issue was at 3 March 08:00 + 19 h = 4 March 03:00
    c = trace(long_history, "GLK-A100", date_="2025-03-04T03:30")
    assert c["custodian_on_date"] == {"badge": "P1", "name": "Ana Ruiz"}
    assert c["status_on_date"] == "issued"
    assert c["officer_of_record_on_date"] is None
    before = [e for e in c["custody"] if e["at"] <= "2025-03-04T03:30"]
    after = [e for e in c["custody"] if e["at"] > "2025-03-04T03:30"]
    assert len(before) == CUSTODY_BEFORE and len(after) == CUSTODY_AFTER
    assert before[-1]["event"] == "custody.issued" and before[-1]["at"][:16] == "2025-03-04T03:00"
    assert_bounded_equals_full(long_history, "GLK-A100", "2025-03-04T03:30")
    assert_bounded_equals_full(long_history, "GLK-A100", "2025-03-04")
    assert_bounded_equals_full(long_history, "GLK-A100", "2025-03-05T16:00")


def test_a_dated_trace_finds_a_weapon_of_record_assigned_far_back(world, folios, clock):
    do(world, "jefe1", credential.assign, "P3", "GLK-A100")
    shifts(world, clock, "GLK-A100", "P3", "ARM1", CUSTODY_BEFORE + 5)
    clock.advance(hours=1)
    when = (clock.now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    c = trace(world, "GLK-A100", date_=when)
    assert c["officer_of_record_on_date"] == {"badge": "P3", "name": "Eva Soto"}
    assert_bounded_equals_full(world, "GLK-A100", when)


# --- the insider: entries at one instant cannot hide the holder -----------------------------------

def test_many_entries_at_the_same_instant_do_not_hide_who_held_the_weapon(world, clock):
    """A chief records 40 movements of the same weapon within one instant, hoping the
    bounded read stops short of the entry that names its holder: the window holds the last
    20 of them by position and the holder is the one the whole replay names."""
    clock.advance(hours=1)
    do(world, "armero1", custody.issue, "GLK-A100", "P1")
    clock.advance(hours=1)
    do(world, "armero1", custody.return_, "GLK-A100", "ARM1")
    for n in range(20):  # all at 10:00:00.000000 exactly
        do(world, "armero1", custody.move, "GLK-A100", "ARM2" if n % 2 == 0 else "ARM1")
    do(world, "armero1", custody.issue, "GLK-A100", "P2")
    for n in range(20):
        do(world, "armero1", custody.move, "GLK-A200", "ARM2" if n % 2 == 0 else "ARM1")
    clock.advance(hours=1)
    c = trace(world, "GLK-A100", date_="2025-03-03T10:00")
    assert c["custodian_on_date"] == {"badge": "P2", "name": "Luis Mora"}
    assert c["custody"][-1]["event"] == "custody.issued"
    assert all(e["at"].startswith("2025-03-03T10:00:00") for e in c["custody"])
    assert c["custody_total"] == 1 + 2 + 20 + 1
    # a day: P2 held it last, after P1 that morning
    assert trace(world, "GLK-A100", date_="2025-03-03")["custodian_on_date"]["badge"] == "P2"
    # just before the instant: still P1's, issued at 09:00
    before = trace(world, "GLK-A100", date_="2025-03-03T09:59")
    assert (before["custodian_on_date"]["badge"], before["status_on_date"]) == ("P1", "issued")
    for when in ("2025-03-03T10:00", "2025-03-03", "2025-03-03T09:59", None):
        assert_bounded_equals_full(world, "GLK-A100", when)


def test_a_loss_report_in_the_window_shows_its_correction_and_notification(world, clock):
    stolen_on_duty(world, clock)
    clock.advance(hours=3)
    do(world, "armero1", custody.record_notification, "GLK-A200", clock.now,
       reference="SEDENA/55")
    clock.advance(hours=1)
    c = trace(world, "GLK-A200", date_="2025-03-03T11:00")  # the notification comes after
    report = [e for e in c["custody"] if e["event"] == "firearm.reported_stolen"][0]
    assert report["notified"] is True and report["notified_at"] == "2025-03-03T13:00:00.000000Z"
    assert c["custody"][-1]["event"] == "firearm.loss_notified"
    assert_bounded_equals_full(world, "GLK-A200", "2025-03-03T11:00")
    assert_bounded_equals_full(world, "GLK-A200", None)


def test_an_investigator_sees_no_window_of_a_weapon_outside_the_scope(long_history):
    answer = do(long_history, "investigador2", service.trace, service.TraceInput("GLK-A100"))
    assert answer["candidates"] == []
    answer = do(long_history, "investigador2", service.trace, service.TraceInput("GLK-A100"),
                full_custody=True)
    assert answer["candidates"] == []
