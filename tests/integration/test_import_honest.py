"""Imports answer what is true: a file with no rows is refused, a formula cell is named.

Runs on SQLite and PostgreSQL (the ``world`` fixture).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from resguardo.domain.errors import ValidationFailed
from resguardo.services.imports import ImportOptions, import_file

HEADER = ["Serie", "Marca", "Calibre", "Tipo", "Ubicación"]


def log_size(app) -> int:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return uow.repo.log_size()


def run(app, path: Path, kind: str = "firearms", **options):  # type: ignore[no-untyped-def]
    with app.work("jefe1" if kind != "firearms" else "armero1") as uow:
        report = import_file(uow, kind, path, ImportOptions(**options))
        if report.commit:
            uow.commit()
    return report


def workbook(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def with_cached_value(path: Path, cached: str) -> Path:
    """The workbook as a spreadsheet program saves it: each formula with its last value."""
    patched = path.with_name("cached-" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<v />" in data
                data = data.replace(b"<v />", f"<v>{cached}</v>".encode())
            dst.writestr(item, data)
    return patched


@pytest.mark.parametrize("content", ["Serie;Marca;Calibre;Tipo\r\n",
                                     "Serie;Marca;Calibre;Tipo\r\n;;;\r\n\r\n"])
def test_a_file_with_a_header_and_no_rows_is_refused_and_records_nothing(world, tmp_path,
                                                                          content):
    path = tmp_path / "vacio.csv"
    path.write_text(content, encoding="utf-8")
    before = log_size(world)
    with pytest.raises(ValidationFailed, match=r"^vacio\.csv: no rows to import$") as caught:
        run(world, path)
    assert caught.value.details["file"] == "vacio.csv"
    assert log_size(world) == before  # no import.completed of 0 rows


@pytest.mark.parametrize("kind", ["firearms", "officers", "locations"])
def test_an_empty_workbook_of_any_kind_is_refused(world, tmp_path, kind):
    header = {"firearms": HEADER, "officers": ["Placa", "Nombre"],
              "locations": ["Clave", "Nombre"]}[kind]
    path = workbook(tmp_path / "vacio.xlsx", [header])
    before = log_size(world)
    with pytest.raises(ValidationFailed, match="no rows to import"):
        run(world, path, kind, dry_run=True)
    assert log_size(world) == before


def test_a_dry_run_of_an_empty_file_is_refused_too(world, tmp_path):
    path = tmp_path / "vacio.csv"
    path.write_text("Serie,Marca,Calibre,Tipo\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="no rows to import"):
        run(world, path, dry_run=True)


def test_a_formula_without_a_cached_value_is_named_with_its_cell(world, tmp_path):
    path = workbook(tmp_path / "inv.xlsx", [
        HEADER,
        ["F-1", "Glock", "9x19mm", "pistola", "ARM1"],
        ["F-2", "Glock", "=B2&\"x\"", "pistola", "ARM1"],
    ])
    before = log_size(world)
    report = run(world, path)
    assert report.failed and report.rejected == 1
    (problem,) = report.problems
    assert (problem.line, problem.code, problem.column) == (3, "formula", "Calibre")
    assert problem.message() == 'C3 holds a formula (=B2&"x"); type the value instead'
    assert problem.message("es") == ('C3 contiene una fórmula (=B2&"x"); escriba el valor '
                                     "en su lugar")
    assert "required" not in problem.text("inv.xlsx")
    assert log_size(world) == before


def test_a_formula_with_a_cached_value_is_refused_as_well(world, tmp_path):
    plain = workbook(tmp_path / "inv.xlsx", [
        HEADER, ["F-3", "Glock", "=\"9x19\"&\"mm\"", "pistola", "ARM1"]])
    path = with_cached_value(plain, "9x19mm")
    report = run(world, path, skip_invalid=True)
    assert report.imported == 0 and report.rejected == 1
    assert report.problems[0].message() == ('C2 holds a formula (="9x19"&"mm"); type the value '
                                            "instead")


def test_a_formula_in_an_ignored_column_does_not_refuse_the_row(world, tmp_path):
    path = workbook(tmp_path / "inv.xlsx", [
        [*HEADER, "Cuenta"], ["F-4", "Glock", "9x19mm", "pistola", "ARM1", "=ROW()"]])
    report = run(world, path, mapping={"Cuenta": "ignore"})
    assert report.imported == 1 and report.rejected == 0


def test_a_formula_in_the_officers_roster_is_named(world, tmp_path):
    path = workbook(tmp_path / "elementos.xlsx", [
        ["Placa", "Nombre"], ["P90", "=UPPER(\"ana\")"]])
    report = run(world, path, "officers")
    assert [p.code for p in report.problems] == ["formula"]
    assert report.problems[0].params["cell"] == "B2"


def test_a_long_formula_is_shortened_in_the_message(world, tmp_path):
    long = "=" + "+".join(["A1"] * 60)
    path = workbook(tmp_path / "inv.xlsx", [HEADER, ["F-5", "Glock", long, "pistola", "ARM1"]])
    report = run(world, path)
    formula = report.problems[0].params["formula"]
    assert len(formula) == 60 and formula.endswith("…") and long.startswith(formula[:-1])
