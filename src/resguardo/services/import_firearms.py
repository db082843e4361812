"""Importing firearms: the registry sheet, streamed in batches.

Each row is judged by the shared domain rules (``domain.registry`` for the
registration, ``domain.custody`` for a weapon the sheet shows issued or in
repair) before it joins a batch; a plain registration into storage is read
by ``import_plain`` to the same payload without the general machinery (and
the first of every batch checked against the domain). A batch is checked
against the registry as a whole (the (make, serial) pair is unique in the
whole system, one query per few hundred serials) and appended by
``storage.import_batch``. Where a row puts a weapon (issued, in repair) and
what ``--update`` does with a weapon already registered to the agency are
``import_custody``'s.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

from resguardo.domain import registry as registry_rules
from resguardo.domain.calibres import closest as closest_calibres
from resguardo.domain.calibres import known as known_calibre
from resguardo.domain.codes import FirearmKind, FirearmStatus
from resguardo.domain.entities import Location, NewEvent, Officer
from resguardo.domain.errors import DomainError, NotFound, ValidationFailed
from resguardo.domain.timefmt import iso_date
from resguardo.domain.vocabulary import fold_text, kind_words, parse_kind, parse_status
from resguardo.domain.vocabulary import status_words as _status_words
from resguardo.services import registry as registry_service
from resguardo.services.import_custody import NO_SHOP, CustodyRows
from resguardo.services.import_plain import MEMO, PlainRows
from resguardo.services.imports import (
    LONGEST,
    YIELD,
    ImportOptions,
    ImportReport,
    Problem,
    Progress,
    RejectSink,
    accepted_words,
)
from resguardo.sheets import REGISTRY_SHEET, DateError, Sheet, SheetSchema, parse_date
from resguardo.sheets.formulas import restore
from resguardo.storage.import_batch import (
    LogWriter,
    Registered,
    Registration,
    registration_of,
    savepoint,
)
from resguardo.storage.uow import UnitOfWork

#: Firearms appended per batch.
BATCH = 5000
#: Firearms appended per batch of an import written in slices: a slice ends after a
#: batch, so a batch bounds how long past its time a slice may hold the lock (4,000 rows:
#: about 0.1 s). Each batch's statements journal the random-keyed index pages they touch
#: (``storage.database.temp_in_memory``): 500-row batches made a million-row import a fifth
#: slower (``bench/import.py``); the desk's p99 beside it stayed the same
#: (``bench/import_desk.py``).
SLICED_BATCH = 4000
#: Rows an import written in slices reads and judges ahead, between two slices, at most
#: (``FirearmImport.ahead``): memory stays bounded whatever a slice could take.
AHEAD_MOST = 10_000

S = FirearmStatus
_IMPORTABLE = frozenset({S.IN_STORAGE, S.ISSUED, S.IN_REPAIR})

SCHEMAS: dict[str, SheetSchema] = {"firearms": REGISTRY_SHEET}


def run(kind: str, uow: UnitOfWork, agency: Any, sheet: Sheet, options: ImportOptions,
        report: ImportReport, progress: Progress | None, rejects: RejectSink | None) -> None:
    """Import every row of an open registry sheet into ``agency``."""
    FirearmImport(uow, agency, sheet, options, report, progress, rejects).run()


@dataclass(slots=True)
class _Planned:
    line: int
    cells: list[str]
    key: tuple[str, str]
    registration: NewEvent | None
    """The domain's event (None for a plain row: ``full`` asks the domain when needed)."""
    follow: NewEvent | None
    status: FirearmStatus
    location: Location | None
    officer: Officer | None
    shop: str | None
    item: Registration
    """The registration (and its custody event) as the log writer takes it."""

    @property
    def what(self) -> str:
        """``make serial`` as the row gives them."""
        fields = self.item[1]
        return f"{fields[2]} {fields[0]}"


