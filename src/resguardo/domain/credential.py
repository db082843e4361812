"""Weapons of record (armas de cargo) and the officer's signed credential statement.

A weapon of record is assigned to one officer long-term, apart from the daily checkout
of pool weapons: it is printed on his credential and his resguardo, and only he may
take it from the desk. A chief assigns and withdraws it (``firearm.assigned_of_record``,
``firearm.unassigned_of_record``); a weapon that is gone (lost, stolen, decommissioned),
held as evidence or in transit to another agency cannot be assigned, and an assignment
ends by itself when the weapon is reported lost or stolen, decommissioned or sent away.

The statement printed as a QR code on the credential names the officer, his weapons of
record and the date; it is signed with the deployment's credential key, and
``tools/verify_credential.py`` checks it offline (the Nogales roadside check: does the
weapon this officer carries match the one on his credential?).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from resguardo.domain import firearm_state
from resguardo.domain.codes import FirearmStatus, OfficerStatus
from resguardo.domain.entities import Firearm, NewEvent, Officer
from resguardo.domain.errors import T_, InvalidTransition, ValidationFailed

S = FirearmStatus

#: Statuses from which a weapon may become someone's weapon of record.
ASSIGNABLE = firearm_state.ALLOWED_FROM["firearm.assigned_of_record"]

#: Entries after which a weapon is nobody's weapon of record any more.
ENDS_RECORD = firearm_state.ENDS_RECORD

#: What the signature covers: this line, then the statement's canonical JSON. The
#: prefix keeps a credential signature from ever meaning anything else.
CONTEXT = b"resguardo credential statement v1\n"
#: The QR text: ``RGC1.<statement, base64url>.<signature, base64url>`` (no padding).
PAYLOAD_PREFIX = "RGC1"
STATEMENT_VERSION = 1


def _who(officer: Officer) -> str:
    return f"{officer.badge} {officer.name}"


def assign(firearm: Firearm, officer: Officer, today: date, holder: Officer | None,
           reason: str | None = None) -> NewEvent:
    """Make ``firearm`` the weapon of record of ``officer``.

    ``holder`` is the officer whose weapon of record it already is (None for a pool
    weapon). Refused for another agency's weapon or officer, a weapon that is gone, held
    as evidence or in transit, a weapon issued to someone else, and an officer who is
    not active or has no current credential (the paper that would name the weapon).
    """
    if firearm.agency_id != officer.agency_id:
        raise ValidationFailed("the officer belongs to another agency", field="badge")
    if firearm.status not in ASSIGNABLE:
        raise InvalidTransition(
            f"firearm {firearm.serial} ({firearm.make}) cannot be assigned as a weapon of "
            f"record while {firearm.status.value.replace('_', ' ')}",
            serial=firearm.serial, status=firearm.status.value,
            action="firearm.assigned_of_record")
    if firearm.status == S.ISSUED and firearm.custodian_id != officer.id:
        raise InvalidTransition(
            f"firearm {firearm.serial} is issued to another officer; it must come back first",
            serial=firearm.serial, status=firearm.status.value,
            action="firearm.assigned_of_record")
    if firearm.record_officer_id is not None:
        who = _who(holder) if holder is not None else "another officer"
        if firearm.record_officer_id == officer.id:
            raise ValidationFailed(T_("firearm %(serial)s is already %(who)s's weapon of record"),
                                   field="serial", serial=firearm.serial, who=who)
        raise ValidationFailed(T_("firearm %(serial)s is the weapon of record of %(who)s; "
                                  "withdraw it first"), field="serial", serial=firearm.serial,
                               who=who)
    if officer.status != OfficerStatus.ACTIVE:
        raise ValidationFailed(T_("officer %(badge)s is %(status)s; only an active officer is "
                                  "assigned a weapon of record"), field="badge",
                               badge=officer.badge, status=officer.status.value)
    if not officer.credential_folio or officer.credential_expiry is None:
        raise ValidationFailed(T_("officer %(badge)s has no credential folio and expiry on "
                                  "record: the weapon of record is printed on the credential"),
                               field="badge", badge=officer.badge)
    if officer.credential_expiry < today:
        raise ValidationFailed(T_("the credential of officer %(badge)s expired on %(date)s; "
                                  "renew it first"), field="badge", badge=officer.badge,
                               date=officer.credential_expiry.isoformat())
    return NewEvent(
        "firearm.assigned_of_record", {"firearm_id": firearm.id, "officer_id": officer.id},
        reason=(reason or "").strip() or None,
        org_id=firearm.agency_id, subject_type="firearm", subject_id=firearm.id)


def unassign(firearm: Firearm, officer: Officer, reason: str) -> NewEvent:
    """Withdraw ``firearm`` from ``officer``'s weapons of record (a written reason)."""
    if firearm.record_officer_id != officer.id:
        raise ValidationFailed(T_("firearm %(serial)s is not a weapon of record of %(who)s"),
                               field="serial", serial=firearm.serial, who=_who(officer))
    if not (reason or "").strip():
        raise ValidationFailed("withdrawing a weapon of record needs a written reason",
                               field="reason")
    return NewEvent(
        "firearm.unassigned_of_record", {"firearm_id": firearm.id, "officer_id": officer.id},
        reason=reason.strip(),
        org_id=firearm.agency_id, subject_type="firearm", subject_id=firearm.id)


def may_issue(firearm: Firearm, officer: Officer, holder: Officer | None) -> None:
    """A weapon of record leaves the armory only with its own officer."""
    if firearm.record_officer_id is not None and firearm.record_officer_id != officer.id:
        who = _who(holder) if holder is not None else "another officer"
        raise InvalidTransition(
            f"firearm {firearm.serial} is the weapon of record of {who}; it is issued only "
            "to that officer", serial=firearm.serial, status=firearm.status.value,
            action="custody.issued")


def statement(*, issuer: str, agency_code: str, agency_name: str, officer: Officer,
              weapons: Sequence[Firearm], at: datetime) -> dict:
    """What the credential's QR says, signed: the officer, his weapons of record, the date.

    Short keys keep the QR small; ``tools/verify_credential.py`` names each when it prints.
    """
    return {
        "v": STATEMENT_VERSION,
        "iss": issuer,
        "ag": {"c": agency_code, "n": agency_name},
        "of": {"b": officer.badge, "n": officer.name, "f": officer.credential_folio,
               "x": officer.credential_expiry.isoformat() if officer.credential_expiry
               else None, **({"cuip": officer.cuip} if officer.cuip else {})},
        "w": [{"s": w.serial, "m": w.make, "k": w.kind.value, "c": w.calibre,
               **({"mo": w.model} if w.model else {}), **({"f": w.folio} if w.folio else {})}
              for w in sorted(weapons, key=lambda f: (f.make, f.serial))],
        "d": at.date().isoformat(),
    }
