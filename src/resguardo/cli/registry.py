"""Officers and firearms: add, list, show."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from resguardo.cli.context import AsUser, Json, agency_of, read, refusals, report_event, write
from resguardo.cli.output import fail, print_json, print_table
from resguardo.domain.codes import FirearmKind, FirearmStatus, OfficerStatus
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.reports.labels import DEFAULT_SIZE as DEFAULT_LABEL_SIZE
from resguardo.reports.labels import SIZES as LABEL_SIZES
from resguardo.reports.labels import LabelData, label_size, labels_pdf
from resguardo.reports.pin_slips import SlipData, slips_pdf
from resguardo.reports.vocabulary import KIND_WORDS
from resguardo.services import history, pins, registry

officer_app = typer.Typer(help="Officers (elementos) who may hold weapons.", no_args_is_help=True)
firearm_app = typer.Typer(help="Firearms in the registry.", no_args_is_help=True)

MAX_CLI_LABELS = 5000  # a run of labels stops here; filter for more

Agency = Annotated[str | None, typer.Option(help="Agency code (default: your own agency).")]


def _date(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be a date YYYY-MM-DD, got {value!r}", code=2) from None


@officer_app.command("add")
@refusals
def officer_add(
    badge: str,
    name: Annotated[str, typer.Option(help="Full name.")],
    agency: Agency = None,
    cuip: Annotated[str | None, typer.Option(help="CUIP (national police key).")] = None,
    credential_folio: Annotated[str | None, typer.Option(help="Carry credential folio.")] = None,
    credential_expiry: Annotated[str | None, typer.Option(help="Credential expiry YYYY-MM-DD.")] = None,
    qualification_expiry: Annotated[str | None, typer.Option(help="Qualification expiry YYYY-MM-DD.")] = None,
    licence: Annotated[str | None, typer.Option(help="Licence number covering the officer.")] = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Register an officer.

    Example: resguardo --as chief1 officer add P-0142 --name "Ana Ruiz" --credential-expiry 2027-06-30 --qualification-expiry 2027-01-31
    """
    data = OfficerInput(badge=badge, name=name, cuip=cuip, credential_folio=credential_folio,
                        credential_expiry=_date(credential_expiry, "--credential-expiry"),
                        qualification_expiry=_date(qualification_expiry, "--qualification-expiry"))
    ev = write(as_user, lambda uow: registry.add_officer(uow, agency_of(uow, agency), data, licence))
    report_event(ev, as_json, f"Officer {badge.upper()} registered")


def _officer_status_command(verb: str, fn, past: str):  # type: ignore[no-untyped-def]
    @refusals
    def command(
        badge: str,
        reason: Annotated[str, typer.Option(help="Written reason.")],
        agency: Agency = None,
        as_user: AsUser = None,
        as_json: Json = False,
    ) -> None:
        ev = write(as_user, lambda uow: fn(uow, agency_of(uow, agency), badge, reason))
        report_event(ev, as_json, f"Officer {badge.upper()} {past}")
    command.__doc__ = (f"{verb.capitalize()} an officer.\n\n"
                       f"Example: resguardo --as chief1 officer {verb} P-0142 --reason \"...\"")
    officer_app.command(verb)(command)


_officer_status_command("suspend", registry.suspend_officer, "suspended")
_officer_status_command("reinstate", registry.reinstate_officer, "reinstated")
_officer_status_command("separate", registry.separate_officer, "separated")


