"""Importing an agency's inventory: every quirk of FORMATS.md, checked in the stored values.

Runs on SQLite and PostgreSQL (the ``world`` fixture).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from resguardo.domain.errors import PermissionDenied, ValidationFailed
from resguardo.domain.registry import OfficerInput
from resguardo.services import import_firearms, imports, registry
from resguardo.services.imports import ImportOptions, import_file

from world import check_log, do


def run(app, path: Path, user: str = "armero1", **options):  # type: ignore[no-untyped-def]
    """Import as the CLI does: commit only when the report says so."""
    with app.work(user) as uow:
        report = import_file(uow, "firearms", path, ImportOptions(**options))
        if report.commit:
            uow.commit()
    return report


def csv_file(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "inv.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def stored(app, serial: str):  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return uow.repo.firearm(serial)


def log_size(app) -> int:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return uow.repo.log_size()


def firearm_count(app) -> int:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return uow.repo.firearms(limit=1).total


def events(app, start: int):  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return list(uow.repo.iter_events(start))



# --- the quirks ---------------------------------------------------------------------------


def test_a_semicolon_latin1_crlf_file_with_spanish_headers_is_stored_as_typed(world, tmp_path):
    """As typed, but the calibre: its canonical name (".38 Especial" is ".38 Special")."""
    path = csv_file(tmp_path, (
        "No. de Serie;Marca;Modelo;Calibre;Tipo;Folio;Estatus;Ubicación;Fecha de alta\r\n"
        "00123;Smith & Wesson;Modelo 10;.38 Especial;Revólver;F-001;En armería;"
        "Armería norte;07/03/2024\r\n"
        "ÑU-45;Heckler & Koch;MP5;9x19mm;subametralladora;;;ARM1;2023-12-31\r\n"), "cp1252")
    report = run(world, path)
    assert (report.imported, report.rejected) == (2, 0)
    first = stored(world, "00123")
    assert (first.serial, first.make, first.model, first.calibre) == (
        "00123", "Smith & Wesson", "Modelo 10", ".38 Special")
    assert first.kind.value == "revolver" and first.folio == "F-001"
    assert first.acquired_on == date(2024, 3, 7)  # day first
    with world.read(None) as uow:
        assert uow.repo.location_by_id(first.location_id).code == "ARM2"  # by its name
    second = stored(world, "ÑU-45")
    assert second.make == "Heckler & Koch" and second.kind.value == "submachine_gun"
    assert second.acquired_on == date(2023, 12, 31)
    check_log(world)


def test_a_utf8_file_with_a_bom_quoted_newlines_and_headers_without_accents(world, tmp_path):
    path = csv_file(tmp_path, (
        "\ufeffMatricula,Marca,Calibre,Tipo,Ubicacion,Observaciones\n"
        'AB-1,Glock,9x19mm,pistola,ARM1,"cacha rota,\nreparar ""pronto"""\n'
        "AB-2,Glock,9x19mm,pistola,ARM1,\n"))
    report = run(world, path)
    assert (report.imported, report.rejected) == (2, 0)
    assert report.mapping["Matricula"] == "serial" and report.mapping["Observaciones"] == "note"
    assert stored(world, "AB-1").serial == "AB-1"
    registered = [e for e in events(world, report.first_position)
                  if e.type == "firearm.registered"]
    assert registered[0].payload["notes"] == {"Observaciones": 'cacha rota,\nreparar "pronto"'}
    assert "notes" not in registered[1].payload


def test_a_tab_separated_english_file_and_month_first_dates(world, tmp_path):
    path = csv_file(tmp_path, "Serial\tManufacturer\tCaliber\tType\tAcquisition date\n"
                              "US-1\tColt\t5.56mm\tcarbine\t03/07/2024\n")
    run(world, path, month_first=True, location="ARM1")
    assert stored(world, "US-1").acquired_on == date(2024, 3, 7)


