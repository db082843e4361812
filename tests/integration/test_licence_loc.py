"""The collective licence (LOC) as a working part, on SQLite and PostgreSQL: an agency's
armorer puts its weapons on the state's LOC and never another agency's; the additions
and removals read from the log (a recovery is not an addition, the release is); the
30-day declaration alert and the credential-folio alert; the Modelo 4 workbook and the
periodic report (LFAFE art. 29) read back."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from resguardo.domain.errors import Conflict, Lockdown, NotFound, ValidationFailed
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.reports import licence as licence_report
from resguardo.reports.spreadsheets import write_xlsx
from resguardo.services import alerts, custody, exports, inspections, licences, registry
from resguardo.storage.rebuild import compare, replay

from world import do, look

FAR = date(2030, 1, 1)
DEADLINES = {"loss_deadline": timedelta(hours=24), "shift_length": timedelta(hours=14)}


def state_loc(app) -> None:  # type: ignore[no-untyped-def]
    """The state's LOC covers MUN1 and MUN2; MUN3 (another state) has its own."""
    do(app, "admin", registry.add_licence, "LOC-SSP-1", "SSP", ["MUN1", "MUN2"],
       date(2025, 1, 1), FAR)
    do(app, "admin", registry.add_licence, "LOC-SSP2-9", "SSP2", ["MUN3"], date(2025, 1, 1), FAR)


def kinds(app, user: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    found = look(app, user, alerts.open_alerts, **DEADLINES)
    out: dict[str, list[str]] = {}
    for a in found:
        out.setdefault(a.kind.value, []).append(a.subject)
    return out


def test_an_agency_armorer_attaches_its_weapon_to_the_state_licence(world):
    state_loc(world)
    # the licence is held by the state, yet the agency's armorer finds it (was: not found)
    do(world, "armero1", registry.attach_firearm, "GLK-A100", "LOC-SSP-1", "Manifestada, ZM15")
    with world.read("armero1") as uow:
        assert uow.repo.firearm("GLK-A100").licence_id == uow.repo.licence_id("LOC-SSP-1")
        assert [r["number"] for r in uow.repo.licences()] == ["LOC-SSP-1"]
    # and a weapon may be put on the licence at registration
    with world.work("armero1") as uow:
        registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
            serial="NEW-1", make="Glock", calibre="9x19mm", kind="pistol"), "LOC-SSP-1")
        uow.commit()
    do(world, "jefe1", registry.attach_officer, "MUN1", "P1", "LOC-SSP-1", "Alta de personal")
    with world.read("supervisor") as uow:
        data = licences.licence_report(uow, "LOC-SSP-1")
    assert sorted(w["serial"] for w in data.weapons) == ["GLK-A100", "NEW-1"]
    assert [o["badge"] for o in data.officers] == ["P1"]
    # twice is refused, and so is a licence that has expired
    with pytest.raises(Conflict, match="already on licence"):
        do(world, "armero1", registry.attach_firearm, "GLK-A100", "LOC-SSP-1", "otra vez")
    with pytest.raises(ValidationFailed, match="reason"):
        do(world, "armero1", registry.attach_firearm, "GLK-A200", "LOC-SSP-1", "  ")


def test_the_insider_cannot_attach_another_agencys_weapon_or_to_another_agencys_licence(world):
    state_loc(world)
    # MUN2's armorer tries MUN1's weapon: it does not exist for him
    with pytest.raises(NotFound):
        do(world, "armero2", registry.attach_firearm, "GLK-A100", "LOC-SSP-1", "mía")
    # MUN1's armorer tries the other state's licence (covering MUN3 only): not found
    with pytest.raises(NotFound):
        do(world, "armero1", registry.attach_firearm, "GLK-A100", "LOC-SSP2-9", "otra")
    # a licence covering only MUN2 is not MUN1's to see ...
    do(world, "admin", registry.add_licence, "LOC-MUN2", "SSP", ["MUN2"], date(2025, 1, 1), FAR)
    with pytest.raises(NotFound):
        do(world, "armero1", registry.attach_firearm, "GLK-A100", "LOC-MUN2", "otra")
    # ... and whoever sees both is refused naming the agency it does not cover
    with pytest.raises(ValidationFailed, match="does not cover MUN1"):
        do(world, None, registry.attach_firearm, "GLK-A100", "LOC-MUN2", "otra")
    with pytest.raises(ValidationFailed, match="does not cover MUN1"), world.work(None) as uow:
        registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
            serial="NEW-2", make="Glock", calibre="9x19mm", kind="pistol"), "LOC-MUN2")
    # MUN1's chief cannot put MUN2's officer on the licence
    with pytest.raises(NotFound):
        do(world, "jefe1", registry.attach_officer, "MUN2", "Q1", "LOC-SSP-1", "alta")
    # an inspector or an investigator never attaches
    from resguardo.domain.errors import PermissionDenied
    with pytest.raises(PermissionDenied):
        do(world, "supervisor", registry.attach_firearm, "GLK-A100", "LOC-SSP-1", "x")
    with world.read(None) as uow:
        assert uow.repo.firearm("GLK-A100").licence_id is None


