"""A test deployment with a signed ledger, and tampering done the way an insider would:
plain SQL on the database, behind the application's back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from resguardo.services import custody
from resguardo.services import ledger as ledger_service
from resguardo.services.app import Resguardo
from resguardo.services.ledger_verify import VerifyReport, verify
from resguardo.storage import ledger_store
from templates import built_once

from world import build_world, do, make_app

CHECKPOINT_EVERY = 8


def build_ledger_world(url: str, clock: Any, tmp: Path, monkeypatch: Any,
                       rounds: int = 3, *, fresh: bool = False) -> Resguardo:
    """tests/world.py's deployment, its key made by `init`, a checkpoint every 8 entries,
    and a few issues and returns on top (about 40 entries, 5 checkpoints)."""
    monkeypatch.setenv("RESGUARDO_CHECKPOINT_EVERY", str(CHECKPOINT_EVERY))
    monkeypatch.delenv("RESGUARDO_CHECKPOINT_MINUTES", raising=False)

    def build(at: str) -> Resguardo:
        app = build_world(at, clock, tmp)
        custody_rounds(app, rounds)
        return app

    if fresh:  # what `init` itself leaves behind
        return build(url)
    # built once per process (and database kind, rounds, clock, settings), copied after
    app = built_once(f"ledger-{rounds}", url, clock, tmp, build,
                     lambda: make_app(url, clock, tmp))
    # as when it was built: `init` attached the key (its appends sign checkpoints), and the
    # last append found that signing works (it is not looked at again for a while)
    ledger_service.attach(app)
    with app.engine.connect() as conn:
        ledger_service.require_signing(conn)
    return app


def custody_rounds(app: Resguardo, rounds: int, serial: str = "GLK-A100",
                   badge: str = "P1") -> None:
    for _ in range(rounds):
        do(app, "armero1", custody.issue, serial, badge)
        do(app, "armero1", custody.return_, serial, "ARM1")


def key(app: Resguardo) -> ledger_service.LedgerKey:
    return ledger_service.LedgerKey.of(app.settings)


def run_verify(app: Resguardo, supplied: list[tuple[str, str]] | None = None,
               user: str = "auditor", projection: bool = True) -> VerifyReport:
    with app.read(user) as uow:
        return verify(uow, verifier=key(app).verifier(), origin=app.settings.log_origin,
                      supplied=supplied or [], projection=projection)


def sql(app: Resguardo, statement: str, **params: Any) -> Any:
    """One statement in its own transaction, as a database administrator would run it."""
    with app.engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else None


def size(app: Resguardo) -> int:
    return int(sql(app, "SELECT size FROM log_head WHERE id = 1")[0][0])


def checkpoints(app: Resguardo) -> list[ledger_store.StoredCheckpoint]:
    with app.read(None) as uow:
        return ledger_store.all_checkpoints(uow.conn)


def shift_up(app: Resguardo, start: int) -> None:
    """Move every event at or after `start` one position up (in two steps, so no unique
    index sees two rows at one position mid-statement)."""
    sql(app, "UPDATE events SET position = -position - 1000000 WHERE position >= :k", k=start)
    sql(app, "UPDATE events SET position = -position - 1000000 + 1 WHERE position < 0")


def swap(app: Resguardo, i: int, j: int) -> None:
    sql(app, "UPDATE events SET position = -1 WHERE position = :i", i=i)
    sql(app, "UPDATE events SET position = :i WHERE position = :j", i=i, j=j)
    sql(app, "UPDATE events SET position = :j WHERE position = -1", j=j)


def truncate(app: Resguardo, keep: int, *, drop_checkpoints: bool = False) -> None:
    """Cut the log back to its first `keep` entries, tree included, as a careful insider
    would so that the application goes on appending without an error."""
    sql(app, "DELETE FROM events WHERE position >= :k", k=keep)
    nodes = sql(app, "SELECT level, idx FROM merkle_nodes")
    for level, idx in nodes:
        if (idx + 1) << level > keep:
            sql(app, "DELETE FROM merkle_nodes WHERE level = :l AND idx = :i", l=level, i=idx)
    sql(app, "UPDATE log_head SET size = :k WHERE id = 1", k=keep)
    if drop_checkpoints:
        sql(app, "DELETE FROM cosignatures WHERE checkpoint_id IN "
                 "(SELECT id FROM checkpoints WHERE size > :k)", k=keep)
        sql(app, "DELETE FROM checkpoints WHERE size > :k", k=keep)


def kinds(report: VerifyReport) -> set[str]:
    return {f.kind for f in report.findings}
