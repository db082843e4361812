"""Inspection commands: plan, open, scan (typed, wedge or file), reveal, close, acta,
then the findings: the agency answers, the inspector reviews and verifies; and the
schedule of revistas due."""

from __future__ import annotations

import sys
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
from resguardo.domain.errors import DomainError
from resguardo.services import inspections

inspection_app = typer.Typer(help="Inspections (revistas): physical counts against the books.",
                             no_args_is_help=True)
Id = Annotated[int, typer.Argument(help="Inspection number.")]


@inspection_app.command("plan")
@refusals
def plan(agency: Annotated[str, typer.Option(help="Agency to inspect.")],
         date: Annotated[str, typer.Option(help="Planned date, YYYY-MM-DD.")],
         sealed: Annotated[bool, typer.Option("--sealed", help="A surprise inspection: hidden "
                                              "from the agency's staff until it opens.")] = False,
         location: Annotated[list[str] | None, typer.Option(
             help="Limit to this location (repeat); default all.")] = None,
         present: Annotated[list[str] | None, typer.Option(
             help="Person who will be present, 'name | post | identification' "
                  "(repeat).")] = None,
         as_user: AsUser = None, as_json: Json = False) -> None:
    """Plan an inspection of an agency.

    Example: resguardo --as inspector inspection plan --agency MUN-GDL --date 2026-12-03 --sealed
    """
    day = inspections.planned_date(date)
    ev = write(as_user, inspections.plan, agency, day, sealed=sealed, locations=location or [],
               people=present or [])
    report_event(ev, as_json, f"Inspection {ev.position} planned for {agency} on {date}"
                 + (" (sealed)" if sealed else ""))


@inspection_app.command("open")
@refusals
def open_(inspection: Id,
          present: Annotated[list[str] | None, typer.Option(
              help="Person present, 'name | post | identification' (repeat).")] = None,
          as_user: AsUser = None, as_json: Json = False) -> None:
    """Open an inspection: the agency's registry and custody movements freeze until it
    closes (a loss can still be reported); shows what the agency changed since the plan.

    Each person present is written 'name | post | identification'; the acta prints them
    and leaves each a box in the margin of every page to sign.

    Example: resguardo --as inspector inspection open 4411 --present "Cap. Julián Ortega | Inspector de la 15/a. Zona Militar | Credencial SEDENA A-123456" --present "Lic. Marta Díaz | Directora jurídica | INE IDMEX1234567890"
    """
    ev = write(as_user, inspections.open_, inspection, present or [])
    report_event(ev, as_json, f"Inspection {inspection} open: the agency's registry is frozen")
    if not as_json:
        data = write(as_user, inspections.show, inspection)
        _record_tables(data.get("record") or {})


@inspection_app.command("scan")
@refusals
def scan(inspection: Id,
         serial: Annotated[list[str] | None, typer.Argument(
             help="Serial(s) as read. Omit to read one per line from a scanner (keyboard wedge) "
                  "or standard input until end of input.")] = None,
         location: Annotated[str | None, typer.Option(help="Where the weapons are seen.")] = None,
         holder: Annotated[str | None, typer.Option(help="Badge of the officer presenting it.")] = None,
         make: Annotated[str | None, typer.Option(help="Make, if read.")] = None,
         note: Annotated[str | None, typer.Option(help="Observation.")] = None,
         file: Annotated[Path | None, typer.Option(
             help="A count sheet (CSV or XLSX) to record as scans.", exists=True,
             dir_okay=False)] = None,
         month_first: Annotated[bool, typer.Option(help="Dates in the file are month-first.")] = False,
         as_user: AsUser = None, as_json: Json = False) -> None:
    """Record scans. The screen shows the running count, never the expected list.

    Example: resguardo --as inspector inspection scan 4411 --location ARM-1 ABC123 DEF456
    Example: resguardo --as inspector inspection scan 4411 --file conteo.xlsx
    """
    if file is not None:
        view = write(as_user, inspections.scan_file, inspection, file, month_first=month_first)
        _blind(view, as_json)
        return
    if serial:
        view = {}
        for s in serial:
            view = write(as_user, inspections.scan, inspection, s, location=location,
                         holder=holder, make=make, note=note)
        _blind(view, as_json)
        return
    user = require_user(as_user)
    interactive = sys.stdin.isatty() and not as_json
    if interactive:
        typer.echo("Scan serials (Enter after each; Ctrl-D to finish).")
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        try:
            view = write(user, inspections.scan, inspection, text, location=location,
                         holder=holder, make=make, note=note, source="scanner")
        except DomainError as exc:
            typer.secho(f"  {text}: {exc.message}", fg="red", err=True)
            continue
        if as_json:
            print_json(view)
        else:
            typer.echo(f"  {text}  ✓  scans: {view['scans']}  weapons: {view['weapons_seen']}")