def test_attaching_is_frozen_while_a_revista_is_open(world):
    state_loc(world)
    iid = do(world, "inspector", inspections.plan, "MUN1", date(2025, 3, 4)).position
    do(world, "inspector", inspections.open_, iid)
    with pytest.raises(Lockdown):
        do(world, "armero1", registry.attach_firearm, "GLK-A100", "LOC-SSP-1", "durante")


def test_the_30_day_alert_fires_for_an_undeclared_weapon_until_it_is_attached(world, clock):
    do(world, "admin", registry.add_licence, "LOC-SSP-1", "SSP", ["MUN1", "MUN2"],
       date(2025, 1, 1), FAR)  # MUN3 is under no licence recorded here
    with world.work("armero1") as uow:
        registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
            serial="OLD-1", make="Glock", calibre="9x19mm", kind="pistol",
            acquired_on=clock.now.date() - timedelta(days=31)))
        registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
            serial="NEW-1", make="Glock", calibre="9x19mm", kind="pistol",
            acquired_on=clock.now.date() - timedelta(days=29)))
        uow.commit()
    undeclared = kinds(world, "jefe1").get("undeclared_weapon", [])
    assert undeclared == ["Glock OLD-1"]  # 29 days: still within the term
    # MUN2's chief does not see MUN1's alert
    assert "Glock OLD-1" not in kinds(world, "jefe2").get("undeclared_weapon", [])
    # weapons with no acquisition date count from their registration
    clock.advance(days=31)
    assert len(kinds(world, "jefe1")["undeclared_weapon"]) == 7
    # MUN3's weapon is of an agency no recorded licence covers: nothing to declare it on
    assert "undeclared_weapon" not in kinds(world, "armero3")
    for serial in ("OLD-1", "NEW-1", "GLK-A100", "GLK-A200", "GLK-A300", "GLK-A400"):
        do(world, "armero1", registry.attach_firearm, serial, "LOC-SSP-1", "Manifestada")
    assert kinds(world, "jefe1")["undeclared_weapon"] == ["Glock GLK-A500"]
    # a lost weapon is no longer asked for
    do(world, "armero1", custody.report_missing, "GLK-A500", stolen=False,
       occurred_on=clock.now.date(), place="Centro", on_duty=True, complaint_number="C-1",
       complaint_authority="FGE")
    assert "undeclared_weapon" not in kinds(world, "jefe1")


def test_an_officer_carrying_without_a_credential_folio_raises_an_alert(world):
    state_loc(world)
    do(world, "armero1", custody.issue, "GLK-A100", "P1")
    assert kinds(world, "jefe1")["no_credential_folio"] == ["Glock GLK-A100 / P1 Ana Ruiz"]
    do(world, "armero1", custody.return_, "GLK-A100", "ARM1")
    do(world, "jefe1", registry.renew_officer, "MUN1", "P1", credential_folio="CP-100")
    do(world, "armero1", custody.issue, "GLK-A100", "P1")
    assert "no_credential_folio" not in kinds(world, "jefe1")


