"""Importing officers and locations: a row at a time, through the ordinary services.

A roster has hundreds or thousands of rows, not millions: each row goes
through ``services.registry`` exactly as a single ``officer add`` or
``location add`` would, inside a savepoint, so a row refused half-way (a
status change after the registration) leaves nothing behind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from resguardo.domain import registry as domain_registry
from resguardo.domain.codes import LocationKind, OfficerStatus
from resguardo.domain.errors import DomainError, NotFound
from resguardo.domain.registry import OfficerInput
from resguardo.domain.vocabulary import fold_text
from resguardo.services import custody as custody_service
from resguardo.services import registry as registry_service
from resguardo.services.imports import (
    ImportOptions,
    ImportReport,
    Problem,
    Progress,
    RejectSink,
    RowImport,
    accepted_words,
)
from resguardo.sheets import DateError, Sheet, SheetSchema, parse_date
from resguardo.sheets.roster import (
    LOCATION_SHEET,
    OFFICER_SHEET,
    location_kind_words,
    officer_status_words,
    parse_location_kind,
    parse_officer_status,
)
from resguardo.storage.import_batch import savepoint
from resguardo.storage.uow import UnitOfWork

T = TypeVar("T")

SCHEMAS: dict[str, SheetSchema] = {"officers": OFFICER_SHEET, "locations": LOCATION_SHEET}


def run(kind: str, uow: UnitOfWork, agency: Any, sheet: Sheet, options: ImportOptions,
        report: ImportReport, progress: Progress | None, rejects: RejectSink | None) -> None:
    """Import every row of an open officers or locations sheet into ``agency``."""
    cls = OfficerImport if kind == "officers" else LocationImport
    cls(uow, agency, sheet, options, report, progress, rejects).run()


class _Refused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("row refused")
        self.problems = problems


class _RosterImport(RowImport, ABC):
    def run(self) -> None:
        seen: dict[str, int] = {}
        for line, cells in self.rows():
            problems = self.cell_problems(line, cells)
            if problems:
                self.reject(line, cells, problems)
                continue

            def first_look(line: int = line, cells: list[str] = cells) -> bool:
                key = self.key(line, cells)
                if key in seen:
                    raise _Refused([self.problem(line, self.key_field, "repeated_in_file",
                                                 what=key, first=seen[key])])
                seen[key] = line
                return self.queue(line, cells)

            queued = self._attempt(line, cells, first_look)
            if queued is None:
                continue
            if queued:
                self.report.imported += 1
                if self.full():
                    self.flush()  # every row was judged as it was queued
                continue
            self.flush()  # the rows queued before this one enter the log first

            def write(line: int = line, cells: list[str] = cells) -> str:
                with savepoint(self.uow):
                    return self.row(line, cells)

            outcome = self._attempt(line, cells, write)
            if outcome is None:
                continue
            if outcome == "imported":
                self.report.imported += 1
            elif outcome == "updated":
                self.report.updated += 1
            else:
                self.report.unchanged += 1
        self.flush()

    def _attempt(self, line: int, cells: list[str], step: Callable[[], T]) -> T | None:
        """``step()``, or None when it refused the row (the row is rejected, named)."""
        try:
            return step()
        except _Refused as refusal:
            self.reject(line, cells, refusal.problems)
        except DomainError as exc:
            self.reject(line, cells, [self.domain_problem(line, exc, self.key_field)])
        return None

    key_field = ""

    def queue(self, line: int, cells: list[str]) -> bool:
        """Take the row into the batch appended at the next ``flush`` (True), or leave it
        to ``row`` (False); raise ``_Refused`` or ``DomainError`` to refuse it."""
        return False

    def full(self) -> bool:
        """Whether the rows ``queue`` took are to be appended now."""
        return False

    def flush(self) -> None:
        """Append the rows ``queue`` took."""

    @abstractmethod
    def key(self, line: int, cells: list[str]) -> str:
        """The row's identity in the file (badge, location code), to refuse repeats."""

    @abstractmethod
    def row(self, line: int, cells: list[str]) -> str:
        """Write one row; answer "imported", "updated" or "unchanged"."""

    def text(self, cells: list[str], name: str) -> str:
        return self.value(cells, self.sheet.columns.get(name))

    def check_agency(self, line: int, cells: list[str], problems: list[Problem]) -> None:
        text = self.text(cells, "agency")
        if text and not self.is_this_agency(text):
            problems.append(self.problem(line, "agency", "other_agency", value=text,
                                         agency=self.agency.code))