def test_an_xlsx_keeps_serials_as_typed_and_reads_date_cells(world, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append([])  # the header is the first non-empty row
    sheet.append(["Matrícula", "Marca", "Calibre", "Tipo", "Fecha de adquisición", "Ubicación"])
    sheet.append(["00077", "Beretta", "9x19mm", "pistola", datetime(2021, 5, 4), "ARM1"])
    sheet.append([456, "Beretta", "9x19mm", "pistola", date(2020, 1, 2), "ARM1"])
    sheet["A4"].number_format = "000000"
    sheet.append([1234, "Beretta", "9x19mm", "pistola", "04/05/2021", "ARM1"])
    path = tmp_path / "inventario.xlsx"
    book.save(path)
    report = run(world, path)
    assert report.imported == 3
    assert stored(world, "00077").acquired_on == date(2021, 5, 4)
    assert stored(world, "000456").serial == "000456"  # zero-padded number format
    assert stored(world, "000456").acquired_on == date(2020, 1, 2)
    assert stored(world, "1234").serial == "1234"  # no ".0"
    assert stored(world, "1234").acquired_on == date(2021, 5, 4)


def test_status_and_custodian_put_the_weapon_where_the_sheet_says(world, tmp_path):
    path = csv_file(tmp_path, (
        "Serie,Marca,Calibre,Tipo,Estatus,Ubicación,Resguardante\n"
        "S-1,Glock,9mm,pistola,asignada,,p2\n"
        "S-2,Glock,9mm,pistola,,,P3\n"
        "S-3,Glock,9mm,pistola,en reparación,Taller Armas del Norte,\n"
        "S-4,Glock,9mm,pistola,en armería,ARM2,\n"))
    report = run(world, path, location="ARM1")
    assert report.imported == 4
    with world.read(None) as uow:
        p2 = uow.repo.officer(uow.repo.org("MUN1").id, "P2")
        p3 = uow.repo.officer(uow.repo.org("MUN1").id, "P3")
    issued = stored(world, "S-1")
    assert issued.status.value == "issued" and issued.custodian_id == p2.id
    assert issued.location_id is None
    assert stored(world, "S-2").custodian_id == p3.id  # a custodian means issued
    assert stored(world, "S-3").status.value == "in_repair"
    types = [e.type for e in events(world, report.first_position)]
    assert types == ["firearm.registered", "custody.issued", "firearm.registered",
                     "custody.issued", "firearm.registered", "firearm.repair_sent",
                     "firearm.registered", "import.completed"]
    shop = [e for e in events(world, report.first_position) if e.type == "firearm.repair_sent"]
    assert shop[0].payload["shop"] == "Taller Armas del Norte"
    check_log(world)


def test_the_import_is_an_entry_with_the_file_name_and_sha256(world, tmp_path):
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo\nH-1,Glock,9mm,pistola\n")
    report = run(world, path, location="ARM1")
    (ev,) = [e for e in events(world, report.first_position) if e.type == "import.completed"]
    assert ev.position == report.entry and ev.actor == "armero1"
    assert ev.payload["file"] == "inv.csv"
    assert ev.payload["sha256"] == imports.file_sha256(path)
    assert (ev.payload["imported"], ev.payload["rejected"]) == (1, 0)
    registered = [e for e in events(world, report.first_position)
                  if e.type == "firearm.registered"]
    assert registered[0].actor == "armero1" and registered[0].reason is None


# --- refusals, all or nothing ------------------------------------------------------------


BAD = (
    "Serie;Marca;Calibre;Tipo;Estatus;Ubicación;Resguardante;Fecha de alta;Corporación\n"
    "B-1;Glock;9mm;pistola;;ARM1;;;MUN1\n"
    "B-2;Glock;9mm;pistolón;;ARM1;;;\n"
    "B-3;Glock;;pistola;;ARM1;;;\n"
    "B-4;Glock;9mm;pistola;perdida;ARM1;;;\n"
    "B-5;Glock;9mm;pistola;;ARM1;;31/02/2024;\n"
    "B-1;glock;9mm;pistola;;ARM1;;;\n"
    "GLK-A100;Glock;9mm;pistola;;ARM1;;;\n"
    "BER-B100;Beretta;9mm;pistola;;ARM1;;;\n"
    "B-6;Glock;9mm;pistola;asignada;ARM1;P99;;\n"
    "B-7;Glock;9mm;pistola;;ARM1;;;MUN2\n"
    "B-8;Glock;9mm;pistola;;Bodega X;;;\n"
    "B-9;Glock;9mm;pistola;;ARM1;;01/01/2099;\n"
)


def test_each_bad_row_is_named_by_line_and_column_and_nothing_is_imported(world, tmp_path):
    path = csv_file(tmp_path, BAD)
    before, count = log_size(world), firearm_count(world)
    report = run(world, path)
    assert report.failed and not report.commit
    assert (log_size(world), firearm_count(world)) == (before, count)
    found = {(p.line, p.column, p.code) for p in report.problems}
    assert found == {
        (3, "Tipo", "unknown_kind"),
        (4, "Calibre", "required"),
        (5, "Estatus", "unknown_status"),
        (6, "Fecha de alta", "bad_date"),
        (7, "Serie", "repeated_in_file"),
        (8, "Serie", "registered_here"),
        (9, "Serie", "registered_elsewhere"),
        (10, "Resguardante", "unknown_custodian"),
        (11, "Corporación", "other_agency"),
        (12, "Ubicación", "unknown_location"),
        (13, "Fecha de alta", "future_date"),
    }
    by_line = {p.line: p for p in report.problems}
    assert by_line[7].params["first"] == 2
    assert "MUN2" in by_line[9].message("en") and "MUN2" in by_line[9].message("es")
    assert by_line[3].text("inv.csv", "es").startswith("inv.csv, línea 3, columna D (Tipo): ")
    assert by_line[3].text("inv.csv", "en").startswith("inv.csv, line 3, column D (Tipo): ")


def test_messages_name_the_options_as_each_surface_gives_them(world, tmp_path):
    by_line = {p.line: p for p in run(world, csv_file(tmp_path, BAD)).problems}
    here, nowhere = by_line[8], by_line[12]  # registered here; an unknown location
    assert here.message("es").endswith("; importe con --update para actualizarla")
    assert here.message("en").endswith("; import with --update to update it")
    assert here.message("en", "api").endswith('; import with "update": true to update it')
    assert here.message("es", "web").endswith(
        "; marque «Actualizar los registros que ya existen» para actualizarla")
    assert nowhere.message("es").endswith(", o use --create-missing")
    assert nowhere.message("en", "api").endswith(', or use "create_missing": true')
    assert nowhere.message("es", "web").endswith(", o pida el alta a su jefe o al administrador")
    assert nowhere.message("en", "web").endswith(", or ask your chief or the administrator to "
                                                 "add it")


def test_refused_rows_reach_the_report_and_the_file_in_line_order_across_batches(
        world, tmp_path, monkeypatch):
    monkeypatch.setattr(import_firearms, "BATCH", 3)
    rows = []
    for n in range(30):  # registered here, unknown kind, valid: refused at the check or at once
        rows.append("GLK-A100;Glock;9mm;pistola;;ARM1;;;" if n % 7 == 0 else
                    f"O-{n};Glock;9mm;{'pistolón' if n % 3 == 0 else 'pistola'};;ARM1;;;")
    path = csv_file(tmp_path, BAD.split("\n")[0] + "\n" + "\n".join(rows) + "\n")
    out = io.StringIO()
    with world.work("armero1") as uow:
        report = import_file(uow, "firearms", path, ImportOptions(skip_invalid=True),
                             rejects=imports.CsvRejects(out, "inv.csv", "en"))
        uow.commit()
    lines = [p.line for p in report.problems]
    assert lines == sorted(lines) and len(lines) == report.rejected > 5
    written = [int(row[-1].split(", line ")[1].split(",")[0])
               for row in list(csv.reader(io.StringIO(out.getvalue())))[1:]]
    assert written == lines
    assert report.imported == 30 - report.rejected


def test_skip_invalid_imports_the_valid_rows_in_one_transaction(world, tmp_path):
    report = run(world, csv_file(tmp_path, BAD), skip_invalid=True)
    assert report.commit and (report.imported, report.rejected, report.rows) == (1, 11, 12)
    assert stored(world, "B-1").make == "Glock"
    data = report.as_dict("es")
    assert data["mode"] == "skip_invalid" and data["committed"] is True
    assert data["problems"][0] == {"line": 3, "column": "Tipo", "column_letter": "D",
                                   "code": "unknown_kind",
                                   "message": data["problems"][0]["message"]}
    assert data["problems"][0]["message"].startswith("tipo desconocido 'pistolón'")
    check_log(world)


def test_a_dry_run_checks_every_row_and_imports_nothing(world, tmp_path):
    before = log_size(world)
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo\nD-1,Glock,9mm,pistola\n"
                              "D-1,Glock,9mm,pistola\n")
    report = run(world, path, dry_run=True, location="ARM1", skip_invalid=True)
    assert (report.imported, report.rejected) == (1, 1) and not report.commit
    assert log_size(world) == before


