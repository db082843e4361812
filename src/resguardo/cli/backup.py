"""``resguardo db backup`` and ``resguardo db restore``: the operator's copies of the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from resguardo.cli.context import Json, deployment, refusals
from resguardo.cli.ledger import _print_report as print_verify_report
from resguardo.cli.ledger import _progress
from resguardo.cli.output import fail, print_json
from resguardo.services import backup as service


@refusals
def db_backup(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="The backup file to write.")],
    force: Annotated[bool, typer.Option(
        "--force", help="Replace OUT if it exists.")] = False,
    as_json: Json = False,
) -> None:
    """Write the database to OUT while it keeps running (SQLite: the online backup API;
    PostgreSQL: pg_dump, custom format), readable by its owner only.

    The backup holds the database only: it prints what must be kept apart (the
    signing key file, or the signer's configuration, and the log's origin). A
    restored copy without them cannot sign checkpoints and does not verify.
    PostgreSQL needs pg_dump of the server's version (RESGUARDO_PG_BINDIR picks one).

    Example: resguardo db backup /srv/copias/resguardo-2026-12-06.db
    """
    app = deployment()
    try:
        service.backup(app, out, force=force)
    except service.BackupError as exc:
        raise fail(str(exc)) from None
    apart = service.kept_apart(app.settings)
    size = out.stat().st_size
    if as_json:
        print_json({"file": str(out), "bytes": size, "database": app.settings.database_url,
                    "kept_apart": apart})
        return
    typer.echo(f"Backed up {app.settings.database_url} to {out} ({size:,} bytes).")
    typer.echo("NOT in this backup; keep apart, and bring back for a restore:")
    for line in apart:
        typer.echo(f"  - {line}")


@refusals
def db_restore(
    source: Annotated[Path, typer.Argument(metavar="IN", help="A file `db backup` wrote.")],
    force: Annotated[bool, typer.Option(
        "--force", help="Replace a database that already holds data.")] = False,
    as_json: Json = False,
) -> None:
    """Restore a backup into the configured database, then verify the whole ledger.

    Refuses a database that is not empty unless --force. Success is reported only
    when the restored ledger verifies in full (every leaf, node and checkpoint
    against the signing key, the projection replayed); exit status 1 otherwise,
    naming what failed: without the signing key (or the signer) the checkpoints
    cannot be checked. Restore on a stopped server.

    Example: RESGUARDO_DATABASE_URL=sqlite:///nueva.db resguardo db restore resguardo-2026-12-06.db
    """
    app = deployment()
    try:
        with _progress(not as_json) as bar:
            tasks: dict[str, Any] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    label = {"leaves": "Verifying: hashing the log",
                             "compare": "Verifying: comparing the projection"}.get(
                                 phase, "Verifying: replaying the log")
                    tasks[phase] = bar.add_task(label, total=total)
                bar.update(tasks[phase], completed=done)

            outcome = service.restore(app, source, force=force, progress=progress)
    except service.BackupError as exc:
        raise fail(str(exc)) from None
    report = outcome.report
    if as_json:
        print_json({"file": str(source), "database": app.settings.database_url,
                    "entries": outcome.entries, "verified": report.ok,
                    "verify": report.as_dict()})
    else:
        typer.echo(f"Restored {source} into {app.settings.database_url}: "
                   f"{outcome.entries:,} entries.")
        print_verify_report(report)
    if not report.ok:
        raise fail("the restored ledger does not verify: "
                   + "; ".join(f"[{f.kind}] {f.message}" for f in report.findings[:3])
                   + ". Do not use this copy until the cause is found (a missing signing "
                   "key: point RESGUARDO_SIGNING_KEY or RESGUARDO_SIGNER at it and run "
                   "`resguardo ledger verify`)")
