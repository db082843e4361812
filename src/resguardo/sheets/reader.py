"""Opening a sheet (CSV or XLSX): find the header, map its columns to fields, stream rows.

The header is the first non-blank row. Each header is matched against the
schema's aliases; a header that names no field is kept, and its cells become
a row's notes. Refused at open: an empty file, NUL bytes, two columns with the
same header (or two headers for one field), and a missing required column
(the message names the field and the headers accepted for it).

Rows stream: nothing here holds more than one row at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType

from resguardo.domain.errors import ValidationFailed
from resguardo.sheets.csvfile import CsvSource
from resguardo.sheets.schema import SheetSchema, fold_header
from resguardo.sheets.xlsxfile import XlsxSource

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass(slots=True)
class Record:
    """One data row: its line, the non-empty fields by name, and unknown columns as notes."""

    line: int
    values: dict[str, str]
    notes: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.values.get(name)


class Sheet:
    """An open sheet. Use as a context manager; iterate ``rows()`` or ``records()`` once."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        schema: SheetSchema,
        *,
        sheet_name: str | None = None,
        mapping: Mapping[str, str] | None = None,
        max_columns: int = 0,
        label: str | None = None,
        require: bool = True,
        formulas: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        self._require = require
        #: How messages name the file (an upload's original name; the path by default).
        self.label = label or self.path
        self.schema = schema
        self._mapping = _fold_mapping(schema, mapping) if mapping else None
        self._max_columns = max_columns
        self.size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        self.format = _detect_format(self.path)
        self._source: CsvSource | XlsxSource
        if self.format == "xlsx":
            self._source = XlsxSource(self.path, sheet_name, label=self.label,
                                      formulas=formulas)
        else:
            self._source = CsvSource(self.path, label=self.label)
        try:
            self._records = self._source.records()
            self._read_header()
        except BaseException:
            self._source.close()
            raise

    # -- header ---------------------------------------------------------------------

    def _read_header(self) -> None:
        for line, cells in self._records:
            if not is_blank(cells):
                self.header_line: int = line
                break
        else:
            raise ValidationFailed(
                f"{self.label}: the file is empty (no header row)", file=self.label
            )
        #: cells in the header row as written, trailing empty ones included
        self.raw_width: int = len(cells)
        while cells and not cells[-1].strip():
            cells = cells[:-1]  # trailing empty header cells are no columns
        self.headers: list[str] = [c.strip() for c in cells]
        if self._max_columns and len(self.headers) > self._max_columns:
            raise self._header_error(
                f"the header has {len(self.headers):,} columns; the limit is {self._max_columns:,}"
            )
        self.width = len(self.headers)
        #: field name -> column index
        self.columns: dict[str, int] = {}
        #: column index -> header text, for columns that are not fields (kept as notes)
        self.note_columns: dict[int, str] = {}
        #: column index -> header text, for columns a mapping said to leave out
        self.ignored_columns: dict[int, str] = {}
        seen: dict[str, int] = {}
        for index, header in enumerate(self.headers):
            if not header:
                self.note_columns[index] = f"column {index + 1}"
                continue
            folded = fold_header(header)
            if folded in seen:
                raise self._header_error(
                    f"columns {seen[folded] + 1} and {index + 1} have the same header {header!r}"
                )
            seen[folded] = index
            name: str | None
            if self._mapping is not None and folded in self._mapping:
                name = self._mapping[folded]
                if name == IGNORE:
                    self.ignored_columns[index] = header
                    continue
                if name == NOTE:
                    name = None
            else:
                name = self.schema.match(header)
            if name is None:
                self.note_columns[index] = header
            elif name in self.columns:
                other = self.headers[self.columns[name]]
                raise self._header_error(
                    f"columns {other!r} and {header!r} both mean {name}; keep one of them"
                )
            else:
                self.columns[name] = index
        #: required fields no column gives (refused at open unless ``require=False``)
        self.missing = [
            f.name for f in self.schema.fields if f.required and f.name not in self.columns
        ]
        missing = [f for f in self.schema.fields if f.name in self.missing]
        if missing and self._require:
            parts = [f"{f.name!r} (accepted headers: {', '.join(f.aliases)})" for f in missing]
            noun = "column" if len(missing) == 1 else "columns"
            raise self._header_error(f"missing required {noun} {'; '.join(parts)}")

    def _header_error(self, message: str) -> ValidationFailed:
        return ValidationFailed(
            f"{self.label}, line {self.header_line}: {message}",
            file=self.label,
            line=self.header_line,
        )

    # -- rows -----------------------------------------------------------------------

    def raw_rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line, cells)`` for each row after the header, as fast as the format allows.

        Rows come as written: blank ones included, cells not stripped, a row
        shorter or longer than the header left so. ``rows()`` tidies them.
        """
        return self._records

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line, cells)`` for each non-blank row, cells padded to the header's width."""
        width = self.width
        for number, cells in self._records:
            if not cells or (not cells[0] or cells[0].isspace()) and is_blank(cells):
                continue
            if len(cells) < width:
                cells = [*cells, *([""] * (width - len(cells)))]
            yield number, cells

    def records(self) -> Iterator[Record]:
        """Each non-blank row as a ``Record`` (stripped, empty cells left out)."""
        fields = list(self.columns.items())
        notes = list(self.note_columns.items())
        width = self.width
        for number, cells in self.rows():
            values = {name: v for name, i in fields if (v := cells[i].strip())}
            extra = {label: v for i, label in notes if (v := cells[i].strip())}
            for i in range(width, len(cells)):
                if v := cells[i].strip():
                    extra[f"column {i + 1}"] = v
            yield Record(number, values, extra)

    def column_label(self, column: str | int) -> str:
        """The header as written for a field name or column index."""
        if isinstance(column, str):
            index = self.columns.get(column)
            return column if index is None else self.headers[index]
        if column < self.width and self.headers[column]:
            return self.headers[column]
        return f"column {column + 1}"

    def error(self, line: int, column: str | int | None, message: str) -> ValidationFailed:
        """A ``ValidationFailed`` naming this file, the line and the column."""
        if column is None:
            return ValidationFailed(
                f"{self.label}, line {line}: {message}", file=self.label, line=line
            )
        label = self.column_label(column)
        return ValidationFailed(
            f"{self.label}, line {line}, column {label!r}: {message}",
            file=self.label,
            line=line,
            column=label,
        )

    def csv_source(self) -> CsvSource | None:
        """The CSV file behind the sheet (encoding, delimiter, quotes); None for a workbook."""
        return self._source if isinstance(self._source, CsvSource) else None

    def bytes_read(self) -> int:
        """How far into the file reading has got, in bytes (for progress)."""
        return self._source.bytes_read()

    # -- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> Sheet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def is_blank(cells: list[str]) -> bool:
    """True when every cell is empty or whitespace."""
    return not any(c and not c.isspace() for c in cells)


