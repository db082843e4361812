"""``resguardo export ...``: the registry, roster, locations, custody and findings as
CSV, XLSX or JSON, now or as of a date; the licence additions and removals as PDF or
spreadsheet.

Formula-like text is neutralized in every CSV and XLSX (see ``sheets.formulas``).
"""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from resguardo.cli.context import AsUser, read, refusals
from resguardo.cli.output import fail
from resguardo.reports.spreadsheets import Table, json_lines, write_csv, write_xlsx
from resguardo.services import exports
from resguardo.services.exports import ExportOptions

export_app = typer.Typer(
    help="Export the registry, officers, locations, custody, findings or a licence's "
         "additions and removals.", no_args_is_help=True)


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


class LicenceFormat(StrEnum):
    pdf = "pdf"
    xlsx = "xlsx"
    csv = "csv"


class Lang(StrEnum):
    es = "es"
    en = "en"


Out = Annotated[Path | None, typer.Option(
    "--out", "-o", metavar="FILE", dir_okay=False,
    help="Write here (default: standard output for csv and json; xlsx and pdf need a file).")]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of headers and values.")]


def _date(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be a date YYYY-MM-DD, got {value!r}", code=2) from None


def _write_table(what: str, fmt: Format, out: Path | None, options: ExportOptions,
                 as_user: str | None) -> None:
    if fmt is Format.xlsx and out is None:
        raise fail("--format xlsx needs --out FILE", code=2)

    def run(uow):  # type: ignore[no-untyped-def]
        with exports.open_export(uow, what, options) as table:
            if fmt is Format.json:
                if out is None:
                    for chunk in json_lines(table.records()):
                        sys.stdout.write(chunk)
                else:
                    with open(out, "w", encoding="utf-8") as f:
                        f.writelines(json_lines(table.records()))
            elif fmt is Format.csv:
                target = sys.stdout if out is None else out
                write_csv(target, table.headers, table.cells())
            else:
                assert out is not None
                write_xlsx(out, [Table(what, table.headers, table.cells())])

    try:
        read(as_user, run)
    except OSError as exc:
        raise fail(f"{exc.filename or out}: cannot write ({exc.strerror or exc})") from None
    if out is not None:
        typer.echo(str(out), err=True)


def _command(what: str, summary: str, example: str, statuses: str | None) -> None:
    status_help = (f"Only this status ({statuses})." if statuses
                   else "Not used for this export.")

    def command(
        fmt: Format = typer.Option(Format.csv, "--format", "-f", help="csv, xlsx or json."),
        out: Path | None = typer.Option(
            None, "--out", "-o", metavar="FILE", dir_okay=False,
            help="Write here (default: standard output for csv and json; xlsx needs a file)."),
        agency: str | None = typer.Option(None, help="Only this agency (code)."),
        status: str | None = typer.Option(None, help=status_help),
        as_of: str | None = typer.Option(
            None, "--as-of", metavar="DATE",
            help="As it stood at the end of that day where each agency is (its time "
                 "zone), replayed from the log."),
        lang: Lang = typer.Option(Lang.es, "--lang", help="Language of headers and values."),
        as_user: str | None = typer.Option(
            None, "--as", envvar="RESGUARDO_USER", metavar="USER",
            help="Act as this user (or set RESGUARDO_USER)."),
    ) -> None:
        if status and statuses is None:
            raise fail(f"--status does not apply to {what}", code=2)
        options = ExportOptions(agency=agency, status=status, as_of=_date(as_of, "--as-of"),
                                lang=lang.value)
        _write_table(what, fmt, out, options, as_user)

    command.__doc__ = f"{summary}\n\nExample: {example}"
    export_app.command(what)(refusals(command))


_command("firearms", "Export the registry: one firearm per row, re-importable.",
         "resguardo --as jefe1 export firearms --format xlsx --out inventario.xlsx",
         "in_storage, issued, in_repair, ... or en armería, asignada, ...")
_command("officers", "Export the officers, re-importable.",
         "resguardo --as jefe1 export officers --format csv --out elementos.csv",
         "active, suspended, separated")
_command("locations", "Export the locations, re-importable.",
         "resguardo --as jefe1 export locations --format xlsx --out ubicaciones.xlsx", None)
_command("custody", "Export who holds each weapon and since when.",
         "resguardo --as supervisor export custody --status issued --as-of 2025-03-01 "
         "--format xlsx --out resguardos.xlsx",
         "in_storage, issued, ...")
_command("findings", "Export the findings of closed inspections.",
         "resguardo --as supervisor export findings --status open --format csv",
         "open, accepted, disputed, ...")


@export_app.command("licence")
@refusals
def export_licence(
    number: Annotated[str, typer.Argument(help="Licence number.")],
    start: Annotated[str, typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", metavar="DATE", help="Last day, YYYY-MM-DD.")],
    fmt: Annotated[LicenceFormat, typer.Option("--format", "-f", help="pdf, xlsx or csv.")
                   ] = LicenceFormat.pdf,
    out: Out = None,
    lang: LangOpt = Lang.es,
    as_user: AsUser = None,
) -> None:
    """Weapons and officers added to or removed from a licence in a period: a PDF to sign,
    the ministry's Modelo 4 (--format xlsx: a weapons sheet and a personnel sheet) or CSV.

    Example: resguardo --as supervisor export licence LOC-1 --from 2025-01-01 --to 2025-03-31 --out altas-bajas.pdf
    """
    first, last = _date(start, "--from"), _date(end, "--to")
    assert first is not None and last is not None
    if fmt is not LicenceFormat.csv and out is None:
        raise fail(f"--format {fmt.value} needs --out FILE", code=2)
    from resguardo.reports import licence as licence_report  # fpdf2 only when asked for

    data = read(as_user, exports.licence_movements, number, first, last)
    try:
        if fmt is LicenceFormat.pdf:
            assert out is not None
            licence_report.write_pdf(data, out, lang=lang.value)
        elif fmt is LicenceFormat.xlsx:
            assert out is not None
            write_xlsx(out, licence_report.modelo4_tables(data, lang.value))
        else:
            table = licence_report.flat_table(data, lang.value)
            write_csv(sys.stdout if out is None else out, table.headers, table.rows)
    except OSError as exc:
        raise fail(f"{exc.filename or out}: cannot write ({exc.strerror or exc})") from None
    if out is not None:
        typer.echo(str(out), err=True)


def register(app: typer.Typer) -> None:
    """Add ``export`` to the ``resguardo`` command."""
    app.add_typer(export_app, name="export")
