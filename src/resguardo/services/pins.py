"""Officers' shift-desk PINs: the officer confirms each issue and return with one.

A chief (or an admin) sets the PIN with the officer present; the armorer at the
desk never can, so an armorer alone cannot book a weapon out in someone's name.
Only an argon2 hash is kept (``storage/web_tables.py``); setting one is recorded
as the audit event ``auth.pin_set`` and wrong PINs as ``auth.pin_failed``.
After ``MAX_FAILURES`` wrong PINs in a row the PIN is locked for ``LOCK_MINUTES``;
a chief sees the lock on the officer's page and may lift it (``lift_lock``,
recorded as ``auth.pin_unlocked`` with the chief's reason). A PIN confirms that
the officer takes a weapon; a return needs none (the armorer receives it).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from resguardo.domain.entities import NewEvent, Officer
from resguardo.domain.errors import AuthenticationFailed, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
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


def set_pin(uow: UnitOfWork, agency_code: str, badge: str, pin: str) -> Event:
    """Set (or replace) an officer's desk PIN: 4 to 8 digits."""
    agency = uow.repo.org(agency_code)
    if uow.actor is not None:
        authorize(uow.actor, Action.OFFICER_MANAGE, agency.path, "organization")
    pin = (pin or "").strip()
    if not _PIN.match(pin):
        raise ValidationFailed("the PIN must be 4 to 8 digits", field="pin")
    if len(set(pin)) == 1:
        raise ValidationFailed("the PIN cannot repeat one digit", field="pin")
    uow.lock()
    officer = uow.repo.officer(agency.id, badge)
    WebStore(uow.conn).set_pin(officer.id, _hasher.hash(pin), iso(uow.now()),
                               uow.actor.user_id if uow.actor else None)
    return uow.append(NewEvent("auth.pin_set", {"officer_id": officer.id, "badge": officer.badge},
                               org_id=officer.agency_id, subject_type="officer",
                               subject_id=officer.id))


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
        raise ValidationFailed(f"the PIN of {officer.badge} is not locked", field="pin")
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
