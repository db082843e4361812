"""After a revista, on SQLite and PostgreSQL: the military zone in charge through the
oversight relation, findings answered by the agency and closed by the inspector,
weapons in service to present by a deadline, one alert per revista, the schedule."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from resguardo.domain.errors import (
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from resguardo.services import alerts, custody, inspections, registry

from world import do, look

TOMORROW = date(2025, 3, 4)
LIMITS = {"loss_deadline": timedelta(hours=24), "shift_length": timedelta(hours=12)}


def closed_revista(app, user="inspector_zm", scans=("GLK-A100",), **close):  # type: ignore[no-untyped-def]
    iid = do(app, user, inspections.plan, "MUN1", TOMORROW).position
    do(app, user, inspections.open_, iid)
    for serial in scans:
        do(app, user, inspections.scan, iid, serial, location="ARM1")
    do(app, user, inspections.close, iid, **close)
    return iid


def finding(app, iid, serial, user="inspector_zm"):  # type: ignore[no-untyped-def]
    found = do(app, user, inspections.show, iid)["findings"]
    return next(f for f in found if f.get("serial") == serial)


# --- the military zone over the agencies it oversees ------------------------------------

def test_a_zone_inspector_reads_and_inspects_the_agencies_the_zone_oversees(world):
    with world.read("inspector_zm") as uow:
        assert {o.code for o in uow.repo.orgs()} >= {"ZM15", "MUN1", "MUN2"}
        assert uow.repo.firearm("GLK-A100").serial == "GLK-A100"
        with pytest.raises(NotFound):          # MUN3 lies outside the zone's oversight
            uow.repo.firearm("SIG-C100")
    with pytest.raises(NotFound):
        do(world, "inspector_zm", inspections.plan, "MUN3", TOMORROW)
    iid = closed_revista(world)
    shown = do(world, "inspector_zm", inspections.show, iid)
    assert shown["authority"] == "ZM15"
    pdf, _ = do(world, "inspector_zm", inspections.acta, iid)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "15a Zona Militar (ZM15)" in text


def test_oversight_is_for_the_oversight_roles_and_is_kept_in_the_log(world):
    with pytest.raises(ValidationFailed, match="already oversees"):
        do(world, "admin", registry.add_oversight, "ZM15", "MUN1")
    with pytest.raises(ValidationFailed, match="not an agency"):
        do(world, "admin", registry.add_oversight, "ZM15", "SSP")
    with pytest.raises(NotFound):        # the zone lies outside a chief's scope
        do(world, "jefe1", registry.add_oversight, "ZM15", "MUN1")
    with pytest.raises(PermissionDenied):     # and an inspector manages no organization
        do(world, "inspector_zm", registry.add_oversight, "ZM15", "MUN1")
    do(world, "admin", registry.remove_oversight, "ZM15", "MUN2", "Cambio de jurisdicción")
    with world.read("inspector_zm") as uow:
        assert uow.repo.firearm("GLK-A100")
        with pytest.raises(NotFound):
            uow.repo.firearm("BER-B100")
    from resguardo.storage import rebuild
    with world.read(None) as uow:
        assert rebuild.compare(uow.conn, rebuild.replay(uow.repo.iter_events())) == []


# --- findings: the agency answers, the inspector closes --------------------------------

def test_a_missing_weapon_answered_found_stays_open_until_the_inspector_acts(world):
    iid = closed_revista(world)
    missing = finding(world, iid, "GLK-A300")
    assert (missing["kind"], missing["state"]) == ("missing", "open")
    with pytest.raises(ValidationFailed, match="evidence"):
        do(world, "armero1", inspections.answer, iid, missing["id"], "found",
           "Estaba en el taller", "")
    do(world, "armero1", inspections.answer, iid, missing["id"], "found",
       "Estaba en el taller interno", "Orden de taller 44")
    assert finding(world, iid, "GLK-A300")["state"] == "answered"   # not closed by itself
    with pytest.raises(InvalidTransition):
        do(world, "armero1", inspections.answer, iid, missing["id"], "found", "Otra vez", "x44")
    # the agency cannot close its own findings
    with pytest.raises(PermissionDenied):
        do(world, "jefe1", inspections.review, iid, missing["id"], accept=True)
    with pytest.raises(PermissionDenied):
        do(world, "armero1", inspections.verify, iid, "GLK-A300")
    # the inspector reopens it; the agency answers again; a scan closes it
    with pytest.raises(ValidationFailed, match="why"):
        do(world, "inspector_zm", inspections.review, iid, missing["id"], accept=False)
    do(world, "inspector_zm", inspections.review, iid, missing["id"], accept=False,
       note="Presente el arma en la próxima visita")
    assert finding(world, iid, "GLK-A300")["state"] == "reopened"
    do(world, "armero1", inspections.answer, iid, missing["id"], "found",
       "Se presentará el arma", "Oficio 12/2025")
    do(world, "inspector_zm", inspections.verify, iid, "glk a300", location="ARM1")
    closed = finding(world, iid, "GLK-A300")
    assert closed["state"] == "closed" and closed["reviewed_by"] == "inspector_zm"
    with pytest.raises(NotFound):
        do(world, "inspector_zm", inspections.verify, iid, "GLK-A300")
    from resguardo.storage import rebuild
    with world.read(None) as uow:
        assert rebuild.compare(uow.conn, rebuild.replay(uow.repo.iter_events())) == []


def test_many_findings_are_answered_at_once_and_accepted_at_once(world):
    iid = closed_revista(world)
    pending = do(world, "jefe1", inspections.findings, iid, state="pending")
    ids = [f["id"] for f in pending["items"] if f["kind"] == "missing"]
    assert len(ids) == 4
    events = do(world, "armero1", inspections.answer, iid, ids, "reported_stolen",
                "Robadas del vehículo 12", "Denuncia FGE/JAL/77/2025")
    assert len(events) == 4
    answered = do(world, "inspector_zm", inspections.findings, iid, state="answered")
    assert answered["total"] == 4
    assert {f["evidence"] for f in answered["items"]} == {"Denuncia FGE/JAL/77/2025"}
    do(world, "inspector_zm", inspections.review, iid, ids, accept=True)
    assert do(world, "inspector_zm", inspections.findings, iid, state="closed")["total"] == 4
    # all or none: one unknown number refuses the whole batch
    with pytest.raises(NotFound):
        do(world, "armero1", inspections.answer, iid, [ids[0], 999], "found", "Aparecieron", "x12")


def test_a_weapon_on_duty_is_to_present_by_the_deadline_then_missing(world, clock):
    do(world, "armero1", custody.issue, "GLK-A200", "P2")
    deadline = datetime(2025, 3, 5, 18, 0, tzinfo=UTC)
    iid = closed_revista(world, present_by=deadline)
    on_duty = finding(world, iid, "GLK-A200")
    assert on_duty["kind"] == "to_present" and on_duty["present_by"] == "2025-03-05T18:00:00Z"
    summary = do(world, "inspector_zm", inspections.show, iid)["summary"]
    assert (summary["missing"], summary["to_present"]) == (3, 1)
    clock.advance(days=3)
    assert finding(world, iid, "GLK-A200")["kind"] == "missing"      # past the deadline
    # presented late, it still closes when the inspector sees it with its officer
    do(world, "inspector_zm", inspections.verify, iid, "GLK-A200", holder="P2")
    assert finding(world, iid, "GLK-A200")["state"] == "closed"


def test_a_deadline_before_the_closing_is_refused(world):
    iid = do(world, "inspector_zm", inspections.plan, "MUN1", TOMORROW).position
    do(world, "inspector_zm", inspections.open_, iid)
    with pytest.raises(ValidationFailed, match="after the closing"):
        do(world, "inspector_zm", inspections.close, iid,
           present_by=datetime(2025, 3, 1, tzinfo=UTC))


def test_a_revista_with_open_findings_is_one_alert_not_one_per_weapon(world):
    iid = closed_revista(world, scans=())
    found = look(world, "jefe1", alerts.open_alerts, **LIMITS)
    assert [a.key for a in found] == [f"open_findings:{iid}"]
    assert "5 finding(s) not closed" in found[0].message
    assert look(world, "jefe2", alerts.open_alerts, **LIMITS) == []
    ids = [f["id"] for f in do(world, "jefe1", inspections.findings, iid)["items"]]
    do(world, "armero1", inspections.answer, iid, ids, "found", "Estaban en bóveda", "Acta 3")
    do(world, "inspector_zm", inspections.review, iid, ids, accept=True)
    assert look(world, "jefe1", alerts.open_alerts, **LIMITS) == []


def test_revistas_are_due_six_months_after_the_last_and_overseers_see_it(world, clock):
    due = {r["agency"]: r for r in do(world, "inspector_zm", inspections.due, 6)}
    assert set(due) == {"MUN1", "MUN2"}                 # the zone's, not MUN3
    assert (due["MUN1"]["last_closed"], due["MUN1"]["status"]) == (None, "due")  # never inspected
    closed_revista(world)
    due = {r["agency"]: r for r in do(world, "inspector_zm", inspections.due, 6)}
    assert (due["MUN1"]["due_on"], due["MUN1"]["status"]) == ("2025-09-03", "ok")
    clock.advance(days=200)
    assert do(world, "inspector_zm", inspections.due, 6)[0]["agency"] in ("MUN1", "MUN2")
    overdue = {r["agency"]: r["status"] for r in do(world, "inspector_zm", inspections.due, 6)}
    assert overdue["MUN1"] == "overdue"
    # a sealed plan shows to the overseer, never to the agency's own chief
    iid = do(world, "inspector_zm", inspections.plan, "MUN1", clock.now.date() + timedelta(days=2),
             sealed=True).position
    assert {r["agency"]: r["planned"] for r in do(world, "inspector_zm", inspections.due, 6)
            }["MUN1"] == [iid]
    assert do(world, "jefe1", inspections.due, 6)[0]["planned"] == []


def test_identity_corrections_since_the_last_revista_are_listed_to_the_inspector(world, clock):
    fid = look(world, None, lambda uow: next(
        e.position for e in uow.repo.iter_events()
        if e.type == "firearm.registered" and e.payload["serial"] == "GLK-A300"))
    do(world, "armero1", custody.correct, fid, {"serial": "GLK-A3O0"}, "Serie mal capturada")
    do(world, "jefe1", custody.approve_correction, "GLK-A300")
    clock.advance(days=1)
    iid = closed_revista(world)
    identity = do(world, "inspector_zm", inspections.show, iid)["record"]["identity"]
    assert [(c["requested_by"], c["decided_by"], c["state"], c["changes"]["serial"])
            for c in identity] == [("armero1", "jefe1", "approved", "GLK-A3O0")]
    pdf, _ = do(world, "inspector_zm", inspections.acta, iid)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Correcciones de identidad" in text and "GLK-A3O0" in text
    # the agency's own staff are not shown the overseer's record
    assert "record" not in do(world, "jefe1", inspections.show, iid)
