"""Officers' shift-desk PINs: the officer confirms each issue with one.

Three ways an agency gives its officers their PINs, none of which keeps a PIN in
clear (only an argon2 hash, as for passwords):

* **At the desk, the first time** (``set_first_pin``): the officer types a PIN of
  their choosing twice at the desk, and the armorer confirms having checked the
  officer's identity in person. Only a first PIN: an armorer can never replace
  an existing one, nor set one for an officer of another agency.
* **On PIN slips** (``issue_slips``): a chief prints, in one go, a slip with a
  random 6-digit PIN for every officer of the agency who has none; the slips
  are the only place the PINs ever appear, so they cannot be printed again.
* **By a chief on the officer's page** (``set_pin``): with the officer present;
  the only way to replace a PIN (a forgotten one, or one another person saw).

Only an argon2 hash is kept (``storage/web_tables.py``); setting one is recorded
as the audit event ``auth.pin_set`` and wrong PINs as ``auth.pin_failed``.
After ``MAX_FAILURES`` wrong PINs in a row the PIN is locked for ``LOCK_MINUTES``;
a chief sees the lock on the officer's page and may lift it (``lift_lock``,
recorded as ``auth.pin_unlocked`` with the chief's reason). A PIN confirms that
the officer takes a weapon; a return needs none (the armorer receives it).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from resguardo.domain.entities import NewEvent, Officer
from resguardo.domain.errors import (
    T_,
    AuthenticationFailed,
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize, may
from resguardo.domain.timefmt import iso, parse_instant
from resguardo.storage.uow import UnitOfWork
from resguardo.storage.web_tables import WebStore

_PIN = re.compile(r"^[0-9]{4,8}$")
MAX_FAILURES = 5
LOCK_MINUTES = 15

_hasher = PasswordHasher()


class PinRejected(AuthenticationFailed):
    """The officer's PIN is missing, wrong or locked; ``details['reason']`` says which.

    It keeps the code of ``AuthenticationFailed``: a desk PIN is a credential, and
    the error model (documented with the API) needs no code of its own for it.
    """


def _checked(pin: str) -> str:
    pin = (pin or "").strip()
    if not _PIN.match(pin):
        raise ValidationFailed("the PIN must be 4 to 8 digits", field="pin")
    if len(set(pin)) == 1:
        raise ValidationFailed("the PIN cannot repeat one digit", field="pin")
    return pin


def _store(uow: UnitOfWork, officer: Officer, pin: str, **payload: object) -> Event:
    WebStore(uow.conn).set_pin(officer.id, _hasher.hash(pin), iso(uow.now()),
                               uow.actor.user_id if uow.actor else None)
    return uow.append(NewEvent("auth.pin_set",
                               {"officer_id": officer.id, "badge": officer.badge, **payload},
                               org_id=officer.agency_id, subject_type="officer",
                               subject_id=officer.id))


def set_pin(uow: UnitOfWork, agency_code: str, badge: str, pin: str) -> Event:
    """Set (or replace) an officer's desk PIN: 4 to 8 digits. A chief's (or admin's) act."""
    agency = uow.repo.org(agency_code)
    if uow.actor is not None:
        authorize(uow.actor, Action.OFFICER_MANAGE, agency.path, "organization")
    pin = _checked(pin)
    uow.lock()
    officer = uow.repo.officer(agency.id, badge)
    return _store(uow, officer, pin)


def set_first_pin(uow: UnitOfWork, agency_code: str, badge: str, pin: str, *,
                  identity_checked: bool) -> Event:
    """The officer sets their own first PIN at the desk; the armorer confirms their identity.

    Refused when the officer already has a PIN (only a chief replaces one), for an
    officer outside the armorer's agency (as if not there), for a service account,
    and unless the armorer says the officer's identity was checked in person.
    """
    actor = uow.actor
    if actor is None or actor.is_service:
        raise PermissionDenied("an officer's first PIN is confirmed by a person at the desk",
                               action=Action.CUSTODY_ISSUE.value, account="service")
    agency = uow.repo.org(agency_code)
    authorize(actor, Action.OFFICER_MANAGE if may(actor, Action.OFFICER_MANAGE)
              else Action.CUSTODY_ISSUE, agency.path, "organization")
    if not identity_checked:
        raise ValidationFailed("confirm that you checked the officer's identity in person",
                               field="identity_checked")
    pin = _checked(pin)
    uow.lock()
    officer = uow.repo.officer(agency.id, badge)
    if WebStore(uow.conn).pin(officer.id) is not None:
        raise Conflict(T_("%(badge)s already has a PIN: only a chief can replace it"),
                       field="pin", badge=officer.badge)
    return _store(uow, officer, pin, first=True, identity_checked=True,
                  confirmed_by=actor.role.value)


@dataclass(frozen=True)
class Slip:
    """One officer's PIN slip: the only place the PIN ever appears in clear."""

    officer: Officer
    pin: str


SLIP_DIGITS = 6
MAX_SLIPS = 2000


def _random_pin() -> str:
    while True:
        pin = f"{secrets.randbelow(10 ** SLIP_DIGITS):0{SLIP_DIGITS}d}"
        if len(set(pin)) > 2 and pin not in "0123456789" and pin not in "9876543210":
            return pin


def issue_slips(uow: UnitOfWork, agency_code: str, badges: list[str] | None = None) -> list[Slip]:
    """A random PIN for each active officer of the agency without one (or of ``badges``).

    A chief's act. Officers who have a PIN keep it (replacing one is ``set_pin``, one
    officer at a time), so slips once printed are never printed again. Each PIN set is
    recorded as ``auth.pin_set`` with ``"slip": true``.
    """
    agency = uow.repo.org(agency_code)
    if uow.actor is not None:
        authorize(uow.actor, Action.OFFICER_MANAGE, agency.path, "organization")
    uow.lock()
    if badges:
        officers = [uow.repo.officer(agency.id, b) for b in dict.fromkeys(badges)]
    else:
        officers = []
        while True:
            page = uow.repo.officers(agency_id=agency.id, status="active",
                                     offset=len(officers), limit=500)
            officers.extend(page.items)
            if not page.items or len(officers) >= page.total:
                break
    have = WebStore(uow.conn).officers_with_pin([o.id for o in officers])
    if badges:
        taken = [o.badge for o in officers if o.id in have]
        if taken:
            raise Conflict(T_("these officers already have a PIN: %(badges)s; a chief "
                              "replaces a PIN on the officer's page"), field="badges", badges=taken)
    wanted = [o for o in officers if o.id not in have]
    if not wanted:
        raise ValidationFailed("every officer chosen already has a PIN", field="badges")
    if len(wanted) > MAX_SLIPS:
        raise ValidationFailed(T_("at most %(most)s slips at a time"), field="badges",
                               most=MAX_SLIPS)
    slips = [Slip(o, _random_pin()) for o in sorted(wanted, key=lambda o: o.badge)]
    for slip in slips:
        _store(uow, slip.officer, slip.pin, slip=True)
    return slips


def locked_until(uow: UnitOfWork, officer_id: int) -> datetime | None:
    """When the officer's PIN lock ends, or None if the PIN is not locked now."""
    row = WebStore(uow.conn).pin(officer_id)
    if row is None or not row["locked_until"]:
        return None
    until = parse_instant(row["locked_until"])
    return until if until > uow.now() else None


def lift_lock(uow: UnitOfWork, agency_code: str, badge: str, reason: str) -> Event:
    """A chief lifts the lock wrong PINs put on an officer's PIN, with a written reason."""
    agency = uow.repo.org(agency_code)
    if uow.actor is not None:
        authorize(uow.actor, Action.OFFICER_MANAGE, agency.path, "organization")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("say why the PIN lock is lifted", field="reason")
    uow.lock()
    officer = uow.repo.officer(agency.id, badge)
    until = locked_until(uow, officer.id)
    if until is None:
        raise ValidationFailed(T_("the PIN of %(badge)s is not locked"), field="pin",
                               badge=officer.badge)
    WebStore(uow.conn).pin_failed(officer.id, 0, None)
    return uow.append(NewEvent("auth.pin_unlocked",
                               {"officer_id": officer.id, "badge": officer.badge,
                                "locked_until": iso(until)},
                               reason=reason, org_id=officer.agency_id, subject_type="officer",
                               subject_id=officer.id))


def has_pin(uow: UnitOfWork, officer_ids: list[int]) -> set[int]:
    """Which of these officers have a PIN on record."""
    return WebStore(uow.conn).officers_with_pin(officer_ids)


def verify_pin(uow: UnitOfWork, officer: Officer, pin: str) -> None:
    """Refuse with ``PinRejected`` unless ``pin`` is the officer's current PIN.

    A wrong PIN is not counted here: the refusal rolls this unit of work back,
    so the entry point records it with ``count_failure`` in a unit of its own.
    """
    row = WebStore(uow.conn).pin(officer.id)
    if row is None:
        raise PinRejected(f"officer {officer.badge} has no PIN on record", reason="missing",
                          badge=officer.badge, pin=True)
    now = uow.now()
    if row["locked_until"] and parse_instant(row["locked_until"]) > now:
        raise PinRejected(f"the PIN of {officer.badge} is locked after too many wrong attempts",
                          reason="locked", badge=officer.badge, until=row["locked_until"],
                          pin=True)
    try:
        _hasher.verify(row["pin_hash"], (pin or "").strip())
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise PinRejected(f"wrong PIN for {officer.badge}", reason="wrong",
                          badge=officer.badge, officer_id=officer.id, pin=True) from None
    if row["failed"]:
        WebStore(uow.conn).pin_failed(officer.id, 0, None)


def count_failure(uow: UnitOfWork, officer_id: int, agency_id: int) -> int:
    """Record one wrong PIN; lock the PIN after ``MAX_FAILURES``. Returns attempts left."""
    uow.lock()
    store = WebStore(uow.conn)
    row = store.pin(officer_id)
    if row is None:
        return 0
    failed = int(row["failed"] or 0) + 1
    locked = None
    if failed >= MAX_FAILURES:
        locked = iso(uow.now() + timedelta(minutes=LOCK_MINUTES))
    store.pin_failed(officer_id, 0 if locked else failed, locked)
    uow.append(NewEvent("auth.pin_failed", {"officer_id": officer_id, "locked": locked is not None},
                        org_id=agency_id, subject_type="officer", subject_id=officer_id))
    return 0 if locked else MAX_FAILURES - failed
