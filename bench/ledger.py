"""Ledger benchmark: appends as the log grows, proofs and verification at a million entries.

1. Appends. The log is filled to 10,000, 100,000 and 1,000,000 entries with realistic
   custody events (issues and returns of the deployment's firearms) written in batches
   straight through `ledger_store` (event rows, tree nodes, and a signed checkpoint every
   1,000 entries, as the automatic policy does). At each size, real operations then run
   through the product's own path (`custody.issue` / `custody.return_` in a unit of work:
   domain checks, event row, projection, tree append, checkpoint policy, commit). Printed:
   median time per operation and inside `ledger_store.append`, and the ratio between the
   slowest and fastest size (target: flat within 1.5x).
2. Proofs at 1M: inclusion proofs of random entries and consistency proofs between random
   sizes, read from the database and verified.
3. Verify at 1M (`ledger verify --no-projection`: every leaf rehashed from its row, every
   tree node and every checkpoint checked), next to the anchor measured in the same run:
   hashlib computing the same RFC 9162 root over the same canonical leaves held in memory
   (leaf hashes, then each level pairwise). Target: verify within 3x of the anchor.

    .venv/bin/python bench/ledger.py                    # SQLite files in bench/out/
    .venv/bin/python bench/ledger.py --sizes 10000 100000 --ops 300
    .venv/bin/python bench/ledger.py --url postgresql://user@host/db   # an empty database

On SQLite each size is a copy of the same deployment and the sizes take turns in each
measurement round; verify and the anchor also alternate. Every figure is the lowest of
its rounds: other work on the machine can only add time.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from resguardo.config import Settings
from resguardo.domain.events import Event, canonical, new_secret
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.ledger import (
    Checkpoint,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    sign_checkpoint,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from resguardo.services import custody, ledger, ledger_scan, ledger_verify, registry, setup, users
from resguardo.services.app import Resguardo
from resguardo.storage import ledger_store
from resguardo.storage import tables as t
from resguardo.storage.database import make_engine

sha256 = hashlib.sha256
FIREARMS = 200
OFFICERS = 50
CHECKPOINT_EVERY = 1000


def progress() -> Progress:
    return Progress(TextColumn("{task.description:30}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), transient=True)


def _json(value: Any) -> str:
    if value is None:
        return "null"
    return str(value) if isinstance(value, int) else encode_basestring(value)


def leaf_text(row: dict[str, Any]) -> str:
    """The canonical leaf of a row whose payload text is already canonical (bulk loading
    only; the product hashes Event.leaf(), and verify checks every one of these)."""
    return "{" + ",".join(f'"{k}":{row[k] if k == "payload" else _json(row[k])}'
                          for k in ("actor", "actor_id", "at", "corrects", "org_id", "payload",
                                    "position", "reason", "request_id", "secret", "subject_id",
                                    "subject_type", "type")
                          if k != "secret" or row[k] is not None) + "}"


@dataclasses.dataclass
class World:
    app: Resguardo
    serials: list[str]
    firearm_ids: list[int]
    officer_ids: list[int]
    agency_id: int
    location_id: int


def make_app(url: str, key_path: Path) -> Resguardo:
    settings = dataclasses.replace(Settings.from_env(), database_url=url, signing_key=key_path,
                                   sqlite_synchronous="NORMAL")
    app = Resguardo(settings, engine=make_engine(url, synchronous="NORMAL"))
    ledger.attach(app)
    return app


def build(url: str, key_path: Path) -> World:
    app = make_app(url, key_path)
    setup.initialize(app, "admin", "benchmark-password", "NACIONAL", "Nacional")
    with app.work(None) as uow:
        registry.add_organization(uow, "SSP", "Secretaría", "state", "NACIONAL")
        registry.add_organization(uow, "MUN", "Municipal", "agency", "SSP")
        registry.add_location(uow, "MUN", "ARM1", "Armería", "armory")
        users.add_user(uow, "armero", "benchmark-password", "armorer", "MUN")
        far = date(2099, 1, 1)
        for i in range(OFFICERS):
            registry.add_officer(uow, "MUN", OfficerInput(f"B{i:04d}", f"Officer {i}",
                                                          credential_expiry=far,
                                                          qualification_expiry=far))
        serials = [f"GLK{i:06d}" for i in range(FIREARMS)]
        for serial in serials:
            registry.register_firearm(uow, "MUN", "ARM1", FirearmInput(
                serial=serial, make="Glock", calibre="9x19mm", kind="pistol", model="17"))
        uow.commit()
    with app.read(None) as uow:
        agency = uow.repo.org("MUN")
        location = uow.repo.location(agency.id, "ARM1")
        firearm_ids = [uow.repo.firearm(s).id for s in serials]
        officer_ids = [o.id for o in uow.repo.officers(agency_id=agency.id, limit=OFFICERS).items]
    return World(app, serials, firearm_ids, officer_ids, agency.id, location.id)


def fill(world: World, target: int, start_at: datetime) -> None:
    """Grow the log to `target` entries with custody events, in batches of 1,000."""
    app, rng = world.app, random.Random(target)
    signer = ledger.LedgerKey.of(app.settings).signer()
    origin = app.settings.log_origin
    with app.read(None) as uow:
        size = uow.repo.log_size()
    with progress() as bar:
        task = bar.add_task(f"Filling to {target:,} entries", total=target - size)
        while size < target:
            n = min(CHECKPOINT_EVERY - size % CHECKPOINT_EVERY, target - size)
            rows = []
            for position in range(size, size + n):
                firearm = rng.choice(world.firearm_ids)
                at = (start_at + timedelta(seconds=position)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                issued = position % 2 == 0
                payload = ({"firearm_id": firearm, "from_location_id": world.location_id,
                            "officer_id": rng.choice(world.officer_ids)} if issued else
                           {"firearm_id": firearm, "location_id": world.location_id,
                            "officer_id": rng.choice(world.officer_ids)})
                rows.append({"position": position,
                             "type": "custody.issued" if issued else "custody.returned",
                             "at": at, "actor_id": 2, "actor": "armero",
                             "org_id": world.agency_id, "subject_type": "firearm",
                             "subject_id": firearm, "corrects": None, "reason": None,
                             "request_id": None, "payload": canonical(payload),
                             "secret": new_secret()})
            leaves = [leaf_hash(leaf_text(r).encode("utf-8")) for r in rows]
            with app.engine.begin() as conn:
                conn.execute(t.events.insert(), rows)
                ledger_store.append_leaf_hashes(conn, size, leaves)
                size += n
                conn.execute(t.log_head.update().values(size=size))
                if size % CHECKPOINT_EVERY == 0:
                    root = tree_root(ledger_store.DbNodeStore(conn), size)
                    ledger_store.store_checkpoint(
                        conn, size, root, sign_checkpoint(Checkpoint(origin, size, root), signer),
                        rows[-1]["at"])
            bar.update(task, advance=n)
    if app.engine.dialect.name == "sqlite":
        # A bulk load leaves a large write-ahead log that a log grown by appends never
        # has; fold it into the database so appends are measured in their steady state.
        with app.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


class Timed:
    """Wraps ledger_store.append to time the ledger's share of each real append."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.inner: Callable[..., bytes] = ledger_store.append

    def __call__(self, conn: Any, event: Event) -> bytes:
        t0 = time.perf_counter()
        try:
            return self.inner(conn, event)
        finally:
            self.samples.append(time.perf_counter() - t0)