def _detect_format(path: str) -> str:
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ValidationFailed(f"{path}: cannot read ({exc.strerror})", file=path) from None
    if magic == _XLSX_MAGIC:
        return "xlsx"
    if magic == _OLE_MAGIC:
        raise ValidationFailed(
            f"{path}: an old Excel .xls workbook; save it as .xlsx or .csv", file=path
        )
    return "csv"


def open_sheet(
    path: str | os.PathLike[str],
    schema: SheetSchema,
    *,
    sheet_name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    max_columns: int = 0,
    label: str | None = None,
    require: bool = True,
    formulas: bool = False,
) -> Sheet:
    """Open a CSV or XLSX sheet (by its content, not its name) and read its header.

    ``mapping`` overrides how headers are understood: header as written ->
    field name, ``"note"`` (keep as a note) or ``"ignore"`` (leave the column
    out); headers it does not name are matched by their aliases as usual.
    ``require=False`` opens a sheet that lacks required columns (to show it
    before a mapping is chosen); ``Sheet.missing`` names them.
    ``formulas=True`` gives an XLSX formula cell as its formula, marked
    (``xlsxfile.Formula``), instead of the value last computed from it.
    """
    return Sheet(
        path,
        schema,
        sheet_name=sheet_name,
        mapping=mapping,
        max_columns=max_columns,
        label=label,
        require=require,
        formulas=formulas,
    )


#: Mapping values besides field names.
NOTE = "note"
IGNORE = "ignore"


def _fold_mapping(schema: SheetSchema, mapping: Mapping[str, str]) -> dict[str, str]:
    fields = {f.name for f in schema.fields}
    folded: dict[str, str] = {}
    for header, target in mapping.items():
        if target not in fields and target not in (NOTE, IGNORE):
            accepted = ", ".join([*sorted(fields), NOTE, IGNORE])
            raise ValidationFailed(
                f"column {header!r} is mapped to {target!r}, which is not one of {accepted}",
                field="mapping",
                column=header,
            )
        folded[fold_header(header)] = target
    return folded