def test_the_movements_count_a_recovery_as_no_addition_and_the_release_as_one(world, clock):
    state_loc(world)
    start = clock.now.date()
    with world.work("jefe1") as uow:
        registry.add_officer(uow, "MUN1", OfficerInput(
            "P9", "José Ñúñez", cuip="CUIP9", credential_folio="CP-9", credential_expiry=FAR,
            qualification_expiry=FAR), "LOC-SSP-1")
        uow.commit()
    with world.work("armero1") as uow:
        registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
            serial="REG-1", make="Glock", calibre="9x19mm", kind="pistol", folio="RFA-1"),
            "LOC-SSP-1")
        uow.commit()
    do(world, "armero1", registry.attach_firearm, "GLK-A100", "LOC-SSP-1", "Manifestada")
    do(world, "armero1", custody.report_missing, "REG-1", stolen=True, occurred_on=start,
       place="Centro", on_duty=True, complaint_number="C-1", complaint_authority="FGE")
    clock.advance(days=1)
    do(world, "armero1", custody.recover, "REG-1", "FGE Jalisco", "Cateo")
    clock.advance(days=1)
    do(world, "jefe1", custody.release, "REG-1", "ARM1", "Oficio FGE-1")
    do(world, "armero1", registry.attach_firearm, "GLK-A100", None, "Error de captura")
    do(world, "jefe1", registry.attach_officer, "MUN1", "P9", None, "Cambio de adscripción")
    with world.read("supervisor") as uow:
        data = exports.licence_movements(uow, "LOC-SSP-1", start, clock.now.date())
    assert [(m.fields["serial"], m.change) for m in data.weapons_added] == [
        ("REG-1", "registered"), ("GLK-A100", "attached"), ("REG-1", "released")]
    assert [(m.fields["serial"], m.change) for m in data.weapons_removed] == [
        ("REG-1", "stolen"), ("GLK-A100", "detached")]
    assert [m.fields["badge"] for m in data.officers_added] == ["P9"]
    assert [(m.fields["badge"], m.note) for m in data.officers_removed] == [
        ("P9", "Cambio de adscripción")]
    # the licence columns replay from the log as they stand
    with world.read(None) as uow:
        scratch = replay(uow.repo.iter_events())
        assert compare(uow.conn, scratch) == []
    # a later period starts from what the log says stood then: nothing moves in it
    clock.advance(days=2)
    with world.read("supervisor") as uow:
        later = exports.licence_movements(uow, "LOC-SSP-1", clock.now.date(), clock.now.date())
    assert later.weapons_added == later.weapons_removed == []


def test_modelo_4_and_the_periodic_report_read_back(world, clock, tmp_path):
    state_loc(world)
    start = clock.now.date()
    with world.work("jefe1") as uow:
        registry.add_officer(uow, "MUN1", OfficerInput(
            "P9", "José Ñúñez", cuip="CUIP9", credential_folio="CP-9", credential_expiry=FAR,
            qualification_expiry=FAR), "LOC-SSP-1")
        uow.commit()
    for serial in ("GLK-A100", "GLK-A200"):
        do(world, "armero1", registry.attach_firearm, serial, "LOC-SSP-1", "Manifestada")
    do(world, "armero1", custody.report_missing, "GLK-A200", stolen=True, occurred_on=start,
       place="Centro", on_duty=True, complaint_number="C-1", complaint_authority="FGE")
    do(world, "armero1", custody.issue, "GLK-A100", "P9")
    with world.read("supervisor") as uow:
        moves = exports.licence_movements(uow, "LOC-SSP-1", start, start)
        report = licences.licence_report(uow, "LOC-SSP-1")
    write_xlsx(tmp_path / "m4.xlsx", licence_report.modelo4_tables(moves))
    book = load_workbook(tmp_path / "m4.xlsx")
    assert book.sheetnames == ["Modelo 4 armamento", "Modelo 4 personal"]
    arms = [[c.value for c in row] for row in book["Modelo 4 armamento"].iter_rows()]
    assert arms[0][0] == "MODELO No. 4 — ALTAS Y BAJAS DE ARMAMENTO"
    assert arms[1][0] == "Licencia Oficial Colectiva No. LOC-SSP-1"
    assert arms[5][0] == "Altas: 2   Bajas: 1"
    assert arms[7][:4] == ["No.", "Movimiento", "Fecha", "Corporación"]
    assert [(r[1], r[8], r[10]) for r in arms[8:]] == [
        ("ALTA", "GLK-A100", "manifestada en la licencia"),
        ("ALTA", "GLK-A200", "manifestada en la licencia"), ("BAJA", "GLK-A200", "robo")]
    assert isinstance(arms[8][2], datetime)
    people = [[c.value for c in row] for row in book["Modelo 4 personal"].iter_rows()]
    assert people[8][1:8:3] == ["ALTA", "José Ñúñez", "P9"] or people[8][7] == "CP-9"
    assert people[8][7] == "CP-9"
    # the periodic report: by agency and place, with the carrier's credential folio
    write_xlsx(tmp_path / "inf.xlsx", licence_report.report_tables(report))
    book = load_workbook(tmp_path / "inf.xlsx")
    assert book.sheetnames == ["Resumen", "Armamento", "Personal", "Sin manifestar"]
    summary = [[c.value for c in r] for r in book["Resumen"].iter_rows()]
    mun1 = next(r for r in summary if r[0] == "MUN1")
    assert mun1[1:9] == [1, 0, 1, 0, 1, 1, 0, 0]  # the stolen weapon is off the licence
    arms = [[c.value for c in r] for r in book["Armamento"].iter_rows()]
    assert arms[1][7] == "GLK-A100" and arms[1][10] == "P9" and arms[1][12] == "CP-9"
    licence_report.write_report_pdf(report, tmp_path / "inf.pdf")
    from pypdf import PdfReader
    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "inf.pdf").pages)
    assert "INFORME PERIÓDICO" in text and "CP-9" in text and "GLK-A100" in text
    assert "José Ñúñez" in text and "Por el titular de la licencia" in text