class OfficerImport(_RosterImport):
    """The roster: one officer per row (badge, name, credentials, status)."""

    key_field = "badge"

    def key(self, line: int, cells: list[str]) -> str:
        badge = self.text(cells, "badge").upper()
        if not badge:
            raise _Refused([self.problem(line, "badge", "required")])
        return badge

    def _date(self, line: int, cells: list[str], name: str,
              problems: list[Problem]) -> date | None:
        text = self.text(cells, name)
        if not text:
            return None
        try:
            return parse_date(text, month_first=self.options.month_first)
        except DateError:
            order = "mm/dd/yyyy" if self.options.month_first else "dd/mm/yyyy"
            problems.append(self.problem(line, name, "bad_date", value=text, order=order))
            return None

    #: Rows appended together (``registry.add_officers``): a batch's officers enter the
    #: log in one statement per table instead of a few round trips each.
    BATCH = 1000

    def _read(self, line: int, cells: list[str]
              ) -> tuple[OfficerInput, OfficerStatus, str, str | None]:
        """The row's officer, status (and its text) and licence; ``_Refused`` names every
        problem of the row."""
        problems: list[Problem] = []
        badge = self.text(cells, "badge").upper()
        name = self.text(cells, "name")
        if not name:
            problems.append(self.problem(line, "name", "required"))
        status_text = self.text(cells, "status")
        status = OfficerStatus.ACTIVE
        if status_text:
            try:
                status = parse_officer_status(status_text)
            except DomainError:
                problems.append(self.problem(line, "status", "unknown_officer_status",
                                             value=status_text,
                                             accepted=accepted_words(officer_status_words())))
        credential = self._date(line, cells, "credential_expiry", problems)
        qualification = self._date(line, cells, "qualification_expiry", problems)
        self.check_agency(line, cells, problems)
        licence = self.text(cells, "licence") or None
        if problems:
            raise _Refused(problems)
        data = OfficerInput(badge=badge, name=name, cuip=self.text(cells, "cuip") or None,
                            credential_folio=self.text(cells, "credential_folio") or None,
                            credential_expiry=credential, qualification_expiry=qualification)
        return data, status, status_text, licence

    def queue(self, line: int, cells: list[str]) -> bool:
        """A new, active officer without a licence joins the batch; anything else (an
        existing badge, a status to set, a licence to look up) goes through ``row``."""
        if getattr(self, "_badges", None) is None:
            self.uow.lock()  # the badges read now stay true until the import commits
            self._badges: set[str] | None = self.uow.repo.agency_badges(self.agency.id)
            self._pending: list[OfficerInput] = []
        assert self._badges is not None
        badge = self.text(cells, "badge").upper()
        if badge in self._badges:
            return False
        data, status, _, licence = self._read(line, cells)
        if status is not OfficerStatus.ACTIVE or licence:
            return False
        domain_registry.register_officer(self.agency, data)  # refuses the row as add_officer would
        self._pending.append(data)
        self._badges.add(badge)
        return True

    def full(self) -> bool:
        return len(getattr(self, "_pending", ())) >= self.BATCH

    def flush(self) -> None:
        pending = getattr(self, "_pending", None)
        if pending:
            self._pending = []
            registry_service.add_officers(self.uow, self.agency.code, pending)

    def row(self, line: int, cells: list[str]) -> str:
        data, status, status_text, licence = self._read(line, cells)
        badge = data.badge
        credential, qualification = data.credential_expiry, data.qualification_expiry
        uow, code = self.uow, self.agency.code
        try:
            existing = uow.repo.officer(self.agency.id, badge)
        except NotFound:
            existing = None
        if existing is None:
            registry_service.add_officer(uow, code, data, licence)
            if status is OfficerStatus.SUSPENDED:
                registry_service.suspend_officer(uow, code, badge, self.reason)
            elif status is OfficerStatus.SEPARATED:
                registry_service.separate_officer(uow, code, badge, self.reason)
            return "imported"
        if not self.options.update:
            raise _Refused([self.problem(line, "badge", "badge_taken", badge=badge,
                                         agency=code)])
        changed = False
        changes = {k: v for k, v in (("name", data.name), ("cuip", data.cuip))
                   if v and v != getattr(existing, k)}
        if changes:
            custody_service.correct(uow, existing.id, changes, self.reason)
            changed = True
        renew: dict[str, Any] = {}
        if credential is not None and credential != existing.credential_expiry:
            renew["credential_expiry"] = credential
            renew["credential_folio"] = data.credential_folio or existing.credential_folio
        if qualification is not None and qualification != existing.qualification_expiry:
            renew["qualification_expiry"] = qualification
        if renew:
            registry_service.renew_officer(uow, code, badge, **renew)
            changed = True
        if status is not existing.status and status_text:
            if status is OfficerStatus.SUSPENDED:
                registry_service.suspend_officer(uow, code, badge, self.reason)
            elif status is OfficerStatus.SEPARATED:
                registry_service.separate_officer(uow, code, badge, self.reason)
            else:
                registry_service.reinstate_officer(uow, code, badge, self.reason)
            changed = True
        return "updated" if changed else "unchanged"


class LocationImport(_RosterImport):
    """Locations: one place per row (code, name, kind)."""

    key_field = "code"

    def key(self, line: int, cells: list[str]) -> str:
        code = self.text(cells, "code")
        if not code:
            raise _Refused([self.problem(line, "code", "required")])
        return code.upper()

    def row(self, line: int, cells: list[str]) -> str:
        problems: list[Problem] = []
        code, name = self.text(cells, "code"), self.text(cells, "name")
        if not name:
            problems.append(self.problem(line, "name", "required"))
        kind_text = self.text(cells, "kind")
        kind = LocationKind.ARMORY
        if kind_text:
            try:
                kind = parse_location_kind(kind_text)
            except DomainError:
                problems.append(self.problem(line, "kind", "unknown_location_kind",
                                             value=kind_text,
                                             accepted=accepted_words(location_kind_words())))
        self.check_agency(line, cells, problems)
        if problems:
            raise _Refused(problems)
        try:
            existing = self.uow.repo.location(self.agency.id, code)
        except NotFound:
            existing = None
        if existing is None:
            registry_service.add_location(self.uow, self.agency.code, code, name, kind.value)
            return "imported"
        same = fold_text(existing.name) == fold_text(name) and existing.kind == kind.value
        if self.options.update and same:
            return "unchanged"
        raise _Refused([self.problem(line, "code", "location_taken", code=existing.code,
                                     agency=self.agency.code)])
