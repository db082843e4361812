"""``resguardo reconcile``: a registry sheet against a count sheet, with no database.

The stateless mode for an inspector who arrives with two spreadsheets.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Annotated

import typer

from resguardo.cli.output import console, domain_failure, fail, print_table
from resguardo.domain.errors import DomainError
from resguardo.domain.reconcile import tally
from resguardo.domain.reconciliation import SUMMARY_KEYS, Reconciliation, Tally, combine
from resguardo.reports.reconciliation import finding_cells, labels, write_csv, write_pdf
from resguardo.sheets.firearms import prepare_count, prepare_registry
from resguardo.sheets.shards import Shard

#: Findings printed on the terminal before the rest is summarized in a note.
SHOWN_FINDINGS = 200

#: From this combined file size on, two processes share the work, each taking the
#: serial keys of one shard; below it a fork costs more than it saves.
PARALLEL_MIN_BYTES = 16 << 20


class Lang(StrEnum):
    es = "es"
    en = "en"


@contextmanager
def _bulk() -> Iterator[None]:
    # A million live entries make every cyclic-GC pass walk them all; the
    # reconciliation creates no reference cycles, so collection can wait.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def reconcile_command(
    registry: Annotated[
        Path,
        typer.Option(
            "--registry",
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="The agency's inventory (.csv or .xlsx), one row per firearm.",
        ),
    ],
    count: Annotated[
        Path,
        typer.Option(
            "--count",
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="The physical count (.csv or .xlsx), one row per observation.",
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the reconciliation as JSON.")
    ] = False,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", metavar="OUT", dir_okay=False, help="Write one CSV row per finding."),
    ] = None,
    pdf_out: Annotated[
        Path | None,
        typer.Option("--pdf", metavar="OUT", dir_okay=False, help="Write the report as a PDF."),
    ] = None,
    month_first: Annotated[
        bool,
        typer.Option("--month-first", help="Read 03/07/2024 as March 7 (default: day first)."),
    ] = False,
    lang: Annotated[
        Lang, typer.Option("--lang", help="Language of the report and tables.")
    ] = Lang.es,
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet", metavar="NAME", help="Sheet of the registry workbook (default: first)."
        ),
    ] = None,
    count_sheet: Annotated[
        str | None,
        typer.Option(
            "--count-sheet", metavar="NAME", help="Sheet of the count workbook (default: first)."
        ),
    ] = None,
    agency: Annotated[
        str | None,
        typer.Option(
            "--agency",
            metavar="NAME",
            help="The inspected agency, when the registry lists several: "
            "others' weapons seen in the count are reported as foreign.",
        ),
    ] = None,
) -> None:
    """Reconcile a registry sheet against a count sheet, without a database.

    Classifies every registry weapon (matched, missing, explained, status
    conflict, mislocated, custody mismatch) and every scan (unregistered,
    foreign, duplicate), and suggests likely misread serials. Headers may be
    in Spanish or English; CSV delimiters and encodings are detected.

    Exit status: 0 when the reconciliation ran, whatever it found; 1 when a
    file cannot be read (the message names the file, line and column); 2 on
    bad usage.

    Example: resguardo reconcile --registry inventario.xlsx --count revista.csv --pdf acta.pdf
    """
    outputs = [
        name
        for name, given in (("--json", as_json), ("--csv", csv_out), ("--pdf", pdf_out))
        if given
    ]
    if len(outputs) > 1:
        raise fail(f"use one of --json, --csv, --pdf (got {' and '.join(outputs)})", code=2)
    try:
        with _bulk():
            weapons = prepare_registry(registry, sheet_name=sheet, details=False)
            scans = prepare_count(count, sheet_name=count_sheet, month_first=month_first)

            def part(shard: Shard | None) -> Tally:
                return tally(weapons.rows(shard), scans.rows(shard), agency=agency)

            result = combine(_in_parallel(part, registry, count))
    except DomainError as exc:
        raise domain_failure(exc) from None
    except OSError as exc:
        raise fail(f"{exc.filename or registry}: cannot read ({exc.strerror or exc})") from None

    if as_json:
        _print_json(result)
        return
    try:
        if csv_out is not None:
            write_csv(result, csv_out, lang=lang.value)
        elif pdf_out is not None:
            write_pdf(
                result,
                pdf_out,
                lang=lang.value,
                registry_name=registry.name,
                count_name=count.name,
                agency=agency,
            )
    except OSError as exc:
        raise fail(
            f"{exc.filename or csv_out or pdf_out}: cannot write ({exc.strerror or exc})"
        ) from None
    _print_summary(result, lang.value)
    if csv_out is None and pdf_out is None:
        _print_findings(result, lang.value)
    else:
        console.print(f"{csv_out or pdf_out}", highlight=False)


def _workers(*paths: Path) -> int:
    if sum(p.stat().st_size for p in paths) < PARALLEL_MIN_BYTES:
        return 1
    # A fork after pyarrow started its threads is only known to be safe on Linux.
    if not sys.platform.startswith("linux"):
        return 1
    return min(2, len(os.sched_getaffinity(0)))


def _in_parallel(part: Callable[[Shard | None], Tally], *paths: Path) -> list[Tally]:
    """The tallies of the reconciliation, by two processes when the files are large.

    ``part`` tallies the weapons and scans of a shard of serial keys, and
    ``combine`` adds the shards up. The child is forked after the files were
    read and checked (``prepare_registry``), so it shares them and needs
    nothing pickled but its tally. A file the fast path does not take is read
    whole by each process, so each checks every row and a bad row is reported
    exactly as by one process. Should the child die without a tally, its shard
    is done here.
    """
    if _workers(*paths) < 2:
        return [part(None)]
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(part, Shard(1, 2), send), daemon=True)
    child.start()
    send.close()
    try:
        mine = part(Shard(0, 2))
    except BaseException:
        child.kill()
        child.join()
        raise
    try:
        theirs: Tally | None = receive.recv()
    except EOFError:
        theirs = None
    finally:
        receive.close()
        child.join()
    return [mine, theirs if theirs is not None else part(Shard(1, 2))]


def _child(part: Callable[[Shard | None], Tally], shard: Shard, send: Connection) -> None:
    try:
        result: Tally | None = part(shard)
    except BaseException:
        # The parent reads every row too, so it meets the same problem and reports it.
        result = None
    send.send(result)
    send.close()


def _print_json(result: Reconciliation) -> None:
    """The JSON of docs/formats.md, one finding per line.

    ``json.dumps`` with an indent runs in pure Python; a finding per line keeps
    the C encoder for the thousands of findings a large count can produce, and
    stays readable and easy to grep.
    """
    data = result.as_dict()
    write = sys.stdout.write
    write('{"summary": ' + json.dumps(data["summary"], ensure_ascii=False) + ',\n "findings": [')
    separator = "\n  "
    for finding in data["findings"]:
        write(separator + json.dumps(finding, ensure_ascii=False))
        separator = ",\n  "
    write("\n ]}\n" if data["findings"] else "]}\n")


def _print_summary(result: Reconciliation, lang: str) -> None:
    t = labels(lang)
    print_table(t["counts"], ["", ""], [(t[key], result.summary[key]) for key in SUMMARY_KEYS])


_TERMINAL_COLUMNS = (
    "col_kind",
    "col_serial",
    "col_make",
    "col_status",
    "col_location",
    "col_custodian",
    "col_seen_location",
    "col_seen_holder",
    "col_seen_line",
    "col_suggested",
)


def _print_findings(result: Reconciliation, lang: str) -> None:
    t = labels(lang)
    if not result.findings:
        console.print(t["no_findings"])
        return
    shown = result.findings[:SHOWN_FINDINGS]
    rows = []
    for finding in shown:
        cells = finding_cells(finding, lang)
        rows.append([cells[c] for c in _TERMINAL_COLUMNS])
    print_table(t["findings"], [t[c] for c in _TERMINAL_COLUMNS], rows)
    hidden = len(result.findings) - len(shown)
    if hidden:
        note = (
            f"… y {hidden} hallazgos más; use --json, --csv o --pdf para verlos todos."
            if lang == "es"
            else f"… and {hidden} more findings; use --json, --csv or --pdf to see them all."
        )
        console.print(note, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``reconcile`` to the ``resguardo`` command."""
    app.command("reconcile")(reconcile_command)