def real_appends(world: World, ops: int, timer: Timed) -> tuple[float, float]:
    """Median seconds per issue/return operation and per ledger append, over `ops`."""
    app = world.app
    timer.samples.clear()
    per_op = []
    for i in range(ops // 2):
        serial = world.serials[i % len(world.serials)]
        for fn, args in ((custody.issue, (serial, f"B{i % OFFICERS:04d}")),
                         (custody.return_, (serial, "ARM1"))):
            t0 = time.perf_counter()
            with app.work("armero") as uow:
                fn(uow, *args)
                uow.commit()
            per_op.append(time.perf_counter() - t0)
    return statistics.median(per_op), statistics.median(timer.samples)


def proofs(world: World, count: int) -> tuple[float, float]:
    """Seconds per inclusion proof and per consistency proof (read and verified)."""
    rng = random.Random(7)
    with world.app.read(None) as uow:
        store = ledger_store.DbNodeStore(uow.conn)
        size = uow.repo.log_size()
        root = tree_root(store, size)
        indexes = [rng.randrange(size) for _ in range(count)]
        leaves = {i: ledger_store.node_rows(uow.conn, 0, i, i + 1)[i] for i in indexes}
        t0 = time.perf_counter()
        for i in indexes:
            verify_inclusion(i, size, leaves[i], inclusion_proof(store, i, size), root)
        inclusion = (time.perf_counter() - t0) / count
        olds = [rng.randrange(1, size) for _ in range(count)]
        roots = {o: tree_root(store, o) for o in olds}
        t0 = time.perf_counter()
        for old in olds:
            verify_consistency(old, size, consistency_proof(store, old, size), roots[old], root)
        consistency = (time.perf_counter() - t0) / count
    return inclusion, consistency


def anchor_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 root with hashlib over leaves in memory: leaf hashes, then each level."""
    level = [sha256(b"\x00" + leaf).digest() for leaf in leaves]
    tail: list[bytes] = []  # the right edge: unpaired nodes, lowest level first
    while len(level) > 1:
        if len(level) % 2:
            tail.append(level.pop())
        level = [sha256(b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2],
                                                                 strict=True)]
    right = None
    for node in tail:  # lowest first: each sits to the right of the one above
        right = node if right is None else sha256(b"\x01" + node + right).digest()
    return level[0] if right is None else sha256(b"\x01" + level[0] + right).digest()


def verify_and_anchor(world: World, rounds: int) -> dict[str, Any]:
    """Lowest seconds of `rounds` interleaved runs of verify (default workers, and one
    process) and of the anchor, so that other work on the machine weighs on all three."""
    app = world.app
    key = ledger.LedgerKey.of(app.settings)
    with app.read(None) as uow:
        size = uow.repo.log_size()
        leaves = [text.encode("utf-8") for lo in range(0, size, 100_000)
                  for _, text in ledger_store.leaf_texts(uow.conn, lo, min(size, lo + 100_000))]
        stored_root = tree_root(ledger_store.DbNodeStore(uow.conn), size)
    times: dict[str, Any] = {"verify": [], "verify_one_process": [], "anchor": []}
    for _ in range(rounds):
        t0 = time.perf_counter()
        root = anchor_root(leaves)
        times["anchor"].append(time.perf_counter() - t0)
        if root != stored_root:
            raise SystemExit("the anchor's root differs from the ledger's: the bench is wrong")
        for label, workers in (("verify", None), ("verify_one_process", 1)):
            with app.read(None) as uow:
                t0 = time.perf_counter()
                report = ledger_verify.verify(uow, verifier=key.verifier(), origin=key.origin,
                                              projection=False, workers=workers)
                times[label].append(time.perf_counter() - t0)
            if not report.ok:
                print(json.dumps(report.as_dict(), indent=2)[:2000], file=sys.stderr)
                raise SystemExit("verify found disagreements in the benchmark's own log")
    result: dict[str, Any] = {k: min(v) for k, v in times.items()}
    result["report"] = report
    return result


def spot_check(world: World, count: int = 300) -> None:
    """The bulk loader's leaves are the product's: Event.leaf() on random entries."""
    rng = random.Random(3)
    with world.app.read(None) as uow:
        size = uow.repo.log_size()
        for position in (rng.randrange(size) for _ in range(count)):
            event = uow.repo.event(position)
            stored = ledger_store.node_rows(uow.conn, 0, position, position + 1)[position]
            if sha256(b"\x00" + event.leaf()).digest() != stored:
                raise SystemExit(f"entry {position}: bulk-loaded leaf is not Event.leaf()")


def worlds_for(args: argparse.Namespace) -> dict[int, World]:
    """One deployment per size. On SQLite each size gets its own copy of one set-up, so
    that their appends can be measured in turns; on another database (--url), one
    deployment grows through the sizes."""
    key = args.dir / "ledger.key"
    key.unlink(missing_ok=True)
    sizes = sorted(args.sizes)
    start_at = datetime(2026, 1, 1, tzinfo=UTC)
    if args.url:
        world = build(args.url, key)
        return {size: world for size in sizes}
    template = args.dir / "ledger-setup.db"
    base = build(f"sqlite:///{template}", key)
    base.app.engine.dispose()
    worlds = {}
    for size in sizes:
        path = args.dir / f"ledger-{size}.db"
        shutil.copy(template, path)
        world = dataclasses.replace(base, app=make_app(f"sqlite:///{path}", key))
        fill(world, size, start_at)
        worlds[size] = world
    return worlds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--ops", type=int, default=400, help="real operations per size")
    parser.add_argument("--rounds", type=int, default=5, help="measurement rounds (lowest kept)")
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--url", help="an empty database to use instead of SQLite files")
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    for path in args.dir.glob("ledger*"):
        path.unlink()

    worlds = worlds_for(args)
    timer = Timed()
    ledger_store.append = timer  # type: ignore[assignment]
    per_round = max(2, args.ops // args.rounds)
    samples: dict[int, list[tuple[float, float]]] = {size: [] for size in worlds}
    for size in worlds:
        if args.url:
            fill(worlds[size], size, datetime(2026, 1, 1, tzinfo=UTC))
            samples[size] = [real_appends(worlds[size], per_round, timer)
                             for _ in range(args.rounds)]
        else:
            real_appends(worlds[size], 40, timer)  # warm caches
    if not args.url:
        # Other work on the machine only ever adds time: sizes take turns, the lowest
        # median of each size's rounds is kept.
        for _ in range(args.rounds):
            for size, world in worlds.items():
                samples[size].append(real_appends(world, per_round, timer))
    appends = {size: (min(r[0] for r in rounds), min(r[1] for r in rounds))
               for size, rounds in samples.items()}
    ledger_store.append = timer.inner  # type: ignore[assignment]
    largest = worlds[max(worlds)]
    spot_check(largest)
    inclusion, consistency = proofs(largest, args.proofs)
    timed = verify_and_anchor(largest, max(1, args.rounds // 2))
    report = timed["report"]

    engine = largest.app.engine.dialect.name
    print(f"database: {engine}, synchronous=NORMAL for SQLite; load average at the end "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"appends (real issue/return through the service layer; per size, the lowest "
          f"median of {args.rounds} rounds of {per_round}):")
    for target, (op, append) in appends.items():
        print(f"  at {target:>9,} entries: {op * 1e6:8.0f} us per operation, "
              f"{append * 1e6:6.0f} us in ledger_store.append")
    ops = [op for op, _ in appends.values()]
    inner = [a for _, a in appends.values()]
    print(f"  flatness: operation {max(ops) / min(ops):.2f}x, ledger append "
          f"{max(inner) / min(inner):.2f}x (target <= 1.5x)")
    size = report.size
    print(f"proofs at {size:,} entries: inclusion {inclusion * 1e6:.0f} us, consistency "
          f"{consistency * 1e6:.0f} us (read from the database and verified)")
    anchor = timed["anchor"]
    print(f"verify {size:,} entries ({report.leaves:,} leaves, {report.nodes:,} nodes, "
          f"{report.checkpoints:,} checkpoints), lowest of {max(1, args.rounds // 2)}:")
    print(f"  {ledger_scan.default_workers()} worker processes: {timed['verify']:6.2f} s, "
          f"one process: {timed['verify_one_process']:6.2f} s")
    print(f"anchor (hashlib, same canonical leaves in memory): {anchor:.2f} s")
    print(f"ratio verify / anchor: {timed['verify'] / anchor:.2f} "
          f"(one process: {timed['verify_one_process'] / anchor:.2f}; target <= 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
