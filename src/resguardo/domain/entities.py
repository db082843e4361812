"""Plain snapshots of the things Resguardo keeps, as the domain sees them.

They are loaded by storage, judged by the domain, and never written back
directly: every change is an event (see ``events.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from resguardo.domain.codes import FirearmKind, FirearmStatus, OfficerStatus, OrgKind, Role


@dataclass(frozen=True, slots=True)
class Organization:
    id: int
    code: str
    name: str
    kind: OrgKind
    parent_id: int | None
    path: str  # "/1/4/9/": ids from the root, for scope checks

    @property
    def holds_weapons(self) -> bool:
        return self.kind == OrgKind.AGENCY

    def contains(self, other_path: str) -> bool:
        """True when the node with ``other_path`` is this node or below it."""
        return other_path.startswith(self.path)


@dataclass(frozen=True, slots=True)
class Location:
    id: int
    agency_id: int
    code: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class Officer:
    id: int
    agency_id: int
    badge: str
    name: str
    status: OfficerStatus = OfficerStatus.ACTIVE
    cuip: str | None = None
    credential_folio: str | None = None
    credential_expiry: date | None = None
    qualification_expiry: date | None = None
    licence_id: int | None = None


@dataclass(frozen=True, slots=True)
class Firearm:
    id: int
    serial: str
    serial_key: str
    make: str
    calibre: str
    kind: FirearmKind
    agency_id: int
    status: FirearmStatus
    model: str | None = None
    folio: str | None = None
    location_id: int | None = None
    custodian_id: int | None = None
    barrel_serial: str | None = None
    ballistic_id: str | None = None
    licence_id: int | None = None
    acquired_on: date | None = None
    supplier: str | None = None
    purchase_ref: str | None = None
    status_since: datetime | None = None
    record_officer_id: int | None = None
    """The officer whose weapon of record (arma de cargo) this is, printed on his
    credential; None for a pool weapon."""


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (user account) on whose behalf an operation runs."""

    user_id: int | None
    username: str
    role: Role
    scope: Organization
    #: Agencies the scope's authorities oversee (``oversight``), for the oversight roles:
    #: read and inspected as if they lay below the scope.
    overseen: tuple[Organization, ...] = ()
    #: "person", or "service" for an integration (token only; never one of the two
    #: people of a two-person rule)
    kind: str = "person"
    #: The credential this actor proved, ``surface:kind:id`` (``web:session:3f9a..``);
    #: None for the system and for code that acts without one
    credential: str | None = None

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    def in_scope(self, org_path: str) -> bool:
        return self.scope.contains(org_path) or any(o.contains(org_path) for o in self.overseen)

    @property
    def overseen_ids(self) -> tuple[int, ...]:
        return tuple(o.id for o in self.overseen)


@dataclass(frozen=True, slots=True)
class Override:
    """A chief's written permission to issue to an officer who is not eligible."""

    id: int
    officer_id: int
    granted_by: int | None
    reason: str
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event the domain decided on, before storage gives it a position."""

    type: str
    payload: dict = field(default_factory=dict)
    reason: str | None = None
    org_id: int | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    corrects: int | None = None
