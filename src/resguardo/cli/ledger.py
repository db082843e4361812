"""The ledger commands: key, checkpoints, verification, proofs, witnesses, export, rebuild check."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from resguardo.cli.context import AsUser, Json, deployment, read, refusals, write
from resguardo.cli.output import dumps, fail, print_json, print_table
from resguardo.domain.errors import NotFound
from resguardo.domain.policy import Action, authorize
from resguardo.services import (
    ledger,
    ledger_freshness,
    ledger_proofs,
    ledger_state,
    ledger_verify,
    witnessing,
)
from resguardo.storage import ledger_store, rebuild
from resguardo.storage.uow import UnitOfWork

ledger_app = typer.Typer(
    help="The tamper-evident log: signing key, checkpoints, verification, inclusion and "
         "consistency proofs, witness cosignatures, event export, rebuild check.",
    no_args_is_help=True)

Make = Annotated[str | None, typer.Option(help="Make, when several makes share the serial.")]


def _progress(enabled: bool) -> Progress:
    """A progress bar on stderr, shown only when stderr is a terminal."""
    console = Console(stderr=True)
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=True,
                    disable=not (enabled and console.is_terminal))


def _key() -> ledger.LedgerKey:
    return ledger.attach(deployment())


def _checkpoint_text(stored: Any) -> str:
    return f"checkpoint {stored.id}: size {stored.size}, signed {stored.created_at}"


@ledger_app.command("key")
@refusals
def key_command(as_json: Json = False) -> None:
    """Print the log's public key as a C2SP verifier key (name+hash+base64key).

    Overseers copy it once and check every checkpoint against it.
    Example: resguardo ledger key > log.vkey
    """
    verifier = _key().verifier()
    if as_json:
        print_json({"vkey": verifier.vkey(), "name": verifier.name,
                    "key_hash": f"{verifier.key_hash:08x}", "origin": deployment().settings.log_origin})
    else:
        typer.echo(verifier.vkey())


@ledger_app.command("checkpoint")
@refusals
def checkpoint_command(
    latest: Annotated[bool, typer.Option("--latest", help="Print the newest stored checkpoint "
                                         "instead of signing one (any reader).")] = False,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Sign and keep a checkpoint of the whole log now, and print it (auditor, admin).

    The output is a C2SP signed note that overseers save (tools/witness.py save).
    Example: resguardo --as auditor ledger checkpoint > checkpoint.txt
    """
    key = _key()
    stored = read(as_user, ledger.latest) if latest else write(as_user, ledger.checkpoint, key)
    if as_json:
        print_json(ledger.checkpoint_dict(stored))
    else:
        sys.stdout.write(stored.note)
        typer.echo(_checkpoint_text(stored), err=True)


