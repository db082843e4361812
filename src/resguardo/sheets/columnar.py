"""A compiled fast path for large plain CSV files: the whole file read at once by pyarrow.

Taken only where it gives exactly what ``csvfile`` gives line by line: a UTF-8
file (with or without a byte-order mark) that holds no quote, so a record is
a line and a cell is what lies between two delimiters. pyarrow keeps empty
lines as rows, so row ``n`` after the header is line ``header_line + 1 + n``,
as a spreadsheet numbers it. A row narrower or wider than the header makes
pyarrow refuse the file, and anything else odd (another encoding, quotes,
XLSX) is left to the ordinary reader: ``read_columns`` returns None and the
caller reads the file as before, so results and messages never depend on which
path ran.

Most columns of an inventory repeat a few values (makes, places, statuses), so
cells come dictionary-encoded: callers map each distinct value once and
expand the row codes in C, instead of handling a million strings one by one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from resguardo.sheets.reader import Sheet

#: Below this size the ordinary reader is as quick, and pyarrow's import is not worth it.
MIN_BYTES = 1 << 20


class Columns:
    """Rows of a sheet as columns of raw (unstripped) cells, each row with its line."""

    def __init__(self, sheet: Sheet, table: Any, lines: Sequence[int]) -> None:
        self._sheet = sheet
        self._table = table
        #: how many rows, blank ones included
        self.rows: int = table.num_rows
        self._lines = lines
        self._coded: dict[int, tuple[list[str], Sequence[int]]] = {}

    def _column(self, index: int) -> Any:
        return self._table.column(f"c{index}")

    def text(self, index: int) -> list[str]:
        """Every cell of column ``index`` (of the sheet, not of those read), as written."""
        return self._column(index).to_pylist()  # type: ignore[no-any-return]

    def distinct(self, index: int) -> list[str]:
        """The distinct cells of column ``index``."""
        return self.coded(index)[0]

    def where(self, index: int, cells: Collection[str]) -> list[int]:
        """The rows (by position) whose cell in column ``index`` is one of ``cells``."""
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.compute as pc  # type: ignore[import-untyped]

        found = pc.is_in(self._column(index), value_set=pa.array(list(cells), pa.string()))
        return pc.indices_nonzero(found).to_pylist()  # type: ignore[no-any-return]

    def coded(self, index: int) -> tuple[list[str], Sequence[int]]:
        """Column ``index`` as its distinct cells and, per row, the position of its cell."""
        import pyarrow.compute as pc  # type: ignore[import-untyped]

        found = self._coded.get(index)
        if found is None:
            encoded = pc.dictionary_encode(self._column(index).combine_chunks())
            indices = encoded.indices
            codes = memoryview(indices.buffers()[1]).cast(_CODES[indices.type.byte_width])
            found = (
                encoded.dictionary.to_pylist(),
                codes[indices.offset : indices.offset + len(indices)],
            )
            self._coded[index] = found
        return found

    def blank_rows(self, rows: Collection[int]) -> bool:
        """True when every cell of each of ``rows`` (positions in the file) is empty or spaces."""
        if not rows:
            return True
        whole = _read(self._sheet, None)
        if whole is None:
            return False
        columns = whole.columns
        return all(
            not any(c and not c.isspace() for c in (column[n].as_py() for column in columns))
            for n in rows
        )

    def lines(self) -> Sequence[int]:
        """The line number of each row."""
        return self._lines


_CODES: dict[int, Literal["b", "h", "i", "q"]] = {1: "b", 2: "h", 4: "i", 8: "q"}


def read_columns(sheet: Sheet, indices: Collection[int]) -> Columns | None:
    """Columns ``indices`` of an open CSV sheet; None when it needs the ordinary reader.

    The sheet itself is not advanced: when this returns None, read its rows as usual.
    """
    source = sheet.csv_source()
    if source is None or source.quoted or source.encoding not in ("utf-8", "utf-8-sig"):
        return None
    if sheet.size < MIN_BYTES:
        return None
    table = _read(sheet, indices)
    if table is None:
        return None
    first = sheet.header_line + 1
    return Columns(sheet, table, range(first, first + table.num_rows))


def _read(sheet: Sheet, indices: Collection[int] | None) -> Any:
    source = sheet.csv_source()
    if source is None:
        return None
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.csv as pcsv  # type: ignore[import-untyped]
    except ImportError:  # the fast path is an optimization; the ordinary reader is complete
        return None
    names = [f"c{i}" for i in range(sheet.raw_width)]
    try:
        table = pcsv.read_csv(
            sheet.path,
            read_options=pcsv.ReadOptions(
                skip_rows=sheet.header_line, column_names=names, block_size=1 << 22
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=source.delimiter,
                quote_char=False,
                escape_char=False,
                ignore_empty_lines=False,
                newlines_in_values=False,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                include_columns=None if indices is None else [names[i] for i in sorted(indices)],
            ),
        )
    except (pa.ArrowException, OSError):
        # Anything pyarrow will not read as plain text (a row of another width, for one)
        # goes to the ordinary reader, which reads every file and says where it is wrong.
        return None
    return table


def release_unused() -> None:
    """Give back to the system the memory pyarrow keeps for reuse (tables read and dropped)."""
    import pyarrow as pa  # type: ignore[import-untyped]

    pa.default_memory_pool().release_unused()
