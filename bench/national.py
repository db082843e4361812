"""A national shift change on PostgreSQL: many clients issuing and returning weapons
through the API of a deployment the size of a country, next to an anchor measured in
the same run on the same data: the same requests and transactions without the
ledger append.

The deployment (built once per size and kept, ``--reuse``): ``--agencies`` agencies
(default 2,000) under 32 states, each with an armory, an armorer, ``--officers``
officers (default 200: 400,000 in all) and ``--weapons`` weapons (default 250:
500,000), both through the product's import (``resguardo import officers``, whose new
officers enter the log in batches, ``registry.add_officers``; ``resguardo import
firearms``, the bulk path). ``--build-only`` stops after the build: it may run on a
server started with ``fsync=off`` (a bulk load), the measurement then on the same
data after a restart with fsync on. Two copies of it are made
with ``CREATE DATABASE ... TEMPLATE`` so each phase starts from the same state:

- **Resguardo**: ``resguardo serve`` (one uvicorn process) on the first copy.
  Each request appends its entry to the log: it takes the log head's row lock
  (``SELECT ... FOR UPDATE``: appends are totally ordered), inserts the event,
  updates the projection and the Merkle tree's nodes, and may sign a checkpoint.
- **Anchor**: the same server on the second copy with the ledger append taken
  out (in that process only): positions from a sequence instead of the locked
  head, no tree nodes, no checkpoints, no head update. The same authentication,
  the same service checks, the same event and projection rows.

Each client is one keep-alive connection acting as one agency's armorer, cycling
issue and return over the agency's weapons and officers. While a phase runs a
sampler reads ``pg_stat_activity`` every 20 ms: the share of the server's
busy backends that wait on a lock (in this workload only the log head is
contended: each client has its own weapons) is the time spent waiting for the
head.

    python bench/national.py --postgresql postgresql://postgres@/postgres?host=/tmp
    python bench/national.py --postgresql URL --agencies 200 --seconds 20   # quicker

Without ``--postgresql`` it starts a private PostgreSQL server (as the
``postgres`` user when run as root), as the tests do. Prints operations per
second, p50 and p99 for both phases, the ratio (target: at least 0.5 with 50
clients), the head-wait share, and the rate a national shift change needs.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

sys.path.insert(0, str(Path(__file__).parent))
from api import free_port, run_phase, spawn, stop_server  # noqa: E402

PASSWORD = "national-bench-1"
STATES = 32


# --- the server process ------------------------------------------------------------------

def bench_app():  # type: ignore[no-untyped-def]
    """The API on RESGUARDO_DATABASE_URL; with BENCH_NO_LEDGER=1, without the ledger append."""
    from resguardo.api import create_app
    from resguardo.services.app import Resguardo, Wiring, default_wiring

    ledgerless = os.environ.get("BENCH_NO_LEDGER") == "1"
    if ledgerless:
        _take_out_the_ledger_append()
    deployment = Resguardo(wiring=Wiring() if ledgerless else default_wiring())
    return create_app(deployment, webhooks=False)


def _take_out_the_ledger_append() -> None:
    """The anchor: positions from a sequence, no tree nodes, no head lock or update."""
    from resguardo.storage import ledger_store, uow

    def head(self):  # type: ignore[no-untyped-def]
        if self._size is None:
            self._size = int(self.repo.raw.scalar("SELECT nextval('bench_positions')"))
            self._first = self._size
        return self._size

    original_append, original_commit = uow.UnitOfWork.append, uow.UnitOfWork.commit

    def append(self, new, *, at=None):  # type: ignore[no-untyped-def]
        self._size = None  # each entry takes its own position from the sequence
        return original_append(self, new, at=at)

    def commit(self):  # type: ignore[no-untyped-def]
        self._dirty = False  # no head update, no credential range
        original_commit(self)

    uow.UnitOfWork._head = head  # type: ignore[method-assign]
    uow.UnitOfWork.append = append  # type: ignore[method-assign]
    uow.UnitOfWork.commit = commit  # type: ignore[method-assign]
    ledger_store.append = lambda conn, ev: None  # type: ignore[assignment]


def serve(port: int, workers: int) -> None:
    import uvicorn
    uvicorn.run("national:bench_app", factory=True, host="127.0.0.1", port=port,
                workers=workers, log_level="warning", access_log=False)


def start_server(url: str, key: Path, workers: int, ledgerless: bool) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "RESGUARDO_DATABASE_URL": url, "RESGUARDO_SIGNING_KEY": str(key),
           "BENCH_NO_LEDGER": "1" if ledgerless else "0"}
    return spawn(__file__, env, workers)


# --- a private PostgreSQL server ------------------------------------------------------------

class PrivatePostgres:
    """A throwaway server (fsync on: the product's durability), as the tests start one."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="resguardo-national-"))
        self.port = free_port()
        self.root = os.geteuid() == 0
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
        if not found:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = Path(found[0])

    def _run(self, *cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self.root else list(cmd)
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL)

    def start(self) -> str:
        if self.root:
            shutil.chown(self.dir, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust",
                  "-U", "postgres", "-E", "UTF8")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-w", "-l",
                  str(self.dir / "log"), "-o",
                  f"-k {self.dir} -p {self.port} -c listen_addresses='' -c max_connections=300 "
                  "-c shared_buffers=512MB", "start")
        return f"postgresql://postgres@/postgres?host={self.dir}&port={self.port}"

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast",
                      "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    head, _, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def database_exists(url: str, name: str) -> bool:
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def upgrade(url: str) -> None:
    """Apply the schema migrations a kept deployment lacks (as ``resguardo db upgrade``)."""
    from resguardo.storage import schema
    from resguardo.storage.database import make_engine
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()


