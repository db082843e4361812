"""``resguardo licence attach|detach|report``: weapons and officers on a collective
licence (LOC), and the periodic licence report correlated with the agency's structure
and its officers' credential folios.

The commands are added to the ``licence`` group by ``cli.admin.register``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from resguardo.cli.context import AsUser, Json, agency_of, read, refusals, report_event, write
from resguardo.cli.output import fail
from resguardo.services import registry

Firearm = Annotated[str | None, typer.Option("--firearm", metavar="SERIAL",
                                             help="Serial of the weapon.")]
Make = Annotated[str | None, typer.Option(help="Make, when two makes share the serial.")]
Officer = Annotated[str | None, typer.Option("--officer", metavar="BADGE",
                                             help="Badge of the officer.")]
Agency = Annotated[str | None, typer.Option(
    help="The officer's agency (default: your own agency).")]
Reason = Annotated[str, typer.Option(
    help="Why: the acquisition declared, the military zone's acknowledgement, the error "
         "corrected.")]


def _one(firearm: str | None, officer: str | None) -> None:
    if bool(firearm) == bool(officer):
        raise fail("give --firearm SERIAL or --officer BADGE (one of them)", code=2)


@refusals
def licence_attach(
    number: Annotated[str, typer.Argument(help="Licence number.")],
    reason: Reason,
    firearm: Firearm = None,
    officer: Officer = None,
    make: Make = None,
    agency: Agency = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Put a weapon or an officer on a collective licence covering their agency (an alta).

    Example: resguardo --as armero licence attach LOC-JAL-0042 --firearm PX86019 --reason "Compra OC-2026-014, manifestada a la 15a Zona Militar"
    """
    _one(firearm, officer)
    if firearm:
        ev = write(as_user, registry.attach_firearm, firearm, number, reason, make)
        report_event(ev, as_json, f"Firearm {firearm} is on licence {number}")
        return
    assert officer is not None
    ev = write(as_user, lambda uow: registry.attach_officer(
        uow, agency_of(uow, agency), officer, number, reason))
    report_event(ev, as_json, f"Officer {officer} is on licence {number}")


@refusals
def licence_detach(
    reason: Reason,
    firearm: Firearm = None,
    officer: Officer = None,
    make: Make = None,
    agency: Agency = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Take a weapon or an officer off its licence (a baja; the record stays in the registry).

    Example: resguardo --as jefe licence detach --officer GDL-0007 --reason "Cambio de adscripción"
    """
    _one(firearm, officer)
    if firearm:
        ev = write(as_user, registry.attach_firearm, firearm, None, reason, make)
        report_event(ev, as_json, f"Firearm {firearm} is off its licence")
        return
    assert officer is not None
    ev = write(as_user, lambda uow: registry.attach_officer(
        uow, agency_of(uow, agency), officer, None, reason))
    report_event(ev, as_json, f"Officer {officer} is off his licence")


class ReportFormat(StrEnum):
    pdf = "pdf"
    xlsx = "xlsx"


@refusals
def licence_report(
    number: Annotated[str, typer.Argument(help="Licence number.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", dir_okay=False,
                                      help="Write the report here.")],
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="pdf or xlsx.")
                   ] = ReportFormat.pdf,
    as_user: AsUser = None,
) -> None:
    """The periodic licence report (LFAFE art. 29): every weapon and officer on the licence,
    agency by agency and post by post, with the officers' credential folios.

    Example: resguardo --as supervisor licence report LOC-JAL-0042 --format xlsx --out revista-loc.xlsx
    """
    from resguardo.reports import licence as licence_pdf  # fpdf2 only when asked for
    from resguardo.reports.spreadsheets import write_xlsx
    from resguardo.services import licences

    data = read(as_user, licences.licence_report, number)
    try:
        if fmt is ReportFormat.pdf:
            licence_pdf.write_report_pdf(data, out)
        else:
            write_xlsx(out, licence_pdf.report_tables(data))
    except OSError as exc:
        raise fail(f"{exc.filename or out}: cannot write ({exc.strerror or exc})") from None
    typer.echo(str(out), err=True)
