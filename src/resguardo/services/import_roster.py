"""Importing officers and locations: a row at a time, through the ordinary services.

A roster has hundreds or thousands of rows, not millions: each row goes
through ``services.registry`` exactly as a single ``officer add`` or
``location add`` would, inside a savepoint, so a row refused half-way (a
status change after the registration) leaves nothing behind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date
from typing import Any

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
            try:
                key = self.key(line, cells)
                if key in seen:
                    raise _Refused([self.problem(line, self.key_field, "repeated_in_file",
                                                 what=key, first=seen[key])])
                seen[key] = line
                with savepoint(self.uow):
                    outcome = self.row(line, cells)
            except _Refused as refusal:
                self.reject(line, cells, refusal.problems)
                continue
            except DomainError as exc:
                self.reject(line, cells, [self.domain_problem(line, exc, self.key_field)])
                continue
            if outcome == "imported":
                self.report.imported += 1
            elif outcome == "updated":
                self.report.updated += 1
            else:
                self.report.unchanged += 1

    key_field = ""

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

    def row(self, line: int, cells: list[str]) -> str:
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