def _blind(view: dict, as_json: bool) -> None:
    if as_json:
        print_json(view)
        return
    if "imported" in view:
        typer.echo(f"{view['imported']} rows recorded from the file.")
    typer.echo(f"Inspection {view['inspection']}: {view['scans']} scans, "
               f"{view['weapons_seen']} distinct weapons seen.")
    print_table("Last scans", ["serial", "location", "holder", "at"],
                [(s["serial"], s["location"], s["holder"], s["at"]) for s in view["last"]])


@inspection_app.command("count-rounds")
@refusals
def count_rounds(inspection: Id, quantity: int,
                 location: Annotated[str, typer.Option(help="Location code.")],
                 calibre: Annotated[str, typer.Option(help="Calibre.")],
                 lot: Annotated[str, typer.Option(help="Lot.")],
                 as_user: AsUser = None, as_json: Json = False) -> None:
    """Record the rounds counted for one calibre and lot at a location.

    Example: resguardo --as inspector inspection count-rounds 4411 19400 --location ARM-1 --calibre 9x19mm --lot L-2291
    """
    ev = write(as_user, inspections.count_rounds, inspection, location, calibre, lot, quantity)
    report_event(ev, as_json, f"{quantity} rounds counted")


@inspection_app.command("reveal")
@refusals
def reveal(inspection: Id, reason: Annotated[str, typer.Option(help="Why the blind count is revealed.")],
           as_user: AsUser = None, as_json: Json = False) -> None:
    """Show the expected list during a count (recorded in the log).

    Example: resguardo --as inspector inspection reveal 4411 --reason "Conteo concluido, verificación"
    """
    data = write(as_user, inspections.reveal, inspection, reason)
    if as_json:
        print_json(data)
        return
    print_table("Expected on the books", ["serial", "make", "status", "location", "custodian"],
                [(e["serial"], e["make"], e["status"], e["location"], e["custodian"])
                 for e in data["expected"]])


@inspection_app.command("close")
@refusals
def close(inspection: Id,
          lang: Annotated[str, typer.Option(help="Language of the acta: es or en.")] = "es",
          pdf: Annotated[Path | None, typer.Option(help="Also write the acta PDF here.")] = None,
          present_by: Annotated[str | None, typer.Option(
              help="Deadline for weapons issued to officers on duty to be presented: "
                   "YYYY-MM-DD (the end of that day in the inspected agency's time zone) or "
                   "YYYY-MM-DDTHH:MM (UTC unless it gives an offset, e.g. -07:00); "
                   "default 72 hours.")] = None,
          as_user: AsUser = None, as_json: Json = False) -> None:
    """Close an inspection: findings frozen, acta issued and its hash recorded. Weapons
    recorded as issued and not seen are "to present" by the deadline, then missing.

    Example: resguardo --as inspector inspection close 4411 --present-by 2026-12-08 --pdf acta-4411.pdf
    """
    if lang not in ("es", "en"):
        raise fail("--lang must be es or en", code=2)
    deadline = _instant(present_by, "--present-by") if present_by else None
    result = write(as_user, inspections.close, inspection, lang=lang, present_by=deadline)
    result["witness"] = inspections.witness_closing(deployment(), result)
    if pdf is not None:
        data, _ = read(as_user, inspections.acta, inspection)
        pdf.write_bytes(data)
    if as_json:
        print_json(result)
        return
    typer.echo(f"Inspection {inspection} closed (entry {result['entry']}); "
               f"acta SHA-256 {result['acta_sha256']}")
    typer.echo(_witness_line(result["witness"]))
    print_table("Summary", ["", "count"], list(result["summary"].items()))


def _witness_line(seen: dict) -> str:  # type: ignore[type-arg]
    if seen["checkpoint_id"] is None:
        return f"No checkpoint covers the closing yet: {seen['detail']}"
    where = f"checkpoint {seen['checkpoint_id']} (size {seen['size']}, root {seen['root']})"
    if seen["cosigned"]:
        return f"The closing is covered by {where}, cosigned by the witness {seen['witness']}."
    return (f"The closing is covered by {where}, NOT cosigned by the overseer's witness: "
            f"{seen['detail']}")


