"""A year of entries on PostgreSQL: verify, rebuild, proofs and trace at national size.

Copies a deployment (``--from``, by default the national one ``bench/national.py``
builds: 2,000 agencies, 400,000 officers, 500,000 weapons) into database ``--name``
and grows its log with generated custody movements up to each of ``--sizes``
entries (in all), measuring at each size:

- the full ``resguardo ledger verify --json`` (every leaf rehashed, every tree node
  and checkpoint checked, the projection replayed and compared), in a child process:
  wall and CPU seconds, peak memory of the command and its workers;
- with ``--verify-tree``, ``resguardo ledger verify --no-projection`` too (the leaves,
  tree and checkpoints alone: what the hashing workers share), the same figures;
- ``resguardo ledger rebuild --check`` (the log replayed into a scratch database and
  compared row by row), in a child process, the same figures;
- inclusion and consistency proofs read from the database and verified (mean ms);
- ``trace``: a serial read at a checkpoint stop (exact, then with two characters
  damaged) through ``services.trace`` as an auditor, the trace recorded, as the API
  answers it (p50 and the slowest, ms); the first, which loads the trace index, apart;
  with the custody entries an answer carries (each candidate's window around the
  moment, the whole chain before docs/national-scale.md item 1) and the answer's size
  as JSON (p50). ``bench/trace_window.py`` measures the same traces read-only.

The movements are those a desk writes: a weapon issued to an officer of its agency,
then returned to its armory, one after the other, spread over a year (365 days /
10 million entries: one every 3.2 s), by the agency's armorer. They are written in
transactions of ``--batch`` entries with ``COPY`` (event rows and tree nodes), the
projection set as the batch leaves it (each weapon's row as its last movement
sets it), a checkpoint signed every 1,000 entries (the product's default policy).
Nothing here is trusted: ``ledger verify`` rehashes every leaf from its row and
``ledger rebuild --check`` replays every event, so a generated entry that differed
from what the product writes would be reported (the bench stops on any finding).

    python bench/national.py --postgresql URL --reuse --build-only     # the deployment
    python bench/year.py --postgresql URL --sizes 1000000 3000000 10000000
    python bench/year.py --postgresql URL --sizes 3000000 --reuse --skip-rebuild
    python bench/year.py --postgresql URL --sizes 3000000 --reuse --skip-trace --verify-tree

``--reuse`` keeps the grown database (and grows it further); ``--key`` is the
deployment's signing key (``bench/national.py`` keeps it in the temporary
directory). A size the run cannot reach in its time (``--stop-after`` seconds of
filling, counted from the start) is reported as not reached, and the size the log
did reach is measured in its place (its row has ``"target"``); no larger size is
attempted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from resguardo.domain.events import canonical, new_secret
from resguardo.ledger import (
    Checkpoint,
    append_leaves,
    leaf_hash,
    root_node_keys,
    sign_checkpoint,
    tree_root,
)
from resguardo.services import ledger as ledger_service
from resguardo.storage import ledger_store
from resguardo.storage.bulk import EVENT_COLUMNS, NODE_COLUMNS
from resguardo.storage.database import driver_connection, make_engine

sys.path.insert(0, str(Path(__file__).parent))
from national import _libpq, copy_database, database_exists, with_database  # noqa: E402


def _bench_ledger() -> Any:
    """bench/ledger.py (its leaf text, proofs, child-process verify and memory sampler)."""
    spec = importlib.util.spec_from_file_location("bench_ledger",
                                                  Path(__file__).with_name("ledger.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_ledger"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


BL = _bench_ledger()
YEAR = timedelta(days=365)
CHECKPOINT_EVERY = 1000
POOL = 50_000  # weapons the movements are drawn from


class _Known:
    """The tree nodes known in memory (a NodeReader): the right edge and this batch's."""

    def __init__(self, nodes: dict[tuple[int, int], bytes]) -> None:
        self.nodes = nodes

    def get_many(self, keys: Any) -> dict[tuple[int, int], bytes]:
        return {k: self.nodes[k] for k in keys if k in self.nodes}