def test_a_serial_repeated_in_another_batch_is_caught(world, tmp_path, monkeypatch):
    monkeypatch.setattr(import_firearms, "BATCH", 3)
    rows = "".join(f"R-{n},Glock,9mm,pistola\n" for n in range(8))
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo\n" + rows + "r 2,GLOCK,9mm,pistola\n")
    report = run(world, path, location="ARM1", skip_invalid=True)
    assert report.imported == 8
    (problem,) = report.problems
    assert (problem.line, problem.code, problem.params["first"]) == (10, "repeated_in_file", 4)
    check_log(world)


def test_the_same_serial_under_another_make_is_another_weapon(world, tmp_path):
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo\nGLK-A100,Colt,9mm,pistola\n")
    assert run(world, path, location="ARM1").imported == 1


def test_an_ineligible_custodian_refuses_the_row(world, tmp_path):
    do(world, "jefe1", registry.suspend_officer, "MUN1", "P1", "investigación interna")
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo,Resguardante\nE-1,Glock,9mm,pistola,P1\n")
    report = run(world, path, location="ARM1")
    (problem,) = report.problems
    assert (problem.code, problem.column) == ("not_eligible", "Resguardante")
    assert "suspendido" in problem.message("es")


def test_rows_without_a_location_need_one(world, tmp_path):
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo\nL-1,Glock,9mm,pistola\n")
    (problem,) = run(world, path).problems
    assert problem.code == "location_required"
    assert run(world, path, location="arm2").imported == 1


