"""Custody commands: issue, return, move, repair, transfer, loss, recovery,
decommission, overrides and corrections."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from resguardo.cli.context import AsUser, Json, agency_of, refusals, report_event, write
from resguardo.cli.output import fail
from resguardo.domain.timefmt import parse_instant
from resguardo.services import custody

Make = Annotated[str | None, typer.Option(help="Make, when several makes share the serial.")]
repair_app = typer.Typer(help="Send weapons to repair and take them back.", no_args_is_help=True)
transfer_app = typer.Typer(help="Transfers between agencies (request, approve, receive).",
                           no_args_is_help=True)
approve_app = typer.Typer(help="Approve a pending decommission, transfer or identity correction "
                               "(second person).", no_args_is_help=True)


def _instant(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise fail(f"{option} must be a date and time, e.g. 2024-03-07T14:00:00Z", code=2) from None


@refusals
def issue(serial: str,
          to: Annotated[str, typer.Option("--to", help="Badge of the receiving officer.")],
          make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Issue a stored weapon to an officer.

    Example: resguardo --as armero1 issue ABC123 --to P-0142
    """
    ev = write(as_user, custody.issue, serial, to, make=make)
    report_event(ev, as_json, f"{serial} issued to {to.upper()}")


@refusals
def return_(serial: str,
            location: Annotated[str, typer.Option(help="Location code it goes back to.")],
            make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Return an issued weapon to storage.

    Example: resguardo --as armero1 return ABC123 --location ARM-1
    """
    ev = write(as_user, custody.return_, serial, location, make=make)
    report_event(ev, as_json, f"{serial} returned to {location}")


@refusals
def move(serial: str,
         to: Annotated[str, typer.Option("--to", help="Destination location code.")],
         reason: Annotated[str | None, typer.Option(help="Why it moves.")] = None,
         make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Move a stored weapon to another location of its agency.

    Example: resguardo --as armero1 move ABC123 --to VAULT-2
    """
    ev = write(as_user, custody.move, serial, to, make=make, reason=reason)
    report_event(ev, as_json, f"{serial} moved to {to}")


@repair_app.command("send")
@refusals
def repair_send(serial: str, shop: Annotated[str, typer.Option(help="Repair shop.")],
                reason: Annotated[str | None, typer.Option(help="What is wrong.")] = None,
                make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Send a stored weapon to repair. Example: resguardo --as armero1 repair send ABC123 --shop "Taller SEDENA" """
    ev = write(as_user, custody.send_to_repair, serial, shop, make=make, reason=reason)
    report_event(ev, as_json, f"{serial} sent to repair")


@repair_app.command("return")
@refusals
def repair_return(serial: str, location: Annotated[str, typer.Option(help="Location code.")],
                  make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Book a weapon back from repair. Example: resguardo --as armero1 repair return ABC123 --location ARM-1"""
    ev = write(as_user, custody.return_from_repair, serial, location, make=make)
    report_event(ev, as_json, f"{serial} back from repair")


@transfer_app.command("request")
@refusals
def transfer_request(serial: str, to: Annotated[str, typer.Option("--to", help="Receiving agency code.")],
                     reason: Annotated[str, typer.Option(help="Why it is transferred.")],
                     make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Ask for a transfer to another agency (a chief or supervisor approves).

    Example: resguardo --as armero1 transfer request ABC123 --to MUN-02 --reason "reasignación"
    """
    ev = write(as_user, custody.request_transfer, serial, to, reason, make=make)
    report_event(ev, as_json, f"Transfer of {serial} to {to} requested")


@transfer_app.command("receive")
@refusals
def transfer_receive(serial: str, location: Annotated[str, typer.Option(help="Location code at the receiving agency.")],
                     make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Book in a weapon sent by another agency. Example: resguardo --as armero2 transfer receive ABC123 --location ARM-1"""
    ev = write(as_user, custody.receive_transfer, serial, location, make=make)
    report_event(ev, as_json, f"{serial} received into {location}")


@approve_app.command("transfer")
@refusals
def approve_transfer(serial: str, make: Make = None, as_user: AsUser = None,
                     as_json: Json = False) -> None:
    """Approve a requested transfer: the weapon leaves, in transit. Example: resguardo --as chief1 approve transfer ABC123"""
    ev = write(as_user, custody.approve_transfer, serial, make=make)
    report_event(ev, as_json, f"Transfer of {serial} approved; in transit")


@approve_app.command("decommission")
@refusals
def approve_decommission(serial: str, make: Make = None, as_user: AsUser = None,
                         as_json: Json = False) -> None:
    """Approve a requested decommission. Example: resguardo --as chief1 approve decommission ABC123"""
    ev = write(as_user, custody.approve_decommission, serial, make=make)
    report_event(ev, as_json, f"{serial} decommissioned")


@approve_app.command("correction")
@refusals
def approve_correction(serial: str, make: Make = None, as_user: AsUser = None,
                       as_json: Json = False) -> None:
    """Approve a requested correction of a weapon's serial, make, kind or calibre: it applies
    now, and the weapon stays findable under its former serial.

    Example: resguardo --as chief1 approve correction ABC123
    """
    ev = write(as_user, custody.approve_correction, serial, make=make)
    report_event(ev, as_json, f"Correction of {serial} approved: "
                 + ", ".join(f"{k} {v}" for k, v in ev.payload["changes"].items()
                             if not k.endswith("_key")))


@refusals
def reject(kind: Annotated[str, typer.Argument(help="decommission, transfer or correction")],
           serial: str, reason: Annotated[str, typer.Option(help="Why it is rejected.")],
           make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Reject a pending decommission, transfer or identity correction. Example: resguardo --as chief1 reject transfer ABC123 --reason "..." """
    if kind not in custody.APPROVERS:
        raise fail("KIND must be decommission, transfer or correction", code=2)
    ev = write(as_user, custody.reject_request, serial, kind, reason, make=make)
    report_event(ev, as_json, f"{kind.capitalize()} of {serial} rejected")


@refusals
def report_loss(
    serial: str,
    occurred: Annotated[str, typer.Option(help="Date it happened, YYYY-MM-DD.")],
    place: Annotated[str, typer.Option(help="Where it happened.")],
    complaint: Annotated[str, typer.Option(help="Complaint (denuncia) number.")],
    authority: Annotated[str, typer.Option(
        help="Authority the complaint was filed with, e.g. \"FGE Jalisco\".")],
    on_duty: Annotated[bool | None, typer.Option(
        "--on-duty/--off-duty", help="Whether it happened on duty (required).")] = None,
    stolen: Annotated[bool, typer.Option("--stolen", help="A theft rather than a loss.")] = False,
    notified_at: Annotated[str | None, typer.Option(help="When the military authority was notified (UTC).")] = None,
    reason: Annotated[str | None, typer.Option(help="Circumstances.")] = None,
    make: Make = None, as_user: AsUser = None, as_json: Json = False,
) -> None:
    """Report a weapon lost or stolen, with the complaint and whether it was on duty.

    Example: resguardo --as armero1 report-loss ABC123 --stolen --on-duty --occurred 2024-03-07 --place "Col. Centro" --complaint FED/JAL/123/2024 --authority "FGE Jalisco"
    """
    try:
        day = date.fromisoformat(occurred)
    except ValueError:
        raise fail("--occurred must be a date YYYY-MM-DD", code=2) from None
    ev = write(as_user, custody.report_missing, serial, stolen=stolen, occurred_on=day,
               place=place, on_duty=on_duty, complaint_number=complaint,
               complaint_authority=authority,
               notified_at=_instant(notified_at, "--notified-at"), make=make, reason=reason)
    report_event(ev, as_json, f"{serial} reported {'stolen' if stolen else 'lost'}")


@refusals
def negligence(serial: str,
               negligent: Annotated[bool, typer.Option(
                   "--negligent/--not-negligent", help="The determination.")],
               reason: Annotated[str, typer.Option(help="What it rests on.")],
               make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Record whether the weapon's latest loss or theft came of negligence (a chief, never
    the person who reported it).

    Example: resguardo --as jefe negligence ABC123 --negligent --reason "Dejada sin custodia en la patrulla"
    """
    ev = write(as_user, custody.determine_negligence, serial, negligent, reason, make=make)
    report_event(ev, as_json, f"Negligence of {serial} determined")


@refusals
def notify(serial: str,
           at: Annotated[str | None, typer.Option(help="When the military authority was notified (default now).")] = None,
           reference: Annotated[str | None, typer.Option(help="Notice number or reference.")] = None,
           make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Record that the military authority was notified of a loss or theft.

    Example: resguardo --as armero1 notify ABC123 --reference "OF-2024-881"
    """
    def run(uow):  # type: ignore[no-untyped-def]
        when = _instant(at, "--at") or uow.now()
        return custody.record_notification(uow, serial, when, reference=reference, make=make)
    ev = write(as_user, run)
    report_event(ev, as_json, f"Notification of {serial} recorded")


@refusals
def recover(serial: str,
            held_by: Annotated[str, typer.Option(
                help="The authority holding it as evidence, e.g. \"FGE Jalisco\".")],
            reason: Annotated[str, typer.Option(help="How and where it was recovered.")],
            make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Recover a lost or stolen weapon: it is held as evidence (asegurada) until a chief
    records its release; the report stays on record.

    Example: resguardo --as armero1 recover ABC123 --held-by "FGE Jalisco" --reason "Asegurada en cateo"
    """
    ev = write(as_user, custody.recover, serial, held_by, reason, make=make)
    report_event(ev, as_json, f"{serial} recovered, held as evidence")


@refusals
def release(serial: str, location: Annotated[str, typer.Option(help="Location code it is stored at.")],
            reference: Annotated[str, typer.Option(help="The release document (oficio de liberación).")],
            make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Record that the authority gave back a weapon held as evidence (a chief): it returns
    to storage and may be issued again.

    Example: resguardo --as jefe release ABC123 --location ARM-1 --reference "Oficio FGE/JAL/LIB/221/2026"
    """
    ev = write(as_user, custody.release, serial, location, reference, make=make)
    report_event(ev, as_json, f"{serial} released into storage")


@refusals
def decommission(serial: str, reason: Annotated[str, typer.Option(help="Why it is retired.")],
                 make: Make = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Ask to decommission a weapon (a chief approves with `approve decommission`).

    Example: resguardo --as armero1 decommission ABC123 --reason "Cañón fracturado"
    """
    ev = write(as_user, custody.request_decommission, serial, reason, make=make)
    report_event(ev, as_json, f"Decommission of {serial} requested")


@refusals
def override(badge: str,
             reason: Annotated[str, typer.Option(help="Written reason (at least 10 characters).")],
             hours: Annotated[float, typer.Option(help="How long it is valid.")] = 12.0,
             agency: Annotated[str | None, typer.Option(help="Agency code.")] = None,
             as_user: AsUser = None, as_json: Json = False) -> None:
    """Allow one issue to an officer who is not eligible (chief only, recorded).

    Example: resguardo --as chief1 override P-0142 --reason "Requalification booked; operation X"
    """
    ev = write(as_user, lambda uow: custody.grant_override(uow, agency_of(uow, agency), badge,
                                                           reason, hours))
    report_event(ev, as_json, f"Override granted for {badge.upper()}")


@refusals
def correct(position: Annotated[int, typer.Argument(help="Entry number to correct.")],
            changes: Annotated[list[str], typer.Argument(help="FIELD=VALUE pairs.")],
            reason: Annotated[str, typer.Option(help="Why the entry was wrong.")],
            as_user: AsUser = None, as_json: Json = False) -> None:
    """Correct fields of an earlier entry (nothing is edited; a correction is recorded).

    A correction of a weapon's serial, make, kind or calibre is a request: the weapon
    keeps its identity until another person approves it (`approve correction`); other
    fields given with them are corrected at once.

    Example: resguardo --as armero1 correct 1042 model=G17 folio=RFA-88 --reason "typo at registration"
    """
    parsed = {}
    for item in changes:
        if "=" not in item:
            raise fail(f"{item!r}: write FIELD=VALUE", code=2)
        key, value = item.split("=", 1)
        parsed[key.strip()] = value
    ev = write(as_user, custody.correct, position, parsed, reason)
    if ev.type == "entry.correction_requested":
        asked = ", ".join(k for k in ev.payload["changes"] if not k.endswith("_key"))
        report_event(ev, as_json, f"Correction of {asked} of entry {position} requested: it "
                     "applies when another person approves it (resguardo approve correction "
                     "SERIAL); any other field given is corrected now")
    else:
        report_event(ev, as_json, f"Entry {position} corrected")


def register(app: typer.Typer) -> None:
    app.command("issue")(issue)
    app.command("return")(return_)
    app.command("move")(move)
    app.add_typer(repair_app, name="repair")
    app.add_typer(transfer_app, name="transfer")
    app.add_typer(approve_app, name="approve")
    app.command("reject")(reject)
    app.command("report-loss")(report_loss)
    app.command("notify")(notify)
    app.command("recover")(recover)
    app.command("release")(release)
    app.command("negligence")(negligence)
    app.command("decommission")(decommission)
    app.command("override")(override)
    app.command("correct")(correct)