def copy_database(url: str, source: str, target: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}"')
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


# --- the national deployment ------------------------------------------------------------------

def build(url: str, name: str, key: Path, agencies: int, officers: int, weapons: int) -> float:
    """Create database ``name`` holding the national deployment; returns the seconds taken."""
    from argon2 import PasswordHasher

    from resguardo.config import Settings
    from resguardo.services import imports, registry, setup, users
    from resguardo.services.app import Resguardo

    # Passwords are hashed cheaply here: 2,000 accounts at the product's cost would take
    # minutes, and sign-in is not what this measures.
    users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    target = with_database(url, name)
    os.environ["RESGUARDO_DATABASE_URL"] = target
    os.environ["RESGUARDO_SIGNING_KEY"] = str(key)
    app = Resguardo(Settings.from_env())
    started = time.perf_counter()
    setup.initialize(app, "admin", PASSWORD, "NACIONAL", "Autoridad nacional")
    far = "2099-01-01"
    work = Path(tempfile.mkdtemp(prefix="national-csv-"))
    columns = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), transient=False)
    with columns as bar:
        task = bar.add_task(f"{agencies:,} agencies", total=agencies)
        with app.work("admin") as uow:
            for s in range(STATES):
                registry.add_organization(uow, f"E{s:02d}", f"Secretaría estatal {s}", "state",
                                          "NACIONAL")
            for a in range(agencies):
                code = f"A{a:04d}"
                registry.add_organization(uow, code, f"Policía {a}", "agency",
                                          f"E{a % STATES:02d}")
                registry.add_location(uow, code, "ARM1", "Armería", "armory")
                users.add_user(uow, f"armero{a}", PASSWORD, "armorer", code)
            uow.commit()
        for a in range(agencies):
            code = f"A{a:04d}"
            roster = work / f"{code}-elementos.csv"
            with open(roster, "w", newline="", encoding="utf-8") as f:
                out = csv.writer(f)
                out.writerow(["badge", "name", "credential_expiry", "qualification_expiry"])
                for o in range(officers):
                    out.writerow([f"{code}-{o:04d}", f"Elemento {a}-{o}", far, far])
            with app.work("admin") as uow:  # `resguardo import officers`: batches of rows
                report = imports.import_file(uow, "officers", roster,
                                             imports.ImportOptions(agency=code))
                if not report.commit or report.imported != officers:
                    raise SystemExit(f"{code}: the roster import was refused: "
                                     f"{report.problems[:3]}")
                uow.commit()
            roster.unlink()
            sheet = work / f"{code}.csv"
            with open(sheet, "w", newline="", encoding="utf-8") as f:
                out = csv.writer(f)
                out.writerow(["serial", "make", "calibre", "kind", "location"])
                for w in range(weapons):
                    out.writerow([f"{code}-{w:05d}", "Glock", "9x19mm", "pistol", "ARM1"])
            with app.work(f"armero{a}") as uow:
                report = imports.import_file(uow, "firearms", sheet,
                                             imports.ImportOptions(agency=code))
                if not report.commit:
                    raise SystemExit(f"{code}: the weapons import was refused: "
                                     f"{report.problems[:3]}")
                uow.commit()
            sheet.unlink()
            bar.advance(task)
    shutil.rmtree(work, ignore_errors=True)
    seconds = time.perf_counter() - started
    with app.engine.begin() as conn:
        size = conn.exec_driver_sql("SELECT size FROM log_head").scalar_one()
        # the anchor's positions continue the log's
        conn.exec_driver_sql(f"CREATE SEQUENCE bench_positions START {size}")
        conn.exec_driver_sql("ANALYZE")
    app.engine.dispose()
    return seconds