def movers(conn: Any, rng: random.Random) -> list[tuple[int, int, int, int, str, list[int]]]:
    """Weapons in storage with their agency, location, armorer and the agency's officers."""
    rows = conn.exec_driver_sql(
        "SELECT f.id, f.agency_id, f.location_id FROM firearms f "
        "WHERE f.status = 'in_storage' AND f.location_id IS NOT NULL "
        f"ORDER BY random() LIMIT {POOL}").fetchall()
    officers: dict[int, list[int]] = {}
    for oid, agency in conn.exec_driver_sql(
            "SELECT id, agency_id FROM officers WHERE status = 'active'"):
        officers.setdefault(int(agency), []).append(int(oid))
    armorers = {int(org): (int(uid), name) for uid, name, org in conn.exec_driver_sql(
        "SELECT id, username, scope_id FROM users WHERE role = 'armorer' ORDER BY id")}
    admin = conn.exec_driver_sql(
        "SELECT id, username FROM users ORDER BY id LIMIT 1").fetchone()
    out = []
    for fid, agency, location in rows:
        staff = officers.get(int(agency))
        if not staff:
            continue
        uid, name = armorers.get(int(agency), (int(admin[0]), admin[1]))
        out.append((int(fid), int(agency), int(location), uid, name, staff))
    rng.shuffle(out)
    if not out:
        raise SystemExit("no weapon in storage with officers in its agency to move")
    return out


