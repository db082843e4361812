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
import zlib
from array import array
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import IO, Any, overload
from xml.etree.ElementTree import ParseError, iterparse

from resguardo.domain.errors import ValidationFailed

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_LAST_COLUMN = 16_384


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


class SharedStrings(Sequence[str]):
    """A workbook's shared-string table, kept compact: one UTF-8 buffer and the ends.

    openpyxl keeps a Python list (about 60 bytes a string besides its text);
    this keeps the text and 8 bytes a string, so that a table of millions of
    serial numbers costs tens of megabytes, not hundreds.
    """

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")

    def append(self, text: str) -> None:
        self._data += text.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self._ends)
        end = self._ends[index]
        start = self._ends[index - 1] if index else 0
        return self._data[start:end].decode("utf-8", "surrogatepass")


def read_shared_strings(source: IO[bytes]) -> SharedStrings:
    """The text of each ``<si>`` (plain or in runs, phonetic runs left out), streamed."""
    strings = SharedStrings()
    si_tag = f"{{{_MAIN}}}si"
    t_tag = f"{{{_MAIN}}}t"
    r_tag = f"{{{_MAIN}}}r"
    root: Any = None
    for event, node in iterparse(source, events=("start", "end")):
        if event == "start":
            if root is None:
                root = node
            continue
        if node.tag != si_tag:
            continue
        parts: list[str] = []
        for child in node:
            if child.tag == t_tag:
                parts.append(child.text or "")
            elif child.tag == r_tag:
                parts.extend(t.text or "" for t in child.iter(t_tag))
        strings.append("".join(parts).replace("x005F_", ""))
        node.clear()
        root.clear()  # the cleared <si> would stay attached to the table otherwise
    return strings


def _load(raw: IO[bytes], formulas: bool) -> Any:
    """openpyxl's read-only load, with the shared strings kept compact."""
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(raw, read_only=True, data_only=not formulas)
    try:
        reader.read_manifest()
        found = reader.package.find(SHARED_STRINGS)
        if found is not None:
            with reader.archive.open(found.PartName[1:]) as src:
                reader.shared_strings = read_shared_strings(src)
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        _read_sheets(reader)
        reader.parser.assign_names()
    except BaseException:
        reader.archive.close()
        raise
    return reader.wb


def _read_sheets(reader: Any) -> None:
    """The workbook's sheets, as ``ExcelReader.read_worksheets`` reads them for a read-only
    load, but unsized: openpyxl's read-only sheet finds its size when it is made, and a
    sheet that declares none (``<dimension>``: files from many tools other than Excel, and
    every hostile one) is parsed to its end for it, every row once more before the first
    is read. The rows are read here (``XlsxSource._rows``), and the size is never asked."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class UnsizedSheet(ReadOnlyWorksheet):  # type: ignore[misc]
        def _get_size(self) -> None:
            """Its size unknown (``reset_dimensions``'s state), without reading it."""

    for sheet, rel in reader.parser.find_sheets():
        if rel.target not in reader.valid_files:
            continue
        if "chartsheet" in rel.Type:
            reader.read_chartsheet(sheet, rel)
            continue
        made = UnsizedSheet(reader.wb, sheet.name, rel.target, reader.shared_strings)
        made.sheet_state = sheet.state
        reader.wb._sheets.append(made)


class XlsxSource:
    """An open workbook sheet: ``records()`` yields ``(line, cells)`` for every row.

    Rows stream from the sheet's XML: each row is dropped from the parsed tree
    once read (openpyxl's own reader empties a row but leaves it attached, about
    a hundred bytes a row for the whole read), and reading stops where the rows
    end.
    """

    def __init__(
        self, path: str, sheet_name: str | None = None, *, label: str | None = None,
        formulas: bool = False,
    ) -> None:
        from openpyxl.utils.exceptions import InvalidFileException

        self.path = label or path
        # A file object, not the path: openpyxl refuses names not ending in .xlsx.
        self._raw = open(path, "rb")  # noqa: SIM115
        try:
            # formulas=True reads formulas instead of the values they last computed
            self._book = _load(self._raw, formulas)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError,
                TypeError, ParseError) as exc:
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
        try:
            yield from self._rows()
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError, ParseError,
                zlib.error) as exc:
            raise _fail(self.path, f"damaged workbook ({exc})") from None

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        from openpyxl.cell.read_only import EMPTY_CELL, ReadOnlyCell
        from openpyxl.worksheet._reader import WorkSheetParser

        sheet = self._sheet
        book = self._book
        text = cell_text
        row_tag = f"{{{_MAIN}}}row"
        data_tag = f"{{{_MAIN}}}sheetData"
        with book._archive.open(sheet._worksheet_path) as src:
            parser = WorkSheetParser(src, sheet._shared_strings, data_only=book.data_only,
                                     epoch=book.epoch, date_formats=book._date_formats,
                                     timedelta_formats=book._timedelta_formats)
            data: Any = None
            for event, element in iterparse(src, events=("start", "end")):
                if event == "start":
                    if data is None and element.tag == data_tag:
                        data = element
                    continue
                tag = element.tag
                if tag == row_tag:
                    number, cells = parser.parse_row(element)
                    parser.row_dimensions.clear()  # a row's height, kept per row otherwise
                    element.clear()
                    if data is not None:
                        data.clear()  # drop the emptied row from the tree
                    if not cells:
                        yield number, []
                        continue
                    width = cells[-1]["column"]
                    if width > _LAST_COLUMN:
                        raise _fail(self.path, f"row {number}: a cell past Excel's last column")
                    row: list[Any] = [EMPTY_CELL] * width
                    for cell in cells:
                        column = cell["column"]
                        if 1 <= column <= width:
                            row[column - 1] = ReadOnlyCell(sheet, **cell)
                    yield number, [text(c) for c in row]
                elif tag == data_tag:
                    return  # what follows the rows (merged cells, validations...) is not read