def test_an_armorer_may_not_import_into_another_agency(world, tmp_path):
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo\nZ-1,Glock,9mm,pistola\n")
    with pytest.raises(Exception) as caught:
        run(world, path, agency="MUN2", location="ARM1")
    assert caught.value.__class__.__name__ == "NotFound"
    with pytest.raises(PermissionDenied):
        run(world, path, user="jefe1", location="ARM1")


def test_a_file_without_a_required_column_is_refused_whole(world, tmp_path):
    path = csv_file(tmp_path, "Serie,Marca,Tipo\nZ-1,Glock,pistola\n")
    with pytest.raises(ValidationFailed) as caught:
        run(world, path, location="ARM1")
    assert "line 1" in caught.value.message and "calibre" in caught.value.message


def test_create_missing_is_held_to_the_roles_permissions(world, tmp_path):
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo,Ubicación\nC-1,Glock,9mm,pistola,"
                              "Bóveda Sur\n")
    (problem,) = run(world, path, create_missing=True).problems
    assert (problem.column, problem.code) == ("Ubicación", "not_permitted")
    assert problem.message("en") == "your role (armorer) may not add locations"
    assert problem.message("es") == "su rol (armero) no puede dar de alta ubicaciones"
    with world.work(None) as uow:  # the system itself (as `resguardo demo` acts)
        report = import_file(uow, "firearms", path, ImportOptions(agency="MUN1",
                                                                  create_missing=True))
        uow.commit()
    assert report.created_locations == ["BOVEDA-SUR"] and report.imported == 1
    with world.read(None) as uow:
        created = uow.repo.location(uow.repo.org("MUN1").id, "BOVEDA-SUR")
    assert created.name == "Bóveda Sur" and stored(world, "C-1").location_id == created.id
    check_log(world)