def fill(url: str, key_path: Path, origin: str, target: int, deadline: float) -> int:
    """Grow the log to ``target`` entries (or until ``deadline``); returns its size."""
    engine = make_engine(url)
    signer = ledger_service.LedgerKey(key_path, origin, None).signer()
    rng = random.Random(target)
    try:
        with engine.connect() as conn:
            size = int(conn.exec_driver_sql("SELECT size FROM log_head").scalar_one())
            last_at = conn.exec_driver_sql(
                "SELECT at FROM events ORDER BY position DESC LIMIT 1").scalar_one()
            pool = movers(conn, rng)
            frontier = ledger_store.DbNodeStore(conn).get_many(root_node_keys(size))
        step = YEAR / 10_000_000
        start_at = datetime.strptime(last_at, "%Y-%m-%dT%H:%M:%S.%fZ") + step
        started, cursor_pool = time.perf_counter(), 0
        holding: tuple[int, int, int, int, str, int] | None = None
        while size < target and time.monotonic() < deadline:
            n = min(BATCH, target - size)
            n -= (size + n) % CHECKPOINT_EVERY if n > CHECKPOINT_EVERY else 0
            rows, leaves, last = [], [], {}
            for position in range(size, size + n):
                # an issue to an officer of the weapon's agency, then its return
                issued = holding is None
                if holding is None:
                    fid, agency, location, uid, name, staff = pool[cursor_pool % len(pool)]
                    cursor_pool += 1
                    holding = (fid, agency, location, uid, name, rng.choice(staff))
                fid, agency, location, uid, name, officer = holding
                if not issued:
                    holding = None
                at = (start_at + step * (position - size)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                payload = ({"firearm_id": fid, "from_location_id": location,
                            "officer_id": officer} if issued else
                           {"firearm_id": fid, "location_id": location, "officer_id": officer})
                row = {"position": position,
                       "type": "custody.issued" if issued else "custody.returned",
                       "at": at, "actor_id": uid, "actor": name, "org_id": agency,
                       "subject_type": "firearm", "subject_id": fid, "corrects": None,
                       "reason": None, "request_id": None, "payload": canonical(payload),
                       "secret": new_secret()}
                rows.append(row)
                leaves.append(leaf_hash(BL.leaf_text(row).encode("utf-8")))
                last[fid] = (issued, officer, location, at, position)
            start_at += step * n
            known = _Known(dict(frontier))
            nodes = append_leaves(known, size, leaves)
            known.nodes.update(((level, index), h) for level, index, h in nodes)
            with engine.begin() as conn:
                cur = driver_connection(conn).cursor()
                with cur.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row([r[c] for c in EVENT_COLUMNS])
                with cur.copy(f"COPY merkle_nodes ({', '.join(NODE_COLUMNS)}) FROM STDIN"
                              ) as copy:
                    for node in nodes:
                        copy.write_row(node)
                # Each weapon's row as its last movement of the batch leaves it (projector:
                # custody.issued / custody.returned).
                cur.executemany(
                    "UPDATE firearms SET status = %s, custodian_id = %s, location_id = %s, "
                    "status_since = %s, last_event = %s WHERE id = %s",
                    [("issued", officer, None, at, pos, fid) if issued else
                     ("in_storage", None, location, at, pos, fid)
                     for fid, (issued, officer, location, at, pos) in last.items()])
                for end in range(size + CHECKPOINT_EVERY - size % CHECKPOINT_EVERY,
                                 size + n + 1, CHECKPOINT_EVERY):
                    root = tree_root(known, end)
                    ledger_store.store_checkpoint(
                        conn, end, root, sign_checkpoint(Checkpoint(origin, end, root), signer),
                        rows[end - size - 1]["at"])
                size += n
                cur.execute("UPDATE log_head SET size = %s WHERE id = 1", (size,))
            frontier = {k: known.nodes[k] for k in root_node_keys(size)}
            print(f"\r  {size:,} entries ({time.perf_counter() - started:.0f} s)", end="",
                  file=sys.stderr, flush=True)
        print(file=sys.stderr)
        return size
    finally:
        engine.dispose()


BATCH = 10_000


def child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``resguardo ARGS`` as a child: wall, CPU, peak memory of its tree, its JSON."""
    run = BL.run_cli(args, env, interval=0.05)
    report = run.report(f"resguardo {' '.join(args)} did not answer with a report")
    if run.returncode != 0:
        print(json.dumps(report, indent=2)[:3000], file=sys.stderr)
        raise SystemExit(f"resguardo {' '.join(args)} found disagreements in the bench's log")
    return {"wall_s": round(run.wall, 1), "cpu_s": round(run.cpu, 1),
            "peak_mb": round(run.peak_mb)}


def trace_app(url: str, key_path: Path, index_path: Path) -> Any:
    """The product on ``url``, its trace index at ``index_path`` (``bench/trace_window.py``
    measures with it too)."""
    os.environ.update({"RESGUARDO_DATABASE_URL": url, "RESGUARDO_SIGNING_KEY": str(key_path),
                       "RESGUARDO_TRACE_INDEX": str(index_path)})
    from resguardo.config import Settings
    from resguardo.services.app import Resguardo

    return Resguardo(Settings.from_env())


def measure_traces(app: Any, queries: int, trace: Any) -> dict[str, Any]:
    """``trace(serial)`` (the answer) for ``queries`` serials of weapons returned among the
    last 5,000 entries, exact and then with two characters unreadable; the first apart (it
    loads the trace index). Milliseconds, the custody entries and JSON size of an answer,
    and the CPU seconds of the first and of the rest."""
    rng = random.Random(11)
    with app.engine.connect() as conn:
        serials = [r[0] for r in conn.exec_driver_sql(
            "SELECT serial FROM firearms WHERE id IN (SELECT subject_id FROM events "
            f"WHERE type = 'custody.returned' ORDER BY position DESC LIMIT 5000) "
            f"LIMIT {int(queries)}")]

    def damaged(serial: str) -> str:
        chars = list(serial)
        for i in rng.sample(range(len(chars)), 2):
            chars[i] = "?"
        return "".join(chars)

    chains: list[int] = []  # custody entries an answer carries (all its candidates')
    sizes: list[int] = []  # bytes of the answer as JSON

    def one(serial: str) -> float:
        t0 = time.perf_counter()
        answer = trace(serial)
        took = (time.perf_counter() - t0) * 1000
        if not answer["candidates"]:
            raise SystemExit(f"trace of {serial!r} found nothing")
        chains.append(sum(len(c["custody"]) for c in answer["candidates"]))
        sizes.append(len(json.dumps(answer, default=str)))
        return took

    cpu0 = _process_cpu()
    first = one(serials[0])
    wall1, cpu1 = time.perf_counter(), _process_cpu()
    exact = [one(s) for s in serials]
    hurt = [one(damaged(s)) for s in serials]
    wall2, cpu2 = time.perf_counter(), _process_cpu()
    return {"traces": len(serials), "first_ms": round(first),
            "first_cpu_s": round(cpu1 - cpu0, 1),
            "exact_p50_ms": round(statistics.median(exact), 1),
            "exact_max_ms": round(max(exact), 1),
            "damaged_p50_ms": round(statistics.median(hurt), 1),
            "damaged_max_ms": round(max(hurt), 1),
            "custody_entries_p50": round(statistics.median(chains)),
            "answer_kb_p50": round(statistics.median(sizes) / 1024, 1),
            "rest_wall_s": round(wall2 - wall1, 1), "rest_cpu_s": round(cpu2 - cpu1, 1)}


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def trace_latency(url: str, key_path: Path, index_path: Path, queries: int
                  ) -> dict[str, Any]:
    """Traces through the service as an auditor (recorded), exact and damaged serials."""
    from resguardo.services import trace as trace_service

    app = trace_app(url, key_path, index_path)
    with app.engine.connect() as conn:
        auditor = conn.exec_driver_sql(
            "SELECT username FROM users WHERE role = 'auditor' LIMIT 1").scalar()
        admin, scope = conn.exec_driver_sql(
            "SELECT u.username, o.code FROM users u JOIN organizations o ON o.id = u.scope_id "
            "WHERE u.role = 'admin' ORDER BY u.id LIMIT 1").one()
    if auditor is None:  # a national auditor, added as an administrator adds one
        from argon2 import PasswordHasher

        from resguardo.services import users
        users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        auditor = "auditor-year"
        with app.work(admin) as uow:
            users.add_user(uow, auditor, "year-bench-password-1", "auditor", scope,
                           approved=True)
            uow.commit()

    def recorded(serial: str) -> dict[str, Any]:
        with app.work(auditor) as uow:
            answer = trace_service.trace(uow, trace_service.TraceInput(serial=serial),
                                         reason="bench/year.py")
            uow.commit()
        return answer

    figures = measure_traces(app, queries, recorded)
    app.engine.dispose()
    return figures


def proofs(url: str, count: int) -> dict[str, float]:
    from resguardo.ledger import (
        consistency_proof,
        inclusion_proof,
        verify_consistency,
        verify_inclusion,
    )
    engine = make_engine(url)
    rng = random.Random(7)
    try:
        with engine.connect() as conn:
            store = ledger_store.DbNodeStore(conn)
            size = int(conn.exec_driver_sql("SELECT size FROM log_head").scalar_one())
            root = tree_root(store, size)
            t0 = time.perf_counter()
            for _ in range(count):
                i = rng.randrange(size)
                leaf = ledger_store.node_rows(conn, 0, i, i + 1)[i]
                verify_inclusion(i, size, leaf, inclusion_proof(store, i, size), root)
            inclusion = (time.perf_counter() - t0) / count
            t0 = time.perf_counter()
            for _ in range(count):
                old = rng.randrange(1, size)
                verify_consistency(old, size, consistency_proof(store, old, size),
                                   tree_root(store, old), root)
            consistency = (time.perf_counter() - t0) / count
    finally:
        engine.dispose()
    return {"inclusion_ms": round(inclusion * 1000, 2),
            "consistency_ms": round(consistency * 1000, 2)}


def table_sizes(url: str) -> dict[str, float]:
    with psycopg.connect(_libpq(url)) as conn:
        return {name: round(int(conn.execute(f"SELECT pg_total_relation_size('{name}')"
                                             ).fetchone()[0]) / 2**30, 2)  # type: ignore[index]
                for name in ("events", "merkle_nodes", "checkpoints", "firearms")}


def load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def main() -> int:
    global BATCH
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgresql", required=True, help="an admin URL of the server")
    parser.add_argument("--from", dest="source", default="national_2000_200_250",
                        help="the deployment to copy (a database on that server)")
    parser.add_argument("--key", type=Path,
                        default=Path(tempfile.gettempdir()) / "resguardo-national.key",
                        help="that deployment's signing key")
    parser.add_argument("--origin", default="resguardo.example/log",
                        help="its log origin (RESGUARDO_LOG_ORIGIN)")
    parser.add_argument("--name", default="year_log", help="the database grown and measured")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000,
                                                                 10_000_000])
    parser.add_argument("--batch", type=int, default=BATCH, help="entries per transaction")
    parser.add_argument("--proofs", type=int, default=500)
    parser.add_argument("--traces", type=int, default=100)
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--verify-tree", action="store_true",
                        help="also run ledger verify --no-projection: the leaves, tree and "
                             "checkpoints alone, to tell them from the projection's replay")
    parser.add_argument("--skip-trace", action="store_true")
    parser.add_argument("--stop-after", type=float, default=float("inf"),
                        help="seconds of filling after which no larger size is attempted")
    parser.add_argument("--reuse", action="store_true", help="grow the kept database further")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    BATCH = max(CHECKPOINT_EVERY, args.batch - args.batch % CHECKPOINT_EVERY)
    if not args.key.exists():
        raise SystemExit(f"{args.key}: the deployment's signing key is missing (--key)")
    url = with_database(args.postgresql, args.name)
    if not (args.reuse and database_exists(args.postgresql, args.name)):
        copy_database(args.postgresql, args.source, args.name)
    env = {**os.environ, "RESGUARDO_DATABASE_URL": url, "RESGUARDO_SIGNING_KEY": str(args.key),
           "RESGUARDO_LOG_ORIGIN": args.origin,
           # generated entries carry the year's timestamps: freshness is not measured
           "RESGUARDO_UNSIGNED_TAIL_MINUTES": str(10 ** 9),
           "RESGUARDO_COSIGN_MINUTES": str(10 ** 9)}
    deadline = time.monotonic() + args.stop_after
    figures: list[dict[str, Any]] = []
    index_path = Path(tempfile.mkdtemp(prefix="year-trace-")) / "trace-index"
    measured = 0
    for target in sorted(args.sizes):
        print(f"filling to {target:,} ({load()})", file=sys.stderr)
        t0 = time.perf_counter()
        size = fill(url, args.key, args.origin, target, deadline)
        filled = time.perf_counter() - t0
        short = size < target
        if short:
            print(f"{target:,} not reached in the time given (at {size:,})", file=sys.stderr)
            if size <= measured:
                break
        row: dict[str, Any] = {"entries": size, "fill_s": round(filled), "fill_load": load()}
        if short:
            row["target"] = target
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE events")
            conn.execute("VACUUM ANALYZE merkle_nodes")
            conn.execute("VACUUM ANALYZE firearms")
        row["gib"] = table_sizes(url)
        row["proofs"] = proofs(url, args.proofs)
        row["proofs_load"] = load()
        if not args.skip_trace:
            row["trace"] = trace_latency(url, args.key, index_path, args.traces)
            row["trace_load"] = load()
        if not args.skip_verify:
            row["verify"] = child(["--as", "admin", "ledger", "verify", "--json"], env)
            row["verify_load"] = load()
        if args.verify_tree:
            row["verify_tree"] = child(["--as", "admin", "ledger", "verify", "--no-projection",
                                        "--json"], env)
            row["verify_tree_load"] = load()
        if not args.skip_rebuild:
            row["rebuild_check"] = child(["--as", "admin", "ledger", "rebuild", "--check",
                                          "--json"], env)
            row["rebuild_load"] = load()
        print(json.dumps(row), flush=True)
        figures.append(row)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        measured = size
        if short:  # the size reached was measured; no larger one is attempted
            break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