@ledger_app.command("verify")
@refusals
def verify_command(
    checkpoint: Annotated[list[Path] | None, typer.Option(
        "--checkpoint", metavar="FILE",
        help="A signed checkpoint an overseer kept; the log must still produce its root "
             "and extend it. Repeat for several.")] = None,
    vkey: Annotated[str | None, typer.Option(
        "--vkey", help="The log's verifier key (or a file holding it) to check signatures "
                       "with, instead of the key file on this server.")] = None,
    projection: Annotated[bool, typer.Option(
        "--projection/--no-projection", help="Also replay the log and compare the "
                                             "projection (default: yes).")] = True,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Processes that rehash the log in parallel (default: one "
                                 "per CPU, up to 4, for logs of 65,536 entries or more).")] = None,
    state: Annotated[Path | None, typer.Option(
        "--state", metavar="DIR", file_okay=False,
        help="A directory on the auditor's own machine (never on the database server) "
             "where the verify keeps what it proved: the checkpoint, the tree's frontier "
             "and the replayed projection. The first run verifies the whole log and fills "
             "it; later runs go on from it (every leaf still rehashed, the projection "
             "replayed only from the snapshot) and advance it when the log verifies.")
    ] = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Recompute the ledger from the event rows and check it against everything kept.

    Checks every leaf, tree node and root against the stored tree, every stored
    checkpoint and the given ones, and replays the projection. Also fails when entries
    stay unsigned longer than RESGUARDO_UNSIGNED_TAIL_MINUTES, when the newest checkpoint
    lacks the witnesses' quorum for longer than RESGUARDO_COSIGN_MINUTES, and when a
    witness refused the log. Prints what was checked and, on failure, the first index
    that disagrees and why; exit status 1 on any disagreement (auditor, admin).

    With --state DIR the verify is daily: it goes on from the size it verified last
    time, refuses a state whose snapshot was changed (exit 1), and fails when the log
    no longer extends the root it verified (a rewritten history).
    Example: resguardo --as auditor ledger verify --checkpoint copies/120.checkpoint
    Example: resguardo --as auditor ledger verify --state ~/auditoria/resguardo-estado
    """
    if state is not None and not projection:
        raise fail("--state keeps the replayed projection: it cannot be used with "
                   "--no-projection", code=2)
    key = _key()
    supplied = []
    for path in checkpoint or []:
        try:
            supplied.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"cannot read checkpoint {path}: {exc}", code=2) from None
    if vkey is not None:
        verifier = ledger.parse_vkey(vkey)
    else:
        try:
            verifier = key.verifier()
        except NotFound:
            verifier = None

    def run(uow: UnitOfWork) -> ledger_verify.VerifyReport:
        with _progress(not as_json) as bar:
            tasks: dict[str, Any] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    label = {"leaves": "Hashing the log", "projection": "Replaying the log",
                             "compare": "Comparing the projection",
                             "snapshot": "Checking the state's snapshot"}[phase]
                    tasks[phase] = bar.add_task(label, total=total)
                bar.update(tasks[phase], completed=done)

            options: dict[str, Any] = {
                "supplied": supplied, "projection": projection, "progress": progress,
                "workers": workers,
                "freshness": ledger_freshness.FreshnessPolicy.of(deployment().settings)}
            if state is not None:
                return ledger_verify.verify_with_state(
                    uow, state, verifier=verifier, origin=key.origin,
                    database=ledger_store.database_identity(deployment().engine), **options)
            return ledger_verify.verify(uow, verifier=verifier, origin=key.origin, **options)

    try:
        report = read(as_user, run)
    except ledger_state.StateError as exc:
        if as_json:
            print_json({"ok": False, "mode": "incremental", "state_refused": str(exc)})
        else:
            typer.echo(f"REFUSED: the state in {state} cannot be used: {exc}. Nothing was "
                       "verified; keep the directory for inquiry and verify the whole log "
                       "into a new one.", err=True)
        raise typer.Exit(1) from None
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: ledger_verify.VerifyReport) -> None:
    checked = (f"Checked {report.events} event rows against a log of {report.size} entries: "
               f"{report.leaves} leaves, {report.nodes} tree nodes, {report.checkpoints} stored "
               f"checkpoint(s), {len(report.supplied)} supplied checkpoint(s)"
               + (", projection replayed." if report.projection else "; projection not replayed."))
    typer.echo(checked)
    if report.mode == "incremental":
        typer.echo(f"Incremental: went on from the state's verified size {report.from_size}; "
                   "every leaf rehashed, the projection replayed from the state's snapshot.")
    if report.state is not None:
        verb = "advanced to" if report.state_updated else "left at"
        typer.echo(f"State {verb} size {report.state['size']} (checkpoint "
                   f"{report.state['checkpoint_id']}, projection SHA-256 "
                   f"{report.state['projection_sha256'][:16]}...).")
    if report.latest is not None:
        state = "verifies" if report.latest["ok"] else "does NOT verify"
        typer.echo(f"Latest checkpoint {report.latest['id']} (size {report.latest['size']}) "
                   f"{state}.")
    for entry in report.supplied:
        typer.echo(f"Supplied {entry['source']} (size {entry['size']}): "
                   + ("the log extends it." if entry["ok"] else "does NOT hold."))
    for note in report.notes:
        typer.echo(f"Note: {note}")
    if report.ok:
        typer.echo("OK: the ledger verifies.")
        return
    total = len(report.findings) + sum(report.omitted.values())
    typer.echo(f"FAILED: {total} disagreement(s).")
    if report.first_bad_index is not None:
        typer.echo(f"First bad index: {report.first_bad_index}")
    bad_range = report.first_bad_range
    if bad_range is not None:
        typer.echo(f"First disagreement (from checkpoints) lies in entries "
                   f"{bad_range[0]}..{bad_range[1]}")
    for finding in report.findings:
        typer.echo(f"  [{finding.kind}] {finding.message}")
    for kind, count in sorted(report.omitted.items()):
        typer.echo(f"  ... and {count} more {kind} finding(s)")


def _target(target: str, serial: bool) -> dict[str, Any]:
    if not serial and target.isdigit():
        return {"index": int(target)}
    return {"serial": target}


@ledger_app.command("prove")
@refusals
def prove_command(
    target: Annotated[str, typer.Argument(metavar="SERIAL-or-INDEX",
                                          help="An entry index (digits), or a firearm serial "
                                               "(its registration entry).")],
    serial: Annotated[bool, typer.Option("--serial", help="Read TARGET as a serial even if it "
                                                          "is all digits.")] = False,
    make: Make = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Inclusion proof of an entry in the latest checkpoint (RFC 9162, base64 hashes).

    Example: resguardo --as armero1 ledger prove GLK-A100 --json > proof.json
    """
    _key()
    found = read(as_user,
                 lambda uow: ledger_proofs.prove(uow, make=make, **_target(target, serial)))
    if as_json:
        print_json(found.as_dict())
        return
    ev = found.event
    typer.echo(f"Entry {ev.position} ({ev.type}, {ev.at}, by {ev.actor}) is leaf {ev.position} "
               f"of checkpoint {found.checkpoint.id} (size {found.checkpoint.size}).")
    typer.echo(f"leaf hash: {ledger.b64(found.leaf_hash)}")
    typer.echo(f"root:      {ledger.b64(found.checkpoint.root)}")
    typer.echo(f"proof ({len(found.proof)} hashes, bottom-up):")
    for item in found.proof:
        typer.echo(f"  {ledger.b64(item)}")
    typer.echo("checkpoint:")
    sys.stdout.write(found.checkpoint.note)


