"""Registry and count sheets read whole by pyarrow (``columnar``) and checked once.

The fast path of ``firearms``: each distinct cell of a column is understood
once, and rows are assembled from the columns in C. Every row is checked
before any is given out; a cell the row-by-row reader would refuse (or a row
it would skip for another reason than being blank) makes these functions
return None, so that reader takes the file over and gives the message or
collects the error exactly as always.

A ``ColumnRows`` can then give out its rows several times, a shard of serial
keys at a time, also in a forked process: the file is read and checked once
however the reconciliation is split.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from operator import itemgetter
from typing import Any, Generic, TypeVar

from resguardo.domain.codes import FirearmStatus
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.reconciliation import RegistryEntry, Scan
from resguardo.domain.serials import serial_key
from resguardo.domain.vocabulary import parse_kind, parse_status
from resguardo.sheets.columnar import Columns, read_columns
from resguardo.sheets.dates import DateError, parse_moment
from resguardo.sheets.reader import Sheet
from resguardo.sheets.shards import Shard

_T = TypeVar("_T")


class _Refused(Exception):
    """A cell the fast path would refuse: the row-by-row reader takes the file over."""


class _Cells:
    """A column as its converted distinct cells and each row's position among them."""

    __slots__ = ("codes", "values")

    def __init__(self, values: list[Any], codes: Sequence[int]) -> None:
        self.values = values
        self.codes = codes

    def take(self, keep: list[bool] | None) -> Iterator[Any]:
        codes = self.codes if keep is None else itertools.compress(self.codes, keep)
        return map(self.values.__getitem__, codes)


class _Same:
    """A column the sheet does not have: one value for every row."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def take(self, keep: list[bool] | None) -> Iterator[Any]:
        return itertools.repeat(self.value)


class _Plain:
    """A column kept as it is (serials, line numbers)."""

    __slots__ = ("items",)

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = items

    def take(self, keep: list[bool] | None) -> Iterator[Any]:
        return iter(self.items) if keep is None else itertools.compress(self.items, keep)


class ColumnRows(Generic[_T]):
    """The checked rows of a sheet as columns; ``rows(shard)`` builds the rows of a shard."""

    def __init__(
        self,
        build: Callable[..., _T],
        serials: list[str],
        blank: list[int],
        columns: Sequence[_Cells | _Same | _Plain],
    ) -> None:
        self._build = build
        self._serials = serials
        self._columns = columns
        self._keep: list[bool] | None = None
        if blank:
            self._keep = [True] * len(serials)
            for n in blank:
                self._keep[n] = False

    def rows(self, shard: Shard | None = None) -> Iterator[_T]:
        """The rows (blank ones left out), only those whose serial is in ``shard`` if given."""
        keep = self._keep if shard is None else shard.mask(self._serials)
        serials = _Plain(self._serials).take(keep)
        return map(self._build, serials, *(c.take(keep) for c in self._columns))


def _place(text: str) -> str | None:
    text = text.strip()
    return sys.intern(text) if text else None


def _required(text: str) -> str:
    return sys.intern(text.strip())


def _note(text: str) -> str | None:
    return text.strip() or None


def _vocabulary(
    parse: Callable[[str], _T], blank: Callable[[str], bool]
) -> Callable[[str], _T | None]:
    """``parse`` for a column's cells: None for those ``blank`` says are no value."""

    def convert(text: str) -> _T | None:
        if blank(text):
            return None
        try:
            return parse(text)
        except ValidationFailed:
            raise _Refused from None

    return convert


def _serials(
    columns: Columns, index: int, required: Iterable[tuple[int, bool]]
) -> tuple[list[str], list[int]]:
    """The stripped serials, and the blank rows to leave out.

    ``required``: (column, whether spaces count as empty). A row with the serial or
    a required cell empty is skipped when blank, and refused otherwise.
    """
    serials = list(map(str.strip, columns.text(index)))
    empty = [n for n, s in enumerate(serials) if not s] if "" in serials else []
    for column, strip in required:
        bad = [v for v in columns.distinct(column) if not (v.strip() if strip else v)]
        if bad:
            empty.extend(columns.where(column, bad))
    blank = sorted(set(empty))
    if not columns.blank_rows(blank):
        raise _Refused  # "... is required"
    odd = {c for c in set(map(itemgetter(slice(0, 1)), serials)) if c and not c.isalnum()}
    if odd and any(s[:1] in odd and not serial_key(s) for s in serials):
        raise _Refused  # "has no letters or digits"
    return serials, blank


def _cells(columns: Columns, index: int | None, convert: Callable[[str], Any]) -> _Cells | _Same:
    if index is None:
        return _Same(None)
    values, codes = columns.coded(index)
    return _Cells([convert(v) for v in values], codes)


def registry_columns(sheet: Sheet, details: bool) -> ColumnRows[RegistryEntry] | None:
    """The entries of a large plain CSV registry, or None to read it row by row."""
    col = sheet.columns
    names = ["serial", "make", "calibre", "kind", "status", "location", "custodian", "agency"]
    if details:
        names.append("model")
    columns = read_columns(sheet, [col[n] for n in names if n in col])
    if columns is None:
        return None
    # An empty kind is on a skipped row; one of spaces is refused, like any unknown word.
    kind = _vocabulary(parse_kind, lambda text: not text)
    state = _vocabulary(parse_status, lambda text: not text.strip())
    try:
        required = [(col["make"], True), (col["calibre"], True), (col["kind"], False)]
        serials, blank = _serials(columns, col["serial"], required)
        kinds = _cells(columns, col["kind"], kind)
        statuses: _Cells | _Same = _Same(FirearmStatus.IN_STORAGE)
        if "status" in col:
            statuses = _cells(
                columns, col["status"], lambda t: state(t) or FirearmStatus.IN_STORAGE
            )
    except _Refused:
        return None
    fields = [
        _cells(columns, col["make"], _required),
        statuses,
        *(_cells(columns, col.get(n), _place) for n in ("location", "custodian", "agency")),
    ]
    if details:
        fields += [
            _cells(columns, col.get("model"), _place),
            _cells(columns, col["calibre"], _required),
            kinds,
        ]
    return ColumnRows(RegistryEntry, serials, blank, fields)


def count_columns(sheet: Sheet, month_first: bool) -> ColumnRows[Scan] | None:
    """The scans of a large plain CSV count, or None to read it row by row."""
    col = sheet.columns
    names = ["serial", "location", "holder", "make", "observed_at", "note"]
    columns = read_columns(sheet, [col[n] for n in names if n in col])
    if columns is None:
        return None

    def moment(text: str) -> datetime | date | time | None:
        if not text.strip():
            return None
        try:
            return parse_moment(text, month_first=month_first)
        except DateError:
            raise _Refused from None

    try:
        serials, blank = _serials(columns, col["serial"], ())
        moments = _cells(columns, col.get("observed_at"), moment)
    except _Refused:
        return None
    fields = [
        *(_cells(columns, col.get(n), _place) for n in ("location", "holder", "make")),
        moments,
        _cells(columns, col.get("note"), _note),
        _Plain(columns.lines()),
    ]
    return ColumnRows(Scan, serials, blank, fields)