def plans_for(url: str, clients: int, per_client: int) -> tuple[list[list[tuple[str, dict]]], list[str]]:
    """Each client: one agency (spread over the country), its weapons and officers."""
    with psycopg.connect(_libpq(url)) as conn:
        agencies = [row[0] for row in conn.execute(
            "SELECT code FROM organizations WHERE kind = 'agency' ORDER BY code")]
        step = max(1, len(agencies) // clients)
        chosen = [agencies[(c * step) % len(agencies)] for c in range(clients)]
        plans, users = [], []
        for code in chosen:
            rows = conn.execute(
                "SELECT f.id FROM firearms f JOIN organizations o ON o.id = f.agency_id "
                "WHERE o.code = %s AND f.status = 'in_storage' ORDER BY f.id LIMIT %s",
                (code, per_client)).fetchall()
            plan: list[tuple[str, dict]] = []
            for n, (fid,) in enumerate(rows):
                plan.append((f"/api/v1/firearms/{fid}/issue", {"badge": f"{code}-{n:04d}"}))
                plan.append((f"/api/v1/firearms/{fid}/return", {"location": "ARM1"}))
            plans.append(plan)
            users.append(f"armero{int(code[1:])}")
    return plans, users


class LockSampler:
    """Samples pg_stat_activity: the share of busy backends waiting on a lock."""

    def __init__(self, url: str, database: str) -> None:
        self.url, self.database = url, database
        self.busy = self.waiting = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            while not self.stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE state <> 'idle'), "
                    "count(*) FILTER (WHERE wait_event_type = 'Lock') "
                    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'", (self.database,)).fetchone()
                if row is not None:
                    self.busy += row[0]
                    self.waiting += row[1]
                time.sleep(0.02)

    @property
    def share(self) -> float:
        return self.waiting / self.busy if self.busy else 0.0


def phase(name: str, admin_url: str, database: str, key: Path, ledgerless: bool, clients: int,
          per_client: int, seconds: float, warmup: float, workers: int):  # type: ignore[no-untyped-def]
    url = with_database(admin_url, database)
    plans, usernames = plans_for(url, clients, per_client)
    proc, base = start_server(url, key, workers, ledgerless)
    try:
        tokens = {}
        for username in set(usernames):
            r = httpx.post(f"{base}/api/v1/auth/token",
                           json={"username": username, "password": PASSWORD}, timeout=30)
            r.raise_for_status()
            tokens[username] = r.json()["access_token"]
        sampler = LockSampler(admin_url, database)
        sampler.thread.start()
        print(f"{name}: {clients} clients for {seconds:.0f} s ...", file=sys.stderr)
        result = asyncio.run(run_phase(name, base, "", plans, seconds, warmup,
                                       tokens=[tokens[u] for u in usernames]))
        sampler.stop.set()
        sampler.thread.join()
    finally:
        stop_server(proc)
    return result, sampler.share


