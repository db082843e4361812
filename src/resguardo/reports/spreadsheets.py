"""Spreadsheets out: CSV and XLSX that open cleanly and can never run a formula.

This module is the one writer of every CSV and XLSX the product writes (exports, licence
reports, rejected rows, reconciliation findings, duplicate checks, trace answers...):
``CsvWriter`` and ``write_csv`` for CSV, ``write_xlsx`` for XLSX. A test finds any other
``csv.writer`` or ``openpyxl`` workbook in the code and fails.

- Every text cell a spreadsheet program would take for a formula (``=``,
  ``+``, ``-``, ``@``, tab, carriage return at the start) is neutralized: in
  CSV with a leading apostrophe, in XLSX by storing it as a string marked
  "quote prefix" (see ``sheets.formulas``). Reading either file back gives
  the text as stored.
- XLSX: a bold header row, frozen below the header, an auto-filter over the
  data, and column widths that fit the header and the first rows. Text is
  written as text (a serial ``00123`` stays ``00123``), dates as date cells,
  whole numbers as numbers.
- XLSX files are byte-for-byte reproducible: the same rows give the same
  file (fixed timestamps in the archive and the document properties).
- Rows stream: the writers hold the first rows (for widths), never the file.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, islice
from typing import IO, Any

from resguardo.sheets.formulas import is_risky, neutralize

Value = str | int | float | date | datetime | None

#: Rows looked at to size the columns.
WIDTH_SAMPLE = 1000
MIN_WIDTH, MAX_WIDTH = 6, 60
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)
_FIXED_STAMP = "2000-01-01T00:00:00Z"
_STAMPS = re.compile(
    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:(created|modified)>)")


@dataclass
class Table:
    """One sheet: a title, column headers and rows of values (a stream)."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Value]]
    preamble: Sequence[str] = ()
    """Lines above the header (a form's heading: which licence, which period), the first
    in bold; a blank row separates them from the header."""
    marked: Sequence[bool] | None = None
    """Which headers stand out (bold on a shaded background): all when None; an import
    template marks only its required columns."""


def csv_cell(value: Value) -> str:
    """The text of a value in a CSV cell (neutralized when it could be a formula)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralize(value)
    return str(value)


class CsvWriter:
    """CSV rows written as they come, every cell through ``csv_cell`` (neutralized)."""

    def __init__(self, out: IO[str], *, delimiter: str = ",",
                 lineterminator: str = "\r\n") -> None:
        self._writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)

    def row(self, values: Iterable[Value]) -> None:
        self._writer.writerow([csv_cell(v) for v in values])

    def rows(self, rows: Iterable[Iterable[Value]]) -> int:
        """Write every row; returns how many."""
        count = 0
        for row in rows:
            self.row(row)
            count += 1
        return count


def write_csv(out: str | os.PathLike[str] | IO[str], headers: Sequence[str],
              rows: Iterable[Sequence[Value]], *, delimiter: str = ",",
              bom: bool = True) -> int:
    """Write a CSV (UTF-8, with a byte-order mark so Excel reads accents); returns the rows.

    ``out`` is a path or an open text stream (then ``bom`` is not written).
    """
    if isinstance(out, str | os.PathLike):
        with open(out, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
            return _write_csv(f, headers, rows, delimiter)
    return _write_csv(out, headers, rows, delimiter)


def _write_csv(f: IO[str], headers: Sequence[str], rows: Iterable[Sequence[Value]],
               delimiter: str) -> int:
    writer = CsvWriter(f, delimiter=delimiter)
    writer.row(headers)
    return writer.rows(rows)


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[Value]]) -> list[float]:
    """Widths (in characters) that fit the header and these rows, within bounds."""
    widths = [len(str(h)) + 4 for h in headers]  # room for the filter button
    for row in rows:
        for i, value in enumerate(row[:len(widths)]):
            if value is None:
                continue
            text = value.isoformat() if isinstance(value, date) else str(value)
            longest = max((len(part) for part in text.splitlines()), default=0)
            if longest + 2 > widths[i]:
                widths[i] = longest + 2
    return [float(min(max(w, MIN_WIDTH), MAX_WIDTH)) for w in widths]


def write_xlsx(path: str | os.PathLike[str], tables: Sequence[Table]) -> list[int]:
    """Write a workbook with one sheet per table; returns the rows written per sheet."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    book.properties.creator = "Resguardo"
    fixed = datetime(*_FIXED_TIME)
    book.properties.created = fixed
    book.properties.lastModifiedBy = None
    counts = [_write_sheet(book, table) for table in tables]
    directory = os.path.dirname(os.path.abspath(path))
    fd, raw = tempfile.mkstemp(suffix=".xlsx", dir=directory)
    os.close(fd)
    try:
        book.save(raw)
        _reproducible(raw, os.fspath(path))
    finally:
        if os.path.exists(raw):
            os.remove(raw)
    return counts


def _write_sheet(book: Any, table: Table) -> int:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(_sheet_title(table.title))
    rows = iter(table.rows)
    sample = list(islice(rows, WIDTH_SAMPLE))
    for i, width in enumerate(column_widths(table.headers, sample), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    wrap = Alignment(vertical="top")
    above = len(table.preamble) + 1 if table.preamble else 0
    sheet.freeze_panes = f"A{above + 2}"
    for n, line in enumerate(table.preamble):
        cell = WriteOnlyCell(sheet, value=str(line))
        cell.data_type = "s"
        cell.quotePrefix = is_risky(str(line))
        if n == 0:
            cell.font = bold
        sheet.append([cell])
    if table.preamble:
        sheet.append([])
    header = []
    for n, text in enumerate(table.headers):
        cell = WriteOnlyCell(sheet, value=str(text))
        cell.data_type = "s"
        cell.quotePrefix = is_risky(str(text))
        cell.alignment = wrap
        if table.marked is None or table.marked[n]:
            cell.font, cell.fill = bold, fill
        header.append(cell)
    sheet.append(header)
    count = 0
    date_format, stamp_format = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
    for row in chain(sample, rows):
        cells: list[Any] = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text, never a formula
                if is_risky(value):
                    cell.quotePrefix = True
                cells.append(cell)
            elif isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
                cell.number_format = stamp_format
                cells.append(cell)
            elif isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = date_format
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
        count += 1
    last = get_column_letter(max(len(table.headers), 1))
    sheet.auto_filter.ref = f"A{above + 1}:{last}{above + count + 1}"
    return count


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Hoja"
    return cleaned[:31]


def _reproducible(source: str, target: str) -> None:
    """Copy the archive with fixed member times and document dates."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(
            target, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for member in src.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            if member.filename == "docProps/core.xml":
                data = _STAMPS.sub(rb"\g<1>" + _FIXED_STAMP.encode() + rb"\g<3>",
                                   src.read(member))
                out.writestr(info, data)
                continue
            with src.open(member) as data_in, out.open(info, "w") as data_out:
                while chunk := data_in.read(1 << 20):
                    data_out.write(chunk)


def json_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array, one object per line, as text chunks (streams)."""
    import json

    yield "["
    separator = "\n "
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False, default=_json_default)
        separator = ",\n "
    yield "\n]\n" if separator != "\n " else "]\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def read_back(path: str | os.PathLike[str]) -> list[list[list[Any]]]:
    """Every sheet's cell values (for checks and tests): [sheet][row][column]."""
    from openpyxl import load_workbook

    with open(path, "rb") as f:
        book = load_workbook(io.BytesIO(f.read()), read_only=True, data_only=True)
    try:
        return [[list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets]
    finally:
        book.close()