@ledger_app.command("consistency")
@refusals
def consistency_command(
    old: Annotated[int, typer.Argument(metavar="OLD", help="The older tree size.")],
    new: Annotated[int | None, typer.Argument(metavar="NEW", help="The newer tree size "
                                              "(default: the latest checkpoint's).")] = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Consistency proof that the log of size NEW extends the log of size OLD.

    --json prints the form tools/witness.py check --proof reads.
    Example: resguardo --as auditor ledger consistency 120 --json > proof.json
    """
    found = read(as_user, ledger_proofs.consistency, old, new)
    if as_json:
        print_json(found.as_dict())
        return
    typer.echo(f"Size {found.size1} -> {found.size2}")
    typer.echo(f"root {found.size1}: {ledger.b64(found.root1)}")
    typer.echo(f"root {found.size2}: {ledger.b64(found.root2)}")
    typer.echo(f"proof ({len(found.proof)} hashes):")
    for item in found.proof:
        typer.echo(f"  {ledger.b64(item)}")


@ledger_app.command("cosign")
@refusals
def cosign_command(
    checkpoint_id: Annotated[int, typer.Argument(metavar="CHECKPOINT_ID")],
    line: Annotated[str, typer.Option("--line", help="The witness's cosignature line, as "
                                      "tools/witness.py cosign prints it.")],
    witness_vkey: Annotated[str, typer.Option("--witness-vkey", help="The witness's verifier "
                                              "key (type 0x04), or a file holding it.")],
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Keep a witness's cosignature of a stored checkpoint, after checking it (auditor, admin).

    Example: resguardo --as auditor ledger cosign 7 --line "$(cat cosig.txt)" --witness-vkey w1.vkey
    """
    kept = write(as_user, ledger_proofs.cosign, checkpoint_id, line, witness_vkey)
    if as_json:
        print_json({"checkpoint_id": kept.checkpoint_id, "witness": kept.witness,
                    "vkey": kept.vkey, "timestamp": kept.timestamp, "line": kept.line})
    else:
        typer.echo(f"Kept the cosignature of {kept.witness} on checkpoint {kept.checkpoint_id} "
                   f"(time {kept.timestamp}).")


@ledger_app.command("cosignatures")
@refusals
def cosignatures_command(
    checkpoint_id: Annotated[int | None, typer.Argument(
        metavar="[CHECKPOINT_ID]", help="Default: the latest checkpoint.")] = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Print a checkpoint with every witness cosignature the log keeps for it.

    Witnesses compare these notes to catch a split view.
    Example: resguardo --as inspector ledger cosignatures 7 > cosigned.txt
    """
    found = read(as_user, ledger_proofs.cosigned, checkpoint_id)
    if as_json:
        print_json(found.as_dict())
    else:
        sys.stdout.write(found.note)
        typer.echo(f"{_checkpoint_text(found.checkpoint)}; {len(found.cosignatures)} "
                   "cosignature(s)", err=True)


@ledger_app.command("events")
@refusals
def events_command(
    start: Annotated[int, typer.Option("--from", help="First entry index.")],
    stop: Annotated[int, typer.Option("--to", help="End of the range (not included): the "
                                      "entries that take the tree from size FROM to size TO.")],
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Export the entries FROM..TO-1 with their canonical leaves, to rehash independently.

    Entries outside your scope come as their leaf hash only (auditor, admin).
    Example: resguardo --as auditor ledger events --from 0 --to 1000 --json > events.json
    """
    def run(uow: UnitOfWork) -> None:
        items = ledger_proofs.export_events(uow, start, stop)
        if as_json:
            out = sys.stdout
            out.write(f'{{"from": {start}, "to": {stop}, "events": [')
            for n, item in enumerate(items):
                out.write(("," if n else "") + "\n  " + dumps(item, indent=None))
            out.write("\n]}\n")
            return
        rows = []
        for item in items:
            event = item.get("event")
            if item.get("missing"):
                rows.append((item["index"], "(missing)", "", "", ""))
            elif "unreadable" in item:
                rows.append((item["index"], f"(unreadable: {item['unreadable']})", "", "", ""))
            elif event is None:
                rows.append((item["index"], "(outside your scope)", "", "", item["leaf_hash"]))
            else:
                rows.append((item["index"], event["type"], event["at"], event["actor"],
                             item["leaf_hash"]))
        print_table(f"Entries {start}..{stop - 1}", ["index", "type", "at", "actor",
                                                     "leaf hash"], rows)

    read(as_user, run)


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

    def run(uow: UnitOfWork) -> tuple[int, list[rebuild.Difference]]:
        if uow.actor is not None:
            authorize(uow.actor, Action.LEDGER_VERIFY)
        size = uow.repo.log_size()
        with _progress(not as_json) as bar:
            task = bar.add_task("Replaying the log", total=size)
            scratch = rebuild.replay_log(uow.conn,
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


@ledger_app.command("publish")
@refusals
def publish_command(
    every: Annotated[float | None, typer.Option(
        "--every", min=1, metavar="SECONDS",
        help="Keep running: publish again every SECONDS (a failed push is retried then).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Sign a checkpoint if entries are unsigned, and push it to the witnesses.

    Every witness in RESGUARDO_WITNESSES gets the newest checkpoint with a consistency
    proof from the size it last cosigned (C2SP tlog-witness); the cosignatures that
    verify are kept, refusals and silences become alerts. Exit status 1 when fewer
    than the quorum (RESGUARDO_WITNESS_QUORUM) cosigned. Run it from a timer, or with
    --every; `resguardo serve` does it every RESGUARDO_PUBLISH_SECONDS by itself.
    Example: resguardo ledger publish --json
    """
    app = deployment()
    if every is not None:
        witnessing.run_forever(app, every, lambda: False)
        return
    published = witnessing.publish(app)
    if as_json:
        print_json(published.as_dict())
    else:
        stored = published.checkpoint
        typer.echo(f"Checkpoint {stored.id} (size {stored.size}): {published.cosignatures} of "
                   f"{published.quorum} witness cosignature(s) required.")
        for result in published.results:
            typer.echo(f"  {result.witness}: {result.outcome}"
                       + (f" ({result.detail})" if result.detail else ""))
    if published.quorum and not published.quorum_met:
        raise typer.Exit(1)


@ledger_app.command("witnesses")
@refusals
def witnesses_command(as_user: AsUser = None, as_json: Json = False) -> None:
    """List the witnesses (RESGUARDO_WITNESSES), the size each cosigned and its last answer.

    Auditors and administrators; --json adds each witness's URL, key and last attempt.
    Example: resguardo --as auditor ledger witnesses --json
    """
    listed = deployment().settings.witnesses
    found = read(as_user, witnessing.status, listed)
    if as_json:
        print_json({"quorum": listed.quorum, "witnesses": found})
        return
    if not found:
        typer.echo("No witness is configured (RESGUARDO_WITNESSES).")
        return
    rows = [(w["witness"], w["organization"] or "", w["cosigned_size"],
             "" if w["last"] is None else w["last"]["outcome"]) for w in found]
    print_table(f"Witnesses (quorum {listed.quorum})", ["witness", "organization",
                                                         "cosigned size", "last answer"], rows)
    for w in found:
        if w["last"] is not None and w["last"]["outcome"] != "cosigned":
            typer.echo(f"{w['witness']} ({w['last']['at']}): {w['last']['detail']}")


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")

