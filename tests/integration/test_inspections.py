"""Inspections on SQLite and PostgreSQL: lifecycle, sealed invisibility, lockdown,
blind count, reconciliation against the books, the acta and findings as work."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from resguardo.domain.errors import InvalidTransition, Lockdown, NotFound, PermissionDenied
from resguardo.services import alerts, ammunition, custody, inspections

from world import do, look

TOMORROW = date(2025, 3, 4)
#: A person present, as the inspector types them: name | post | identification.
ORTEGA = "Cap. Ortega | Inspector de armamento | Credencial SEDENA A-1"


def plan(app, sealed=False, **kw):  # type: ignore[no-untyped-def]
    return do(app, "inspector", inspections.plan, "MUN1", TOMORROW, sealed=sealed, **kw).position


def events_of(app, type_):  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: [e for e in uow.repo.iter_events() if e.type == type_])


def test_a_sealed_inspection_is_invisible_to_the_agencys_own_staff(world):
    iid = plan(world, sealed=True)
    for user in ("armero1", "jefe1"):
        assert do(world, user, inspections.list_) == []
        with pytest.raises(NotFound) as hidden:
            do(world, user, inspections.show, iid)
        with pytest.raises(NotFound) as missing:
            do(world, user, inspections.show, iid + 999)
        assert hidden.value.message.replace(str(iid), "N") == \
            missing.value.message.replace(str(iid + 999), "N")
        with pytest.raises(NotFound):
            do(world, user, inspections.acta, iid)
    # the agency's alerts say nothing about it either
    found = look(world, "jefe1", alerts.open_alerts, loss_deadline=timedelta(hours=24),
                 shift_length=timedelta(hours=12))
    assert found == []


def test_every_read_of_a_sealed_inspection_is_an_access_event_naming_the_reader(world):
    iid = plan(world, sealed=True)
    do(world, "supervisor", inspections.show, iid)
    do(world, "auditor", inspections.list_)
    reads = events_of(world, "access.inspection_read")
    assert [(e.actor, e.payload["what"]) for e in reads] == [("supervisor", "show"),
                                                             ("auditor", "list")]
    assert all(e.payload["inspection_id"] == iid for e in reads)


def test_the_seal_lifts_when_the_inspection_opens(world):
    iid = plan(world, sealed=True)
    do(world, "inspector", inspections.open_, iid, [ORTEGA])
    assert [i["id"] for i in do(world, "armero1", inspections.list_)] == [iid]
    before = len(events_of(world, "access.inspection_read"))
    do(world, "armero1", inspections.show, iid)
    assert len(events_of(world, "access.inspection_read")) == before


def test_the_agency_cannot_open_or_conduct_an_inspection(world):
    iid = plan(world)
    with pytest.raises(PermissionDenied):
        do(world, "jefe1", inspections.open_, iid)


def test_an_open_inspection_freezes_custody_movements_and_records_each_refusal(world):
    iid = plan(world)
    do(world, "inspector", inspections.open_, iid)
    with pytest.raises(Lockdown, match="frozen"):
        do(world, "armero1", custody.issue, "GLK-A100", "P1")
    with pytest.raises(Lockdown):
        do(world, "armero1", custody.move, "GLK-A200", "ARM2")
    refused = events_of(world, "inspection.lockdown_refused")
    assert [(e.actor, e.payload["action"]) for e in refused] == [
        ("armero1", "custody.issued"), ("armero1", "firearm.moved")]
    assert do(world, "inspector", inspections.show, iid)["refused_movements"] == 2
    assert look(world, "armero1", lambda uow: uow.repo.firearm("GLK-A100").status) == "in_storage"
    # another agency is not locked down, and a loss is always reportable
    do(world, "armero2", custody.issue, "BER-B100", "Q1")
    do(world, "armero1", custody.report_missing, "GLK-A300", stolen=False,
       occurred_on=date(2025, 3, 2), place="Patrulla 3", on_duty=True, complaint_number="FGE/1/2025",
       complaint_authority="FGE Jalisco")
    do(world, "inspector", inspections.close, iid)
    do(world, "armero1", custody.issue, "GLK-A100", "P1")


def test_the_count_is_blind_until_closed_or_revealed(world):
    iid = plan(world)
    do(world, "inspector", inspections.open_, iid)
    view = do(world, "inspector", inspections.scan, iid, "GLK-A100", location="ARM1")
    assert (view["scans"], view["weapons_seen"]) == (1, 1)
    assert [s["serial"] for s in view["last"]] == ["GLK-A100"]
    shown = do(world, "inspector", inspections.show, iid)
    assert "findings" not in shown and "expected" not in json.dumps(shown)
    revealed = do(world, "inspector", inspections.reveal, iid, "Verificación al final del conteo")
    assert len(revealed["expected"]) == 5
    assert [e.reason for e in events_of(world, "inspection.revealed")] == [
        "Verificación al final del conteo"]


def test_rescanning_the_same_weapon_at_the_same_place_is_harmless(world):
    iid = plan(world)
    do(world, "inspector", inspections.open_, iid)
    for _ in range(3):
        do(world, "inspector", inspections.scan, iid, "GLK-A100", location="ARM1")
    result = do(world, "inspector", inspections.close, iid)
    assert result["summary"]["matched"] == 1 and result["summary"]["duplicate_scan"] == 0


def test_closing_classifies_every_weapon_and_scan_against_the_books(world):
    do(world, "armero1", custody.issue, "GLK-A400", "P1")
    iid = plan(world)
    do(world, "inspector", inspections.open_, iid, [ORTEGA, "Lic. Díaz | Director jurídico | INE IDMEX0002"])
    scan = lambda s, **kw: do(world, "inspector", inspections.scan, iid, s, **kw)  # noqa: E731
    scan("GLK-A100", location="ARM1")                 # matched
    scan("glk a200", location="ARM2")                 # mislocated (recorded at ARM1)
    scan("GLK-A400", location="ARM1", holder="P2")    # custody mismatch (issued to P1)
    scan("BER-B100", location="ARM1")                 # foreign: MUN2's weapon
    scan("XYZ-999", location="ARM1")                  # unregistered
    scan("GLK-A5O0", location="ARM1")                 # unregistered, look-alike of GLK-A500
    scan("GLK-A100", location="ARM2")                 # the same weapon somewhere else
    result = do(world, "inspector", inspections.close, iid)
    s = result["summary"]
    assert (s["registry"], s["scans"], s["matched"]) == (5, 7, 1)
    assert (s["missing"], s["mislocated"], s["custody_mismatch"], s["foreign"],
            s["unregistered"], s["duplicate_scan"]) == (2, 1, 1, 1, 2, 1)
    by_kind = {}
    for f in result["findings"]:
        by_kind.setdefault(f["kind"], []).append(f)
    suggested = {f["serial"]: f["suggested_match"] for f in by_kind["unregistered"]}
    assert suggested["GLK-A5O0"]["serial"] == "GLK-A500"
    assert suggested["XYZ-999"] is None
    missing = {f["serial"]: f["suggested_match"] for f in by_kind["missing"]}
    assert missing == {"GLK-A300": None, "GLK-A500": {"serial": "GLK-A5O0", "distance": 1}}
    # a closed inspection is never reopened, and takes no more scans
    with pytest.raises(InvalidTransition):
        do(world, "inspector", inspections.open_, iid)
    with pytest.raises(InvalidTransition):
        scan("GLK-A300", location="ARM1")


def test_a_weapon_held_as_evidence_is_explained_unseen_and_matched_seen(world):
    for serial in ("GLK-A300", "GLK-A500"):
        do(world, "armero1", custody.report_missing, serial, stolen=True,
           occurred_on=date(2025, 3, 2), place="Patrulla 3", on_duty=True,
           complaint_number="FGE/1/2025", complaint_authority="FGE Jalisco")
        do(world, "armero1", custody.recover, serial, "FGE Jalisco", "Asegurada en un cateo")
    iid = plan(world)
    do(world, "inspector", inspections.open_, iid, [ORTEGA])
    for serial, place in (("GLK-A100", "ARM1"), ("GLK-A200", "ARM1"), ("GLK-A400", "ARM1"),
                          ("GLK-A500", "FGE Jalisco")):
        do(world, "inspector", inspections.scan, iid, serial, location=place)
    result = do(world, "inspector", inspections.close, iid)
    s = result["summary"]
    assert (s["matched"], s["explained"], s["missing"], s["status_conflict"]) == (4, 1, 0, 0)
    assert [(f["kind"], f["serial"]) for f in result["findings"]] == [("explained", "GLK-A300")]


def test_the_acta_is_a_pdf_whose_hash_is_in_the_closing_entry(world):
    iid = plan(world)
    do(world, "inspector", inspections.open_, iid,
       ["Cap. Julián Ortega | Inspector de armamento | Credencial SEDENA A-1"])
    do(world, "inspector", inspections.scan, iid, "GLK-A100", location="ARM1")
    result = do(world, "inspector", inspections.close, iid)
    pdf, digest = do(world, "inspector", inspections.acta, iid)
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == digest
    closing = events_of(world, "inspection.closed")[-1]
    assert closing.payload["acta_sha256"] == digest == result["acta_sha256"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("ACTA CIRCUNSTANCIADA DE REVISTA DE ARMAMENTO", "Policía Municipal 1",
                     "GLK-A300", "Faltante", "Cap. Julián Ortega", "Inspector de armamento",
                     "Credencial SEDENA A-1", "Firmas al margen"):
        assert expected in text
    # the agency may read the acta once closed
    assert do(world, "armero1", inspections.acta, iid)[1] == digest


def test_an_english_acta_is_available(world):
    iid = plan(world)
    do(world, "inspector", inspections.open_, iid)
    do(world, "inspector", inspections.close, iid, lang="en")
    pdf, _ = do(world, "inspector", inspections.acta, iid)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "WEAPONS INSPECTION RECORD" in text and "Missing" in text


def test_rounds_counted_differently_from_the_books_are_findings(world):
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L1", 1000)
    iid = plan(world)
    do(world, "inspector", inspections.open_, iid)
    do(world, "inspector", inspections.count_rounds, iid, "ARM1", "9x19mm", "L1", 950)
    result = do(world, "inspector", inspections.close, iid)
    rounds = [f for f in result["findings"] if f["kind"] == "ammunition_difference"]
    assert rounds == [{"kind": "ammunition_difference", "location": "ARM1", "calibre": "9x19mm",
                       "lot": "L1", "expected": 1000, "counted": 950, "difference": -50}]


def test_a_count_sheet_file_is_recorded_as_scans(world, tmp_path):
    sheet = tmp_path / "conteo.csv"
    sheet.write_text("Matrícula;Ubicación;Placa\nGLK-A100;ARM1;\nGLK-A200;ARM1;\n"
                     "GLK-A300;ARM1;\n", encoding="utf-8-sig")
    iid = plan(world)
    do(world, "inspector", inspections.open_, iid)
    view = do(world, "inspector", inspections.scan_file, iid, sheet)
    assert view["imported"] == 3 and view["weapons_seen"] == 3
    result = do(world, "inspector", inspections.close, iid)
    assert result["summary"]["matched"] == 3 and result["summary"]["missing"] == 2


def test_the_log_replays_to_the_same_inspection_tables(world):
    from resguardo.storage import rebuild
    iid = plan(world, sealed=True)
    do(world, "supervisor", inspections.show, iid)
    do(world, "inspector", inspections.open_, iid)
    do(world, "inspector", inspections.scan, iid, "GLK-A100", location="ARM1")
    do(world, "inspector", inspections.count_rounds, iid, "ARM1", "9x19mm", "L1", 10)
    with pytest.raises(Lockdown):
        do(world, "armero1", custody.issue, "GLK-A200", "P1")
    do(world, "inspector", inspections.close, iid)
    with world.read(None) as uow:
        scratch = rebuild.replay(uow.repo.iter_events())
        assert rebuild.compare(uow.conn, scratch) == []