class FirearmImport(PlainRows, CustodyRows):
    """The registry sheet: one firearm per row, streamed in batches."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        uow, agency = self.uow, self.agency
        cols = self.sheet.columns
        #: field -> column index (-1: the sheet has no such column; ``texts`` ends with "")
        self.x = SimpleNamespace(**{name: cols.get(name, -1) for name in (
            "serial", "make", "model", "calibre", "kind", "folio", "status", "location",
            "custodian", "agency", "acquired", "barrel_serial", "ballistic_id", "licence",
            "supplier", "purchase_ref")})
        self.places: dict[str, tuple[Location | None, str | None]] = {}
        self.writer = LogWriter(uow)
        locations = uow.repo.locations(agency.id)
        self.locations: dict[str, Location] = {loc.code.upper(): loc for loc in locations}
        self.location_names: dict[str, Location] = {}
        for loc in locations:
            self.location_names.setdefault(fold_text(loc.name), loc)
        self.default_location: Location | None = None
        if self.options.location:
            code = self.options.location.strip()
            self.default_location = self.locations.get(code.upper())
            if self.default_location is None:
                raise NotFound(f"location {code} not found in {agency.code}", location=code)
        elif len(locations) == 1:
            self.default_location = locations[0]
        self.officers: dict[str, Officer] = {}
        offset = 0
        while True:
            page = uow.repo.officers(agency_id=agency.id, offset=offset, limit=10_000)
            self.officers.update((o.badge.upper(), o) for o in page.items)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                break
        self.licences: dict[str, int | None] = {}
        self.kinds: dict[str, FirearmKind | None] = {}
        self.dates: dict[str, date | DateError] = {}
        self.pending: list[_Planned] = []
        self.held: list[tuple[int, list[str], list[Problem]]] = []
        self.flushing = False
        self.batch_keys: dict[tuple[str, str], int] = {}
        self.ids = array("q")
        self.lines = array("q")
        self.used_overrides: set[int] = set()
        self.status_memo: dict[str, FirearmStatus | None] = {}
        self.plain_dates: dict[str, str] = {}
        self.calibre_memo: dict[str, str | None] = {}
        self.planned_type = _Planned
        self.batch = BATCH if self.report.slices is None else SLICED_BATCH
        #: Rows read and judged before the next slice takes the writer's lock (an import
        #: written in slices, between two slices): as many as the last slice wrote, so
        #: that a slice's time goes into writing rather than into reading rows while the
        #: desk waits, and fewer slices (each rewrites the pages of the random-keyed
        #: indexes it touches) carry the import.
        self.ahead = self.batch
        self.slice_rows = 0
        #: Between two slices: the last one was released (its checkpoint may still be running
        #: on the writer's thread) and the next has not taken the lock yet.
        self.between = False
        #: A slice's commit and the next slice's beginning are queued on the writer's
        #: thread (``_next_slice``): the connection is the writer's until ``wait``.
        self.committing = False
        x = self.x
        self.plain_columns = (x.serial, x.make, x.model, x.calibre, x.kind, x.folio, x.status,
                              x.location, x.custodian, x.agency, x.acquired, x.barrel_serial,
                              x.ballistic_id, x.licence, x.supplier, x.purchase_ref)

    def run(self) -> None:
        try:
            if self.report.slices is not None:
                self.report.slices.read_first()
            self._run()
            if self.report.slices is not None:
                self.report.slices.resume()  # the import's last entry comes next
        except BaseException:
            self.writer.close(failed=True)  # never leave a batch being written behind
            raise
        self.writer.close()

    def _run(self) -> None:
        # ``flush`` empties these two in place
        pending, batch_keys = self.pending, self.batch_keys
        cell_problems, plain, batch = self.cell_problems, self.plain, self.batch
        for line, cells in self.rows():
            problems = cell_problems(line, cells)
            planned = None if problems else plain(line, cells)
            if planned is None:
                planned = None if problems else self.plan(line, cells, problems)
                if planned is None:
                    self.reject(line, cells, problems)
                    continue
            key = planned.key
            first = batch_keys.get(key)
            if first is not None:
                self.reject(line, cells, [self.problem(
                    line, "serial", "repeated_in_file", what=planned.what, first=first)])
                continue
            batch_keys[key] = line
            pending.append(planned)
            if len(pending) >= batch and (len(pending) >= self.ahead or not self.between):
                self.flush()
        self.flush()
        self.sync()

    # -- one row ---------------------------------------------------------------------

    def texts(self, cells: list[str]) -> list[str]:
        """The row's cells stripped (and, from CSV, un-neutralized), plus ``""`` at the end
        for the fields the sheet lacks (their index is -1)."""
        texts = [c.strip() for c in cells]
        if self.csv and "\n'" in "\n" + "\n".join(texts):  # rarely: an apostrophe leads
            texts = [restore(t) if t[:1] == "'" else t for t in texts]
        texts.append("")
        return texts

    def plan(self, line: int, cells: list[str], problems: list[Problem]) -> _Planned | None:
        x = self.x
        v = self.texts(cells)
        serial, make, calibre, kind_text = v[x.serial], v[x.make], v[x.calibre], v[x.kind]
        if not (serial and make and calibre and kind_text):
            for name, text in (("serial", serial), ("make", make), ("calibre", calibre),
                               ("kind", kind_text)):
                if not text:
                    problems.append(self.problem(line, name, "required"))
        kind = None
        if kind_text:
            kind = self.kinds.get(kind_text)
            if kind is None and kind_text not in self.kinds:
                try:
                    kind = parse_kind(kind_text)
                except ValidationFailed:
                    kind = None
                if len(self.kinds) < 10_000:
                    self.kinds[kind_text] = kind
            if kind is None:
                problems.append(self.problem(line, "kind", "unknown_kind", value=kind_text,
                                             accepted=accepted_words(kind_words())))
        if calibre and known_calibre(calibre) is None:
            problems.append(self.problem(line, "calibre", "unknown_calibre", value=calibre,
                                         closest=", ".join(closest_calibres(calibre)) or "—"))
        badge = v[x.custodian].upper()
        status = self.status(line, v[x.status], bool(badge), problems)
        acquired = self.acquired(line, v[x.acquired], problems) if v[x.acquired] else None
        agency_text = v[x.agency]
        if agency_text and not self.is_this_agency(agency_text):
            problems.append(self.problem(line, "agency", "other_agency", value=agency_text,
                                         agency=self.agency.code))
        licence_id = self.licence(line, v[x.licence], problems) if v[x.licence] else None
        location_text = v[x.location]
        location, shop, to_create = None, None, None
        if status is S.IN_REPAIR:
            shop = location_text or NO_SHOP
            location = self.home(line, problems)
        elif status is not None or location_text:
            location, to_create = self.place(line, location_text, problems)
        officer = None
        if badge and (status is S.ISSUED or status is None):
            officer = self.officer(line, badge, problems)
        if problems:
            return None
        notes = None
        if self.notes:
            notes = {label: v[i] for i, label in self.notes if v[i]} or None
        if len(cells) > self.width:
            extra = {f"column {i + 1}": v[i] for i in range(self.width, len(cells)) if v[i]}
            notes = {**(notes or {}), **extra} or None
        data = registry_rules.FirearmInput(
            serial=serial, make=make, calibre=calibre, kind=kind or kind_text,
            model=v[x.model] or None, folio=v[x.folio] or None,
            barrel_serial=v[x.barrel_serial] or None, ballistic_id=v[x.ballistic_id] or None,
            licence_id=licence_id, acquired_on=acquired, supplier=v[x.supplier] or None,
            purchase_ref=v[x.purchase_ref] or None, notes=notes)
        try:
            new = registry_rules.register_firearm(
                self.agency, data, location.id if location is not None else -1, self.today)
        except ValidationFailed as exc:
            problems.append(self.domain_problem(line, exc))
            return None
        assert status is not None
        follow = self.custody(line, new, status, location, officer, shop, problems)
        if problems:
            return None
        if to_create is not None:
            location = self.create_location(line, to_create, problems)
            if location is None:
                return None
            new = registry_rules.register_firearm(self.agency, data, location.id, self.today)
        p = new.payload
        text, fields, location_id, _ = registration_of(new)
        return _Planned(line, cells, (p["make_key"], p["serial_key"]), new, follow, status,
                        location, officer, shop, (text, fields, location_id, follow))

    def status(self, line: int, text: str, has_custodian: bool,
               problems: list[Problem]) -> FirearmStatus | None:
        if not text:
            return S.ISSUED if has_custodian else S.IN_STORAGE
        status = self.status_memo.get(text)
        if status is None:
            try:
                status = parse_status(text)
            except ValidationFailed:
                problems.append(self.problem(line, "status", "unknown_status", value=text,
                                             accepted=accepted_words(_status_words())))
                return None
            if len(self.status_memo) < 10_000:
                self.status_memo[text] = status
        if status not in _IMPORTABLE:
            problems.append(self.problem(line, "status", "status_not_importable",
                                         status=status.value))
            return None
        if status is S.ISSUED and not has_custodian:
            problems.append(self.problem(line, "custodian", "issued_without_custodian"))
            return None
        if status is not S.ISSUED and has_custodian:
            problems.append(self.problem(line, "custodian", "custodian_not_issued",
                                         status=status.value))
            return None
        return status

    def acquired(self, line: int, text: str, problems: list[Problem]) -> date | None:
        if not text:
            return None
        found = self.dates.get(text)
        if found is None:
            try:
                found = parse_date(text, month_first=self.options.month_first)
            except DateError as exc:
                found = exc
            if len(self.dates) < 10_000:
                self.dates[text] = found
        if isinstance(found, DateError):
            order = "mm/dd/yyyy" if self.options.month_first else "dd/mm/yyyy"
            problems.append(self.problem(line, "acquired", "bad_date", value=text, order=order))
            return None
        if found > self.today:
            problems.append(self.problem(line, "acquired", "future_date",
                                         value=found.isoformat()))
            return None
        if len(self.plain_dates) < MEMO:
            self.plain_dates[text] = iso_date(found)  # type: ignore[assignment]
        return found

    def licence(self, line: int, text: str, problems: list[Problem]) -> int | None:
        if not text:
            return None
        if text not in self.licences:
            self.sync()
            if self.report.slices is not None:
                self.report.slices.resume()
                self.between = False
            try:
                ref = self.uow.repo.licence_ref(text)
            except DomainError:
                self.licences[text] = None
            else:  # a licence that does not cover this agency is answered by its own words
                self.licences[text] = ref.id if self.agency.id in ref.agency_ids else -1
        found = self.licences[text]
        if found is None:
            problems.append(self.problem(line, "licence", "unknown_licence", value=text))
        elif found == -1:
            problems.append(self.problem(line, "licence", "licence_not_covering", value=text,
                                         agency=self.agency.code))
            return None
        return found

    def home(self, line: int, problems: list[Problem]) -> Location | None:
        """The location for a row that names none; with --update the need is decided at
        the flush, where a row for a weapon already registered needs none."""
        if self.default_location is None and not self.options.update:
            problems.append(self.no_location(line))
        return self.default_location

    def place(self, line: int, text: str,
              problems: list[Problem]) -> tuple[Location | None, str | None]:
        """The location a cell names (by code or name), or the one to create."""
        if not text:
            return self.home(line, problems), None
        known = self.places.get(text)
        if known is not None:
            return known
        found = self.locations.get(text.upper()) or self.location_names.get(fold_text(text))
        if found is not None:
            if len(self.places) < 10_000:
                self.places[text] = (found, None)
            return found, None
        if self.options.create_missing:
            return None, text
        problems.append(self.problem(line, "location", "unknown_location", value=text,
                                     agency=self.agency.code))
        return None, None

    def officer(self, line: int, badge: str, problems: list[Problem]) -> Officer | None:
        found = self.officers.get(badge)
        if found is not None:
            return found
        if self.options.create_missing:
            self.flush()  # the rows read so far come first in the log
            self.sync()
            try:
                with savepoint(self.uow):
                    ev = registry_service.add_officer(
                        self.uow, self.agency.code, registry_rules.OfficerInput(badge, badge))
            except DomainError as exc:
                problems.append(self.domain_problem(line, exc, "custodian"))
                return None
            created = Officer(id=ev.position, agency_id=self.agency.id, badge=ev.payload["badge"],
                              name=ev.payload["name"])
            self.officers[badge] = created
            self.report.created_officers.append(created.badge)
            return created
        problems.append(self.problem(line, "custodian", "unknown_custodian", badge=badge,
                                     agency=self.agency.code))
        return None

    def create_location(self, line: int, text: str, problems: list[Problem]) -> Location | None:
        code = _location_code(text, self.locations)
        self.flush()  # the rows read so far come first in the log
        self.sync()
        try:
            with savepoint(self.uow):
                ev = registry_service.add_location(self.uow, self.agency.code, code, text,
                                                   "armory")
        except DomainError as exc:
            problems.append(self.domain_problem(line, exc, "location"))
            return None
        created = Location(ev.position, self.agency.id, ev.payload["code"], ev.payload["name"],
                           ev.payload["kind"])
        self.locations[created.code.upper()] = created
        self.location_names.setdefault(fold_text(created.name), created)
        self.report.created_locations.append(created.code)
        return created

    # -- batches -----------------------------------------------------------------------

    def reject(self, line: int, cells: list[str], problems: list[Problem]) -> None:
        """Held until the batch is written: a row refused at the batch's check (already
        registered) would otherwise come after the rows refused as they were read, and the
        report and the rejected-rows file list refused rows in the file's order."""
        self.held.append((line, cells, problems))
        if len(self.held) >= BATCH and not self.flushing:
            self.flush()

    def flush(self) -> None:
        """Append the pending rows, a batch at a time, then report the refused ones in
        line order."""
        self.flushing = True
        try:
            pending = self.pending[:]
            self.pending.clear()
            self.batch_keys.clear()
            for start in range(0, len(pending), self.batch):
                self._flush(pending[start:start + self.batch])
        finally:
            self.flushing = False
        held, self.held = self.held, []
        held.sort(key=lambda refused: refused[0])
        for line, cells, problems in held:
            super().reject(line, cells, problems)

    def _flush(self, pending: list[_Planned]) -> None:
        if not pending:
            return
        slices = self.report.slices
        if slices is not None and (self.committing or self.uow.released):
            # the last slice's checkpoint, or its commit, which may still be running
            self.writer.wait()
            self.committing = False
            slices.resume()
            self.between = False
        if slices is not None and self.writer.import_entry is None:
            self.writer.wait()
            self.writer.import_entry = slices.start()
        self.check_plain(pending)
        at = self.uow.entry_instant()  # under the lock: never before the last entry
        # Prepared while the previous batch is still being written, on the likely
        # outcome (no row is already registered); prepared again if some row is.
        # The look-up runs on the writer's thread after the batch in flight, meanwhile.
        registered = self.writer.registered_later(planned.key for planned in pending)
        hopeful = [planned for planned in pending if planned.location is not None]
        batch = self.writer.prepare([planned.item for planned in hopeful], at)
        found = registered()
        first = self.report.first_position or 0
        accepted: list[_Planned] = []
        updates: list[tuple[_Planned, Registered]] = []
        refused: list[tuple[_Planned, Problem]] = []
        for planned in pending:
            hit = found.get(planned.key) if found else None
            if hit is None:
                if planned.location is None:
                    refused.append((planned, self.no_location(planned.line)))
                else:
                    accepted.append(planned)
                continue
            fields = planned.item[1]
            if hit.id >= first and self._line_of(hit.id) is not None:
                refused.append((planned, self.problem(
                    planned.line, "serial", "repeated_in_file", what=planned.what,
                    first=self._line_of(hit.id))))
            elif hit.agency_id != self.agency.id:
                other = self.uow.repo.org_unscoped(hit.agency_id).code
                refused.append((planned, self.problem(
                    planned.line, "serial", "registered_elsewhere", make=fields[2],
                    serial=fields[0], agency=other)))
            elif not self.options.update:
                refused.append((planned, self.problem(
                    planned.line, "serial", "registered_here", make=fields[2],
                    serial=fields[0])))
            else:
                updates.append((planned, hit))
        if len(accepted) != len(hopeful):
            batch = self.writer.prepare([planned.item for planned in accepted], at)
        if batch is not None:
            self.writer.write(batch)
            self.ids.extend(batch.ids)
            self.lines.extend(planned.line for planned in accepted)
            self.slice_rows += len(accepted)
            end = slices.due() if slices is not None else None
            if end == LONGEST:
                # Nobody waits for the lock (a slice at its longest, on SQLite): the slice
                # is committed, checkpointed and the next one begun on the writer's thread
                # once the batch is written, while the next rows are read and judged.
                self.writer.then(self._next_slice)
                self.committing = True
                self.slice_rows = 0
            elif end == YIELD:
                assert slices is not None
                # A writer waits (or writers cannot say whether they do: PostgreSQL): the
                # slice is committed and the writer's lock let go here, once the batch is
                # written (on a loaded machine, a commit on the writer's thread would wait
                # for the interpreter lock at each step while the desk waits); its pages
                # go into the database on the writer's thread while the next rows are read
                # and judged, and the desk gets in before the next slice.
                self.writer.wait()
                slices.release(checkpoint=False)
                self.writer.in_background(self._after_slice)
                self.between = True
                self.ahead = min(AHEAD_MOST, max(self.batch, self.slice_rows))
                self.slice_rows = 0
        self.report.imported += len(accepted)
        for planned, problem in sorted(refused, key=lambda item: item[0].line):
            self.reject(planned.line, planned.cells, [problem])
        if updates:
            self.writer.restore_indexes()  # the services look weapons up by serial
        for planned, hit in updates:
            self.update(self.full(planned), hit)

    def _next_slice(self) -> None:
        """On the writer's thread: commit the slice, checkpoint, and take the lock again for
        the next one (a writer that came meanwhile goes first; an inspection opened at the
        agency refuses the rest, raised at the next ``wait``)."""
        slices = self.report.slices
        assert slices is not None
        slices.release(checkpoint=False)
        self._after_slice()
        slices.resume()

    def _after_slice(self) -> None:
        """A committed slice's pages into the database, and the writer ready for the next."""
        slices = self.report.slices
        assert slices is not None
        slices.checkpoint()
        self.writer.between_slices()

    def full(self, planned: _Planned) -> _Planned:
        """The row as the domain judges it (``plan``); a plain row is judged again."""
        if planned.registration is not None:
            return planned
        judged = self.plan(planned.line, planned.cells, [])
        if judged is None or judged.item != planned.item:
            raise RuntimeError(f"line {planned.line}: the plain reading differs from the domain's")
        return judged

    def check_plain(self, pending: list[_Planned]) -> None:
        """The first plain row of a batch against the domain's own registration."""
        for planned in pending:
            if planned.registration is None:
                self.full(planned)
                return

    def _line_of(self, fid: int) -> int | None:
        at = bisect_left(self.ids, fid)
        if at < len(self.ids) and self.ids[at] == fid:
            return int(self.lines[at])
        return None

def _location_code(name: str, taken: Mapping[str, Location]) -> str:
    """A code for a location created from its name (``Armería Norte`` -> ``ARMERIA-NORTE``)."""
    import re
    import unicodedata

    bare = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    code = re.sub(r"[^A-Za-z0-9]+", "-", bare).strip("-").upper()[:60] or "LOC"
    candidate, n = code, 2
    while candidate.upper() in taken:
        candidate = f"{code}-{n}"
        n += 1
    return candidate
