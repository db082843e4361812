"""Weapons of record (armas de cargo) and the officer's signed credential.

A chief assigns a weapon to an officer long-term (``assign``) and withdraws it
(``unassign``); both are ledger entries, in scope, refused while a revista is open at
the agency (their type starts with ``firearm.``). ``credential`` gathers the officer, his
credential folio and validity and his weapons of record, and signs the statement the
printed credential carries as a QR code.

The statement is signed with the deployment's *credential key*, a key of its own
(RESGUARDO_CREDENTIAL_KEY, a file beside the database by default) and not the log's
checkpoint key: the checkpoint key may live in the signer process or a token that by
design signs only checkpoints extending the log, and a credential printed on paper
travels for years, so its key is rotated or revoked without touching the log's identity.
Its public half (``resguardo credential key``) is what a roadside check needs.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resguardo.config import Settings
from resguardo.domain import credential as rules
from resguardo.domain.entities import Firearm, NewEvent, Officer, Organization
from resguardo.domain.errors import Conflict, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.domain.timefmt import in_zone
from resguardo.ledger import canonical_json
from resguardo.ledger.keys import Signer, Verifier
from resguardo.services import custody
from resguardo.services.ledger import read_key_file, write_key_file
from resguardo.storage.uow import UnitOfWork


@dataclass(frozen=True)
class CredentialKey:
    """The key file that signs credential statements, and the key's name (its issuer)."""

    path: Path
    name: str

    @classmethod
    def of(cls, settings: Settings) -> CredentialKey:
        return cls(settings.credential_key_path, f"{settings.log_origin}/credential")

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> Signer:
        """A new key file readable only by its owner; an existing one is never replaced."""
        return write_key_file(self.path, self.name, "credential key")

    def signer(self) -> Signer:
        return read_key_file(self.path, "credential key", "an Ed25519 key", (
            "run `resguardo credential key --create` (or `resguardo init`), or point "
            "RESGUARDO_CREDENTIAL_KEY at the key file"))

    def verifier(self) -> Verifier:
        return self.signer().verifier()

    def signer_or_new(self) -> Signer:
        """The key, made on first use: a deployment set up before credentials were signed
        never runs `resguardo init` again. Two processes racing make one key."""
        if not self.exists():
            try:
                return self.create()
            except Conflict:
                pass  # the other process made it first
        return self.signer()


def init_hook(app: Any) -> list[str]:
    """`resguardo init`: make the credential key if there is none."""
    key = CredentialKey.of(app.settings)
    created = not key.exists()
    vkey = key.create().vkey() if created else key.verifier().vkey()
    verb = "created" if created else "kept the existing"
    return [f"credential: {verb} credential key {key.path} (mode 0600); back it up",
            f"credential: public key for roadside checks: {vkey}"]


# --- weapons of record -----------------------------------------------------------


def assign(uow: UnitOfWork, badge: str, serial: str, *, make: str | None = None,
           reason: str | None = None) -> Event:
    """A chief makes ``serial`` the weapon of record of the officer with ``badge``."""
    if uow.actor is not None:
        authorize(uow.actor, Action.RECORD_ASSIGN)  # the role first: a 403 names no weapon
    firearm = custody._load(uow, serial, make, Action.RECORD_ASSIGN)
    officer = uow.repo.officer(firearm.agency_id, badge)
    return uow.append(rules.assign(firearm, officer, uow.today(firearm.agency_id),
                                   custody.record_holder(uow, firearm), reason))


def unassign(uow: UnitOfWork, badge: str, serial: str, reason: str, *,
             make: str | None = None) -> Event:
    """A chief withdraws ``serial`` from the officer's weapons of record."""
    if uow.actor is not None:
        authorize(uow.actor, Action.RECORD_ASSIGN)
    firearm = custody._load(uow, serial, make, Action.RECORD_ASSIGN)
    officer = uow.repo.officer(firearm.agency_id, badge)
    return uow.append(rules.unassign(firearm, officer, reason))


# --- the credential ----------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    """What a printed credential says, and the signed QR text that says it again."""

    agency: Organization
    officer: Officer
    weapons: list[Firearm]
    held: list[Firearm]
    statement: dict
    payload: str
    vkey: str
    licence: str | None = None
    """The number of the collective licence the officer carries under, if recorded."""


def find_officer(uow: UnitOfWork, agency_code: str | None, badge: str) -> tuple[Organization, Officer]:
    if agency_code:
        agency = uow.repo.org(agency_code)
    elif uow.actor is not None and uow.actor.scope.holds_weapons:
        agency = uow.actor.scope
    else:
        raise ValidationFailed("give the officer's agency (--agency CODE)", field="agency")
    return agency, uow.repo.officer(agency.id, badge)


def of_record(uow: UnitOfWork, officer: Officer) -> list[Firearm]:
    """The officer's weapons of record (read in the caller's scope)."""
    return uow.repo.weapons_of_record(officer.id)


def encode(statement: dict, signature: bytes) -> str:
    """The QR text: ``RGC1.<statement>.<signature>``, both base64url without padding."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    return f"{rules.PAYLOAD_PREFIX}.{b64(canonical_json(statement))}.{b64(signature)}"


def credential(uow: UnitOfWork, key: CredentialKey, badge: str, *,
               agency_code: str | None = None) -> Credential:
    """Sign the officer's statement (officer, weapons of record, today) for his credential.

    Signing is an act of the agency (a chief or an administrator, in scope) and is
    recorded (``export.credential``, with the statement's SHA-256), so every paper in
    circulation can be accounted for.
    """
    agency, officer = find_officer(uow, agency_code, badge)
    if uow.actor is not None:
        authorize(uow.actor, Action.OFFICER_MANAGE, agency.path, "officer")
    weapons = of_record(uow, officer)
    # dated on the agency's calendar, as the paper it is printed on (not UTC's)
    here = in_zone(uow.now(), uow.zone_of(agency.id))
    statement = rules.statement(issuer=key.name, agency_code=agency.code,
                                agency_name=agency.name, officer=officer, weapons=weapons,
                                at=here)
    signer = key.signer_or_new()
    body = canonical_json(statement)
    payload = encode(statement, signer.sign(rules.CONTEXT + body))
    uow.append(NewEvent("export.credential", {
        "officer_id": officer.id, "firearm_ids": [w.id for w in weapons],
        "statement_sha256": hashlib.sha256(body).hexdigest()},
        org_id=agency.id, subject_type="officer", subject_id=officer.id))
    licence = next((row["number"] for row in uow.repo.licences()
                    if row["id"] == officer.licence_id), None) if officer.licence_id else None
    return Credential(agency, officer, weapons, uow.repo.weapons_held(officer.id), statement,
                      payload, signer.vkey(), licence)