def national_need(officers: int) -> str:
    """The rate a national shift change asks for, from the issue's figures."""
    # Two shift changes a day; at each, the officers going off duty return and those
    # coming on are issued: about one movement per officer per shift change (the
    # issue's ~300 million entries a year = 822,000 a day = 411,000 per change).
    per_change = officers
    window = 30 * 60  # most of an agency's change happens in half an hour
    peak = per_change / window
    return (f"national need: {officers:,} officers -> about {per_change:,} movements per "
            f"shift change; spread over 30 min = {peak:,.0f} ops/s; if every agency changed "
            f"in the same 10 min, {per_change / 600:,.0f} ops/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgresql", help="an admin URL of a PostgreSQL server to use "
                        "(default: start a private one)")
    parser.add_argument("--agencies", type=int, default=2000)
    parser.add_argument("--officers", type=int, default=200, help="officers per agency")
    parser.add_argument("--weapons", type=int, default=250, help="weapons per agency")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--per-client", type=int, default=4,
                        help="weapons each client cycles through")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured time per phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn processes")
    parser.add_argument("--reuse", action="store_true",
                        help="keep and reuse the built deployment of this size")
    parser.add_argument("--build-only", action="store_true",
                        help="build (or keep, with --reuse) the deployment and stop: a build "
                        "may run on a server started with fsync off, the measurement then "
                        "on the same data with fsync on")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.workers)
        return 0

    private = None if args.postgresql else PrivatePostgres()
    admin_url = args.postgresql or private.start()  # type: ignore[union-attr]
    key = Path(tempfile.gettempdir()) / "resguardo-national.key"
    name = f"national_{args.agencies}_{args.officers}_{args.weapons}"
    try:
        if args.reuse and database_exists(admin_url, name) and key.exists():
            print(f"reusing {name}", file=sys.stderr)
            built = None
            upgrade(with_database(admin_url, name))  # a deployment kept from an older version
        else:
            key.unlink(missing_ok=True)
            built = build(admin_url, name, key, args.agencies, args.officers, args.weapons)
            print(f"built {name} in {built:.0f} s", file=sys.stderr)
        if args.build_only:
            return 0
        copy_database(admin_url, name, name + "_ledger")
        copy_database(admin_url, name, name + "_anchor")
        ours, ours_wait = phase("issue/return (Resguardo)", admin_url, name + "_ledger", key,
                                False, args.clients, args.per_client, args.seconds,
                                args.warmup, args.workers)
        anchor, anchor_wait = phase("anchor (no ledger append)", admin_url, name + "_anchor",
                                    key, True, args.clients, args.per_client, args.seconds,
                                    args.warmup, args.workers)
    finally:
        if private is not None:
            private.stop()
    ratio = ours.throughput / anchor.throughput if anchor.throughput else 0.0
    met = ratio >= 0.5 and ours.errors == 0 and anchor.errors == 0
    officers = args.agencies * args.officers
    if args.json:
        print(json.dumps({"agencies": args.agencies, "officers": officers,
                          "weapons": args.agencies * args.weapons, "clients": args.clients,
                          "build_seconds": built, "resguardo": ours.as_dict(),
                          "resguardo_head_wait_share": round(ours_wait, 3),
                          "anchor": anchor.as_dict(), "anchor_lock_wait_share":
                          round(anchor_wait, 3), "ratio": round(ratio, 3),
                          "target_met": met}, indent=2))
    else:
        print(f"{args.agencies:,} agencies, {officers:,} officers, "
              f"{args.agencies * args.weapons:,} weapons; {args.clients} clients, "
              f"{args.seconds:.0f} s per phase, {args.workers} uvicorn process(es), "
              f"{os.cpu_count()} CPUs, PostgreSQL")
        print(f"{'':30}{'ops/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'lock wait':>11}")
        for r, wait in ((ours, ours_wait), (anchor, anchor_wait)):
            print(f"{r.name:30}{r.throughput:9.1f}{r.percentile(50):9.1f}"
                  f"{r.percentile(99):9.1f}{r.errors:8d}{wait:10.0%}")
        print(f"ratio Resguardo : anchor = {ratio:.2f}  (target >= 0.50, zero errors: "
              f"{'met' if met else 'NOT met'})")
        print(national_need(officers))
        for r in (ours, anchor):
            if r.first_error:
                print(f"first error ({r.name}): {r.first_error}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