@inspection_app.command("acta")
@refusals
def acta(inspection: Id, pdf: Annotated[Path, typer.Option(help="Where to write the PDF.")],
         as_user: AsUser = None, as_json: Json = False) -> None:
    """Write the acta of a closed inspection, as signed (its hash is checked first).

    Example: resguardo --as inspector inspection acta 4411 --pdf acta-4411.pdf
    """
    data, digest = write(as_user, inspections.acta, inspection)
    pdf.write_bytes(data)
    if as_json:
        print_json({"inspection": inspection, "pdf": str(pdf), "sha256": digest})
    else:
        typer.echo(f"Wrote {pdf} (SHA-256 {digest}, matches the ledger)")


@inspection_app.command("show")
@refusals
def show(inspection: Id, as_user: AsUser = None, as_json: Json = False) -> None:
    """Show an inspection: the running count while open, the findings once closed.

    Example: resguardo --as inspector inspection show 4411
    """
    data = write(as_user, inspections.show, inspection)
    if as_json:
        print_json(data)
        return
    for key in ("id", "agency", "authority", "state", "sealed", "planned_on", "opened_at",
                "closed_at", "present_by", "refused_movements"):
        if key in data:
            typer.echo(f"{key:18} {data[key] if data[key] is not None else '-'}")
    if data.get("frozen") and "count" not in data:
        typer.echo("The revista is open: the agency's registry and custody movements are frozen "
                   "until it closes (a loss or theft can still be reported).")
    if "count" in data:
        _blind(data["count"], False)
    _record_tables(data.get("record") or {})
    if "findings" in data:
        print_table("Findings", ["id", "kind", "serial", "make", "state", "answer"],
                    [(f["id"], f["kind"], f.get("serial"), f.get("make"), f["state"],
                      f["resolution"] or "") for f in data["findings"]])


def _record_tables(record: dict) -> None:
    if record.get("identity"):
        print_table("Identity corrections since the last revista",
                    ["request", "asked", "by", "weapon", "changes", "state", "decided by"],
                    [(c["request"], c["requested_at"], c["requested_by"], c["serial"],
                      ", ".join(f"{k}={v}" for k, v in c["changes"].items()), c["state"],
                      c["decided_by"] or "") for c in record["identity"]])
    for key, title in (("changes", "Changes by the agency since the plan"),
                       ("losses", "Losses reported while planned or open"),
                       ("refusals", "Attempts refused while open")):
        rows = record.get(key) or []
        if rows:
            print_table(title, ["entry", "at", "who", "what", "weapon"],
                        [(r["entry"], r["at"], r["who"], r["what"], r["subject"]) for r in rows])


def _instant(text: str, option: str):  # type: ignore[no-untyped-def]
    """A day (the service ends it on the agency's clock) or an instant."""
    from datetime import date

    from resguardo.domain.timefmt import parse_instant
    try:
        return parse_instant(text) if "T" in text else date.fromisoformat(text.strip())
    except ValueError:
        raise fail(f"{option} must be YYYY-MM-DD or YYYY-MM-DDTHH:MM", code=2) from None


@inspection_app.command("list")
@refusals
def list_(state: Annotated[str | None, typer.Option(help="planned, open or closed.")] = None,
          as_user: AsUser = None, as_json: Json = False) -> None:
    """List the inspections you may see. Example: resguardo --as supervisor inspection list --state planned"""
    rows = write(as_user, inspections.list_, state)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No inspections.")
        return
    print_table("Inspections", ["id", "agency", "state", "sealed", "planned"],
                [(r["id"], r["agency"], r["state"], "yes" if r["sealed"] else "",
                  r["planned_on"]) for r in rows])


