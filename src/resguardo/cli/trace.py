"""``resguardo trace``: candidates for a damaged serial, custody on a date, the access log of
traces, trace requests for a national tracing centre; ``resguardo check duplicates``.

``resguardo trace SERIAL`` is short for ``resguardo trace search SERIAL``: any first
word that is not a subcommand (``search``, ``request``, ``log``) is a serial.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from resguardo.cli.context import AsUser, Json, deployment, read, refusals, require_user, write
from resguardo.cli.output import dumps, fail, print_json, print_table
from resguardo.domain.errors import DomainError
from resguardo.domain.trace import DEFAULT_LIMIT, DEFAULT_MAX_DISTANCE
from resguardo.domain.trace_custody import CUSTODY_AFTER, CUSTODY_BEFORE, parse_moment
from resguardo.reports.spreadsheets import CsvWriter
from resguardo.services import duplicates, trace_index
from resguardo.services import trace as service

#: Queries of a file traced (and recorded) per transaction before their answers are printed.
FILE_CHUNK = 200
#: Custody entries printed per candidate on the terminal (``--json`` prints them all).
SHOWN_CUSTODY = 8


class _TraceGroup(TyperGroup):
    """A group whose first word, when it is not a subcommand, is the serial to search."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # Typer's own click Context
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["search", *args]
        return super().parse_args(ctx, args)


trace_app = typer.Typer(
    cls=_TraceGroup, no_args_is_help=True,
    help="Trace a recovered weapon by its (possibly damaged) serial; every trace is recorded.\n\n"
         "Example: resguardo --as investigador trace 'GLK-A1?0' --date 2025-03-07T22:30")
check_app = typer.Typer(help="Cross-agency checks of the registry.", no_args_is_help=True)


class Lang(StrEnum):
    es = "es"
    en = "en"


Make = Annotated[str | None, typer.Option(help="Only this make.")]
Calibre = Annotated[str | None, typer.Option(help="Only this calibre (case and spacing ignored).")]
Kind = Annotated[str | None, typer.Option(help="Only this kind (pistol, revolver, rifle, ...).")]
Agency = Annotated[str | None, typer.Option(
    help="Only firearms of this organization (an agency, or a state for all its agencies).")]
When = Annotated[str | None, typer.Option(
    "--date", metavar="YYYY-MM-DD[THH:MM]",
    help="Who held each weapon then (UTC); a whole day gives its last holder that day. "
         "Default: now.")]
MaxDistance = Annotated[float, typer.Option(
    min=0.0, max=10.0, help="Largest weighted distance (look-alike 0.5, '?' 0.1, other edit 1).")]
Limit = Annotated[int, typer.Option(min=1, max=service.MAX_LIMIT, help="Most candidates shown.")]
Reason = Annotated[str | None, typer.Option(help="Case number or purpose, recorded with the trace.")]
FullCustody = Annotated[bool, typer.Option(
    "--full-custody",
    help=f"Each candidate's whole custody chain (by default the {CUSTODY_BEFORE} movements "
         f"at or before the moment and the {CUSTODY_AFTER} after it).")]


