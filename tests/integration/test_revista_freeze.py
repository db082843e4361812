"""The freeze of an inspected agency, on SQLite and PostgreSQL: while a revista is
open, nothing the count is checked against may change there, whichever path asks;
every refused attempt is recorded (who, what, when) in a transaction of its own,
without committing the refused work; a loss or theft stays reportable."""

from __future__ import annotations

from datetime import date

import pytest

from resguardo.domain.errors import Lockdown
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.services import ammunition, custody, inspections, registry
from resguardo.storage.uow import UnitOfWork

from world import do, look

TOMORROW = date(2025, 3, 4)


def open_revista(app) -> int:  # type: ignore[no-untyped-def]
    iid = do(app, "inspector", inspections.plan, "MUN1", TOMORROW).position
    do(app, "inspector", inspections.open_, iid)
    return iid


def refusals(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: [(e.actor, e.payload["action"])
                                        for e in uow.repo.iter_events()
                                        if e.type == "inspection.lockdown_refused"])


def registration_entry(app, serial: str) -> int:  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: next(
        e.position for e in uow.repo.iter_events()
        if e.type == "firearm.registered" and e.payload["serial"] == serial))


def test_every_change_to_the_books_is_refused_and_recorded_while_the_revista_is_open(world):
    # before the revista: a repair, a transfer and a decommission waiting for a second person
    do(world, "armero1", custody.send_to_repair, "GLK-A400", "Taller Norte")
    do(world, "armero1", custody.request_decommission, "GLK-A300", "Corredera fracturada")
    do(world, "armero2", custody.request_transfer, "BER-B100", "MUN1", "Reasignación")
    do(world, "jefe2", custody.approve_transfer, "BER-B100")
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L1", 500)
    iid = open_revista(world)
    new = FirearmInput(serial="NEW-1", make="Glock", calibre="9x19mm", kind="pistol")
    attempts = [
        ("armero1", registry.register_firearm, ("MUN1", "ARM1", new)),
        ("armero1", custody.correct, (registration_entry(world, "GLK-A100"),
                                      {"model": "19"}, "Modelo mal capturado")),
        ("jefe1", registry.add_location, ("MUN1", "ARM9", "Armería nueva", "armory")),
        ("armero1", custody.issue, ("GLK-A100", "P1")),
        ("armero1", custody.move, ("GLK-A200", "ARM2")),
        ("armero1", custody.return_from_repair, ("GLK-A400", "ARM1")),
        ("armero1", custody.send_to_repair, ("GLK-A500", "Taller")),
        ("jefe1", custody.approve_decommission, ("GLK-A300",)),
        ("armero1", custody.request_transfer, ("GLK-A500", "MUN2", "Reasignación")),
        ("armero1", custody.receive_transfer, ("BER-B100", "ARM1")),   # transfer in
        ("armero1", ammunition.issue, ("MUN1", "ARM1", "P1", "9x19mm", "L1", 30)),
        ("armero1", ammunition.consume, ("MUN1", "ARM1", "9x19mm", "L1", 10, "training")),
    ]
    for user, fn, args in attempts:
        with pytest.raises(Lockdown, match="frozen"):
            do(world, user, fn, *args)
    recorded = refusals(world)
    assert len(recorded) == len(attempts)
    assert [who for who, _ in recorded] == [user for user, _, _ in attempts]
    assert {what for _, what in recorded} >= {
        "firearm.registered", "entry.corrected", "location.created", "custody.issued",
        "firearm.moved", "firearm.repair_returned", "firearm.repair_sent",
        "firearm.decommissioned", "firearm.transfer_requested", "firearm.transfer_received",
        "ammunition.issued", "ammunition.consumed"}
    # nothing changed: the books are as the count found them
    with world.read(None) as uow:
        assert uow.repo.firearm("GLK-A100").status == "in_storage"
        assert uow.repo.firearm("GLK-A300").status == "in_storage"
        assert uow.repo.firearm("BER-B100").status == "in_transit"
        with pytest.raises(Exception, match="not found"):
            uow.repo.firearm("NEW-1")
    shown = do(world, "inspector", inspections.show, iid)
    assert shown["refused_movements"] == len(attempts)
    assert len(shown["record"]["refusals"]) == len(attempts)
    # a loss is still reportable, and is listed for the inspector
    do(world, "armero1", custody.report_missing, "GLK-A500", stolen=True,
       occurred_on=date(2025, 3, 3), place="Patrulla 3", on_duty=True,
       complaint_number="FGE/1/2025", complaint_authority="FGE Jalisco")
    losses = do(world, "inspector", inspections.show, iid)["record"]["losses"]
    assert [(e["who"], e["subject"]) for e in losses] == [("armero1", "GLK-A500")]
    # the acta lists the refused attempts and the loss, with who did them
    result = do(world, "inspector", inspections.close, iid)
    assert result["summary"]["registry"] == 5
    pdf, _ = do(world, "inspector", inspections.acta, iid)
    import io

    from pypdf import PdfReader
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Intentos rechazados durante la revista" in text
    assert text.count("armero1") == 10 + 1 and text.count("jefe1") == 2   # 10 refused + the loss
    assert "Asignación a elemento" in text and "custody.issued" not in text
    assert "GLK-A500" in text and "Extravíos y robos reportados" in text
    # after closing, the agency works again
    do(world, "armero1", custody.issue, "GLK-A100", "P1")


