"""Trace through the service, on SQLite and PostgreSQL: each kind of damage, ranking, custody
on a date, scope, loss reports and the access event every trace records."""

from __future__ import annotations

from datetime import date

import pytest

from resguardo.domain.errors import NotFound, PermissionDenied, ValidationFailed
from resguardo.domain.registry import FirearmInput
from resguardo.services import custody, registry
from resguardo.services import trace as service

from world import do, look


def trace(app, serial, user="investigador", **options):  # type: ignore[no-untyped-def]
    reason = options.pop("reason", None)
    return do(app, user, service.trace, service.TraceInput(serial, **options), reason=reason)


def ranked(answer):  # type: ignore[no-untyped-def]
    return [(c["serial"], c["distance"]) for c in answer["candidates"]]


def register(app, user, agency, serial, make="Glock"):  # type: ignore[no-untyped-def]
    return do(app, user, registry.register_firearm, agency, "ARM1", FirearmInput(
        serial=serial, make=make, calibre="9x19mm", kind="pistol", model="17"))


def log_size(app) -> int:  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.log_size())


def last_event(app):  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.event(uow.repo.log_size() - 1))


# --- each kind of damage ---------------------------------------------------------------------

@pytest.mark.parametrize(("query", "distance"), [
    ("GLK-AI00", 0.5),    # look-alike: I read for 1
    ("GLK-A1?0", 0.1),    # one unreadable character
    ("GLK-A10", 1.0),     # a missing character
    ("GLK-A1000", 1.0),   # an extra character
    ("GLK-A1*", 0.0),     # only the beginning is known
    ("glk a100", 0.0),    # case and separators do not count
])
def test_each_kind_of_damage_finds_the_weapon_first(world, query, distance):
    answer = trace(world, query)
    assert answer["query"] == query
    assert ranked(answer)[0] == ("GLK-A100", distance)


def test_two_unreadable_characters_fit_every_serial_they_could_be(world):
    answer = trace(world, "GLK-A?0?")
    assert ranked(answer) == [(f"GLK-A{n}00", 0.2) for n in range(1, 6)]


def test_only_the_end_known_finds_the_serial_that_ends_so(world):
    assert ranked(trace(world, "*B100"))[0] == ("BER-B100", 0.0)


def test_a_serial_beyond_the_maximum_distance_is_not_a_candidate(world):
    assert ranked(trace(world, "GLK-A1XYZ")) == []
    assert ranked(trace(world, "GLK-A1XYZ", max_distance=3))[0] == ("GLK-A100", 3.0)


# --- ranking and filters -----------------------------------------------------------------

def test_candidates_are_ranked_exact_first_then_look_alikes_then_other_edits(world):
    register(world, "armero1", "MUN1", "GLK-A1O0")  # a letter O where GLK-A100 has a zero
    answer = trace(world, "GLK-A100")
    assert ranked(answer) == [("GLK-A100", 0.0), ("GLK-A1O0", 0.5), ("GLK-A200", 1.0),
                              ("GLK-A300", 1.0), ("GLK-A400", 1.0), ("GLK-A500", 1.0)]


def test_the_limit_keeps_the_nearest(world):
    assert ranked(trace(world, "GLK-A100", limit=2)) == [("GLK-A100", 0.0), ("GLK-A200", 1.0)]


def test_make_calibre_kind_and_agency_filter_the_candidates(world):
    register(world, "armero2", "MUN2", "GLK-A100", make="Beretta")
    assert {(c["serial"], c["make"]) for c in trace(world, "GLK-A100", limit=2)["candidates"]} \
        == {("GLK-A100", "Glock"), ("GLK-A100", "Beretta")}
    assert [c["make"] for c in trace(world, "GLK-A100", make="glock", limit=1)["candidates"]] \
        == ["Glock"]
    assert ranked(trace(world, "GLK-A100", make="Colt")) == []
    assert len(trace(world, "GLK-A?00", calibre="9 X 19 MM")["candidates"]) == 6
    assert ranked(trace(world, "GLK-A?00", calibre="5.56x45mm")) == []
    assert ranked(trace(world, "GLK-A?00", kind="rifle")) == []
    assert [c["agency"] for c in trace(world, "GLK-A100", agency="MUN2")["candidates"]] \
        == ["MUN2"]
    assert {c["agency"] for c in trace(world, "GLK-A100", agency="SSP")["candidates"]} \
        == {"MUN1", "MUN2"}