@trace_app.command("search")
@refusals
def search_command(
    serial: Annotated[str | None, typer.Argument(
        help="The serial as read: '?' for each unreadable character, '*' at an end for an "
             "unknown rest (ABC12*).", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", metavar="QUERIES.csv", exists=True, dir_okay=False,
        help="Trace every row of a CSV file (header: serial, and optionally make, date).")] = None,
    make: Make = None,
    calibre: Calibre = None,
    kind: Kind = None,
    agency: Agency = None,
    when: When = None,
    max_distance: MaxDistance = DEFAULT_MAX_DISTANCE,
    limit: Limit = DEFAULT_LIMIT,
    reason: Reason = None,
    full_custody: FullCustody = False,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Candidates for a serial, ranked, with their agency, custody around the moment and
    holder on a date.

    Each candidate's custody is the window around the moment (the last movements at or
    before it and the first after it, with the length of its whole chain); --full-custody
    gives the whole chain. With --file, one answer per row in file order: with --json one
    JSON object per line, otherwise CSV (the best candidate and the others in one row per
    query).

    Example: resguardo --as investigador trace 'GLK-A1?0' --make Glock --date 2025-03-07T22:30 --json

    Example: resguardo --as investigador trace 'GLK-A100' --full-custody --json
    """
    if (serial is None) == (file is None):
        raise fail("give a SERIAL or --file QUERIES.csv (one of them)", code=2)
    base = service.TraceInput(serial or "", make=make, calibre=calibre, kind=kind, agency=agency,
                              date=when, max_distance=max_distance, limit=limit)
    if file is not None:
        _trace_file(file, base, as_user, as_json, reason, full_custody)
        return
    read(as_user, service.validate, base)  # a refusal costs nothing
    trace_index.prepare(deployment().engine)  # outside the write lock: it may take a while
    answer = write(as_user, service.trace, base, reason=reason, full_custody=full_custody)
    if as_json:
        print_json(answer)
    else:
        _print_answer(answer, when)


def _trace_file(path: Path, base: service.TraceInput, as_user: str | None, as_json: bool,
                reason: str | None, full_custody: bool = False) -> None:
    user = require_user(as_user)
    asks = _read_queries(path, base)
    with deployment().read(user) as uow:  # refuse a bad row before anything is recorded
        for line, ask in asks:
            try:
                service.validate(uow, ask)
            except DomainError as exc:
                raise fail(f"{path.name} line {line}: {exc.message} [{exc.code}]") from None
    trace_index.prepare(deployment().engine)
    writer = None if as_json else CsvWriter(sys.stdout, lineterminator="\n")
    if writer is not None:
        writer.row(CSV_COLUMNS)
    for start in range(0, len(asks), FILE_CHUNK):
        chunk = asks[start:start + FILE_CHUNK]
        with deployment().work(user) as uow:
            answers = service.trace_many(uow, [ask for _, ask in chunk], reason=reason,
                                         full_custody=full_custody)
            uow.commit()  # recorded before anything is shown
        for (line, ask), answer in zip(chunk, answers, strict=True):
            if writer is None:
                sys.stdout.write(dumps(answer, indent=None) + "\n")
            else:
                writer.row(csv_row(line, ask, answer))
        sys.stdout.flush()


def _read_queries(path: Path, base: service.TraceInput) -> list[tuple[int, service.TraceInput]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {path}: {exc}", code=2) from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if "serial" not in header:
        raise fail(f"{path.name}: the first row must name the columns, with a 'serial' column",
                   code=2)
    unknown = sorted(set(header) - {"serial", "make", "date", ""})
    if unknown:
        raise fail(f"{path.name}: unknown columns {', '.join(unknown)} "
                   "(expected serial, make, date)", code=2)
    col: dict[str, int] = {name: header.index(name) for name in ("serial", "make", "date")
                           if name in header}
    asks = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str | None:
            i = col.get(name)
            value = row[i].strip() if i is not None and i < len(row) else ""
            return value or None

        serial = cell("serial")
        if serial is None:
            raise fail(f"{path.name} line {line}: the serial is empty")
        asks.append((line, service.TraceInput(
            serial, make=cell("make") or base.make, calibre=base.calibre, kind=base.kind,
            agency=base.agency, date=cell("date") or base.date, max_distance=base.max_distance,
            limit=base.limit)))
    return asks


CSV_COLUMNS = ("line", "query", "make", "date", "candidates", "serial", "candidate_make",
               "model", "calibre", "distance", "agency", "status", "custodian_badge",
               "custodian_name", "status_on_date", "location_on_date", "other_candidates")


def csv_row(line: int, ask: service.TraceInput, answer: dict[str, Any]) -> list[Any]:
    """One row per query: the best candidate, and the others as ``SERIAL (MAKE) DISTANCE``."""
    found = answer["candidates"]
    row: list[Any] = [line, ask.serial, ask.make or "", ask.date or "", len(found)]
    if not found:
        return row + [""] * (len(CSV_COLUMNS) - len(row))
    best = found[0]
    holder = best["custodian_on_date"] or {}
    others = "; ".join(f"{c['serial']} ({c['make']}) {c['distance']:g}" for c in found[1:])
    return row + [best["serial"], best["make"], best["model"] or "", best["calibre"],
                  f"{best['distance']:g}", best["agency"], best["status"],
                  holder.get("badge", ""), holder.get("name", ""), best["status_on_date"] or "",
                  best["location_on_date"] or "", others]


def _print_answer(answer: dict[str, Any], when: str | None) -> None:
    found = answer["candidates"]
    moment = f" on {when}" if when else " now"
    if not found:
        typer.echo(f"No candidate for {answer['query']} in your scope.")
        return
    rows = []
    for n, c in enumerate(found, 1):
        holder = c["custodian_on_date"]
        then = (f"{holder['badge']} {holder['name']}" if holder
                else " ".join(v for v in (c["status_on_date"], c["location_on_date"]) if v)
                or "not yet registered")
        serial = c["serial"] + (f" (was {c['former_serial']})" if c.get("former_serial") else "")
        status = c["status"] + (f" (being imported, entry {c['import_running']})"
                                if c.get("import_running") is not None else "")
        rows.append((n, serial, c["make"], c["model"], c["calibre"], f"{c['distance']:g}",
                     c["agency"], status, then))
    print_table(f"Trace {answer['query']}: {len(found)} candidate(s)",
                ["#", "serial", "make", "model", "calibre", "distance", "agency", "status",
                 f"held or stored{moment}"], rows)
    moment_of = parse_moment(when) if when else None
    for n, c in enumerate(found, 1):
        chain = c["custody"]
        total = c.get("custody_total", len(chain))
        told = (f"{len(chain)} custody entries" if len(chain) == total else
                f"{len(chain)} of {total} custody entries (--full-custody for all)")
        typer.echo(f"{n}. {c['serial']} ({c['make']}): {told}")
        of_record = c.get("officer_of_record_on_date")
        if of_record:
            typer.echo(f"   weapon of record of {of_record['badge']} {of_record['name']}"
                       f"{moment}")
        for entry in chain:
            if entry["event"] in service.LOSS_TYPES:
                notified = (f"notified {entry['notified_at']}" if entry["notified"]
                            else "NOT notified to the military authority")
                typer.echo(f"   {entry['event']} {entry['occurred_on']} at {entry['place']}; "
                           f"complaint {entry['complaint_number'] or 'none'}; {notified}")
        before = [e for e in chain if moment_of is None or moment_of.includes(e["at"])]
        after = chain[len(before):]
        if len(before) > SHOWN_CUSTODY:
            typer.echo(f"   ... {len(before) - SHOWN_CUSTODY} earlier entries shown with --json")
        for entry in before[-SHOWN_CUSTODY:]:
            typer.echo(_entry_line(entry))
        if after:
            typer.echo(f"   after{moment}:")
            for entry in after:
                typer.echo(_entry_line(entry))


def _entry_line(entry: dict[str, Any]) -> str:
    who = entry["officer"] or entry["location"] or entry.get("to_agency") or ""
    return f"   {entry['at'][:16]}Z {entry['event']} {who}".rstrip()


@trace_app.command("request")
@refusals
def request_command(
    serial: Annotated[str, typer.Argument(
        help="The serial as read ('?' for unreadable characters); '' when none is left.",
        show_default=False)] = "",
    obliterated: Annotated[bool, typer.Option(
        "--obliterated", help="The serial was filed off, ground or altered.")] = False,
    make: Annotated[str | None, typer.Option(help="Make as marked.")] = None,
    model: Annotated[str | None, typer.Option(help="Model as marked.")] = None,
    calibre: Annotated[str | None, typer.Option(help="Calibre as marked.")] = None,
    kind: Kind = None,
    country: Annotated[str | None, typer.Option(help="Country of origin as marked.")] = None,
    importer: Annotated[str | None, typer.Option(help="Importer's marking.")] = None,
    markings: Annotated[str | None, typer.Option(help="Other markings, proof marks, "
                                                      "engravings.")] = None,
    recovered_at: Annotated[str | None, typer.Option(
        "--recovered-at", metavar="PLACE", help="Where the weapon was recovered.")] = None,
    recovered_on: Annotated[str | None, typer.Option(
        "--recovered-on", metavar="YYYY-MM-DD", help="When it was recovered.")] = None,
    case_file: Annotated[str | None, typer.Option(
        "--case-file", metavar="NUMBER",
        help="The case file (carpeta de investigación) the request is for; required.")] = None,
    reason: Reason = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", metavar="OUT", dir_okay=False,
                                             help="Write the request as PDF.")] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the PDF.")] = Lang.es,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Record a trace request for a national tracing centre, with this registry's candidates.

    The case file number (carpeta de investigación) is required; the PDF names the
    requester by full name and post and prints the time in the requester's zone.

    Example: resguardo --as investigador trace request 'GLK-A1??' --case-file FED/JAL/GDL/0001234/2026 --make Glock --calibre 9x19mm --kind pistol --country Austria --recovered-at "Col. Centro" --recovered-on 2025-03-07 --pdf solicitud.pdf
    """
    day = None
    if recovered_on:
        try:
            day = date.fromisoformat(recovered_on)
        except ValueError:
            raise fail("--recovered-on must be a date YYYY-MM-DD", code=2) from None
    data = service.RecoveredFirearm(
        serial=serial, obliterated=obliterated, make=make, model=model, calibre=calibre,
        kind=kind, country_of_origin=country, importer=importer, markings=markings,
        recovered_place=recovered_at, recovered_on=day)
    read(as_user, service.may_trace)
    service.case_file_number(case_file)  # refused before the index is prepared
    trace_index.prepare(deployment().engine)
    record = write(as_user, service.trace_request, data, case_file=case_file, reason=reason)
    if pdf is not None:
        from resguardo.reports.trace_request import render
        pdf.write_bytes(render(record, lang.value))
    if as_json:
        print_json(record)
    else:
        typer.echo(f"Trace request {record['request']} recorded: "
                   f"{len(record['candidates'])} candidate(s) in your scope"
                   + (f"; PDF written to {pdf}" if pdf is not None else ""))


