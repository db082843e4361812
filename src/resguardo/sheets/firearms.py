"""Registry and count sheets turned into the domain's ``RegistryEntry`` and ``Scan``.

Both readers stream. A row that cannot be understood raises a
``ValidationFailed`` naming the file, line and column; pass ``errors=[]`` to
collect those errors and skip the rows instead.

This is the hot path of a million-row reconciliation. A large plain CSV file
is read whole by pyarrow (``firearms_columns``): each distinct cell of a
column is understood once and the rows are assembled in C; any cell the fast
path would refuse sends the file back to the row-by-row reader here, which
gives the message or collects the error. That reader reads cells by column
index and remembers the few distinct status, kind and time spellings a sheet
repeats instead of parsing each cell anew.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from typing import Generic, TypeVar

from resguardo.domain.codes import FirearmKind, FirearmStatus
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.reconciliation import RegistryEntry, Scan
from resguardo.domain.serials import serial_key
from resguardo.domain.vocabulary import parse_kind, parse_status
from resguardo.sheets.columnar import release_unused
from resguardo.sheets.dates import DateError, parse_moment
from resguardo.sheets.firearms_columns import ColumnRows, count_columns, registry_columns
from resguardo.sheets.guard import check_workbook
from resguardo.sheets.reader import Sheet, is_blank, open_sheet
from resguardo.sheets.schema import COUNT_SHEET, REGISTRY_SHEET, SheetSchema
from resguardo.sheets.shards import SEPARATORS, Shard

__all__ = [
    "SEPARATORS",
    "PreparedSheet",
    "Shard",
    "count_scans",
    "prepare_count",
    "prepare_registry",
    "read_count",
    "read_registry",
    "registry_entries",
]

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
    check_workbook(path)
    return count_scans(
        open_sheet(path, COUNT_SHEET, sheet_name=sheet_name),
        month_first=month_first,
        errors=errors,
        close=True,
        shard=shard,
    )


class PreparedSheet(Generic[_T]):
    """A sheet to take rows from, whole or a shard at a time (``prepare_registry``)."""

    def __init__(self, read: Callable[[Shard | None], Iterator[_T]]) -> None:
        self._read = read

    def rows(self, shard: Shard | None = None) -> Iterator[_T]:
        """The rows, only those whose serial key is in ``shard`` if given."""
        return self._read(shard)


def _prepare(path: str | os.PathLike[str], schema: SheetSchema, sheet_name: str | None,
             columns: Callable[[Sheet], ColumnRows[_T] | None], rows: Callable[[Shard | None], Iterator[_T]]
             ) -> PreparedSheet[_T]:
    """Open the sheet; read it whole with ``columns`` when it can (a large plain CSV),
    else give ``rows``, which read it anew row by row each time."""
    check_workbook(path)  # once: ``rows`` reads the sheet anew for each shard
    sheet = open_sheet(path, schema, sheet_name=sheet_name)
    try:
        fast = columns(sheet)
    finally:
        sheet.close()
    if fast is not None:
        release_unused()  # the table is gone: keep only the columns, in a smaller process
        return PreparedSheet(fast.rows)
    return PreparedSheet(rows)


def prepare_registry(
    path: str | os.PathLike[str], *, sheet_name: str | None = None, details: bool = True
) -> PreparedSheet[RegistryEntry]:
    """A registry sheet opened, and read and checked once when it is a large plain CSV.

    Its ``rows(shard)`` are then what ``read_registry`` gives, and cost no second
    reading of the file, also in a process forked after this call. Another file
    is read anew, row by row, by each call of ``rows``. Errors in the header are
    raised here; errors in a row, by ``rows``.
    """
    return _prepare(
        path, REGISTRY_SHEET, sheet_name, lambda sheet: registry_columns(sheet, details),
        lambda shard: read_registry(path, sheet_name=sheet_name, details=details, shard=shard))


def prepare_count(
    path: str | os.PathLike[str], *, sheet_name: str | None = None, month_first: bool = False
) -> PreparedSheet[Scan]:
    """A count sheet ready to give its scans, as ``prepare_registry`` for a registry."""
    return _prepare(
        path, COUNT_SHEET, sheet_name, lambda sheet: count_columns(sheet, month_first),
        lambda shard: read_count(path, sheet_name=sheet_name, month_first=month_first,
                                 shard=shard))


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
        fast = registry_columns(sheet, details)
        if fast is not None:
            yield from fast.rows(shard)
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
        fast = count_columns(sheet, month_first)
        if fast is not None:
            yield from fast.rows(shard)
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
