"""Benchmark: what SQLite costs per imported weapon with integer keys as rowids (migration
0020) against the same schema just before it (``BIGINT PRIMARY KEY``: a separate index).

Generates the rows an import writes for N weapons (``firearm.registered`` entries with
their payload and secret, and the weapons' projection rows; one agency, three locations),
then copies them with SQLite alone (``INSERT ... SELECT`` from an attached database, in
one transaction, with the product's PRAGMAs, foreign keys and the page cache an import
runs with) into two fresh deployments: one migrated to the revision before 0020 (the
anchor, measured in the same run) and one migrated to 0020. The two alternate, several
rounds each, and the fastest round of each counts (the others carry the load of whatever
else the machine does). No Python touches a row while it is timed: the difference is the
database's own, per row.

Prints CPU and wall time per row for both, the bytes each weapon's rows take in the
database, and the ratios (0020 / before; below 1: cheaper).

    .venv/bin/python bench/rowid_keys.py                 # 200,000 weapons, 4 rounds each
    .venv/bin/python bench/rowid_keys.py --rows 50000 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from alembic.script import ScriptDirectory

from resguardo.storage import schema
from resguardo.storage.database import make_engine

REVISION = "0020"
#: The page cache an import runs with (``storage.bulk.CACHE_KIB``).
CACHE_KIB = 64 * 1024
AT = "2026-12-06T00:00:00.000000Z"
MAKES = ("Glock", "Beretta", "SIG Sauer", "Smith & Wesson", "Colt", "Heckler & Koch")


def deployment(path: Path, revision: str) -> None:
    """A fresh deployment at ``revision`` with one agency and three locations."""
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine, revision)
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("INSERT INTO organizations (id, code, name, kind, path) "
               "VALUES (0, 'MUN1', 'Policía Municipal', 'agency', '0')")
    for n in (1, 2, 3):
        db.execute("INSERT INTO locations (id, agency_id, code, name, kind) "
                   "VALUES (?, 0, ?, 'Armería', 'armory')", (n, f"ARM{n}"))
    db.close()


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """The rows an import of ``rows`` weapons writes into ``events`` and ``firearms``."""
    rnd = random.Random(seed)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE events (position INTEGER, type, at, actor_id, actor, org_id, "
               "subject_type, subject_id, corrects, reason, request_id, payload, secret)")
    db.execute("CREATE TABLE firearms (id, serial, serial_key, make, make_key, model, "
               "calibre, kind, folio, barrel_serial, ballistic_id, licence_id, acquired_on, "
               "supplier, purchase_ref, agency_id, status, location_id, custodian_id, "
               "status_since, last_event, record_officer_id, record_since, import_id)")
    db.execute("BEGIN")
    for position in range(10, 10 + rows):
        # unique, in no order (x -> x * odd mod 10**10 is one-to-one), as a file lists them
        serial = f"{rnd.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}-{position * 2654435761 % 10**10:010d}"
        make = rnd.choice(MAKES)
        location = 1 + position % 3
        payload = json.dumps({"serial": serial, "make": make, "model": "17",
                              "calibre": "9x19mm", "kind": "pistol", "agency_id": 0,
                              "location_id": location, "status": "in_armory",
                              "folio": f"F-{position}"}, sort_keys=True)
        db.execute("INSERT INTO events VALUES (?, 'firearm.registered', ?, 1, 'armero1', 0, "
                   "'firearm', ?, NULL, NULL, 'bench', ?, ?)",
                   (position, AT, position, payload, rnd.randbytes(16).hex()))
        db.execute("INSERT INTO firearms VALUES (?, ?, ?, ?, ?, '17', '9x19mm', 'pistol', ?, "
                   "NULL, NULL, NULL, NULL, NULL, NULL, 0, 'in_armory', ?, NULL, ?, ?, NULL, "
                   "NULL, NULL)", (position, serial, serial.lower(), make, make.lower(),
                                   f"F-{position}", location, AT, position))
    db.execute("COMMIT")
    db.close()


def copy(target: Path, source: Path) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds) of SQLite copying the rows of ``source`` into ``target``,
    and the bytes the database holds then."""
    db = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                   f"cache_size=-{CACHE_KIB}"):
        db.execute("PRAGMA " + pragma)
    db.execute("ATTACH DATABASE ? AS imported", (str(source),))
    cpu, wall = time.process_time(), time.perf_counter()
    db.execute("BEGIN")
    db.execute("INSERT INTO main.events SELECT * FROM imported.events ORDER BY position")
    db.execute("INSERT INTO main.firearms SELECT * FROM imported.firearms ORDER BY id")
    db.execute("COMMIT")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.execute("PRAGMA page_count").fetchone()[0] * db.execute(
        "PRAGMA page_size").fetchone()[0]
    db.close()
    return cpu, wall, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=4, help="rounds of each schema")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where the databases go (use a real disk, not tmpfs)")
    args = parser.parse_args()
    before = ScriptDirectory.from_config(schema.alembic_config()).get_revision(REVISION)
    if before is None or not isinstance(before.down_revision, str):
        raise SystemExit(f"migration {REVISION} not found")
    schemas = {"before": before.down_revision, "rowid": REVISION}
    directory = Path(tempfile.mkdtemp(prefix="resguardo-rowid-", dir=args.dir))
    try:
        source = directory / "rows.db"
        generate(source, args.rows)
        empty = {}
        for name, revision in schemas.items():
            empty[name] = directory / f"empty-{name}.db"
            deployment(empty[name], revision)
        base = {name: path.stat().st_size for name, path in empty.items()}
        times: dict[str, list[tuple[float, float, int]]] = {name: [] for name in schemas}
        for n in range(args.rounds):
            for name in (("before", "rowid") if n % 2 == 0 else ("rowid", "before")):
                target = directory / f"{name}.db"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
                shutil.copyfile(empty[name], target)
                times[name].append(copy(target, source))
                cpu, wall, _ = times[name][-1]
                print(f"round {n + 1} {name:7} CPU {cpu:6.2f} s  wall {wall:6.2f} s", flush=True)
        best = {name: (min(r[0] for r in runs), min(r[1] for r in runs),
                       (runs[-1][2] - base[name]) / args.rows)
                for name, runs in times.items()}
        for name, (cpu, wall, size) in best.items():
            print(f"{name} ({schemas[name]}): CPU {cpu / args.rows * 1e6:5.1f} µs/row, "
                  f"wall {wall / args.rows * 1e6:6.1f} µs/row (fastest of {args.rounds}), "
                  f"{size:,.0f} bytes/row")
        b, r = best["before"], best["rowid"]
        print(f"ratio {REVISION} / before: CPU {r[0] / b[0]:.3f}, wall {r[1] / b[1]:.3f}, "
              f"bytes {r[2] / b[2]:.3f}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
