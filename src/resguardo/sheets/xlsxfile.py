"""XLSX workbooks read in openpyxl's read-only (streaming) mode, as (line, cells).

Cells come back as the text the person typed or saw: text stays text (a
serial ``00123`` stored as text keeps its zeros), whole numbers lose Excel's
``.0``, a number shown with a zero-padded format (``00000``) keeps its padding,
and date cells become ISO dates (``2024-03-07``, or ``2024-03-07T14:30:00``
when they carry a time), which the date parser reads whatever the day/month
order setting.

Opened with ``formulas=True`` (an import), a cell that holds a formula comes
back as a ``Formula``: its text is the formula (``=A1*2``), never a value
cached by the program that last saved the file, so that the import can say
which cell holds one and ask for the value instead of guessing.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from resguardo.domain.errors import ValidationFailed


def _fail(path: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{path}: {message}", file=path)


class Formula(str):
    """The text of a cell that holds a formula (``=A1*2``), with where it is (``C7``)."""

    cell: str


def formula(text: str, cell: str) -> Formula:
    """A formula cell's text, marked as such."""
    marked = Formula(text if text.startswith("=") else "=" + text)
    marked.cell = cell
    return marked


def cell_text(cell: Any) -> str:
    """The text of one read-only cell (see the module docstring)."""
    value = cell.value
    if value is None:
        return ""
    if getattr(cell, "data_type", None) == "f":
        # an array formula comes as an object holding its text
        return formula(str(getattr(value, "text", value)), cell.coordinate)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if isinstance(value, float):
            if not value.is_integer() or abs(value) >= 1e15:
                return format(value, ".15g")
            value = int(value)
        text = str(value)
        width = _zero_padding(cell)
        if width and value >= 0:
            text = text.zfill(width)
        return text
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _zero_padding(cell: Any) -> int:
    fmt = getattr(cell, "number_format", None)
    if fmt and set(fmt) == {"0"}:
        return len(fmt)
    return 0


class XlsxSource:
    """An open workbook sheet: ``records()`` yields ``(line, cells)`` for every row."""

    def __init__(
        self, path: str, sheet_name: str | None = None, *, label: str | None = None,
        formulas: bool = False,
    ) -> None:
        # Imported here so that CSV-only runs do not pay for openpyxl.
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        self.path = label or path
        # A file object, not the path: openpyxl refuses names not ending in .xlsx.
        self._raw = open(path, "rb")  # noqa: SIM115
        try:
            # formulas=True reads formulas instead of the values they last computed
            self._book = load_workbook(self._raw, read_only=True, data_only=not formulas)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            self._raw.close()
            raise _fail(self.path, f"not a readable .xlsx workbook ({exc})") from None
        try:
            if sheet_name is None:
                if not self._book.worksheets:
                    raise _fail(self.path, "the workbook has no sheets")
                self._sheet = self._book.worksheets[0]
            elif sheet_name in self._book.sheetnames:
                self._sheet = self._book[sheet_name]
            else:
                names = ", ".join(repr(n) for n in self._book.sheetnames)
                raise _fail(self.path, f"no sheet named {sheet_name!r}; the workbook has {names}")
            if not hasattr(self._sheet, "reset_dimensions"):
                raise _fail(self.path, f"sheet {self._sheet.title!r} is a chart, not a table")
            # The stored dimension is often wrong in files written by other tools.
            self._sheet.reset_dimensions()
        except BaseException:
            self.close()
            raise
        self.sheet_name: str = self._sheet.title

    def close(self) -> None:
        self._book.close()
        self._raw.close()

    def bytes_read(self) -> int:
        """Position in the workbook file (the sheet streams from it): a progress estimate."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def records(self) -> Iterator[tuple[int, list[str]]]:
        text = cell_text
        try:
            for number, row in enumerate(self._sheet.iter_rows(), start=1):
                yield number, [text(c) for c in row]
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise _fail(self.path, f"damaged workbook ({exc})") from None
