"""Bulk import: an agency's inventory, roster or locations from a spreadsheet.

Every row is validated before its events are accepted; the report names the
file line (as a spreadsheet program numbers it), the column and the problem,
in Spanish or English. Each imported firearm is a ``firearm.registered``
event decided by the same domain code (``domain.registry.register_firearm``)
and checked like a single registration (scope, permission, (make, serial)
unique in the whole system); a weapon the sheet shows issued or in repair
gets the custody event the custody service would append. The import itself
is an ``import.completed`` event with the file's name and SHA-256.

The entry point commits only when the report says so (``ImportReport.commit``):
never on a dry run, and never in the default all-or-nothing mode when a row was
refused.

A firearms import of a file of 1 MiB or more (``SLICED_FROM_BYTES``; not a dry
run, not ``--update`` nor ``--create-missing``) is written in slices, so that the desk never waits for it long: an
``import.started`` entry opens it (the ``imports`` row, ``running``); every
weapon it registers names that entry (``import_entry``, ``firearms.import_id``)
and takes no entry of anyone while the import runs (``UnitOfWork.
refuse_if_importing``); once a slice has held the writer's lock
``RESGUARDO_IMPORT_SLICE_SECONDS`` and another writer waits (on SQLite; on PostgreSQL,
which cannot tell, every ``RESGUARDO_IMPORT_SLICE_SECONDS``), or at ``SLICE_LONGEST``
times that, the slice written so far is committed and the writer's lock let go for a
moment (``Slices.due``). The
``import.completed`` entry, committed by the entry point, makes the weapons the
registry's. An import that fails after a slice was committed (a refused row in
all-or-nothing mode, an error, Ctrl-C) is taken back by ``import.voided``
entries, a slice of weapons each, which the projection honours by removing them
(``storage.projector``); one whose process died is taken back by the next import
(``void_abandoned``, ``storage.import_liveness``). Either way the registry is
as it was, and the log says what happened. Other imports are one unit of work,
which an interruption leaves as it was.

Firearms stream through in batches (``import_firearms``,
``storage.import_batch``); memory stays flat whatever the file size.
Officers and locations, a few hundred rows, go through the ordinary
services one row at a time (``import_roster``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

from resguardo.domain.entities import NewEvent, Organization
from resguardo.domain.errors import T_, DomainError, PermissionDenied, Phrase, ValidationFailed
from resguardo.domain.policy import Action, authorize
from resguardo.domain.vocabulary import fold_text
from resguardo.reports.spreadsheets import CsvWriter
from resguardo.services.import_messages import PLACES, column_letter, render
from resguardo.sheets import Sheet, SheetSchema, open_sheet
from resguardo.sheets.formulas import restore
from resguardo.sheets.guard import CONTROL_CHARACTERS, SheetLimits, check_file
from resguardo.sheets.xlsxfile import Formula
from resguardo.storage import import_liveness, import_queries
from resguardo.storage.database import WaitingWriters, is_sqlite
from resguardo.storage.database import checkpoint_passive as storage_checkpoint_passive
from resguardo.storage.database import checkpoint_wal as storage_checkpoint
from resguardo.storage.database import temp_in_memory as storage_temp_in_memory
from resguardo.storage.import_batch import log_position
from resguardo.storage.uow import UnitOfWork

#: Rows between two progress reports.
PROGRESS_EVERY = 1000
#: Files from this size on are imported in slices (when ``is_sliced``); a smaller one is
#: written in about one slice's time anyway, and stays one unit of work.
SLICED_FROM_BYTES = 1 << 20
#: Weapons taken back by one ``import.voided`` entry (one transaction).
VOID_SLICE = 20_000
#: Between two slices on SQLite, every writer waiting for the lock goes first
#: (``UnitOfWork.resume``); where writers cannot say they wait, the import waits this many
#: seconds before taking the lock again: longer than the busy handler's longest sleep
#: (100 ms), so a waiting writer gets in.
SLICE_PAUSE = 0.12
#: On SQLite, while no writer waits for the lock, a slice goes on up to this many times
#: ``RESGUARDO_IMPORT_SLICE_SECONDS`` (``Slices.due``; 5 s by default): a writer that
#: cannot say it waits (another program) gets in within about that long.
SLICE_LONGEST = 20
#: How a slice ends (``Slices.due``): letting waiting writers in, or at its longest.
YIELD, LONGEST = "yield", "longest"


def slice_seconds() -> float:
    """RESGUARDO_IMPORT_SLICE_SECONDS: how long a sliced import holds the writer's lock
    before it commits what it wrote and lets the desk in (default 0.25)."""
    raw = os.environ.get("RESGUARDO_IMPORT_SLICE_SECONDS") or "0.25"
    try:
        value = float(raw)
    except ValueError:
        raise ValidationFailed(f"RESGUARDO_IMPORT_SLICE_SECONDS must be a number, got {raw!r}",
                               field="RESGUARDO_IMPORT_SLICE_SECONDS") from None
    if not value > 0:
        raise ValidationFailed("RESGUARDO_IMPORT_SLICE_SECONDS must be more than 0",
                               field="RESGUARDO_IMPORT_SLICE_SECONDS")
    return value
KINDS = ("firearms", "officers", "locations")
#: Header of the column the rejected-rows file adds; left out when such a file is re-imported.
ERROR_COLUMN = "error"


@dataclass(frozen=True)
class ImportOptions:
    """How to import one file."""

    agency: str | None = None
    """Agency code (default: the acting user's own agency)."""
    dry_run: bool = False
    skip_invalid: bool = False
    update: bool = False
    create_missing: bool = False
    month_first: bool = False
    location: str | None = None
    """Location code for rows that name none."""
    sheet: str | None = None
    mapping: Mapping[str, str] | None = None
    """Header as written -> field name, ``note`` or ``ignore`` (see ``sheets.open_sheet``)."""
    name: str | None = None
    """The file's name as the person gave it (default: the path's)."""
    limits: SheetLimits = field(default_factory=SheetLimits.from_env)
    max_problems: int = 1000
    """Problems kept in the report (all are counted, and all reach the rejects sink)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one row (or one cell of it) was refused."""

    line: int
    column: str | None
    index: int | None
    code: str
    params: dict[str, Any]

    def message(self, lang: str = "en", surface: str = "cli") -> str:
        """What is wrong, in ``lang``, naming options as ``surface`` gives them
        (``import_messages.OPTION_NAMES``)."""
        return render(self.code, self.params, lang, surface)

    def text(self, file: str, lang: str = "en", surface: str = "cli") -> str:
        """``file, line N, column C (header): message`` in ``lang``."""
        line_word, column_word = PLACES["es" if lang == "es" else "en"]
        where = f"{file}, {line_word} {self.line}"
        if self.index is not None:
            where += f", {column_word} {column_letter(self.index)}"
            if self.column:
                where += f" ({self.column})"
        elif self.column:
            where += f", {column_word} {self.column}"
        return f"{where}: {self.message(lang, surface)}"

    def as_dict(self, lang: str = "en", surface: str = "cli") -> dict[str, Any]:
        return {"line": self.line, "column": self.column,
                "column_letter": column_letter(self.index) if self.index is not None else None,
                "code": self.code, "message": self.message(lang, surface)}


class RejectSink(Protocol):
    """Where refused rows go, as read, with their problems (the rejected-rows file)."""

    def header(self, headers: list[str]) -> None: ...

    def row(self, line: int, cells: list[str], problems: list[Problem]) -> None: ...


class CsvRejects:
    """The rejected-rows file: the header as read plus ``error``, then each refused row."""

    def __init__(self, out: IO[str], file: str, lang: str, surface: str = "cli") -> None:
        self.writer = CsvWriter(out)
        self.file = file
        self.lang = lang
        self.surface = surface
        self.width = 0
        self.keep: list[int] = []

    def header(self, headers: list[str]) -> None:
        kept = [h for h in headers if h.strip().lower() != ERROR_COLUMN]
        self.keep = [i for i, h in enumerate(headers) if h.strip().lower() != ERROR_COLUMN]
        self.width = len(headers)
        self.writer.row([*kept, ERROR_COLUMN])

    def row(self, line: int, cells: list[str], problems: list[Problem]) -> None:
        padded = [*cells, *([""] * (self.width - len(cells)))]
        kept = [padded[i] for i in self.keep] + padded[self.width:]
        message = "; ".join(p.text(self.file, self.lang, self.surface) for p in problems)
        self.writer.row([*kept, message])


def rejects_name(name: str, lang: str) -> str:
    """The rejected-rows file's name: the import's, plus what it holds (ASCII, as an HTTP
    download names it)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._") or "import"
    return f"{stem[:80]}-{'rechazos' if lang == 'es' else 'rejected'}.csv"


Progress = Callable[[int, int, int], None]
"""Called with (rows read, bytes read, file size) as an import advances."""


@dataclass
class ImportReport:
    """What an import did, or would do (dry run), and what it refused."""

    kind: str
    file: str
    sha256: str
    agency: str
    dry_run: bool
    skip_invalid: bool
    update: bool
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    created_locations: list[str] = field(default_factory=list)
    created_officers: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    """Header as written -> the field it was read as (``note`` for notes)."""
    entry: int | None = None
    """Position of the ``import.completed`` event (when committed)."""
    started: int | None = None
    """Position of the ``import.started`` event of an import written in slices."""
    voided: bool = False
    """A sliced import that failed and was taken back (``import.voided``)."""
    slices: Slices | None = field(default=None, repr=False, compare=False)
    """How a sliced import commits as it goes (None: one unit of work)."""
    first_position: int | None = None
    last_position: int | None = None

    @property
    def failed(self) -> bool:
        """All-or-nothing refused: some row is invalid and --skip-invalid was not given."""
        return self.rejected > 0 and not self.skip_invalid

    @property
    def commit(self) -> bool:
        """Whether the entry point should commit the unit of work."""
        return not self.dry_run and not self.failed

    def as_dict(self, lang: str = "en", surface: str = "cli") -> dict[str, Any]:
        return {
            "kind": self.kind, "file": self.file, "sha256": self.sha256, "agency": self.agency,
            "dry_run": self.dry_run,
            "mode": "skip_invalid" if self.skip_invalid else "all_or_nothing",
            "update": self.update, "committed": self.commit and self.entry is not None,
            "rows": self.rows, "imported": self.imported, "updated": self.updated,
            "unchanged": self.unchanged, "rejected": self.rejected,
            "created": {"locations": self.created_locations, "officers": self.created_officers},
            "entry": self.entry, "started": self.started, "voided": self.voided,
            "headers": self.headers, "mapping": self.mapping,
            "problem_count": self.problem_count,
            "problems": [p.as_dict(lang, surface) for p in self.problems],
        }


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def agency_for(uow: UnitOfWork, given: str | None) -> Organization:
    """The agency an import is for: the one given, or the acting user's own agency."""
    if given:
        return uow.repo.org(given)
    if uow.actor is not None and uow.actor.scope.holds_weapons:
        return uow.actor.scope
    raise ValidationFailed("give the agency (your scope is not a single agency)", field="agency")


def import_file(uow: UnitOfWork, kind: str, path: str | os.PathLike[str],
                options: ImportOptions | None = None, *, progress: Progress | None = None,
                rejects: RejectSink | None = None) -> ImportReport:
    """Import ``path`` (``kind``: firearms, officers or locations) in this unit of work.

    Refuses the whole file (``ValidationFailed``) when it is hostile, its header
    cannot be understood, or it has more rows than the limit; otherwise refused
    rows are in the report. The caller commits when ``report.commit``.
    """
    options = options or ImportOptions()
    if kind not in KINDS:
        raise ValidationFailed(f"unknown import {kind!r}; use one of {', '.join(KINDS)}",
                               field="kind")
    name = options.name or Path(path).name
    agency = agency_for(uow, options.agency)
    action = {"firearms": Action.FIREARM_REGISTER, "officers": Action.OFFICER_MANAGE,
              "locations": Action.LOCATION_MANAGE}[kind]
    if uow.actor is not None:
        authorize(uow.actor, action, agency.path, "organization")
    if not agency.holds_weapons:
        raise ValidationFailed(T_("%(code)s is not an agency; imports are per agency"),
                               field="agency", code=agency.code)
    # an open inspection freezes the agency's books: the whole file is refused, recorded
    uow.refuse_if_frozen(agency.id, f"import.{kind}", name)
    check_file(path, options.limits, name=name)
    report = ImportReport(kind=kind, file=name, sha256=file_sha256(path), agency=agency.code,
                          dry_run=options.dry_run, skip_invalid=options.skip_invalid,
                          update=options.update)
    if kind == "firearms":
        from resguardo.services import import_firearms as runner
    else:
        from resguardo.services import import_roster as runner  # type: ignore[no-redef]
    sheet = open_sheet(path, runner.SCHEMAS[kind], sheet_name=options.sheet,
                       mapping=options.mapping, max_columns=options.limits.max_columns,
                       label=name, formulas=True)
    if kind == "firearms" and not options.dry_run:
        void_abandoned(uow, agency.id)  # a dead import's weapons would hold their serials
    if is_sliced(kind, options) and os.path.getsize(path) >= SLICED_FROM_BYTES:
        # The import's entries begin at its ``import.started`` (``Slices.start``); its
        # first rows are read without the writer's lock (``Slices.read_first``).
        report.slices = Slices(uow, agency, report, options)
    else:
        report.first_position = log_position(uow)  # where this import's entries begin
    try:
        with sheet:
            describe(sheet, report)
            if rejects is not None:
                rejects.header(sheet.headers)
            runner.run(kind, uow, agency, sheet, options, report, progress, rejects)
        if report.rows == 0:
            # a header alone is not an import: refused whole, so that no entry says it
            # happened
            raise ValidationFailed(T_("%(file)s: no rows to import"), field="file", file=name)
        report.problems.sort(key=lambda p: (p.line, p.index if p.index is not None else -1))
        if report.commit:
            if report.first_position is None:  # a sliced import that wrote no weapon
                report.first_position = log_position(uow)
            report.last_position = log_position(uow) - 1
            payload: dict[str, Any] = {
                "kind": kind, "file": name, "sha256": report.sha256, "rows": report.rows,
                "imported": report.imported, "updated": report.updated,
                "unchanged": report.unchanged, "rejected": report.rejected,
                "skip_invalid": options.skip_invalid, "update": options.update,
                "first_position": report.first_position,
                "last_position": report.last_position,
                "created_locations": report.created_locations,
                "created_officers": report.created_officers,
            }
            if report.started is not None:
                payload["started"] = report.started
                if report.slices is not None and report.slices.committed:
                    uow.after_commit(lambda: checkpoint_wal(uow))
            ev = uow.append(NewEvent("import.completed", payload, org_id=agency.id))
            report.entry = ev.position
    except BaseException as exc:
        if report.started is not None:
            _void_after(uow, report, f"the import failed: {_why(exc)}")
        raise
    if report.started is not None and report.failed:
        _void_after(uow, report, f"{report.rejected} of {report.rows} rows were refused "
                                 "(all or nothing)")
    return report


# --- imports written in slices ------------------------------------------------------------


def is_sliced(kind: str, options: ImportOptions) -> bool:
    """Whether an import is written in slices (see the module docstring): a firearms import
    that only adds weapons. A dry run writes nothing; ``--update`` changes weapons already
    the registry's and ``--create-missing`` adds locations and officers, which a voided
    import could not take back: those stay one unit of work."""
    return (kind == "firearms" and not options.dry_run and not options.update
            and not options.create_missing)


class Slices:
    """A sliced import's ``import.started`` entry, and when it commits what it wrote and
    lets the desk in."""

    def __init__(self, uow: UnitOfWork, agency: Organization, report: ImportReport,
                 options: ImportOptions) -> None:
        self.uow = uow
        self.agency = agency
        self.report = report
        self.options = options
        self.seconds = slice_seconds()
        #: Where writers say they wait (SQLite): a slice goes on past ``seconds`` while
        #: none does, up to ``longest``; elsewhere every slice is ``seconds`` long.
        self.waiting = WaitingWriters.of(uow.engine)
        if self.waiting is not None:
            uow.on_exit(self.waiting.close)
        self.longest = self.seconds * SLICE_LONGEST
        self.pause = SLICE_PAUSE if is_sqlite(uow.engine) else 0.0
        self.began = time.monotonic()
        self.committed = 0

    def start(self) -> int:
        """Append ``import.started`` (once, before the first weapon) and hold the import's
        liveness lock until the unit of work ends; returns its position."""
        report = self.report
        if report.started is not None:
            return report.started
        ev = self.uow.append(NewEvent("import.started", {
            "kind": report.kind, "file": report.file, "sha256": report.sha256,
            "skip_invalid": self.options.skip_invalid, "update": self.options.update,
        }, org_id=self.agency.id))
        hold = import_liveness.Hold(self.uow.conn, ev.position)  # before it is seen running
        self.uow.on_exit(hold.release)
        report.started = report.first_position = ev.position
        self.began = time.monotonic()
        return ev.position

    def read_first(self) -> None:
        """Let the writer's lock go before the first rows are read and judged, as between
        two slices: the desk waits for a slice's writing, never for the reading before it
        (the first ``resume`` takes the lock and looks for an open inspection again)."""
        if self.report.started is None and not self.uow.released:
            self.uow.commit_and_release()
        if self.uow.released:
            # the slices' statement journals in memory, not in files (storage.database)
            storage_temp_in_memory(self.uow.conn)

    def due(self) -> str | None:
        """Whether the slice ends now, and how: None (it goes on), ``YIELD`` (a writer
        waits, or writers cannot say whether they wait: commit and let them in before the
        next slice) or ``LONGEST`` (nobody waits and the slice has held the lock
        ``longest``: commit, and go on).

        A slice lasts ``seconds`` where writers cannot say they wait; on SQLite, ``seconds``
        when a writer waits (asked after each batch: ``WaitingWriters``), else ``longest``.
        Every commit rewrites the pages of the random-keyed serial indexes that its slice
        touched, so an import that nobody waits for commits a few times rather than four
        times a second."""
        held = time.monotonic() - self.began
        if held < self.seconds:
            return None
        if self.waiting is None or self.waiting():
            return YIELD
        return LONGEST if held >= self.longest else None

    def release(self, *, checkpoint: bool = True) -> None:
        """Commit the slice and let the writer's lock go: the next rows are read and judged
        without it (``resume`` takes it again). ``checkpoint=False``: the caller runs
        ``checkpoint`` itself (on a thread of its own: the lock is free meanwhile)."""
        self.uow.commit_and_release()
        self.committed += 1
        if checkpoint:
            self.checkpoint()

    def checkpoint(self) -> None:
        """The slice's pages go into the database now, while the desk writes, rather than
        in the commit of the desk's next write (SQLite checkpoints in the commit that finds
        the write-ahead log past 1,000 pages)."""
        storage_checkpoint_passive(self.uow.conn)

    def resume(self) -> None:
        """Take the writer's lock again for the next slice; an inspection opened at the
        agency since refuses the rest (and the import is voided)."""
        if not self.uow.released:
            return
        self.uow.resume(self.pause)
        self.uow.lock()  # then the inspections: one opened while it waited is seen
        self.uow.refuse_if_frozen(self.agency.id, "import.firearms", self.report.file)
        self.began = time.monotonic()


def _why(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return type(exc).__name__


def _void_after(uow: UnitOfWork, report: ImportReport, reason: str) -> None:
    """Take back a sliced import that failed: its uncommitted slice is rolled back, its
    committed slices voided (each ``import.voided`` entry commits)."""
    assert report.started is not None
    uow.restart()
    started, report.started = report.started, None
    if import_queries.import_agency_unscoped(uow.repo.raw, started) is None:
        return  # nothing was committed yet: rolled back, as if it never happened
    report.started = started
    void_import(uow, started, reason)
    report.voided = True


def void_import(uow: UnitOfWork, started: int, reason: str) -> int:
    """Append and commit the ``import.voided`` entries that take back every weapon of the
    import started at ``started``, ``VOID_SLICE`` at a time (each its own transaction,
    the last one marks it voided); returns how many weapons were taken back."""
    agency_id = import_queries.import_agency_unscoped(uow.repo.raw, started)
    if agency_id is None:
        raise ValueError(f"no sliced import started at entry {started}")
    pause = SLICE_PAUSE if is_sqlite(uow.engine) else 0.0
    total = 0
    while True:
        uow.lock()
        ids = import_queries.import_weapons_unscoped(uow.repo.raw, started, VOID_SLICE)
        complete = len(ids) < VOID_SLICE
        uow.append(NewEvent("import.voided", {
            "started": started, "reason": reason, "weapons": len(ids),
            "first_position": ids[0] if ids else started,
            "last_position": ids[-1] if ids else started, "complete": complete,
        }, org_id=int(agency_id)))
        total += len(ids)
        uow.commit_and_continue(0.0 if complete else pause)
        if complete:
            return total


def void_abandoned(uow: UnitOfWork, agency_id: int | None = None) -> list[int]:
    """Void the sliced imports whose process died before finishing (``running`` or
    ``voiding`` with no live holder); returns their ``import.started`` entries."""
    done = []
    for started in import_queries.unfinished_imports_unscoped(uow.repo.raw, agency_id):
        if import_liveness.alive(uow.conn, started):
            continue
        void_import(uow, started, "the process running the import stopped before it ended")
        done.append(started)
    return done


def checkpoint_wal(uow: UnitOfWork) -> None:
    """After a large write on SQLite: copy the write-ahead log back into the database and
    cut it to nothing (``wal_checkpoint(TRUNCATE)``), so it does not stay hundreds of
    megabytes beside it until the last connection closes."""
    if not is_sqlite(uow.engine):
        return
    storage_checkpoint(uow.conn)


class RejectedRows(NamedTuple):
    """The rejected-rows file of a dry run, as a download gives it."""

    content: bytes
    """UTF-8 with a byte order mark (so that a spreadsheet program reads it as UTF-8)."""
    filename: str
    report: ImportReport


def rejected_rows(uow: UnitOfWork, kind: str, path: str | os.PathLike[str],
                  options: ImportOptions, lang: str, surface: str) -> RejectedRows:
    """Import ``path`` as a dry run and answer its refused rows as the rejected-rows file
    (``CsvRejects``), the messages in ``lang`` naming options as ``surface`` gives them."""
    out = io.StringIO()
    name = options.name or Path(path).name
    report = import_file(uow, kind, path, dataclasses.replace(options, dry_run=True),
                         rejects=CsvRejects(out, name, lang, surface))
    return RejectedRows(("\ufeff" + out.getvalue()).encode("utf-8"),
                        rejects_name(report.file, lang), report)


def describe(sheet: Sheet, report: ImportReport) -> None:
    """Record in the report the headers and the field each column is read as."""
    report.headers = list(sheet.headers)
    for name, index in sheet.columns.items():
        report.mapping[sheet.headers[index]] = name
    for index, label in sheet.note_columns.items():
        if index < len(sheet.headers) and sheet.headers[index]:
            report.mapping[label] = "ignore" if _is_error_column(label) else "note"
    for label in sheet.ignored_columns.values():
        report.mapping[label] = "ignore"


def _is_error_column(header: str) -> bool:
    return fold_text(header) in {"error", "errores", "errors"}


# --- what every row-by-row import shares -------------------------------------------------


class RowImport:
    """Reading rows, checking cells, counting and reporting problems."""

    schema: SheetSchema

    def __init__(self, uow: UnitOfWork, agency: Organization, sheet: Sheet,
                 options: ImportOptions, report: ImportReport, progress: Progress | None,
                 rejects: RejectSink | None) -> None:
        self.uow = uow
        self.agency = agency
        self.sheet = sheet
        self.options = options
        self.report = report
        self.progress = progress
        self.rejects = rejects
        self.limits = options.limits
        self.csv = sheet.format == "csv"
        self.width = sheet.width
        self.notes = [(i, label) for i, label in sheet.note_columns.items()
                      if not _is_error_column(label)]
        self.today = uow.today(agency.id)  # the agency's day: its evening is not tomorrow
        self.reason = f"import of {report.file}"
        self._agency_names = {fold_text(agency.code), fold_text(agency.name)}
        self._agency_seen: dict[str, bool] = {}

    # -- rows ------------------------------------------------------------------------

    def rows(self) -> Any:
        """``(line, cells)`` of each non-blank data row, padded; counts and limits them."""
        limit = self.limits.max_rows
        width = self.width
        report = self.report
        progress = self.progress
        size = self.sheet.size
        for line, cells in self.sheet.raw_rows():
            if len(cells) < width:
                if not any(c.strip() for c in cells):
                    continue
                cells = [*cells, *([""] * (width - len(cells)))]
            elif not cells[0].strip() and not any(c.strip() for c in cells):
                continue
            report.rows += 1
            if limit and report.rows > limit:
                raise ValidationFailed(
                    f"{report.file}: more than {limit:,} rows; the limit is {limit:,} "
                    "(RESGUARDO_IMPORT_MAX_ROWS)", file=report.file, line=line)
            if progress is not None and report.rows % PROGRESS_EVERY == 0:
                progress(report.rows, self.sheet.bytes_read(), size)
            yield line, cells
        if progress is not None:
            progress(report.rows, size, size)

    def cell_problems(self, line: int, cells: list[str]) -> list[Problem]:
        """Cells holding a formula, too long or holding control characters."""
        if not self.csv and any(type(c) is Formula for c in cells):
            ignored = self.sheet.ignored_columns
            formulas = [self.problem(line, index, "formula", cell=cell.cell,
                                     formula=_shortened(cell))
                        for index, cell in enumerate(cells)
                        if isinstance(cell, Formula) and index not in ignored]
            if formulas:
                return formulas
        limit = self.limits.max_cell
        if not limit or max(map(len, cells)) <= limit:
            # Every character of CONTROL_CHARACTERS is unprintable: a printable row (most
            # are) holds none, and the search is only needed for the others.
            joined = " ".join(cells)  # a space is neither unprintable nor in the class
            if joined.isprintable() or CONTROL_CHARACTERS.search(joined) is None:
                return []
        found = []
        for index, cell in enumerate(cells):
            if limit and len(cell) > limit:
                found.append(self.problem(line, index, "cell_too_long",
                                          length=len(cell), limit=limit))
                continue
            bad = CONTROL_CHARACTERS.search(cell)
            if bad is not None:
                found.append(self.problem(line, index, "control_character",
                                          char=f"{ord(bad.group()):04X}"))
        return found

    def value(self, cells: list[str], index: int | None) -> str:
        if index is None:
            return ""
        text = cells[index].strip()
        return restore(text) if self.csv and text[:1] == "'" else text

    def problem(self, line: int, column: str | int | None, code: str, /,
                **params: Any) -> Problem:
        if isinstance(column, str):
            index = self.sheet.columns.get(column)
            label = self.sheet.headers[index] if index is not None else column
        elif column is None:
            index, label = None, None
        else:
            index = column
            label = (self.sheet.headers[column] or None) if column < self.width else None
        return Problem(line, label, index, code, params)

    def domain_problem(self, line: int, exc: DomainError, default: str | None = None) -> Problem:
        """A refusal from the shared rules, placed in the column of the field it names."""
        name = exc.details.get("field")
        column = name if isinstance(name, str) and name in self.sheet.columns else default
        if column == "acquired_on":
            column = "acquired"
        if isinstance(exc, PermissionDenied) and {"role", "action"} <= exc.details.keys():
            return self.problem(line, column, "not_permitted", role=exc.details["role"],
                                action=exc.details["action"])
        message = Phrase(exc.template, **exc.params) if exc.templated else exc.message
        return self.problem(line, column, "refused", message=message)

    def reject(self, line: int, cells: list[str], problems: list[Problem]) -> None:
        report = self.report
        report.rejected += 1
        report.problem_count += len(problems)
        room = self.options.max_problems - len(report.problems)
        if room > 0:
            report.problems.extend(problems[:room])
        if self.rejects is not None:
            self.rejects.row(line, cells, problems)

    def is_this_agency(self, text: str) -> bool:
        known = self._agency_seen.get(text)
        if known is None:
            known = fold_text(text) in self._agency_names
            if len(self._agency_seen) < 1000:
                self._agency_seen[text] = known
        return known


def _shortened(formula: str, limit: int = 60) -> str:
    return formula if len(formula) <= limit else formula[:limit - 1] + "…"


def accepted_words(words: dict) -> str:
    """The accepted spellings of a vocabulary, for a message."""
    return ", ".join(w for group in words.values() for w in group)
