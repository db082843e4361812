"""``resguardo import firearms|officers|locations FILE``: spreadsheets into the registry.

All or nothing by default: one refused row and nothing is imported (exit 1).
``--skip-invalid`` imports the valid rows and reports the rest; ``--rejects``
saves the refused rows, with an added ``error`` column, for fixing and
re-importing. A progress bar (rows per second, time remaining) shows on a
terminal; ``--json`` and redirected output stay quiet.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from resguardo.cli.context import AsUser, Json, deployment, refusals, require_user
from resguardo.cli.output import err_console, fail, print_json, print_table
from resguardo.services import imports
from resguardo.services.imports import ImportOptions, ImportReport

#: Problems printed on the terminal; the rest are in --json and --rejects.
SHOWN_PROBLEMS = 100

import_app = typer.Typer(
    help="Import firearms, officers or locations from a spreadsheet (CSV or XLSX).",
    no_args_is_help=True)


class Lang(StrEnum):
    es = "es"
    en = "en"


FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="The spreadsheet (.csv or .xlsx).")]
Agency = Annotated[str | None, typer.Option(help="Agency code (default: your own agency).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Check every row, import nothing.")]
SkipInvalid = Annotated[bool, typer.Option(
    "--skip-invalid", help="Import the valid rows and report the rest (default: all or "
                           "nothing).")]
Update = Annotated[bool, typer.Option(
    "--update", help="Rows already registered to this agency update it (default: refused).")]
Sheet = Annotated[str | None, typer.Option("--sheet", metavar="NAME",
                                           help="Sheet of the workbook (default: the first).")]
MonthFirst = Annotated[bool, typer.Option(
    "--month-first", help="Read 03/07/2024 as March 7 (default: day first, 3 July).")]
Mapping_ = Annotated[list[str] | None, typer.Option(
    "--map", metavar="HEADER=FIELD",
    help="Read a column as a field (or 'note', 'ignore'); repeatable.")]
Rejects = Annotated[Path | None, typer.Option(
    "--rejects", metavar="OUT.csv", dir_okay=False,
    help="Write the refused rows with an 'error' column, to fix and import again.")]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of the report.")]


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        rows = task.fields.get("rows", 0)
        elapsed = task.elapsed or 0
        rate = rows / elapsed if elapsed > 0 else 0
        return Text(f"{rows:,} rows  {rate:,.0f} rows/s", style="progress.data.speed")


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A callback drawing a progress bar on a terminal (None when quiet)."""
    if quiet or not err_console.is_terminal:
        yield None
        return
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), _RowsPerSecond(),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=err_console,
                   transient=True)
    task = bar.add_task("import", total=None, rows=0)

    def advance(rows: int, done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None, rows=rows)

    with bar:
        yield advance


@contextmanager
def _no_gc() -> Iterator[None]:
    # Rows create no reference cycles; a million live objects would make every
    # collection pass walk them all.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _mapping(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out = {}
    for pair in pairs:
        header, sep, target = pair.rpartition("=")
        if not sep or not header.strip() or not target.strip():
            raise fail(f"--map takes HEADER=FIELD, got {pair!r}", code=2)
        out[header.strip()] = target.strip()
    return out


_LABELS = {
    "es": {"rows": "Filas leídas", "imported": "Importadas", "updated": "Actualizadas",
           "unchanged": "Sin cambios", "rejected": "Rechazadas", "title": "Importación",
           "created_locations": "Ubicaciones creadas", "created_officers": "Elementos creados",
           "dry": "Simulación (--dry-run): no se importó nada.",
           "failed": "No se importó nada: hay filas rechazadas (todo o nada; use "
                     "--skip-invalid para importar las válidas).",
           "done": "Importación registrada (asiento {entry}).",
           "more": "… y {n} problemas más; use --json o --rejects para verlos todos.",
           "sha": "SHA-256"},
    "en": {"rows": "Rows read", "imported": "Imported", "updated": "Updated",
           "unchanged": "Unchanged", "rejected": "Rejected", "title": "Import",
           "created_locations": "Locations created", "created_officers": "Officers created",
           "dry": "Dry run (--dry-run): nothing was imported.",
           "failed": "Nothing was imported: some rows were refused (all or nothing; use "
                     "--skip-invalid to import the valid ones).",
           "done": "Import recorded (entry {entry}).",
           "more": "… and {n} more problems; use --json or --rejects to see them all.",
           "sha": "SHA-256"},
}


