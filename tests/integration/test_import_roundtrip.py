"""Exports: re-importable, reproducible, inert in a spreadsheet, and as of a date.

The round trip: export locations, officers and firearms to XLSX, import them
into a fresh database, export again: the files are identical, byte for byte.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.reports import licence as licence_report
from resguardo.reports.spreadsheets import Table, write_csv, write_xlsx
from resguardo.services import custody, exports, inspections, registry, setup, users
from resguardo.services.exports import ExportOptions
from resguardo.services.imports import ImportOptions, import_file

from world import PASSWORD, do, make_app

RISKY = "=HYPERLINK(\"http://evil.example/x\",\"ver\")"
FAR = date(2030, 1, 1)


def enrich(app) -> None:  # type: ignore[no-untyped-def]
    """Give MUN1 a licence, varied officers and weapons, formula-like text among them."""
    do(app, "admin", registry.add_licence, "LOC-1", "MUN1", ["MUN1"], date(2025, 1, 1), FAR)
    with app.work("jefe1") as uow:
        registry.add_location(uow, "MUN1", "VEH-7", "Patrulla 7 — Ñandú", "vehicle")
        registry.add_location(uow, "MUN1", "ARM9", RISKY, "vault")
        registry.add_officer(uow, "MUN1", OfficerInput(
            "P10", "José Ñúñez", cuip="CUIP0001", credential_folio="-CF-10",
            credential_expiry=FAR, qualification_expiry=FAR), "LOC-1")
        registry.add_officer(uow, "MUN1", OfficerInput("P11", RISKY, credential_expiry=FAR,
                                                       qualification_expiry=FAR))
        registry.suspend_officer(uow, "MUN1", "P11", "investigación interna")
        uow.commit()
    with app.work("armero1") as uow:
        for serial, model, extra in (
            ("00123", "+P80", {"folio": "@F-1", "acquired_on": date(2019, 7, 3)}),
            ("ÑU-45", "MP5", {"barrel_serial": "B-99", "ballistic_id": "CIHB-1",
                              "supplier": "Fábrica de Armas", "purchase_ref": "FAC-9"}),
            ("RISK-1", RISKY, {}),
        ):
            registry.register_firearm(uow, "MUN1", "VEH-7" if serial == "RISK-1" else "ARM2",
                                      FirearmInput(serial=serial, make="Heckler & Koch",
                                                   calibre="9x19mm", kind="submachine_gun",
                                                   model=model, **extra),
                                      "LOC-1" if serial == "00123" else None)
        uow.commit()
    do(app, "armero1", custody.issue, "GLK-A200", "P10")
    do(app, "armero1", custody.send_to_repair, "GLK-A300", "Taller Armas del Norte")


def export(app, user: str, what: str, path: Path, fmt: str = "xlsx",  # type: ignore[no-untyped-def]
           **options) -> Path:
    with app.read(user) as uow, exports.open_export(uow, what, ExportOptions(**options)) as t:
        if fmt == "xlsx":
            write_xlsx(path, [Table(what, t.headers, t.cells())])
        else:
            write_csv(path, t.headers, t.cells())
    return path


def fresh(tmp: Path, clock):  # type: ignore[no-untyped-def]
    """Another deployment with the same organizations and people, and nothing else."""
    app = make_app(f"sqlite:///{tmp / 'fresh.db'}", clock, tmp)
    setup.initialize(app, "admin", PASSWORD, "NACIONAL", "Autoridad nacional")
    with app.work("admin") as uow:
        registry.add_organization(uow, "SSP", "Secretaría de Seguridad", "state", "NACIONAL")
        registry.add_organization(uow, "MUN1", "Policía Municipal 1", "agency", "SSP")
        registry.add_licence(uow, "LOC-1", "MUN1", ["MUN1"], date(2025, 1, 1), FAR)
        users.add_user(uow, "armero1", PASSWORD, "armorer", "MUN1")
        users.add_user(uow, "jefe1", PASSWORD, "chief", "MUN1")
        uow.commit()
    return app


def load(app, user: str, kind: str, path: Path, **options):  # type: ignore[no-untyped-def]
    with app.work(user) as uow:
        report = import_file(uow, kind, path, ImportOptions(**options))
        assert report.problems == [] and report.commit, [p.message() for p in report.problems]
        uow.commit()
    return report


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_import_into_a_fresh_database_and_export_again_is_identical(
        world, tmp_path, clock, fmt):
    enrich(world)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for what in ("locations", "officers", "firearms"):
        export(world, "jefe1", what, first / f"{what}.{fmt}", fmt, agency="MUN1")
    other = fresh(tmp_path, clock)
    load(other, "jefe1", "locations", first / f"locations.{fmt}")
    load(other, "jefe1", "officers", first / f"officers.{fmt}")
    report = load(other, "armero1", "firearms", first / f"firearms.{fmt}", location="ARM1")
    assert report.imported == 8
    for what in ("locations", "officers", "firearms"):
        export(other, "jefe1", what, second / f"{what}.{fmt}", fmt, agency="MUN1")
        assert (second / f"{what}.{fmt}").read_bytes() == (first / f"{what}.{fmt}").read_bytes()
    with other.read(None) as uow:
        kept = uow.repo.firearm("RISK-1")
        assert kept.model == RISKY  # stored as the text it is
        assert uow.repo.firearm("00123").serial == "00123"
        assert uow.repo.firearm("GLK-A200").status.value == "issued"
    other.engine.dispose()


def _cells(path: Path) -> list[list[object]]:
    book = load_workbook(path)  # not read-only: styles and data types are visible
    sheet = book.worksheets[0]
    risky = [c for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    for cell in risky:
        assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml  # no formula anywhere
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    assert sheet.column_dimensions["B"].width and sheet.column_dimensions["B"].width >= 6
    return [[c.value for c in row] for row in sheet.iter_rows()]


def _finding(app, clock) -> None:  # type: ignore[no-untyped-def]
    """A closed inspection at MUN1 with a scan whose location is formula-like."""
    do(app, "supervisor", inspections.plan, "MUN1", date(2025, 3, 3))
    with app.read(None) as uow:
        planned = max(e.position for e in uow.repo.iter_events() if e.type == "inspection.planned")
    do(app, "inspector", inspections.open_, planned)
    do(app, "inspector", inspections.scan, planned, "GLK-A100", location=RISKY)
    do(app, "inspector", inspections.close, planned)


@pytest.mark.parametrize("what", exports.EXPORTS)
def test_formula_like_text_is_inert_in_every_export(world, tmp_path, clock, what):
    enrich(world)
    if what == "findings":
        _finding(world, clock)
    rows = _cells(export(world, "supervisor", what, tmp_path / f"{what}.xlsx"))
    assert any(RISKY in row for row in rows)
    with open(export(world, "supervisor", what, tmp_path / f"{what}.csv", "csv"),
              encoding="utf-8-sig", newline="") as f:
        flat = [cell for row in csv.reader(f) for cell in row]
    assert "'" + RISKY in flat and RISKY not in flat
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in flat)


def test_the_licence_additions_and_removals_as_sheet_and_pdf(world, tmp_path):
    enrich(world)
    do(world, "armero1", custody.report_missing, "00123", stolen=True,
       occurred_on=date(2025, 3, 2), place="Centro", on_duty=True, complaint_number="X-1",
       complaint_authority="FGE Jalisco")
    with world.read("supervisor") as uow:
        data = exports.licence_movements(uow, "LOC-1", date(2025, 1, 1), date(2025, 12, 31))
    assert [m.fields["serial"] for m in data.weapons_added] == ["00123"]
    assert [m.change for m in data.weapons_removed] == ["stolen"]
    assert [m.fields["badge"] for m in data.officers_added] == ["P10"]
    write_xlsx(tmp_path / "loc.xlsx", licence_report.tables(data, "es"))
    book = load_workbook(tmp_path / "loc.xlsx")
    assert book.sheetnames == ["Armas dadas de alta", "Armas dadas de baja",
                               "Elementos dados de alta", "Elementos dados de baja"]
    assert book["Armas dadas de baja"]["I2"].value == "robo"
    assert book["Armas dadas de alta"]["C2"].value == "00123"
    licence_report.write_pdf(data, tmp_path / "loc.pdf", lang="es")
    from pypdf import PdfReader
    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "loc.pdf").pages)
    assert "ALTAS Y BAJAS" in text and "00123" in text and "José Ñúñez" in text
    assert "Sin movimientos" in text  # no officer was removed


def test_as_of_a_date_the_registry_is_replayed_from_the_log(world, tmp_path, clock):
    clock.advance(days=2)
    do(world, "armero1", custody.issue, "GLK-A100", "P1")
    today = clock.now.date()
    with world.read("jefe1") as uow:
        with exports.open_export(uow, "custody", ExportOptions(status="issued")) as now:
            current = [r["serial"] for r in now.records()]
        before = ExportOptions(status="issued", as_of=today - timedelta(days=1))
        with exports.open_export(uow, "custody", before) as then:
            earlier = list(then.records())
        with exports.open_export(uow, "firearms", ExportOptions(as_of=date(2025, 3, 2))) as t:
            nothing = list(t.records())
    assert current == ["GLK-A100"] and earlier == [] and nothing == []


def test_a_spanish_csv_export_opens_with_headers_an_import_reads(world, tmp_path):
    path = export(world, "armero1", "firearms", tmp_path / "f.csv", "csv", lang="en")
    text = path.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")  # Excel reads the accents
    header = next(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert header[:4] == ["Agency", "Serial", "Make", "Model"]
