"""Weapons of record (arma de cargo) and the officer's printed credential with its QR."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from resguardo.cli.context import (
    AsUser,
    Json,
    deployment,
    read,
    refusals,
    report_event,
    require_user,
    write,
)
from resguardo.cli.output import fail, print_json, print_table
from resguardo.services import credential
from resguardo.services.credential import CredentialKey

credential_app = typer.Typer(
    help="Weapons of record (arma de cargo) and the officer's credential with its signed QR.",
    no_args_is_help=True)

Make = Annotated[str | None, typer.Option(help="Make, when several makes share the serial.")]
Agency = Annotated[str | None, typer.Option(
    help="The officer's agency code (default: your own agency).")]


@credential_app.command("assign")
@refusals
def assign(badge: str, serial: str, make: Make = None,
           reason: Annotated[str | None, typer.Option(help="Why (optional).")] = None,
           as_user: AsUser = None, as_json: Json = False) -> None:
    """Make a weapon the officer's weapon of record (a chief).

    It is printed on his credential and only he takes it from the desk. Refused for a
    weapon lost, stolen, held as evidence, decommissioned or in transit, for a weapon
    issued to someone else, and for an officer without a current credential folio.

    Example: resguardo --as jefe1 credential assign P-0142 ABC123
    """
    ev = write(as_user, credential.assign, badge, serial, make=make, reason=reason)
    report_event(ev, as_json, f"{serial} is now a weapon of record of {badge.upper()}")


@credential_app.command("unassign")
@refusals
def unassign(badge: str, serial: str,
             reason: Annotated[str, typer.Option(help="Why it is withdrawn.")],
             make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Withdraw a weapon from the officer's weapons of record (a chief, with a reason).

    Example: resguardo --as jefe1 credential unassign P-0142 ABC123 --reason "Cambio de adscripción"
    """
    ev = write(as_user, credential.unassign, badge, serial, reason, make=make)
    report_event(ev, as_json, f"{serial} withdrawn from the weapons of record of {badge.upper()}")


@credential_app.command("show")
@refusals
def show(badge: str, agency: Agency = None, as_user: AsUser = None,
         as_json: Json = False) -> None:
    """The officer's weapons of record and the weapons issued to him now.

    Example: resguardo --as armero1 credential show P-0142
    """
    def look(uow):  # type: ignore[no-untyped-def]
        org, officer = credential.find_officer(uow, agency, badge)
        return officer, credential.of_record(uow, officer), uow.repo.weapons_held(officer.id)

    officer, weapons, held = read(as_user, look)
    if as_json:
        print_json({"badge": officer.badge, "name": officer.name,
                    "credential_folio": officer.credential_folio,
                    "credential_expiry": officer.credential_expiry,
                    "weapons_of_record": [_weapon(w) for w in weapons],
                    "issued_now": [_weapon(w) for w in held]})
        return
    typer.echo(f"{officer.badge} {officer.name} · credential {officer.credential_folio or '—'}"
               f" valid until {officer.credential_expiry or '—'}")
    print_table("Weapons of record", ["serial", "make", "kind", "calibre", "status"],
                [(w.serial, w.make, w.kind.value, w.calibre, w.status.value) for w in weapons])
    print_table("Issued now", ["serial", "make", "kind", "calibre", "of record"],
                [(w.serial, w.make, w.kind.value, w.calibre,
                  "yes" if w.record_officer_id == officer.id else "no (pool)") for w in held])


def _weapon(w) -> dict:  # type: ignore[no-untyped-def]
    return {"serial": w.serial, "make": w.make, "model": w.model, "kind": w.kind.value,
            "calibre": w.calibre, "folio": w.folio, "status": w.status.value}


@credential_app.command("print")
@refusals
def print_(badge: str,
           out: Annotated[Path | None, typer.Option(
               "--out", "-o", help="Write the PDF here (without it, print the QR's text).")]
           = None,
           agency: Agency = None,
           lang: Annotated[str, typer.Option(help="Language of the PDF: es or en.")] = "es",
           as_user: AsUser = None, as_json: Json = False) -> None:
    """Sign the officer's statement (officer, weapons of record, today) and print his
    credential: a PDF with the QR, or the QR's text alone. Anyone checks it offline with
    tools/verify_credential.py and the public key (`resguardo credential key`).

    Example: resguardo --as jefe1 credential print P-0142 --out credencial-P-0142.pdf
    """
    if lang not in ("es", "en"):
        raise fail("--lang must be es or en", code=2)
    key = CredentialKey.of(deployment().settings)
    card = write(as_user, credential.credential, key, badge, agency_code=agency)
    if out is not None:
        from resguardo.web.credential_print import credential_document  # fpdf2 when asked
        from resguardo.web.i18n import Lang
        language = Lang(lang)
        body = credential_document(card, language, card.licence,
                                   language.datetime(deployment().clock()))
        out.write_bytes(body)
    if as_json:
        print_json({"statement": card.statement, "payload": card.payload, "vkey": card.vkey,
                    **({"pdf": str(out)} if out else {})})
    elif out is not None:
        typer.echo(f"Credential of {card.officer.badge} written to {out} "
                   f"({len(card.weapons)} weapon(s) of record)")
    else:
        typer.echo(card.payload)


@credential_app.command("key")
@refusals
def key(create: Annotated[bool, typer.Option(
            "--create", help="Make the key file if there is none (never replaces one).")] = False,
        as_user: AsUser = None) -> None:
    """Print the public credential key, to hand to whoever checks credentials offline.

    Example: resguardo --as admin credential key > credential.vkey
    """
    require_user(as_user)
    found = CredentialKey.of(deployment().settings)
    if create and not found.exists():
        typer.echo(found.create().vkey())
        return
    typer.echo(found.verifier().vkey())


def register(app: typer.Typer) -> None:
    app.add_typer(credential_app, name="credential")