@officer_app.command("renew")
@refusals
def officer_renew(
    badge: str,
    agency: Agency = None,
    credential_folio: Annotated[str | None, typer.Option(help="New credential folio.")] = None,
    credential_expiry: Annotated[str | None, typer.Option(help="New credential expiry.")] = None,
    qualification_expiry: Annotated[str | None, typer.Option(help="New qualification expiry.")] = None,
    credential_issued: Annotated[str | None, typer.Option(
        help="Date the renewed credential was issued (the expiry may not precede it).")] = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Record a renewed carry credential or qualification.

    Only what is given changes: a new expiry alone keeps the credential folio.
    An expiry in the past is refused.

    Example: resguardo --as chief1 officer renew P-0142 --qualification-expiry 2027-12-31
    """
    ev = write(as_user, lambda uow: registry.renew_officer(
        uow, agency_of(uow, agency), badge, credential_folio=credential_folio,
        credential_expiry=_date(credential_expiry, "--credential-expiry"),
        qualification_expiry=_date(qualification_expiry, "--qualification-expiry"),
        credential_issued=_date(credential_issued, "--credential-issued")))
    report_event(ev, as_json, f"Officer {badge.upper()} renewed")


@officer_app.command("list")
@refusals
def officer_list(
    agency: Annotated[str | None, typer.Option(help="Agency code.")] = None,
    status: Annotated[OfficerStatus | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """List officers. Example: resguardo --as chief1 officer list --status suspended"""
    def run(uow):  # type: ignore[no-untyped-def]
        agency_id = uow.repo.org(agency).id if agency else None
        page = uow.repo.officers(agency_id=agency_id, status=status.value if status else None,
                                 offset=offset, limit=limit)
        names = uow.repo.org_names([o.agency_id for o in page.items])
        return page, names
    page, names = read(as_user, run)
    rows = [{"agency": names[o.agency_id], "badge": o.badge, "name": o.name,
             "status": o.status.value, "credential_expiry": o.credential_expiry,
             "qualification_expiry": o.qualification_expiry} for o in page.items]
    if as_json:
        print_json({"total": page.total, "offset": offset, "items": rows})
    else:
        print_table(f"Officers ({page.total})", ["agency", "badge", "name", "status",
                                                 "credential", "qualification"],
                    [tuple(r.values()) for r in rows])


@officer_app.command("show")
@refusals
def officer_show(badge: str, agency: Agency = None, as_user: AsUser = None,
                 as_json: Json = False) -> None:
    """Show an officer and the weapons issued to them. Example: resguardo --as chief1 officer show P-0142"""
    def run(uow):  # type: ignore[no-untyped-def]
        officer = uow.repo.officer(uow.repo.org(agency_of(uow, agency)).id, badge)
        return officer, uow.repo.weapons_held(officer.id)
    officer, held = read(as_user, run)
    data = {"badge": officer.badge, "name": officer.name, "cuip": officer.cuip,
            "status": officer.status.value, "credential_folio": officer.credential_folio,
            "credential_expiry": officer.credential_expiry,
            "qualification_expiry": officer.qualification_expiry,
            "weapons": [{"serial": f.serial, "make": f.make, "since": f.status_since}
                        for f in held]}
    if as_json:
        print_json(data)
        return
    for key in ("badge", "name", "cuip", "status", "credential_folio", "credential_expiry",
                "qualification_expiry"):
        typer.echo(f"{key:22} {data[key] if data[key] is not None else '-'}")
    print_table("Weapons held", ["serial", "make", "since"],
                [(w["serial"], w["make"], w["since"]) for w in data["weapons"]])


@firearm_app.command("add")
@refusals
def firearm_add(
    serial: str,
    make: Annotated[str, typer.Option(help="Manufacturer.")],
    calibre: Annotated[str, typer.Option(help="Calibre, e.g. 9x19mm.")],
    kind: Annotated[FirearmKind, typer.Option(help="Kind of weapon.")],
    location: Annotated[str, typer.Option(help="Location code where it is stored.")],
    agency: Agency = None,
    model: Annotated[str | None, typer.Option(help="Model.")] = None,
    folio: Annotated[str | None, typer.Option(help="Registration folio.")] = None,
    barrel_serial: Annotated[str | None, typer.Option(help="Barrel serial.")] = None,
    ballistic_id: Annotated[str | None, typer.Option(help="Ballistic identification code.")] = None,
    licence: Annotated[str | None, typer.Option(help="Licence number.")] = None,
    acquired: Annotated[str | None, typer.Option(help="Acquisition date YYYY-MM-DD.")] = None,
    supplier: Annotated[str | None, typer.Option(help="Supplier.")] = None,
    purchase_ref: Annotated[str | None, typer.Option(help="Purchase reference.")] = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Register a firearm into storage.

    Example: resguardo --as armero1 firearm add ABC123 --make Glock --model 17 --calibre 9x19mm --kind pistol --location ARM-1
    """
    data = FirearmInput(serial=serial, make=make, calibre=calibre, kind=kind, model=model,
                        folio=folio, barrel_serial=barrel_serial, ballistic_id=ballistic_id,
                        acquired_on=_date(acquired, "--acquired"), supplier=supplier,
                        purchase_ref=purchase_ref)
    ev = write(as_user, lambda uow: registry.register_firearm(
        uow, agency_of(uow, agency), location, data, licence))
    report_event(ev, as_json, f"Firearm {make} {serial} registered")


@firearm_app.command("list")
@refusals
def firearm_list(
    agency: Annotated[str | None, typer.Option(help="Agency code.")] = None,
    status: Annotated[FirearmStatus | None, typer.Option(help="Only this status.")] = None,
    kind: Annotated[FirearmKind | None, typer.Option(help="Only this kind.")] = None,
    make: Annotated[str | None, typer.Option(help="Only this make.")] = None,
    calibre: Annotated[str | None, typer.Option(help="Only this calibre.")] = None,
    search: Annotated[str | None, typer.Option(help="Serial contains (or folio equals).")] = None,
    order: Annotated[str, typer.Option(help="serial, make, status, since, calibre, kind; "
                                             "prefix - for descending.")] = "serial",
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """List firearms in your scope, filtered and paginated.

    Example: resguardo --as chief1 firearm list --status issued --limit 20
    """
    def run(uow):  # type: ignore[no-untyped-def]
        agency_id = uow.repo.org(agency).id if agency else None
        page = uow.repo.firearms(
            agency_id=agency_id, status=status.value if status else None,
            kind=kind.value if kind else None, make=make, calibre=calibre, search=search,
            order=order, offset=offset, limit=limit)
        names = uow.repo.org_names([f.agency_id for f in page.items])
        locs = uow.repo.location_codes([f.location_id for f in page.items])
        officers = uow.repo.officers_by_id([f.custodian_id for f in page.items])
        return page, names, locs, officers
    page, names, locs, officers = read(as_user, run)
    rows = [{"serial": f.serial, "make": f.make, "model": f.model, "calibre": f.calibre,
             "kind": f.kind.value, "agency": names[f.agency_id], "status": f.status.value,
             "location": locs.get(f.location_id or -1),
             "custodian": officers[f.custodian_id].badge if f.custodian_id else None}
            for f in page.items]
    if as_json:
        print_json({"total": page.total, "offset": offset, "limit": limit, "items": rows})
    else:
        print_table(f"Firearms ({page.total}, showing {offset + 1 if rows else 0}-{offset + len(rows)})",
                    ["serial", "make", "model", "calibre", "kind", "agency", "status",
                     "location", "custodian"], [tuple(r.values()) for r in rows])


@firearm_app.command("show")
@refusals
def firearm_show(
    serial: str,
    make: Annotated[str | None, typer.Option(help="Make, when several share the serial.")] = None,
    view: Annotated[str, typer.Option(help="History as recorded, as corrected, or both.")] = "both",
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Show a firearm and its custody history.

    Example: resguardo --as chief1 firearm show ABC123 --view corrected
    """
    if view not in history.VIEWS:
        raise fail("--view must be recorded, corrected or both", code=2)
    data = read(as_user, history.firearm_detail, serial, make=make, view=view)
    if as_json:
        print_json(data)
        return
    for key in ("serial", "make", "model", "calibre", "kind", "folio", "agency", "status",
                "location", "custodian", "since"):
        value = data[key]
        if key == "custodian" and value:
            value = f"{value['badge']} {value['name']}"
        typer.echo(f"{key:10} {value if value is not None else '-'}")
        if key == "serial" and data.get("serial_as_typed"):
            typer.echo(f"{'as typed':10} {data['serial_as_typed']}")
    rows = []
    for e in data["history"]:
        detail = ", ".join(f"{k}={e[k]}" for k in ("officer", "location", "to_agency", "place",
                                                   "complaint_number", "shop") if e.get(k))
        if e.get("corrections"):
            detail += " [corrected: " + "; ".join(
                f"{k}: {c['previous'].get(k)!r} -> {v!r}" for c in e["corrections"]
                for k, v in c["changes"].items()) + "]"
        rows.append((e["position"], e["at"][:19].replace("T", " "), e["event"], e["actor"],
                     detail, e.get("reason") or ""))
    print_table("History", ["entry", "at (UTC)", "event", "by", "details", "reason"], rows)


def register(app: typer.Typer) -> None:
    app.add_typer(officer_app, name="officer")
    app.add_typer(firearm_app, name="firearm")


@firearm_app.command("labels")
@refusals
def firearm_labels(
    serials: Annotated[list[str] | None, typer.Argument(
        help="Serials to label (default: every firearm the filters select).")] = None,
    out: Annotated[Path, typer.Option("--out", help="PDF file to write.")] = Path("labels.pdf"),
    size: Annotated[str, typer.Option(help="Label stock: " + ", ".join(
        f"{s.code} ({s.name})" for s in LABEL_SIZES.values()) + ".")] = DEFAULT_LABEL_SIZE,
    agency: Annotated[str | None, typer.Option(help="Agency code.")] = None,
    status: Annotated[FirearmStatus | None, typer.Option(help="Only this status.")] = None,
    kind: Annotated[FirearmKind | None, typer.Option(help="Only this kind.")] = None,
    make: Annotated[str | None, typer.Option(help="Only this make.")] = None,
    lang: Annotated[str, typer.Option(help="Language of the kind printed: es or en.")] = "es",
    as_user: AsUser = None,
) -> None:
    """Print QR labels to a PDF, on a sheet of labels or a thermal printer's roll.

    Example: resguardo --as armorer1 firearm labels GLK-A100 GLK-A200 --size roll-62x29 --out etiquetas.pdf
    """
    stock = label_size(size)
    if lang not in KIND_WORDS:
        raise fail("--lang must be es or en", code=2)
    if serials and (status or kind or make):
        raise fail("give serials or filters (--status, --kind, --make), not both", code=2)

    def run(uow):  # type: ignore[no-untyped-def]
        if serials:
            found = [uow.repo.firearm(s) for s in serials]
        else:
            agency_id = uow.repo.org(agency).id if agency else None
            page = uow.repo.firearms(agency_id=agency_id, status=status.value if status else None,
                                     kind=kind.value if kind else None, make=make,
                                     order="serial", offset=0, limit=MAX_CLI_LABELS + 1)
            found = page.items
        names = uow.repo.org_names([f.agency_id for f in found])
        return found, names
    found, names = read(as_user, run)
    if len(found) > MAX_CLI_LABELS:
        raise fail(f"more than {MAX_CLI_LABELS} firearms: narrow the filters", code=2)
    items = [LabelData(serial=f.serial, make=f.make, model=f.model, calibre=f.calibre,
                       kind=KIND_WORDS[lang][f.kind.value].capitalize(),
                       agency=names[f.agency_id], folio=f.folio) for f in found]
    out.write_bytes(labels_pdf(items, title="Etiquetas QR" if lang == "es" else "QR labels",
                               size=stock.code))
    pages = -(-len(items) // stock.per_page) or 1
    typer.echo(f"{len(items)} label(s) on {pages} page(s) of {stock.code} written to {out}")


@officer_app.command("pin-slips")
@refusals
def officer_pin_slips(
    out: Annotated[Path, typer.Option("--out", help="PDF file of slips to write.")],
    agency: Agency = None,
    badge: Annotated[list[str] | None, typer.Option(
        "--badge", help="Only these officers (repeat the option); default: every active "
                        "officer without a PIN.")] = None,
    lang: Annotated[str, typer.Option(help="Language of the slips: es or en.")] = "es",
    as_user: AsUser = None,
) -> None:
    """Set a random 6-digit desk PIN for officers without one, printed on slips (a chief's act).

    The PINs appear only in the PDF (the database keeps an argon2 hash), so keep it safe,
    print it, and delete it. Officers who already have a PIN keep it.

    Example: resguardo --as chief1 officer pin-slips --out nip-slips.pdf
    """
    from resguardo.web.i18n import LANGUAGES as UI_LANGUAGES
    from resguardo.web.i18n import Lang

    if lang not in UI_LANGUAGES:
        raise fail("--lang must be es or en", code=2)
    if out.exists():
        raise fail(f"{out} exists: the slips are written to a new file only", code=2)

    def run(uow):  # type: ignore[no-untyped-def]
        code = agency_of(uow, agency)
        return pins.issue_slips(uow, code, badge or None), uow.repo.org(code), uow.now()
    # the file first (new, owner-only): PINs are never set that nobody could read
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        slips, org, now = write(as_user, run)
    except BaseException:
        os.close(fd)
        out.unlink()
        raise
    words = Lang(lang)
    body = slips_pdf([SlipData(org.name, s.officer.badge, s.officer.name, s.pin) for s in slips],
                     words.gettext, printed_on=words.datetime(now),
                     printed_by=str(as_user or ""))
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
    typer.echo(f"{len(slips)} PIN slip(s) for {org.code} written to {out} (readable by you only); "
               "print them, then delete the file")
