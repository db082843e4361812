"""Hostile files: each is refused with a clear reason before any reader trusts it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from resguardo.domain.errors import ValidationFailed
from resguardo.sheets import REGISTRY_SHEET, open_sheet
from resguardo.sheets.formulas import neutralize, restore
from resguardo.sheets.guard import SheetLimits, check_cell, check_file

LIMITS = SheetLimits()
HEADER = "Serie,Marca,Calibre,Tipo\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def workbook_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def refused(path: Path, limits: SheetLimits = LIMITS, name: str | None = None) -> str:
    with pytest.raises(ValidationFailed) as caught:
        check_file(path, limits, name=name)
    assert caught.value.details.get("hostile") is True
    return caught.value.message


# --- not what its name says -------------------------------------------------------------


def test_a_text_file_named_like_a_workbook_is_refused(tmp_path):
    message = refused(write(tmp_path, "inventario.xlsx", HEADER.encode()))
    assert message == "inventario.xlsx: named like an Excel workbook but it is text, not a workbook"


def test_a_workbook_named_like_a_csv_is_refused(tmp_path):
    message = refused(write(tmp_path, "inventario.csv", workbook_bytes([["Serie"]])))
    assert "named like a CSV text file but it is a ZIP archive" in message


@pytest.mark.parametrize("magic, what", [
    (b"%PDF-1.7\n", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"MZ\x90\x00", "a Windows program"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls or other Office 97 file"),
])
def test_other_kinds_of_file_are_named(tmp_path, magic, what):
    assert refused(write(tmp_path, "inventario.csv", magic + b"\x01" * 64)).endswith(
        f"not a spreadsheet: it is {what}")
    assert what in refused(write(tmp_path, "inventario.xlsx", magic + b"\x01" * 64))


def test_a_zip_without_a_workbook_is_refused(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hola")
    assert refused(write(tmp_path, "a.xlsx", out.getvalue())).endswith(
        "a ZIP archive, but not an Excel workbook")


def test_an_upload_is_judged_by_the_name_its_sender_gave(tmp_path):
    path = write(tmp_path, "upload-7f3a.data", HEADER.encode())
    assert check_file(path, LIMITS, name="inventario.csv") == "csv"
    assert "inventario.xlsx: named like" in refused(path, name="inventario.xlsx")


# --- truncated and oversized workbooks ------------------------------------------------------


def test_a_truncated_workbook_is_refused(tmp_path):
    data = workbook_bytes([["Serie", "Marca", "Calibre", "Tipo"], ["A1", "Glock", "9mm", "pistola"]])
    message = refused(write(tmp_path, "cortado.xlsx", data[: len(data) // 2]))
    assert "damaged or truncated workbook" in message


def bomb(member_size: int) -> bytes:
    """A tiny workbook whose sheet inflates to ``member_size`` bytes of empty rows."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = b"<row/>" * ((1 << 20) // 6) + b"    "
            sheet.write(b"<worksheet><sheetData>")
            for _ in range(member_size // len(chunk)):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def test_a_decompression_bomb_is_refused_before_openpyxl_reads_it(tmp_path, monkeypatch):
    import openpyxl

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("openpyxl must not open a bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    path = write(tmp_path, "bomba.xlsx", bomb(64 << 20))
    assert path.stat().st_size < 200_000
    message = refused(path)
    assert "decompression bomb" in message and "xl/worksheets/sheet1.xml" in message


@pytest.mark.slow
def test_the_total_inflated_size_has_a_limit_too(tmp_path):
    path = write(tmp_path, "grande.xlsx", bomb(4 << 20))
    check_file(path, SheetLimits(max_ratio=0))  # the ratio alone is switched off: accepted
    message = refused(path, SheetLimits(max_ratio=0, max_uncompressed=1 << 20))
    assert "would inflate to 4.0 MiB (limit 1.0 MiB)" in message


def test_a_file_larger_than_the_limit_is_refused(tmp_path):
    path = write(tmp_path, "inventario.csv", (HEADER + "A1,Glock,9mm,pistola\n" * 100).encode())
    assert "the limit is" in refused(path, SheetLimits(max_bytes=1000))


# --- bytes that are not text ------------------------------------------------------------------


def test_a_nul_byte_is_refused_with_its_line(tmp_path):
    path = write(tmp_path, "inventario.csv", HEADER.encode() + b"A1,Glock,9mm,pistola\nA2,Gl\x00ck\n")
    assert refused(path) == "inventario.csv, line 3: contains a NUL byte (a binary file?)"


def test_invalid_utf8_after_a_byte_order_mark_is_refused_with_its_line(tmp_path):
    data = b"\xef\xbb\xbf" + HEADER.encode() + b"A1,Glock,9mm,pistola\nA2,Gl\xffck,9mm,pistola\n"
    message = refused(write(tmp_path, "inventario.csv", data))
    assert message == ("inventario.csv, line 3: invalid bytes: the file is UTF-8 but byte 0xFF "
                       "is not")


def test_a_file_mixing_utf8_and_other_bytes_is_refused(tmp_path):
    data = HEADER.encode() + "A1,Glock,9mm,pistola,Armería\n".encode() + b"A2,Colt,.38,rev\xf3lver\n"
    assert "line 3: invalid bytes: the file is UTF-8" in refused(write(tmp_path, "m.csv", data))


def test_bytes_undefined_in_windows_1252_are_refused(tmp_path):
    data = HEADER.encode() + b"A1,Glock,9mm,pistola\nA2,Colt,.38,rev\x81lver\n"
    assert "line 3: invalid bytes: 0x81" in refused(write(tmp_path, "w.csv", data))


def test_a_latin1_file_is_not_mistaken_for_invalid_bytes(tmp_path):
    data = (HEADER + "A1,Glock,9mm,revólver\n").encode("latin-1")
    assert check_file(write(tmp_path, "l.csv", data), LIMITS) == "csv"


def test_a_truncated_utf8_character_at_the_end_is_refused(tmp_path):
    data = HEADER.encode() + "A1,Glock,9mm,revólver".encode()[:-6]
    assert "invalid bytes" in refused(write(tmp_path, "t.csv", data + b"\xc3"))


# --- empty files and headers -------------------------------------------------------------------


def test_an_empty_file_is_refused(tmp_path):
    assert refused(write(tmp_path, "vacio.csv", b"")) == "vacio.csv: the file is empty"
    assert refused(write(tmp_path, "vacio.xlsx", b"")) == "vacio.xlsx: the file is empty"


def test_a_workbook_without_rows_is_refused_as_empty(tmp_path):
    path = write(tmp_path, "vacio.xlsx", workbook_bytes([]))
    assert check_file(path, LIMITS) == "xlsx"
    with pytest.raises(ValidationFailed, match="the file is empty"):
        open_sheet(path, REGISTRY_SHEET)


def test_duplicate_headers_are_refused_with_both_columns(tmp_path):
    path = write(tmp_path, "dup.csv", b"Serie,Marca,Calibre,Tipo,MARCA\nA1,Glock,9mm,pistola,Colt\n")
    with pytest.raises(ValidationFailed) as caught:
        open_sheet(path, REGISTRY_SHEET)
    assert caught.value.message == (f"{path}, line 1: columns 2 and 5 have the same header 'MARCA'")


def test_too_many_columns_are_refused(tmp_path):
    header = HEADER.strip() + "," + ",".join(f"extra {n}" for n in range(300))
    path = write(tmp_path, "ancho.csv", (header + "\n").encode())
    with pytest.raises(ValidationFailed, match="the header has 304 columns; the limit is 200"):
        open_sheet(path, REGISTRY_SHEET, max_columns=LIMITS.max_columns)


# --- cells -----------------------------------------------------------------------------------


def test_a_ten_thousand_character_cell_is_refused_and_the_limit_is_configurable():
    cell = "x" * 10_000
    assert check_cell(cell, LIMITS) == "the cell holds 10,000 characters; the limit is 1,000"
    assert check_cell(cell, SheetLimits(max_cell=20_000)) is None
    assert check_cell(cell, SheetLimits(max_cell=0)) is None


@pytest.mark.parametrize("text", ["a\x00b", "a\x1bb", "\x7f", "caf\x85", "a\ud800b"])
def test_control_characters_in_a_cell_are_refused(text):
    assert "control character" in (check_cell(text, LIMITS) or "")


@pytest.mark.parametrize("text", ["a\tb", "línea 1\nlínea 2", "Ñandú €"])
def test_tabs_newlines_and_accents_are_not_control_characters(text):
    assert check_cell(text, LIMITS) is None


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RESGUARDO_IMPORT_MAX_CELL", "50")
    monkeypatch.setenv("RESGUARDO_IMPORT_MAX_ROWS", "10")
    monkeypatch.setenv("RESGUARDO_IMPORT_MAX_BYTES", "0")
    limits = SheetLimits.from_env()
    assert (limits.max_cell, limits.max_rows, limits.max_bytes) == (50, 10, 0)
    monkeypatch.setenv("RESGUARDO_IMPORT_MAX_RATIO", "many")
    with pytest.raises(SystemExit, match="RESGUARDO_IMPORT_MAX_RATIO must be a whole number"):
        SheetLimits.from_env()


# --- formulas -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+2", "+52 55", "-", "@SUM(A1)", "\tx", "\rx",
                                  "=HYPERLINK(\"http://x\")"])
def test_formula_like_text_is_neutralized_and_restored(text):
    assert neutralize(text) == "'" + text
    assert restore(neutralize(text)) == text


@pytest.mark.parametrize("text", ["GLK-100", "'quoted'", "a=b", "", "'"])
def test_other_text_is_left_alone(text):
    assert neutralize(text) == text and restore(text) == text