def _print(report: ImportReport, lang: str) -> None:
    t = _LABELS[lang]
    rows = [(t[k], getattr(report, k)) for k in ("rows", "imported", "updated", "unchanged",
                                                  "rejected")]
    if report.created_locations:
        rows.append((t["created_locations"], ", ".join(report.created_locations)))
    if report.created_officers:
        rows.append((t["created_officers"], ", ".join(report.created_officers)))
    rows.append((t["sha"], report.sha256))
    print_table(f"{t['title']}: {report.file} ({report.agency})", ["", ""], rows)
    for problem in report.problems[:SHOWN_PROBLEMS]:
        typer.echo(problem.text(report.file, lang), err=True)
    hidden = report.problem_count - min(len(report.problems), SHOWN_PROBLEMS)
    if hidden > 0:
        typer.echo(t["more"].format(n=hidden), err=True)
    if report.dry_run:
        typer.echo(t["dry"])
    elif report.failed:
        typer.echo(t["failed"], err=True)
    elif report.entry is not None:
        typer.echo(t["done"].format(entry=report.entry))


def run_import(kind: str, file: Path, options: ImportOptions, *, as_user: str | None,
               as_json: bool, lang: str, rejects: Path | None) -> None:
    """Import one file as the acting user, print the report, exit 1 when nothing was imported
    because of refused rows."""
    user = require_user(as_user)
    app = deployment()
    out: IO[str] | None = None
    try:
        if rejects is not None:
            out = open(rejects, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        sink = imports.CsvRejects(out, options.name or file.name, lang) if out is not None else None
        with _progress(as_json) as progress, _no_gc(), app.work(user) as uow:
            report = imports.import_file(uow, kind, file, options, progress=progress,
                                         rejects=sink)
            if report.commit:
                uow.commit()
    except OSError as exc:
        raise fail(f"{exc.filename or file}: cannot read or write ({exc.strerror or exc})"
                   ) from None
    finally:
        if out is not None:
            out.close()
    if as_json:
        print_json(report.as_dict(lang))
    else:
        _print(report, lang)
    if report.failed:
        raise typer.Exit(1)


@import_app.command("firearms")
@refusals
def import_firearms(
    file: FileArg,
    agency: Agency = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    update: Update = False,
    create_missing: Annotated[bool, typer.Option(
        "--create-missing",
        help="Create the locations and custodians the file names that do not exist "
             "(held to the acting role's permissions: adding locations and officers).")
    ] = False,
    location: Annotated[str | None, typer.Option(
        "--location", metavar="CODE", help="Location for rows that name none.")] = None,
    sheet: Sheet = None,
    month_first: MonthFirst = False,
    mapping: Mapping_ = None,
    rejects: Rejects = None,
    lang: LangOpt = Lang.es,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Import an agency's inventory: one firearm per row.

    Headers in Spanish or English (No. de serie, Marca, Calibre, Tipo, Estatus,
    Ubicación, Resguardante, ...); CSV delimiter and encoding are detected.
    A file with no data rows is refused; an XLSX cell holding a formula refuses
    its row (type the value instead).
    Exit status: 0 when imported (or, with --dry-run, when every row is valid),
    1 when the file or a row is refused, 2 on bad usage.

    Example: resguardo --as armero1 import firearms inventario.xlsx --location ARM-1 --rejects rechazos.csv
    """
    options = ImportOptions(agency=agency, dry_run=dry_run, skip_invalid=skip_invalid,
                            update=update, create_missing=create_missing,
                            month_first=month_first, location=location, sheet=sheet,
                            mapping=_mapping(mapping))
    run_import("firearms", file, options, as_user=as_user, as_json=as_json,
               lang=lang.value, rejects=rejects)


@import_app.command("officers")
@refusals
def import_officers(
    file: FileArg,
    agency: Agency = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    update: Update = False,
    sheet: Sheet = None,
    month_first: MonthFirst = False,
    mapping: Mapping_ = None,
    rejects: Rejects = None,
    lang: LangOpt = Lang.es,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Import the roster: one officer per row (Placa, Nombre, CUIP, vigencias, ...).

    Example: resguardo --as jefe1 import officers elementos.csv --update
    """
    options = ImportOptions(agency=agency, dry_run=dry_run, skip_invalid=skip_invalid,
                            update=update, month_first=month_first, sheet=sheet,
                            mapping=_mapping(mapping))
    run_import("officers", file, options, as_user=as_user, as_json=as_json,
               lang=lang.value, rejects=rejects)


@import_app.command("locations")
@refusals
def import_locations(
    file: FileArg,
    agency: Agency = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    update: Update = False,
    sheet: Sheet = None,
    mapping: Mapping_ = None,
    rejects: Rejects = None,
    lang: LangOpt = Lang.es,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Import locations: one per row (Código, Nombre, Tipo).

    Example: resguardo --as jefe1 import locations ubicaciones.xlsx
    """
    options = ImportOptions(agency=agency, dry_run=dry_run, skip_invalid=skip_invalid,
                            update=update, sheet=sheet, mapping=_mapping(mapping))
    run_import("locations", file, options, as_user=as_user, as_json=as_json,
               lang=lang.value, rejects=rejects)


def register(app: typer.Typer) -> None:
    """Add ``import`` to the ``resguardo`` command."""
    app.add_typer(import_app, name="import")