@trace_app.command("log")
@refusals
def log_command(
    user: Annotated[str | None, typer.Option(help="Only this user's traces (auditors).")] = None,
    offset: Annotated[int, typer.Option(min=0, help="Entries to skip.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Entries to show.")] = 50,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Recorded traces, newest first: your own (investigators) or all in scope (auditors).

    Example: resguardo --as auditor trace log --user investigador --json
    """
    page = read(as_user, service.trace_log, offset=offset, limit=limit, user=user)
    if as_json:
        print_json(page)
        return
    rows = [(e["position"], e["at"][:16].replace("T", " "), e["actor"],
             e["query"] + ("" if e["kind"] == "trace" else " (request)"),
             ", ".join(c["serial"] for c in e["candidates"]) or "-")
            for e in page["items"]]
    print_table(f"Traces {offset + 1}-{offset + len(rows)} of {page['total']} (UTC)",
                ["entry", "at", "who", "query", "candidates"], rows)


@check_app.command("duplicates")
@refusals
def duplicates_command(
    csv_out: Annotated[Path | None, typer.Option(
        "--csv", metavar="OUT", dir_okay=False, help="Write one CSV row per finding.")] = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """The same (make, serial) under two agencies or twice, look-alike serials of one make,
    and weapons registered under a serial another weapon was recorded under before a correction.

    Example: resguardo --as supervisor check duplicates --csv duplicados.csv
    """
    if csv_out is not None and as_json:
        raise fail("use one of --json and --csv", code=2)
    result = read(as_user, duplicates.check_duplicates)
    if as_json:
        print_json(result)
        return
    rows = duplicates.csv_rows(result)
    if csv_out is not None:
        with csv_out.open("w", encoding="utf-8-sig", newline="") as out:
            writer = CsvWriter(out)
            writer.row(duplicates.CSV_COLUMNS)
            writer.rows(rows)
    s = result["summary"]
    typer.echo(f"{s['firearms']} firearms checked: {s['two_agencies']} under two agencies, "
               f"{s['registered_twice']} registered twice, {s['lookalike']} look-alike serials, "
               f"{s['former_serial']} under a serial another weapon carried before a correction"
               + (f"; written to {csv_out}" if csv_out is not None else ""))
    if csv_out is None and rows:
        print_table(None, list(duplicates.CSV_COLUMNS), rows)


def register(app: typer.Typer) -> None:
    """Add ``trace`` and ``check`` to the ``resguardo`` command."""
    app.add_typer(trace_app, name="trace")
    app.add_typer(check_app, name="check")