def test_an_officer_roster_and_other_agencies_are_not_frozen(world):
    open_revista(world)
    do(world, "armero2", custody.issue, "BER-B100", "Q1")
    do(world, "jefe1", registry.add_officer, "MUN1",
       OfficerInput("P9", "Nuevo Elemento", credential_expiry=date(2030, 1, 1),
                    qualification_expiry=date(2030, 1, 1)))


def test_a_refusal_never_commits_the_work_that_came_before_it_in_the_transaction(world):
    """The freeze records the attempt on its own: whatever the same unit of work did
    before (here an officer registered, not frozen) is rolled back with the refusal."""
    open_revista(world)
    with pytest.raises(Lockdown), world.work("jefe1") as uow:
        registry.add_officer(uow, "MUN1", OfficerInput(
            "P8", "Antes del intento", credential_expiry=date(2030, 1, 1),
            qualification_expiry=date(2030, 1, 1)))
        registry.add_location(uow, "MUN1", "ARM9", "Armería nueva", "armory")
        uow.commit()
    with world.read(None) as uow, pytest.raises(Exception, match="not found"):
        uow.repo.officer(uow.repo.org("MUN1").id, "P8")
    assert refusals(world) == [("jefe1", "location.created")]


def test_a_caller_that_swallows_the_refusal_still_leaves_it_on_record(world):
    open_revista(world)
    with world.work("armero1") as uow:
        with pytest.raises(Lockdown):
            custody.issue(uow, "GLK-A100", "P1")
        uow.commit()
    assert refusals(world) == [("armero1", "custody.issued")]
    # the log stays whole: the refusal took the next position, nothing overlaps
    with world.read(None) as uow:
        positions = [e.position for e in uow.repo.iter_events()]
        assert positions == list(range(len(positions)))


def test_the_freeze_holds_for_a_unit_of_work_built_without_the_application(world):
    """No wiring to forget: a bare unit of work on the engine refuses as well."""
    open_revista(world)
    with pytest.raises(Lockdown), UnitOfWork(world.engine, "armero1") as uow:
        custody.issue(uow, "GLK-A100", "P1")
        uow.commit()
    assert refusals(world) == [("armero1", "custody.issued")]


def test_an_import_at_a_frozen_agency_is_refused_whole_and_recorded(world, tmp_path):
    from resguardo.services import imports
    sheet = tmp_path / "alta.csv"
    sheet.write_text("serie,marca,calibre,tipo\nIMP-1,Glock,9x19mm,pistola\n", encoding="utf-8")
    open_revista(world)
    with pytest.raises(Lockdown):
        do(world, "armero1", imports.import_file, "firearms", sheet,
           imports.ImportOptions(agency="MUN1"))
    assert refusals(world) == [("armero1", "import.firearms")]
    with world.read(None) as uow, pytest.raises(Exception, match="not found"):
        uow.repo.firearm("IMP-1")


