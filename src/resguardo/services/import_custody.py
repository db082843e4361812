"""Where a sheet puts a weapon: custody events during an import.

A row may show a weapon issued to an officer or away for repair. For a weapon
the import registers, ``CustodyRows.custody`` asks the domain
(``domain.custody``) for the event that puts it there, appended right after its
registration. With ``--update``, a row for a weapon already registered to the
agency is brought in line through the custody and correction services, one
row at a time in a savepoint of its own (``update``). An import at an agency
under an open inspection is refused whole before any row (``imports.import_file``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resguardo.domain import custody as custody_rules
from resguardo.domain.codes import FirearmKind, FirearmStatus
from resguardo.domain.entities import Firearm, Location, NewEvent, Officer
from resguardo.domain.errors import DomainError, OfficerNotEligible
from resguardo.services import custody as custody_service
from resguardo.services import registry as registry_service
from resguardo.services.imports import Problem, RowImport
from resguardo.storage.import_batch import LogWriter, Registered, savepoint

if TYPE_CHECKING:
    from resguardo.services.import_firearms import _Planned

S = FirearmStatus
#: The shop of a weapon in repair when the sheet names none.
NO_SHOP = "not recorded / sin registrar"


class CustodyRows(RowImport):
    """``custody`` and ``update`` (mixed into ``FirearmImport``)."""

    # Set by FirearmImport (see there).
    writer: LogWriter
    locations: dict[str, Location]
    default_location: Location | None
    used_overrides: set[int]

    def sync(self) -> None:
        """Before using the connection: let the batch being written finish."""
        self.writer.wait()

    def no_location(self, line: int) -> Problem:
        """The problem of a row that needs a location and has none."""
        return self.problem(line, "location" if "location" in self.sheet.columns else None,
                            "location_required", agency=self.agency.code,
                            count=len(self.locations))

    def custody(self, line: int, new: NewEvent, status: FirearmStatus,
                location: Location | None, officer: Officer | None, shop: str | None,
                problems: list[Problem]) -> NewEvent | None:
        """The custody event that puts a newly registered weapon where the sheet says."""
        if status is S.IN_STORAGE:
            return None
        p = new.payload
        snapshot = Firearm(id=0, serial=p["serial"], serial_key=p["serial_key"], make=p["make"],
                           calibre=p["calibre"], kind=FirearmKind(p["kind"]),
                           agency_id=self.agency.id, status=S.IN_STORAGE,
                           location_id=location.id if location is not None else None)
        try:
            if status is S.ISSUED:
                assert officer is not None
                now = self.uow.now()
                today = self.uow.today(self.agency.id, now)
                override = None
                if custody_rules.eligibility_problems(officer, today):
                    self.sync()  # the look-up reads on the connection the batch writer uses
                    # rows before this one may have used an override their entries,
                    # not yet projected, do not show as used
                    override = custody_service.override_for(self.uow, officer, now,
                                                            spent=self.used_overrides)
                event = custody_rules.issue(snapshot, officer, now, override, today=today)
                if event.payload.get("override_id") is not None:
                    self.used_overrides.add(event.payload["override_id"])
                return event
            return custody_rules.send_to_repair(snapshot, shop or NO_SHOP, self.reason)
        except OfficerNotEligible as exc:
            problems.append(self.problem(line, "custodian", "not_eligible", badge=officer.badge
                                         if officer else "", problems=exc.details["problems"]))
        except DomainError as exc:
            problems.append(self.domain_problem(line, exc, "status"))
        return None

    # -- --update ------------------------------------------------------------------------

    def update(self, planned: _Planned, hit: Registered) -> None:
        """Bring a weapon already registered here in line with its row, through the services."""
        try:
            with savepoint(self.uow):
                changed = self._update(planned, hit)
        except DomainError as exc:
            problem = (self.problem(planned.line, "custodian", "not_eligible",
                                    badge=exc.details.get("badge", ""),
                                    problems=exc.details["problems"])
                       if isinstance(exc, OfficerNotEligible)
                       else self.domain_problem(planned.line, exc, "serial"))
            self.reject(planned.line, planned.cells, [problem])
            return
        except _RowRefused as refusal:
            self.reject(planned.line, planned.cells, [refusal.problem])
            return
        if changed:
            self.report.updated += 1
        else:
            self.report.unchanged += 1

    def _update(self, planned: _Planned, hit: Registered) -> bool:
        uow = self.uow
        current = uow.repo.firearm_by_id(hit.id)
        assert planned.registration is not None  # full(): judged by the domain
        wanted = planned.registration.payload
        changes: dict[str, str] = {}
        recorded = {
            "model": current.model, "calibre": current.calibre, "kind": current.kind.value,
            "folio": current.folio, "barrel_serial": current.barrel_serial,
            "ballistic_id": current.ballistic_id,
            "acquired_on": current.acquired_on.isoformat() if current.acquired_on else None,
            "supplier": current.supplier, "purchase_ref": current.purchase_ref,
        }
        for name, old in recorded.items():
            new = wanted.get(name)
            if new is not None and new != old:
                changes[name] = str(new)
        changed = False
        if changes:
            custody_service.correct(uow, current.id, changes, self.reason)
            changed = True
        serial, make = current.serial, current.make
        licence_id = wanted.get("licence_id")
        if licence_id is not None and licence_id != current.licence_id:
            # the sheet names a licence covering the agency: the weapon goes on it (an alta)
            number = next(r["number"] for r in uow.repo.licences() if r["id"] == licence_id)
            registry_service.attach_firearm(uow, serial, number, self.reason, make)
            changed = True
        status = planned.status
        if status is S.IN_STORAGE and current.status is S.IN_STORAGE:
            if planned.location is not None and planned.location.id != current.location_id:
                custody_service.move(uow, serial, planned.location.code, make=make,
                                     reason=self.reason)
                changed = True
        elif status is S.ISSUED and current.status in (S.IN_STORAGE, S.ISSUED):
            assert planned.officer is not None
            if current.custodian_id != planned.officer.id:
                if current.status is S.ISSUED:
                    home = planned.location or self.default_location
                    if home is None:
                        raise _RowRefused(self.no_location(planned.line))
                    custody_service.return_(uow, serial, home.code, make=make)
                custody_service.issue(uow, serial, planned.officer.badge, make=make)
                changed = True
        elif status is S.IN_STORAGE and current.status is S.ISSUED:
            home = planned.location or self.default_location
            if home is None:
                raise _RowRefused(self.no_location(planned.line))
            custody_service.return_(uow, serial, home.code, make=make)
            changed = True
        elif status is S.IN_REPAIR and current.status is S.IN_STORAGE:
            custody_service.send_to_repair(uow, serial, planned.shop or NO_SHOP, make=make,
                                           reason=self.reason)
            changed = True
        elif status is not current.status:
            raise _RowRefused(self.problem(planned.line, "status", "status_differs",
                                           current=current.status.value, wanted=status.value))
        return changed


class _RowRefused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem
