"""Registry and count sheets turned into the domain's ``RegistryEntry`` and ``Scan``.

Both readers stream. A row that cannot be understood raises a
``ValidationFailed`` naming the file, line and column; pass ``errors=[]`` to
collect those errors and skip the rows instead.

This is the hot path of a million-row reconciliation. A large plain CSV file
is read whole by pyarrow (``columnar``): each distinct cell of a column is
understood once and the rows are assembled in C; any cell the fast path would
refuse sends the file back to the row-by-row reader, which gives the message
or collects the error. That reader reads cells by column index and remembers
the few distinct status, kind and time spellings a sheet repeats instead of
parsing each cell anew.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time
from operator import itemgetter
from typing import NamedTuple, TypeVar

from resguardo.domain.codes import FirearmKind, FirearmStatus
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.reconcile import RegistryEntry, Scan
from resguardo.domain.serials import serial_key
from resguardo.domain.vocabulary import parse_kind, parse_status
from resguardo.sheets.columnar import Columns, read_columns
from resguardo.sheets.dates import DateError, parse_moment
from resguardo.sheets.reader import Sheet, is_blank, open_sheet
from resguardo.sheets.schema import COUNT_SHEET, REGISTRY_SHEET

_MEMO_LIMIT = 10_000
_T = TypeVar("_T")


def read_registry(
    path: str | os.PathLike[str],
    *,
    sheet_name: str | None = None,
    details: bool = True,
    errors: list[ValidationFailed] | None = None,
    shard: Shard | None = None,
) -> Iterator[RegistryEntry]:
    """Stream the firearms of a registry sheet (status defaults to in storage).

    ``details=False`` checks model, calibre and kind but leaves them out of the
    entries: a reconciliation does not use them, and at a million rows the
    strings cost memory and time. ``shard``: only the firearms whose serial key
    falls in it (every row is still read and checked).
    """
    # The generator owns the sheet and closes it when done: no extra generator layer.
    return registry_entries(
        open_sheet(path, REGISTRY_SHEET, sheet_name=sheet_name),
        errors,
        details=details,
        close=True,
        shard=shard,
    )


def read_count(
    path: str | os.PathLike[str],
    *,
    sheet_name: str | None = None,
    month_first: bool = False,
    errors: list[ValidationFailed] | None = None,
    shard: Shard | None = None,
) -> Iterator[Scan]:
    """Stream the scans of a count sheet; each scan's ``order`` is its line.

    ``shard``: only the scans whose serial key falls in it (every row is still checked).
    """
    return count_scans(
        open_sheet(path, COUNT_SHEET, sheet_name=sheet_name),
        month_first=month_first,
        errors=errors,
        close=True,
        shard=shard,
    )


#: What ``serial_key`` removes from a serial: Python's whitespace and ``-./\\_``.
SEPARATORS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000-./\\_"
)


class Shard(NamedTuple):
    """Part ``index`` of ``count`` disjoint parts of the serial keys.

    A serial's part follows from the last character of its key (``serial_key``),
    so every spelling of one serial, in the registry and in the count, lands in
    the same part, and a reconciliation can run part by part (``domain.reconcile.tally``).
    """

    index: int
    count: int

    def holds(self, serial: str) -> bool:
        """Whether ``serial`` (one with a non-empty key) falls in this part."""
        return self._of(serial.rstrip(SEPARATORS)[-1:]) == self.index

    def _of(self, last: str) -> int:
        return ord(last.upper()[-1]) % self.count if last else -1

    def mask(self, serials: list[str]) -> list[bool]:
        """``holds`` for each serial, in C loops; False for an empty one."""
        stripped = map(str.rstrip, serials, itertools.repeat(SEPARATORS))
        last = list(map(itemgetter(slice(-1, None)), stripped))
        part = {c: self._of(c) == self.index for c in set(last)}
        return list(map(part.__getitem__, last))


def _check_serial(sheet: Sheet, line: int, serial: str) -> None:
    if not serial_key(serial):
        raise sheet.error(line, "serial", f"serial {serial!r} has no letters or digits")


def registry_entries(
    sheet: Sheet,
    errors: list[ValidationFailed] | None = None,
    *,
    details: bool = True,
    close: bool = False,
    shard: Shard | None = None,
) -> Iterator[RegistryEntry]:
    """``RegistryEntry`` for each row of an open registry sheet (see ``read_registry``).

    ``close``: close the sheet when the rows are exhausted or the generator is closed.
    """
    col, width = sheet.columns, sheet.width
    i_serial, i_make, i_calibre, i_kind = col["serial"], col["make"], col["calibre"], col["kind"]
    i_model, i_status = col.get("model"), col.get("status")
    i_location, i_custodian, i_agency = col.get("location"), col.get("custodian"), col.get("agency")
    statuses: dict[str, FirearmStatus] = {"": FirearmStatus.IN_STORAGE}
    kinds: dict[str, FirearmKind] = {}
    entry, intern = RegistryEntry, sys.intern
    if not details:
        i_model = None
    location = custodian = agency = model = None
    try:
        fast = _fast_registry(sheet, details, shard)
        if fast is not None:
            yield from fast
            return
        for line, cells in sheet.raw_rows():
            try:
                if len(cells) < width:
                    if is_blank(cells):
                        continue
                    cells = [*cells, *([""] * (width - len(cells)))]
                serial = cells[i_serial].strip()
                make = cells[i_make].strip()
                calibre = cells[i_calibre].strip()
                kind_text = cells[i_kind]
                if not serial or not make or not calibre or not kind_text:
                    if is_blank(cells):
                        continue
                    for name, value in (
                        ("serial", serial),
                        ("make", make),
                        ("calibre", calibre),
                        ("kind", kind_text.strip()),
                    ):
                        if not value:
                            raise sheet.error(line, name, f"{name} is required")
                if not serial[0].isalnum():
                    _check_serial(sheet, line, serial)
                kind = kinds.get(kind_text)
                if kind is None:
                    kind = _vocabulary(sheet, line, "kind", kind_text, parse_kind)
                    if len(kinds) < _MEMO_LIMIT:
                        kinds[kind_text] = kind
                if i_status is None:
                    status = FirearmStatus.IN_STORAGE
                else:
                    status_text = cells[i_status]
                    known = statuses.get(status_text)
                    if known is None:
                        known = (
                            _vocabulary(sheet, line, "status", status_text, parse_status)
                            if status_text.strip()
                            else FirearmStatus.IN_STORAGE
                        )
                        if len(statuses) < _MEMO_LIMIT:
                            statuses[status_text] = known
                    status = known
                # Interned: a million rows repeat a few makes, places and badges, and the
                # reconciliation can then compare most of them by identity.
                if i_location is not None:
                    location = cells[i_location].strip()
                    location = intern(location) if location else None
                if i_custodian is not None:
                    custodian = cells[i_custodian].strip()
                    custodian = intern(custodian) if custodian else None
                if i_agency is not None:
                    agency = cells[i_agency].strip()
                    agency = intern(agency) if agency else None
                if i_model is not None:
                    model = cells[i_model].strip()
                    model = intern(model) if model else None
                if shard is not None and not shard.holds(serial):
                    continue
                if details:
                    yield entry(
                        serial,
                        intern(make),
                        status,
                        location,
                        custodian,
                        agency,
                        model,
                        intern(calibre),
                        kind,
                    )
                else:
                    yield entry(serial, intern(make), status, location, custodian, agency)
            except ValidationFailed as exc:
                if errors is None:
                    raise
                errors.append(exc)
    finally:
        if close:
            sheet.close()


def count_scans(
    sheet: Sheet,
    *,
    month_first: bool = False,
    errors: list[ValidationFailed] | None = None,
    close: bool = False,
    shard: Shard | None = None,
) -> Iterator[Scan]:
    """``Scan`` for each row of an open count sheet (``close`` as for ``registry_entries``)."""
    col, width = sheet.columns, sheet.width
    i_serial = col["serial"]
    i_location, i_holder, i_make = col.get("location"), col.get("holder"), col.get("make")
    i_at, i_note = col.get("observed_at"), col.get("note")
    moments: dict[str, datetime | date | time | None] = {"": None}
    scan, intern = Scan, sys.intern
    location = holder = make = at = note = None
    try:
        fast = _fast_count(sheet, month_first, shard)
        if fast is not None:
            yield from fast
            return
        for line, cells in sheet.raw_rows():
            try:
                if len(cells) < width:
                    if is_blank(cells):
                        continue
                    cells = [*cells, *([""] * (width - len(cells)))]
                serial = cells[i_serial].strip()
                if not serial:
                    if is_blank(cells):
                        continue
                    raise sheet.error(line, "serial", "serial is required")
                if not serial[0].isalnum():
                    _check_serial(sheet, line, serial)
                if i_location is not None:
                    location = cells[i_location].strip()
                    location = intern(location) if location else None
                if i_holder is not None:
                    holder = cells[i_holder].strip()
                    holder = intern(holder) if holder else None
                if i_make is not None:
                    make = cells[i_make].strip()
                    make = intern(make) if make else None
                if i_at is not None:
                    text = cells[i_at]
                    if text in moments:
                        at = moments[text]
                    else:
                        try:
                            at = (
                                parse_moment(text, month_first=month_first)
                                if text.strip()
                                else None
                            )
                        except DateError as exc:
                            raise sheet.error(line, "observed_at", str(exc)) from None
                        if len(moments) < _MEMO_LIMIT:
                            moments[text] = at
                if i_note is not None:
                    note = cells[i_note].strip() or None
                if shard is not None and not shard.holds(serial):
                    continue
                yield scan(serial, location, holder, make, at, note, line)
            except ValidationFailed as exc:
                if errors is None:
                    raise
                errors.append(exc)
    finally:
        if close:
            sheet.close()


def _vocabulary(sheet: Sheet, line: int, column: str, text: str, parse: Callable[[str], _T]) -> _T:
    try:
        return parse(text)
    except ValidationFailed as exc:
        raise sheet.error(line, column, exc.message) from None


# -- the columnar fast path ---------------------------------------------------------------


class _Refused(Exception):
    """A cell the fast path would refuse: the row-by-row reader takes the file over."""


def _place(text: str) -> str | None:
    text = text.strip()
    return sys.intern(text) if text else None


def _required(text: str) -> str:
    return sys.intern(text.strip())


def _note(text: str) -> str | None:
    return text.strip() or None


def _is_empty(text: str) -> bool:
    return not text


def _is_blank_text(text: str) -> bool:
    return not text.strip()


def _vocabulary_value(
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


class _Rows:
    """The rows of ``Columns`` a fast read keeps: not blank, and in the shard if one is given.

    Every row is checked, whatever the shard: a file is refused (read row by row)
    for a bad cell anywhere, so each part of a sharded read refuses alike.
    ``required``: (column, whether spaces count as empty); ``checks``: (column,
    conversion that raises ``_Refused`` for a cell the row-by-row reader refuses).
    """

    def __init__(
        self,
        columns: Columns,
        serial: int,
        shard: Shard | None,
        required: Iterable[tuple[int, bool]] = (),
        checks: Iterable[tuple[int | None, Callable[[str], object]]] = (),
    ) -> None:
        serials = list(map(str.strip, columns.text(serial)))
        empty = [n for n, s in enumerate(serials) if not s] if "" in serials else []
        for index, strip in required:
            bad = [v for v in columns.distinct(index) if not (v.strip() if strip else v)]
            if bad:
                empty.extend(columns.where(index, bad))
        # A row with a required cell empty is skipped when blank, and refused otherwise.
        if not columns.blank_rows(set(empty)):
            raise _Refused  # "... is required"
        odd = {c for c in set(map(itemgetter(slice(0, 1)), serials)) if c and not c.isalnum()}
        if odd and any(s[:1] in odd and not serial_key(s) for s in serials):
            raise _Refused  # "has no letters or digits"
        for index, convert in checks:
            if index is not None:
                for text in columns.distinct(index):
                    convert(text)
        keep: list[bool] | None = None
        if shard is not None:
            keep = shard.mask(serials)  # False for the empty serials of blank rows
        elif empty:
            keep = [True] * len(serials)
            for n in empty:
                keep[n] = False
        if keep is not None:
            serials = list(itertools.compress(serials, keep))
            columns = columns.select(keep)
        self.columns = columns
        self.serials = serials

    def column(self, index: int | None, convert: Callable[[str], _T]) -> Iterable[_T | None]:
        """``convert`` of each kept cell of column ``index`` (None for each when there is none)."""
        if index is None:
            return itertools.repeat(None)
        return self.columns.mapped(index, convert)


def _fast_registry(
    sheet: Sheet, details: bool, shard: Shard | None
) -> Iterator[RegistryEntry] | None:
    """The entries of a large plain CSV registry, or None to read it row by row."""
    col = sheet.columns
    names = ["serial", "make", "calibre", "kind", "status", "location", "custodian", "agency"]
    if details:
        names.append("model")
    columns = read_columns(sheet, [col[n] for n in names if n in col])
    if columns is None:
        return None
    i_status = col.get("status")
    # An empty kind is on a skipped row; one of spaces is refused, like any unknown word.
    kind = _vocabulary_value(parse_kind, _is_empty)
    parse_state = _vocabulary_value(parse_status, _is_blank_text)

    def status(text: str) -> FirearmStatus:
        return parse_state(text) or FirearmStatus.IN_STORAGE

    try:
        rows = _Rows(
            columns,
            col["serial"],
            shard,
            required=[(col["make"], True), (col["calibre"], True), (col["kind"], False)],
            checks=[(col["kind"], kind), (i_status, status)],
        )
    except _Refused:
        return None
    statuses: Iterable[FirearmStatus | None] = itertools.repeat(FirearmStatus.IN_STORAGE)
    if i_status is not None:
        statuses = rows.column(i_status, status)
    makes = rows.column(col["make"], _required)
    places = [rows.column(col.get(n), _place) for n in ("location", "custodian", "agency")]
    if not details:
        return map(RegistryEntry, rows.serials, makes, statuses, *places)
    model = rows.column(col.get("model"), _place)
    calibres = rows.column(col["calibre"], _required)
    kinds = rows.column(col["kind"], kind)
    return map(RegistryEntry, rows.serials, makes, statuses, *places, model, calibres, kinds)


def _fast_count(sheet: Sheet, month_first: bool, shard: Shard | None) -> Iterator[Scan] | None:
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

    i_at = col.get("observed_at")
    try:
        rows = _Rows(columns, col["serial"], shard, checks=[(i_at, moment)])
    except _Refused:
        return None
    places = [rows.column(col.get(n), _place) for n in ("location", "holder", "make")]
    moments = rows.column(i_at, moment)
    notes = rows.column(col.get("note"), _note)
    return map(Scan, rows.serials, *places, moments, notes, rows.columns.lines())