# --- the answer's shape ------------------------------------------------------------------------

def test_the_answer_has_the_trace_shape_of_formats_md(world):
    answer = trace(world, "GLK-A100", limit=1)
    assert list(answer) == ["query", "candidates"]
    candidate = answer["candidates"][0]
    assert list(candidate)[:9] == ["serial", "make", "model", "calibre", "distance", "agency",
                                   "status", "custodian_on_date", "custody"]
    assert candidate == {
        "serial": "GLK-A100", "make": "Glock", "model": "17", "calibre": "9x19mm",
        "distance": 0.0, "agency": "MUN1", "status": "in_storage", "custodian_on_date": None,
        "custody": [{"at": "2025-03-03T08:00:00.000000Z", "event": "firearm.registered",
                     "officer": None, "location": "ARM1", "to_agency": "MUN1"}],
        "custody_total": 1, "custody_complete": True,
        "kind": "pistol", "status_on_date": "in_storage", "location_on_date": "ARM1",
        "former_serial": None, "officer_of_record_on_date": None,
        "differences": {"unreadable": 0, "lookalike": 0, "other": 0}, "import_running": None,
        "firearm_id": candidate["firearm_id"]}


# --- custody on a date ---------------------------------------------------------------------------

@pytest.fixture
def moved(world, clock):  # type: ignore[no-untyped-def]
    """GLK-A100: issued to P1 on 3 March 09:00, returned 19:00 to ARM2, sent to MUN2 on
    4 March 19:00, received there on 4 March 21:00."""
    clock.advance(hours=1)
    do(world, "armero1", custody.issue, "GLK-A100", "P1")
    clock.advance(hours=10)
    do(world, "armero1", custody.return_, "GLK-A100", "ARM2")
    clock.advance(days=1)
    do(world, "armero1", custody.request_transfer, "GLK-A100", "MUN2", "reasignación")
    do(world, "jefe1", custody.approve_transfer, "GLK-A100")
    clock.advance(hours=2)
    do(world, "armero2", custody.receive_transfer, "GLK-A100", "ARM1")
    clock.advance(days=3)
    return world


def on(app, when):  # type: ignore[no-untyped-def]
    c = trace(app, "GLK-A100", date=when, limit=1)["candidates"][0]
    return c["custodian_on_date"], c["status_on_date"], c["location_on_date"], c["agency"]


def test_custody_on_a_date_before_a_transfer_names_the_officer_of_the_first_agency(moved):
    assert on(moved, "2025-03-03T12:00") == (
        {"badge": "P1", "name": "Ana Ruiz"}, "issued", None, "MUN2")
    assert on(moved, "2025-03-03T20:00") == (None, "in_storage", "ARM2", "MUN2")


def test_a_whole_day_names_the_last_officer_who_held_the_weapon_that_day(moved):
    assert on(moved, "2025-03-03") == ({"badge": "P1", "name": "Ana Ruiz"}, "in_storage",
                                       "ARM2", "MUN2")
    assert on(moved, "2025-03-06") == (None, "in_storage", "ARM1", "MUN2")


def test_custody_on_a_date_after_the_transfer_is_the_receiving_agency_s(moved):
    assert on(moved, "2025-03-04T20:00") == (None, "in_transit", None, "MUN2")
    assert on(moved, "2025-03-05T08:00") == (None, "in_storage", "ARM1", "MUN2")
    assert on(moved, "2025-03-05T08:00-06:00") == (None, "in_storage", "ARM1", "MUN2")