# --- --update ------------------------------------------------------------------------------


def test_update_corrects_details_and_moves_weapons_through_the_services(world, tmp_path):
    path = csv_file(tmp_path, (
        "Serie,Marca,Modelo,Calibre,Tipo,Folio,Ubicación,Resguardante\n"
        "GLK-A100,Glock,17 Gen5,9x19mm,pistola,F-9,ARM2,\n"
        "GLK-A200,Glock,17,9x19mm,pistola,,,P1\n"
        "GLK-A300,Glock,17,9x19mm,pistola,,ARM1,\n"))
    assert run(world, path).rejected == 3  # without --update: refused
    report = run(world, path, update=True)
    assert report.problems == []
    assert (report.updated, report.unchanged, report.rejected) == (2, 1, 0)
    moved = stored(world, "GLK-A100")
    assert (moved.model, moved.folio) == ("17 Gen5", "F-9")
    with world.read(None) as uow:
        assert uow.repo.location_by_id(moved.location_id).code == "ARM2"
    assert stored(world, "GLK-A200").status.value == "issued"
    types = [e.type for e in events(world, report.first_position)]
    assert types == ["entry.corrected", "firearm.moved", "custody.issued", "import.completed"]
    check_log(world)


def test_update_asks_for_a_calibre_or_kind_correction_and_changes_the_model_at_once(world,
                                                                                   tmp_path):
    path = csv_file(tmp_path, (
        "Serie,Marca,Modelo,Calibre,Tipo,Ubicación\n"
        "GLK-A100,Glock,19,.40 S&W,revólver,ARM1\n"))
    report = run(world, path, update=True)
    assert report.problems == [] and report.updated == 1
    weapon = stored(world, "GLK-A100")
    assert (weapon.model, weapon.calibre, weapon.kind.value) == ("19", "9x19mm", "pistol")
    types = [e.type for e in events(world, report.first_position)]
    assert types == ["entry.corrected", "entry.correction_requested", "import.completed"]
    with world.read(None) as uow:
        assert [r["kind"] for r in uow.repo.requests("pending")] == ["correction"]
    check_log(world)


def test_the_import_report_is_json_serializable(world, tmp_path):
    report = run(world, csv_file(tmp_path, BAD), skip_invalid=True)
    text = json.dumps(report.as_dict("en"))
    assert '"code": "registered_elsewhere"' in text


def test_officers_named_only_by_badge_are_created_with_create_missing(world, tmp_path):
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo,Resguardante\nN-1,Glock,9mm,pistola,P77\n")
    with world.work(None) as uow:
        report = import_file(uow, "firearms", path, ImportOptions(
            agency="MUN1", location="ARM1", create_missing=True))
    assert report.created_officers == ["P77"]
    (problem,) = report.problems  # created without a credential: cannot hold a weapon
    assert problem.code == "not_eligible"
    do(world, "jefe1", registry.add_officer, "MUN1",
       OfficerInput("P77", "Ana", credential_expiry=date(2030, 1, 1),
                    qualification_expiry=date(2030, 1, 1)))
    assert run(world, path, location="ARM1").imported == 1


# --- the same events as a single registration ----------------------------------------------


def unsalted(ev):  # type: ignore[no-untyped-def]
    """The leaf an entry would have without its secret (each entry draws its own)."""
    import dataclasses
    return dataclasses.replace(ev, secret=None).leaf()


