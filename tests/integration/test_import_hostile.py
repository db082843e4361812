"""Hostile files through the whole import: a clear error, and nothing changes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from resguardo.domain.errors import ValidationFailed
from resguardo.services.imports import ImportOptions, import_file
from resguardo.sheets.guard import SheetLimits

HEADER = "Serie,Marca,Calibre,Tipo\r\n"
GOOD = "H-1,Glock,9mm,pistola\r\n"


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (32 << 20))
    return out.getvalue()


#: name, content, what the refusal says
WHOLE_FILE = {
    "text named .xlsx": ("inventario.xlsx", (HEADER + GOOD).encode(), "named like an Excel"),
    "workbook named .csv": ("inventario.csv", workbook([["Serie"]]), "but it is a ZIP archive"),
    "pdf named .csv": ("inventario.csv", b"%PDF-1.4\n%\xe2\xe3\n", "it is a PDF document"),
    "truncated workbook": ("cortado.xlsx", workbook([["Serie", "Marca", "Calibre", "Tipo"],
                                                     ["H-1", "Glock", "9mm", "pistola"]])[:900],
                           "damaged or truncated workbook"),
    "decompression bomb": ("bomba.xlsx", bomb(), "decompression bomb"),
    "invalid bytes": ("inventario.csv", b"\xef\xbb\xbf" + (HEADER + GOOD).encode() + b"\xff\r\n",
                      "invalid bytes"),
    "NUL characters": ("inventario.csv", (HEADER + GOOD).encode() + b"H-2\x00,G\r\n",
                       "NUL byte"),
    "duplicate headers": ("inventario.csv", ("Serie,Marca,Calibre,Tipo,Serie\r\n" + GOOD).encode(),
                          "have the same header"),
    "empty file": ("inventario.csv", b"", "the file is empty"),
    "blank lines only": ("inventario.csv", b"\r\n \r\n\r\n", "the file is empty"),
}


def state(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return uow.repo.log_size(), uow.repo.firearms(limit=1).total


def run(app, path: Path, **options):  # type: ignore[no-untyped-def]
    with app.work("armero1") as uow:
        report = import_file(uow, "firearms", path, ImportOptions(location="ARM1", **options))
        if report.commit:
            uow.commit()
    return report


@pytest.mark.parametrize("case", sorted(WHOLE_FILE))
def test_a_hostile_file_is_refused_whole_and_changes_nothing(world, tmp_path, case):
    name, data, says = WHOLE_FILE[case]
    path = tmp_path / name
    path.write_bytes(data)
    before = state(world)
    with pytest.raises(ValidationFailed) as caught:
        run(world, path, skip_invalid=True)
    assert says in caught.value.message and caught.value.message.startswith(name)
    assert state(world) == before


def test_a_ten_thousand_character_cell_is_a_refused_row_at_its_line_and_column(world, tmp_path):
    path = tmp_path / "inventario.csv"
    path.write_text(HEADER + GOOD + "H-2,Glock,9mm,pistola," + "x" * 10_000 + "\r\n",
                    encoding="utf-8")
    before = state(world)
    report = run(world, path)
    (problem,) = report.problems
    assert (problem.line, problem.column, problem.code) == (3, None, "cell_too_long")
    assert problem.as_dict()["column_letter"] == "E"  # a column without a header
    assert problem.text("inventario.csv", "es") == (
        "inventario.csv, línea 3, columna E: la celda tiene 10,000 caracteres; el límite es "
        "1,000")
    assert state(world) == before  # all or nothing
    report = run(world, path, limits=SheetLimits(max_cell=20_000))
    assert report.imported == 2  # the limit is configurable


def test_a_control_character_in_a_cell_is_a_refused_row(world, tmp_path):
    path = tmp_path / "inventario.csv"
    path.write_text(HEADER + "H-3,Gl\x1bock,9mm,pistola\r\n", encoding="utf-8")
    (problem,) = run(world, path).problems
    assert (problem.line, problem.column, problem.code) == (2, "Marca", "control_character")


def test_more_rows_than_the_limit_refuse_the_file(world, tmp_path):
    path = tmp_path / "inventario.csv"
    path.write_text(HEADER + "".join(f"R-{n},Glock,9mm,pistola\r\n" for n in range(11)),
                    encoding="utf-8")
    before = state(world)
    with pytest.raises(ValidationFailed, match="more than 10 rows"):
        run(world, path, limits=SheetLimits(max_rows=10))
    assert state(world) == before