def test_modelo_4_gives_each_loss_its_complaint_authority_duty_and_negligence(world, clock,
                                                                               tmp_path):
    """SEDENA-02-031: a loss or theft is removed with its complaint and whether it happened
    on duty or through negligence; the Modelo 4 row says so (the negligence as a chief
    determined it, or that it is not yet determined)."""
    state_loc(world)
    start = clock.now.date()
    for serial in ("GLK-A100", "GLK-A200"):
        do(world, "armero1", registry.attach_firearm, serial, "LOC-SSP-1", "Manifestada")
    do(world, "armero1", custody.report_missing, "GLK-A100", stolen=True, occurred_on=start,
       place="Centro", on_duty=True, complaint_number="FGE/JAL/77/2025",
       complaint_authority="FGE Jalisco")
    do(world, "armero1", custody.report_missing, "GLK-A200", stolen=False, occurred_on=start,
       place="Domicilio", on_duty=False, complaint_number="CI-9", complaint_authority="MP Zapopan")
    do(world, "jefe1", custody.determine_negligence, "GLK-A100", False, "Robo con violencia")
    with world.read("supervisor") as uow:
        moves = exports.licence_movements(uow, "LOC-SSP-1", start, start)
    write_xlsx(tmp_path / "m4.xlsx", licence_report.modelo4_tables(moves))
    arms = [[c.value for c in row]
            for row in load_workbook(tmp_path / "m4.xlsx")["Modelo 4 armamento"].iter_rows()]
    assert arms[7][10:15] == ["Motivo", "Denuncia", "Autoridad de la denuncia", "En servicio",
                              "Negligencia"]
    rows = {(r[1], r[8]): r for r in arms[8:]}
    assert rows[("BAJA", "GLK-A100")][10:15] == ["robo", "FGE/JAL/77/2025", "FGE Jalisco", "sí",
                                                "no"]
    assert rows[("BAJA", "GLK-A200")][10:15] == ["extravío", "CI-9", "MP Zapopan", "no",
                                                "sin determinar"]
    assert rows[("ALTA", "GLK-A100")][11:15] == [None, None, None, None]
    write_xlsx(tmp_path / "m4en.xlsx", licence_report.modelo4_tables(moves, "en"))
    english = [[c.value for c in row] for row in
               load_workbook(tmp_path / "m4en.xlsx")["Model 4 weapons"].iter_rows()]
    assert english[7][11:15] == ["Complaint", "Complaint authority", "On duty", "Negligence"]
    assert ["stolen", "FGE/JAL/77/2025", "FGE Jalisco", "yes", "no"] in [r[10:15]
                                                                          for r in english[8:]]
    # the sheet to sign says it too, whole
    licence_report.write_pdf(moves, tmp_path / "m4.pdf")
    from pypdf import PdfReader
    text = " ".join(" ".join(p.extract_text().split())
                    for p in PdfReader(tmp_path / "m4.pdf").pages)
    assert "FGE/JAL/77/2025" in text and "MP Zapopan" in text
    assert "negligencia: sin determinar" in text and "fuera de servicio" in text