def assert_own_secrets(events) -> None:  # type: ignore[no-untyped-def]
    """Each imported entry has a secret of 128 bits, committed in its leaf, its own."""
    secrets = [e.secret for e in events]
    assert all(s is not None and len(bytes.fromhex(s)) == 16 for s in secrets), secrets
    assert len(set(secrets)) == len(secrets)
    assert all(f'"secret":"{e.secret}"'.encode() in e.leaf() for e in events)


def test_an_imported_row_is_the_very_entry_a_single_registration_appends(world, tmp_path):
    """Same position, same instant (the test clock stands still), same leaf hash."""
    from resguardo.domain.registry import FirearmInput
    from resguardo.services import custody

    with world.work("armero1") as uow:  # the single path, rolled back afterwards
        registered = registry.register_firearm(uow, "MUN1", "ARM2", FirearmInput(
            serial="EQ-1", make="Glock", calibre="9x19mm", kind="pistol", model="19",
            folio="F-7", acquired_on=date(2024, 3, 7)))
        issued = custody.issue(uow, "EQ-1", "P2")
        single = [unsalted(registered), unsalted(issued)]
    path = csv_file(tmp_path, "Serie,Marca,Modelo,Calibre,Tipo,Folio,Fecha de alta,Ubicación,"
                              "Resguardante\nEQ-1,Glock,19,9x19mm,pistola,F-7,07/03/2024,ARM2,P2\n")
    report = run(world, path)
    imported = events(world, report.first_position)[:2]
    assert [e.type for e in imported] == ["firearm.registered", "custody.issued"]
    assert [unsalted(e) for e in imported] == single
    assert_own_secrets(imported)
    check_log(world)


def test_a_row_into_storage_is_the_very_entry_a_single_registration_appends(world, tmp_path):
    """The plain reading of a row (the words met in an earlier row, no custody event)
    against the single path, on odd text."""
    import csv
    import io

    from resguardo.domain.registry import FirearmInput

    rows = [("EQ-1", "Glock", "19", "cacha nueva"),
            ('EQ-"2\\/', "Smith  & Wesson", "M&P 😀 ñ", 'cacha "nueva"\tazul')]
    with world.work("armero1") as uow:  # the single path, rolled back afterwards
        single = [registry.register_firearm(uow, "MUN1", "ARM2", FirearmInput(
            serial=serial, make=make, calibre=".38 Special", kind="pistol", model=model,
            folio="F-8", acquired_on=date(2024, 3, 7), notes={"Observaciones": note}))
            for serial, make, model, note in rows]
        single = [unsalted(e) for e in single]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Serie", "Marca", "Modelo", "Calibre", "Tipo", "Folio", "Fecha de alta",
                     "Ubicación", "Observaciones"])
    for serial, make, model, note in rows:
        writer.writerow([serial, make, model, ".38 spl", "pistola", "F-8", "07/03/2024", "ARM2",
                         note])
    report = run(world, csv_file(tmp_path, out.getvalue()))
    assert report.imported == 2
    imported = events(world, report.first_position)[:2]
    assert [e.type for e in imported] == ["firearm.registered"] * 2
    assert [unsalted(e) for e in imported] == single
    assert_own_secrets(imported)
    check_log(world)


# --- a large import sets the log's secondary indexes aside --------------------------------