@inspection_app.command("answer")
@refusals
def answer(inspection: Id,
           finding: Annotated[list[int], typer.Argument(help="Finding number(s).")],
           resolution: Annotated[str, typer.Option(
               help="found, reported_lost, reported_stolen, corrected, registered, seized, no_action")],
           reason: Annotated[str, typer.Option(help="Explanation.")],
           evidence: Annotated[str, typer.Option(
               help="The evidence: complaint number, document, where the weapon is.")],
           as_user: AsUser = None, as_json: Json = False) -> None:
    """Answer findings after the inspection (the agency's side); each answer waits for the
    inspector's review.

    Example: resguardo --as armero inspection answer 4411 3 7 --resolution reported_lost --reason "Robada en servicio" --evidence "Denuncia FGE/JAL/123/2026"
    """
    events = write(as_user, inspections.answer, inspection, finding, resolution, reason,
                   evidence)
    _events(events, as_json, f"{len(events)} finding(s) answered; they await the inspector's "
                             "review")


@inspection_app.command("review")
@refusals
def review(inspection: Id,
           finding: Annotated[list[int], typer.Argument(help="Finding number(s).")],
           accept: Annotated[bool, typer.Option(
               "--accept/--reopen", help="Accept the answers (close) or reopen the findings.")],
           note: Annotated[str, typer.Option(help="Why (required to reopen).")] = "",
           as_user: AsUser = None, as_json: Json = False) -> None:
    """Review the agency's answers (the overseeing inspector): accept closes a finding,
    reopen sends it back to the agency.

    Example: resguardo --as inspector inspection review 4411 3 7 --reopen --note "Sin copia de la denuncia"
    """
    events = write(as_user, inspections.review, inspection, finding, accept=accept, note=note)
    _events(events, as_json, f"{len(events)} finding(s) " + ("closed" if accept else "reopened"))


@inspection_app.command("verify")
@refusals
def verify(inspection: Id,
           serial: Annotated[list[str] | None, typer.Argument(
               help="Serial(s) seen. Omit to read one per line from a scanner.")] = None,
           holder: Annotated[str | None, typer.Option(help="Badge of the officer presenting it.")] = None,
           location: Annotated[str | None, typer.Option(help="Where it was seen.")] = None,
           as_user: AsUser = None, as_json: Json = False) -> None:
    """After closing, scan weapons that the findings are about (an officer presenting his
    weapon, a follow-up count): their findings close.

    Example: resguardo --as inspector inspection verify 4411 GLK-90001 --holder GDL-0142
    """
    serials = serial or [line.strip() for line in sys.stdin if line.strip()]
    events = []
    for text in serials:
        events.extend(write(as_user, inspections.verify, inspection, text, holder=holder,
                            location=location))
    _events(events, as_json, f"{len(events)} finding(s) closed by the scan")


@inspection_app.command("findings")
@refusals
def findings(inspection: Id,
             state: Annotated[str | None, typer.Option(
                 help="pending (open or reopened), answered, closed, open or reopened.")] = None,
             kind: Annotated[str | None, typer.Option(help="missing, to_present, ...")] = None,
             offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
             limit: Annotated[int, typer.Option(help="At most this many (max 500).")] = 50,
             as_user: AsUser = None, as_json: Json = False) -> None:
    """A page of a closed inspection's findings, filtered by state and kind.

    Example: resguardo --as inspector inspection findings 4411 --state answered
    """
    page = write(as_user, inspections.findings, inspection, state=state, kind=kind,
                 offset=offset, limit=limit)
    if as_json:
        print_json(page)
        return
    print_table(f"Findings ({page['total']})", ["id", "kind", "serial", "state", "answer",
                                                "evidence"],
                [(f["id"], f["kind"], f.get("serial") or "", f["state"], f["resolution"] or "",
                  f["evidence"] or "") for f in page["items"]])


@inspection_app.command("due")
@refusals
def due(as_user: AsUser = None, as_json: Json = False) -> None:
    """Revistas due and overdue for the agencies you oversee (a revista every
    RESGUARDO_REVISTA_MONTHS months, default 6, counted from the last closed one).

    Example: resguardo --as inspector inspection due
    """
    rows = write(as_user, inspections.due, deployment().settings.revista_months)
    if as_json:
        print_json(rows)
        return
    print_table("Revistas due", ["agency", "last closed", "due", "status", "planned"],
                [(r["agency"], r["last_closed"] or "never", r["due_on"], r["status"],
                  ", ".join(str(i) for i in r["planned"])) for r in rows])


def _events(events: list, as_json: bool, message: str) -> None:  # type: ignore[type-arg]
    if as_json:
        print_json([{"entry": ev.position, "type": ev.type} for ev in events])
    else:
        typer.echo(message)


def register(app: typer.Typer) -> None:
    app.add_typer(inspection_app, name="inspection")


