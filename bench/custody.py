"""Custody throughput: issue/return through the service layer on SQLite, next to
an anchor measured in the same run on the same data: the same rows written by
plain ``sqlite3`` with one transaction per operation at the same durability.

    python bench/custody.py                      # 100,000 firearms, 1,000,000 operations
    python bench/custody.py --firearms 20000 --ops 50000

Prints operations per second for both and the ratio (target: >= 1/3).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from resguardo.config import Settings
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.services import custody, registry, setup
from resguardo.services.app import Resguardo
from resguardo.storage.database import make_engine


def progress() -> Progress:
    return Progress(TextColumn("{task.description:28}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), transient=True)


def settings_for(db: Path, synchronous: str) -> Settings:
    return dataclasses.replace(Settings.from_env(), database_url=f"sqlite:///{db}",
                               signing_key=db.with_suffix(".key"),
                               sqlite_synchronous=synchronous)


def build(db: Path, firearms: int, officers: int, synchronous: str) -> Resguardo:
    url = f"sqlite:///{db}"
    settings = settings_for(db, synchronous)
    # registration is set-up, not the measured figure: write it without fsyncs
    app = Resguardo(dataclasses.replace(settings, sqlite_synchronous="OFF"),
                    engine=make_engine(url, synchronous="OFF"))
    setup.initialize(app, "admin", "benchmark-password", "NACIONAL", "Nacional")
    with app.work(None) as uow:
        registry.add_organization(uow, "SSP", "Secretaría", "state", "NACIONAL")
        registry.add_organization(uow, "MUN", "Municipal", "agency", "SSP")
        registry.add_location(uow, "MUN", "ARM1", "Armería", "armory")
        from resguardo.services import users
        users.add_user(uow, "armero", "benchmark-password", "armorer", "MUN")
        uow.commit()
    far = date(2099, 1, 1)
    rng = random.Random(1)
    with progress() as bar:
        task = bar.add_task("Registering officers", total=officers)
        for start in range(0, officers, 1000):
            with app.work(None) as uow:
                for i in range(start, min(officers, start + 1000)):
                    registry.add_officer(uow, "MUN", OfficerInput(f"B{i:06d}", f"Officer {i}",
                                                                  credential_expiry=far,
                                                                  qualification_expiry=far))
                uow.commit()
            bar.update(task, completed=min(officers, start + 1000))
        task = bar.add_task("Registering firearms", total=firearms)
        for start in range(0, firearms, 1000):
            with app.work(None) as uow:
                for i in range(start, min(firearms, start + 1000)):
                    registry.register_firearm(uow, "MUN", "ARM1", FirearmInput(
                        serial=f"{rng.choice('ABCDEFGH')}{i:07d}", make="Glock",
                        calibre="9x19mm", kind="pistol", model="17"))
                uow.commit()
            bar.update(task, completed=min(firearms, start + 1000))
    app.engine.dispose()
    return Resguardo(settings)


def serials(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("select serial from firearms order by id")]


def run_service(app: Resguardo, plan: list[tuple[str, str]]) -> float:
    """Issue and return each planned (serial, badge), one transaction per operation."""
    start = time.perf_counter()
    for serial, badge in plan:
        with app.work("armero") as uow:
            custody.issue(uow, serial, badge)
            uow.commit()
        with app.work("armero") as uow:
            custody.return_(uow, serial, "ARM1")
            uow.commit()
    return time.perf_counter() - start


class Anchor:
    """The same rows with plain sqlite3: read the firearm, insert the event, update the
    firearm and the log head, and write the Merkle nodes the log keeps, per operation."""

    def __init__(self, db: Path, synchronous: str) -> None:
        self.op = _anchor(db, synchronous)

    def run(self, plan: list[tuple[str, str]]) -> float:
        start = time.perf_counter()
        for serial, badge in plan:
            self.op("issue", serial, badge)
            self.op("return", serial, badge)
        return time.perf_counter() - start


def _anchor(db: Path, synchronous: str):  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    has_nodes = conn.execute("select 1 from sqlite_master where name='merkle_nodes'").fetchone()
    import hashlib
    size = conn.execute("select size from log_head where id = 1").fetchone()[0]
    officer = dict(conn.execute("select badge, id from officers"))
    location = conn.execute("select id from locations where code='ARM1'").fetchone()[0]
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def op(kind: str, serial: str, badge: str) -> None:
        nonlocal size, now
        now += timedelta(seconds=1)
        conn.execute("BEGIN IMMEDIATE")
        fid, agency = conn.execute("select id, agency_id from firearms where serial_key = ?",
                                   (serial,)).fetchone()
        if kind == "issue":
            payload = {"firearm_id": fid, "from_location_id": location,
                       "officer_id": officer[badge]}
            values = ("issued", officer[badge], None)
        else:
            payload = {"firearm_id": fid, "location_id": location, "officer_id": officer[badge]}
            values = ("in_storage", None, location)
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        conn.execute("insert into events (position, type, at, actor_id, actor, org_id, "
                     "subject_type, subject_id, payload) values (?,?,?,?,?,?,?,?,?)",
                     (size, f"custody.{kind}", at, 2, "armero", agency, "firearm", fid, body))
        conn.execute("update firearms set status = ?, custodian_id = ?, location_id = ?, "
                     "status_since = ?, last_event = ? where id = ?", (*values, at, size, fid))
        if has_nodes:
            leaf = hashlib.sha256(b"\x00" + body.encode()).digest()
            conn.execute("insert into merkle_nodes (level, idx, hash) values (0, ?, ?)",
                         (size, leaf))
            if size % 2:
                conn.execute("insert into merkle_nodes (level, idx, hash) values (1, ?, ?)",
                             (size // 2, hashlib.sha256(b"\x01" + leaf + leaf).digest()))
        size += 1
        conn.execute("update log_head set size = ? where id = 1", (size,))
        conn.execute("COMMIT")

    return op


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firearms", type=int, default=100_000)
    parser.add_argument("--officers", type=int, default=10_000)
    parser.add_argument("--ops", type=int, default=1_000_000, help="issue + return operations")
    parser.add_argument("--synchronous", default="FULL", choices=["OFF", "NORMAL", "FULL"],
                        help="SQLite durability for both sides (default FULL, the product default)")
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "out",
                        help="where the database files go (use a real disk, not tmpfs)")
    parser.add_argument("--reuse-setup", action="store_true",
                        help="start from the set-up a previous run of the same size kept")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    db, anchor_db = args.dir / "custody.db", args.dir / "custody-anchor.db"
    for path in args.dir.glob("custody*"):
        path.unlink()

    # The set-up (registration, unmeasured) is kept beside the results and reused by the
    # next run of the same size with --reuse-setup: at 100,000 firearms it takes minutes.
    saved = args.dir / f"setup-{args.firearms}-{args.officers}.db"
    t0 = time.perf_counter()
    if args.reuse_setup and saved.exists():
        shutil.copy(saved, db)
        shutil.copy(saved.with_suffix(".key"), db.with_suffix(".key"))
        app = Resguardo(settings_for(db, args.synchronous))
        print(f"set-up: reused {saved.name}", file=sys.stderr)
    else:
        app = build(db, args.firearms, args.officers, args.synchronous)
        print(f"set-up: {args.firearms} firearms, {args.officers} officers in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
        shutil.copy(db, saved)
        shutil.copy(db.with_suffix(".key"), saved.with_suffix(".key"))
    shutil.copy(db, anchor_db)

    rng = random.Random(2)
    keys = serials(db)
    badges = [f"B{i:06d}" for i in range(args.officers)]
    plan = [(rng.choice(keys), rng.choice(badges)) for _ in range(args.ops // 2)]
    from resguardo.domain.serials import serial_key
    anchor_plan = [(serial_key(s), b) for s, b in plan]

    # The two sides run in alternating chunks, so both see the same machine: on a
    # shared, noisy host a side run alone in a quiet minute would win unfairly.
    anchor_side = Anchor(anchor_db, args.synchronous)
    service = anchor = 0.0
    chunk = 500
    with progress() as bar:
        task = bar.add_task("Service layer and anchor", total=len(plan) * 2)
        for start in range(0, len(plan), chunk):
            service += run_service(app, plan[start:start + chunk])
            anchor += anchor_side.run(anchor_plan[start:start + chunk])
            bar.update(task, completed=2 * min(len(plan), start + chunk))
            done = 2 * min(len(plan), start + chunk)
            if not sys.stderr.isatty() and (start // chunk) % 50 == 49:
                print(f"{done:,} operations: resguardo {done / service:,.0f} ops/s, "
                      f"anchor {done / anchor:,.0f} ops/s, ratio "
                      f"{anchor / service:.2f}", file=sys.stderr, flush=True)
    ops = len(plan) * 2
    ours, theirs = ops / service, ops / anchor
    print(f"firearms: {args.firearms:,}   officers: {args.officers:,}")
    print(f"operations:            {ops:,} (issue + return, one transaction each, "
          f"synchronous={args.synchronous}, interleaved in chunks of {chunk})")
    print(f"resguardo services:    {ours:10,.0f} ops/s  ({service:.1f} s)")
    print(f"anchor plain sqlite3:  {theirs:10,.0f} ops/s  ({anchor:.1f} s)")
    print(f"ratio:                 {ours / theirs:10.2f}  (target >= 0.33)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