def test_before_its_registration_a_weapon_had_no_custody(moved):
    assert on(moved, "2025-03-01") == (None, None, None, "MUN2")


def test_the_custody_chain_is_complete_and_in_order(moved):
    chain = trace(moved, "GLK-A100", limit=1)["candidates"][0]["custody"]
    assert [(e["event"], e["officer"], e["location"], e.get("to_agency")) for e in chain] == [
        ("firearm.registered", None, "ARM1", "MUN1"),
        ("custody.issued", "P1 Ana Ruiz", "ARM1", None),
        ("custody.returned", "P1 Ana Ruiz", "ARM2", None),
        ("firearm.transfer_sent", None, "ARM2", "MUN2"),
        ("firearm.transfer_received", None, "ARM1", "MUN2"),
    ]
    assert [e["at"][:16] for e in chain] == [
        "2025-03-03T08:00", "2025-03-03T09:00", "2025-03-03T19:00", "2025-03-04T19:00",
        "2025-03-04T21:00"]


def test_without_a_date_the_holder_is_the_one_now(world):
    do(world, "armero1", custody.issue, "GLK-A200", "P2")
    c = trace(world, "GLK-A200", limit=1)["candidates"][0]
    assert c["custodian_on_date"] == {"badge": "P2", "name": "Luis Mora"}
    assert (c["status"], c["status_on_date"]) == ("issued", "issued")


def test_a_malformed_date_is_refused(world):
    for bad in ("2025-02-30", "03/03/2025", "2025-03-03T25:00", "yesterday"):
        with pytest.raises(ValidationFailed, match="date must be"):
            trace(world, "GLK-A100", date=bad)


# --- loss and theft reports ---------------------------------------------------------------------

def stolen_on_duty(world, clock) -> None:  # type: ignore[no-untyped-def]
    """GLK-A200 issued to P2, and two hours later reported stolen on duty (complaint
    FGE/123/2025 before the FGE Jalisco)."""
    do(world, "armero1", custody.issue, "GLK-A200", "P2")
    clock.advance(hours=2)
    do(world, "armero1", custody.report_missing, "GLK-A200", stolen=True,
       occurred_on=date(2025, 3, 3), place="Col. Centro", on_duty=True,
       complaint_number="FGE/123/2025", complaint_authority="FGE Jalisco")


def test_a_theft_shows_its_complaint_number_and_whether_the_military_was_notified(world, clock):
    stolen_on_duty(world, clock)
    c = trace(world, "GLK-A2OO", limit=1)["candidates"][0]
    report = c["custody"][-1]
    assert c["status"] == "stolen"
    assert report == {"at": "2025-03-03T10:00:00.000000Z", "event": "firearm.reported_stolen",
                      "officer": "P2 Luis Mora", "location": None, "occurred_on": "2025-03-03",
                      "place": "Col. Centro", "on_duty": True,
                      "complaint_number": "FGE/123/2025",
                      "complaint_authority": "FGE Jalisco", "notified": False,
                      "notified_at": None}
    clock.advance(hours=3)
    do(world, "armero1", custody.record_notification, "GLK-A200", clock.now,
       reference="SEDENA/55")
    chain = trace(world, "GLK-A200", limit=1)["candidates"][0]["custody"]
    assert chain[-2]["notified"] is True
    assert chain[-2]["notified_at"] == "2025-03-03T13:00:00.000000Z"
    assert chain[-1]["event"] == "firearm.loss_notified"
    assert chain[-1]["reference"] == "SEDENA/55"


# --- scope ----------------------------------------------------------------------------------------

def test_an_investigator_of_one_state_never_sees_another_state_s_weapons(world):
    assert ranked(trace(world, "GLK-A100", user="investigador2")) == []
    assert ranked(trace(world, "SIG-C100", user="investigador2")) == [("SIG-C100", 0.0)]
    assert ranked(trace(world, "SIG-C100", user="investigador")) == []
    assert {c["agency"] for c in trace(world, "*100", user="auditor")["candidates"]} == {
        "MUN1", "MUN2", "MUN3"}