def test_changes_between_the_plan_and_the_opening_are_shown_to_the_inspector(world):
    iid = do(world, "inspector", inspections.plan, "MUN1", TOMORROW, sealed=True).position
    # the agency cannot see the sealed plan, but what it does now is listed at opening
    do(world, "armero1", registry.register_firearm, "MUN1", "ARM1", FirearmInput(
        serial="LATE-1", make="Glock", calibre="9x19mm", kind="pistol"))
    do(world, "armero1", custody.correct, registration_entry(world, "GLK-A200"),
       {"model": "26"}, "Modelo mal capturado")
    do(world, "armero1", custody.issue, "GLK-A100", "P1")          # daily work: not listed
    do(world, "inspector", inspections.open_, iid)
    record = do(world, "inspector", inspections.show, iid)["record"]
    assert [(e["who"], e["what"], e["subject"]) for e in record["changes"]] == [
        ("armero1", "firearm.registered", "LATE-1"), ("armero1", "entry.corrected", "GLK-A200")]
    # the agency's staff learn the revista is open and frozen, nothing of the count
    seen = do(world, "armero1", inspections.show, iid)
    assert seen["frozen"] is True
    assert "count" not in seen and "record" not in seen and "refused_movements" not in seen


def test_a_release_from_evidence_waits_for_the_revista_and_a_negligence_finding_does_not(world):
    do(world, "armero1", custody.report_missing, "GLK-A500", stolen=True,
       occurred_on=date(2025, 3, 1), place="Patrulla 3", on_duty=False,
       complaint_number="FGE/1/2025", complaint_authority="FGE Jalisco")
    do(world, "armero1", custody.recover, "GLK-A500", "FGE Jalisco", "Asegurada en un cateo")
    open_revista(world)
    with pytest.raises(Lockdown, match="frozen"):
        do(world, "jefe1", custody.release, "GLK-A500", "ARM1", "Oficio FGE/LIB/1/2025")
    assert ("jefe1", "firearm.released") in refusals(world)
    do(world, "jefe1", custody.determine_negligence, "GLK-A500", False, "Robo con violencia")
    with world.read(None) as uow:
        assert uow.repo.firearm("GLK-A500").status == "held_as_evidence"


@pytest.mark.parametrize("when", ["before_the_first_slice", "between_two_slices"])
def test_a_revista_opened_while_a_large_import_runs_stops_it_and_takes_it_back(
        world, tmp_path, monkeypatch, when):
    """A chief starts a large import just before the inspectors lock the armory: the
    import reads its rows without the writer's lock (so the desk is not held), and the
    inspection opens meanwhile. The import must not write a weapon into the frozen books:
    refused and recorded, and whatever slice it had committed taken back."""
    from resguardo.services import imports
    sheet = tmp_path / "alta.csv"
    with open(sheet, "w", encoding="utf-8") as f:
        f.write("serie,marca,calibre,tipo,ubicación\n")
        f.writelines(f"IMP-{n:05d},Glock,9x19mm,pistola,ARM1\n" for n in range(3_000))
    monkeypatch.setattr(imports, "SLICED_FROM_BYTES", 0)  # this small file in slices
    monkeypatch.setenv("RESGUARDO_IMPORT_SLICE_SECONDS", "0.000001")  # a slice a batch
    opened: list[int] = []

    def open_once() -> None:
        if not opened:
            opened.append(open_revista(world))

    if when == "before_the_first_slice":
        read_first = imports.Slices.read_first

        def read_then_open(self: imports.Slices) -> None:
            read_first(self)
            open_once()  # the lock is free: the inspector's opening gets in
        monkeypatch.setattr(imports.Slices, "read_first", read_then_open)
    else:
        release = imports.Slices.release

        def release_then_open(self: imports.Slices, **kw: bool) -> None:
            release(self, **kw)
            open_once()
        monkeypatch.setattr(imports.Slices, "release", release_then_open)
    before = look(world, None, lambda uow: uow.repo.log_size())
    with pytest.raises(Lockdown):
        do(world, "armero1", imports.import_file, "firearms", sheet,
           imports.ImportOptions(agency="MUN1"))
    assert opened, "the inspection was not opened during the import"
    assert refusals(world) == [("armero1", "import.firearms")]
    # no weapon of the file is in the registry: never written, or written and taken back
    with world.read(None) as uow:
        for serial in ("IMP-00000", "IMP-02999"):
            with pytest.raises(Exception, match="not found"):
                uow.repo.firearm(serial)
        types = [e.type for e in uow.repo.iter_events(start=before)]
    if when == "before_the_first_slice":
        assert "import.started" not in types and "firearm.registered" not in types
    else:
        assert "import.started" in types and "import.voided" in types