def index_names(app) -> set[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import inspect

    with app.engine.connect() as conn:
        found = inspect(conn)
        return {ix["name"] for table in ("events", "firearms")
                for ix in found.get_indexes(table)}


@pytest.mark.parametrize("outcome", ["committed", "refused", "update"])
def test_a_large_import_rebuilds_the_indexes_it_set_aside(world, tmp_path, monkeypatch,
                                                          outcome):
    from resguardo.storage import bulk

    monkeypatch.setattr(import_firearms, "BATCH", 7)
    monkeypatch.setattr(bulk, "DEFER_AFTER", 1)
    deferred: list[int] = []
    original = bulk.BatchWriter._defer_indexes

    def spy(self, cur):  # type: ignore[no-untyped-def]
        deferred.append(1)
        original(self, cur)

    monkeypatch.setattr(bulk.BatchWriter, "_defer_indexes", spy)
    indexes = index_names(world)
    assert {"ix_events_subject", "ix_firearms_serial_key"} <= indexes
    before, count = log_size(world), firearm_count(world)
    rows = before + 30  # larger than the log: worth rebuilding its indexes at the end
    lines = [f"BIG-{n},Glock,9mm,pistola,ARM1" for n in range(rows)]
    if outcome == "refused":
        lines.append("BIG-X,Glock,9mm,cañón,ARM1")  # unknown kind: nothing is imported
    if outcome == "update":
        lines.append("GLK-A100,Glock,9mm,pistola,ARM2")  # already here: moved by --update
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo,Ubicación\n" + "\n".join(lines) + "\n")
    report = run(world, path, update=outcome == "update")
    assert bool(deferred) == world.engine.dialect.name.startswith("sqlite")
    assert index_names(world) == indexes
    if outcome == "refused":
        assert (report.imported, report.rejected, report.commit) == (rows, 1, False)
        assert (log_size(world), firearm_count(world)) == (before, count)
        return
    assert report.imported == rows and report.problems == []
    assert firearm_count(world) == count + rows
    assert stored(world, "BIG-3").serial == "BIG-3"  # found again through the serial index
    if outcome == "update":
        assert report.updated == 1
        with world.read(None) as uow:
            assert uow.repo.location_by_id(stored(world, "GLK-A100").location_id).code == "ARM2"
    check_log(world)


def test_an_import_refused_at_the_start_leaves_no_writer_behind(world, tmp_path):
    import sys
    import threading

    before = sys.getswitchinterval()
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo\nX-1,Glock,9mm,pistola\n")
    with pytest.raises(Exception, match="NOPE"):
        run(world, path, location="NOPE")
    assert sys.getswitchinterval() == before
    assert not [t for t in threading.enumerate() if t.name.startswith("import-writer")]
    run(world, path, location="ARM1")  # a whole import ends its writer thread too
    assert sys.getswitchinterval() == before
    assert not [t for t in threading.enumerate() if t.name.startswith("import-writer")]


def test_on_postgresql_the_registered_look_up_is_planned_for_the_table_as_it_grows(
        world, tmp_path, monkeypatch):
    """The per-batch "already registered?" query must not run from a statement psycopg
    prepared (after five runs) while the table was small: PostgreSQL would keep that
    generic plan, a sequential scan, for the rest of the import, every look-up reading the
    whole growing table (a 100,000-row import spent 25.7 of its 48.6 s there)."""
    from resguardo.storage import import_batch

    if not world.engine.dialect.name.startswith("postgresql"):
        pytest.skip("prepared statements and their generic plans are PostgreSQL's")
    monkeypatch.setattr(import_firearms, "BATCH", 7)
    monkeypatch.setattr(import_batch, "_KEY_CHUNK", 2)  # many look-ups of the same text
    prepared: list[int] = []
    original = import_batch.LogWriter._registered  # the look-up itself

    def spy(self, keys):  # type: ignore[no-untyped-def]
        found = original(self, keys)
        cur = self._cursor()
        try:
            cur.execute("SELECT count(*) FROM pg_prepared_statements "
                        "WHERE statement LIKE 'SELECT id, agency_id, serial_key FROM firearms%'",
                        prepare=False)
            prepared.append(cur.fetchone()[0])
        finally:
            cur.close()
        return found

    monkeypatch.setattr(import_batch.LogWriter, "_registered", spy)
    lines = [f"PLAN-{n},Glock,9mm,pistola,ARM1" for n in range(40)]
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo,Ubicación\n" + "\n".join(lines) + "\n")
    report = run(world, path)
    assert report.imported == 40 and len(prepared) >= 5
    assert set(prepared) == {0}


def test_on_postgresql_a_growing_import_looks_weapons_up_by_make_and_serial(world, tmp_path,
                                                                           monkeypatch):
    """The planner's picture of ``firearms`` is what it was before the import (for a new
    table, nothing): it would find a batch's weapons by make alone and filter the serials,
    reading every weapon of the make at each batch. The import has the statistics taken
    again as it grows, and the look-up descends the unique index by make and serial."""
    from resguardo.storage import bulk, import_batch

    if not world.engine.dialect.name.startswith("postgresql"):
        pytest.skip("the look-up's plan is PostgreSQL's concern (SQLite has no statistics "
                    "to go stale)")
    monkeypatch.setattr(import_firearms, "BATCH", 500)
    monkeypatch.setattr(bulk, "ANALYZE_AFTER", 1_000)
    serials = [f"GROW-{n:05d}" for n in range(4_000)]
    plans: list[str] = []
    original = import_batch.LogWriter._registered  # the look-up itself

    def spy(self, keys):  # type: ignore[no-untyped-def]
        found = original(self, keys)
        probe = [s.replace("-", "") for s in serials[:200]]
        marks = ", ".join(["%s"] * len(probe))
        cur = self._cursor()
        try:
            cur.execute("EXPLAIN (FORMAT JSON) SELECT id, agency_id, serial_key FROM firearms "
                        f"WHERE make_key = %s AND serial_key IN ({marks})",
                        ["GLOCK", *probe], prepare=False)
            plans.append(json.dumps(cur.fetchone()[0]))
        finally:
            cur.close()
        return found

    monkeypatch.setattr(import_batch.LogWriter, "_registered", spy)
    lines = [f"{serial},Glock,9mm,pistola,ARM1" for serial in serials]
    path = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo,Ubicación\n" + "\n".join(lines) + "\n")
    report = run(world, path)
    assert report.imported == len(serials) and len(plans) == 8

    def index_conditions(node: dict) -> list[str]:  # type: ignore[type-arg]
        return [node.get("Index Cond", ""),
                *(c for child in node.get("Plans", []) for c in index_conditions(child))]

    # once counted again, the serials are looked up in an index, not filtered row by row
    assert any("serial_key" in c for c in index_conditions(json.loads(plans[-1])[0]["Plan"])), (
        plans[-1])


def test_import_puts_weapons_on_the_state_licence_and_refuses_one_not_covering_the_agency(
        world, tmp_path):
    do(world, "admin", registry.add_licence, "LOC-SSP-1", "SSP", ["MUN1"], date(2025, 1, 1),
       date(2030, 1, 1))
    do(world, "admin", registry.add_licence, "LOC-MUN2", "SSP", ["MUN2"], date(2025, 1, 1),
       date(2030, 1, 1))
    path = csv_file(tmp_path, (
        "Serie,Marca,Modelo,Calibre,Tipo,Ubicación,Licencia\n"
        "GLK-A100,Glock,17,9x19mm,pistola,ARM1,LOC-SSP-1\n"  # registered: goes on (--update)
        "NEW-9,Glock,17,9x19mm,pistola,ARM1,LOC-SSP-1\n"))   # new: registered on it
    report = run(world, path, update=True)
    assert report.problems == [] and (report.imported, report.updated) == (1, 1)
    with world.read(None) as uow:
        loc = uow.repo.licence_id("LOC-SSP-1")
        assert {uow.repo.firearm(s).licence_id for s in ("GLK-A100", "NEW-9")} == {loc}
    types = [e.type for e in events(world, report.first_position)]
    assert "licence.firearm_attached" in types
    # the system sees LOC-MUN2 (the state's) but it does not cover MUN1
    bad = csv_file(tmp_path, "Serie,Marca,Calibre,Tipo,Ubicación,Licencia\n"
                             "NEW-8,Glock,9x19mm,pistola,ARM1,LOC-MUN2\n")
    refused = run(world, bad, user=None, agency="MUN1", skip_invalid=True)
    assert [(p.line, p.code, p.message()) for p in refused.problems] == [
        (2, "licence_not_covering", "licence 'LOC-MUN2' does not cover MUN1")]
