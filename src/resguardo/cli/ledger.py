"""The ledger commands: rebuild check (and, with the ledger, checkpoints and proofs)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from resguardo.cli.context import AsUser, Json, read, refusals
from resguardo.cli.output import fail, print_json
from resguardo.domain.policy import Action, authorize
from resguardo.storage import rebuild

ledger_app = typer.Typer(help="The tamper-evident log: rebuild check, checkpoints, proofs.",
                         no_args_is_help=True)


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), disable=not enabled, transient=True)


@ledger_app.command("rebuild")
@refusals
def rebuild_command(
    check: Annotated[bool, typer.Option("--check", help="Replay the log into a scratch "
                                                          "projection and report every row that differs.")] = False,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Replay every event and compare with the live projection (exit 1 on any difference).

    Example: resguardo --as auditor1 ledger rebuild --check
    """
    if not check:
        raise fail("only --check is supported: the live projection is never overwritten", code=2)

    def run(uow):  # type: ignore[no-untyped-def]
        if uow.actor is not None:
            authorize(uow.actor, Action.LEDGER_VERIFY)
        size = uow.repo.log_size()
        with _progress(not as_json) as bar:
            task = bar.add_task("Replaying the log", total=size)
            scratch = rebuild.replay(uow.repo.iter_events(),
                                     progress=lambda n: bar.update(task, completed=n))
        try:
            return size, rebuild.compare(uow.conn, scratch)
        finally:
            scratch.close()
    size, diffs = read(as_user, run)
    if as_json:
        print_json({"events": size, "ok": not diffs, "differences": [d.as_dict() for d in diffs]})
    else:
        if diffs:
            typer.echo(f"Replayed {size} events: {len(diffs)} projection row(s) differ from the log:")
            for d in diffs:
                typer.echo(f"  {d}")
        else:
            typer.echo(f"Replayed {size} events: the projection matches the log.")
    if diffs:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