def test_an_agency_filter_outside_the_scope_is_not_found(world):
    size = log_size(world)
    with pytest.raises(NotFound, match="organization not found"):
        trace(world, "SIG-C100", agency="MUN3")
    assert log_size(world) == size


def test_out_of_scope_candidates_do_not_push_in_scope_ones_off_the_page(world):
    with world.work("armero1") as uow:
        for n in range(10, 40):
            registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
                serial=f"GLK-A1{n:02d}", make="Glock", calibre="9x19mm", kind="pistol"))
        uow.commit()
    register(world, "armero3", "MUN3", "GLK-A1ZZ")
    assert ranked(trace(world, "GLK-A1*", user="investigador2", limit=1)) == [("GLK-A1ZZ", 0.0)]


def test_only_investigators_and_auditors_trace(world):
    size = log_size(world)
    for user in ("armero1", "jefe1", "supervisor", "inspector", "admin"):
        with pytest.raises(PermissionDenied, match="may not trace"):
            trace(world, "GLK-A100", user=user)
    assert log_size(world) == size


# --- the access event -------------------------------------------------------------------------------

def test_every_trace_is_recorded_with_who_the_query_and_the_candidates(world):
    trace(world, "GLK-A1?0", make="Glock", date="2025-03-03", limit=2, reason="FED/77")
    ev = last_event(world)
    assert (ev.type, ev.actor, ev.reason) == ("access.trace", "investigador", "FED/77")
    assert ev.payload["query"] == "GLK-A1?0"
    assert ev.payload["filters"] == {"make": "Glock", "date": "2025-03-03"}
    assert [(c["serial"], c["agency"], c["distance_tenths"])
            for c in ev.payload["candidates"]] == [("GLK-A100", "MUN1", 1), ("GLK-A200", "MUN1", 11)]
    assert ev.payload["max_distance_tenths"] == 20


def test_a_trace_with_no_candidates_is_recorded_too(world):
    trace(world, "SIG-C100")
    ev = last_event(world)
    assert (ev.type, ev.payload["candidates"]) == ("access.trace", [])


def test_an_unreadable_query_is_refused_and_not_recorded(world):
    size = log_size(world)
    for bad in ("???", "--", "AB*CD"):
        with pytest.raises(ValidationFailed):
            trace(world, bad)
    with pytest.raises(ValidationFailed, match="max_distance"):
        trace(world, "GLK-A100", max_distance=11)
    assert log_size(world) == size


def test_investigators_read_their_own_traces_and_auditors_all(world):
    trace(world, "GLK-A100", reason="caso 1")
    trace(world, "SIG-C100", user="investigador2")
    trace(world, "BER-B100", user="auditor")
    own = look(world, "investigador", service.trace_log)
    assert [(e["actor"], e["query"], e["reason"]) for e in own["items"]] == [
        ("investigador", "GLK-A100", "caso 1")]
    assert [(c["serial"], c["distance"]) for c in own["items"][0]["candidates"]][:2] == [
        ("GLK-A100", 0.0), ("GLK-A200", 1.0)]
    assert all(isinstance(c["distance"], float) for c in own["items"][0]["candidates"])
    assert [e["query"] for e in look(world, "investigador2", service.trace_log)["items"]] == [
        "SIG-C100"]
    everyone = look(world, "auditor", service.trace_log)
    assert everyone["total"] == 3
    assert [e["actor"] for e in everyone["items"]] == ["auditor", "investigador2",
                                                       "investigador"]
    only = look(world, "auditor", lambda uow: service.trace_log(uow, user="investigador2"))
    assert [e["query"] for e in only["items"]] == ["SIG-C100"]
    with pytest.raises(PermissionDenied):
        look(world, "investigador", lambda uow: service.trace_log(uow, user="investigador2"))
    with pytest.raises(PermissionDenied):
        look(world, "armero1", service.trace_log)
