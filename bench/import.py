"""Benchmark: ``resguardo import firearms`` of a large registry CSV into a fresh SQLite database.

Generates a registry CSV (1,000,000 rows by default, Spanish headers, the
way an agency's inventory looks), prepares a fresh deployment (one agency,
three locations, an armorer), then runs, each as a child process so that
wall time and peak memory are measured alike:

- ``resguardo import firearms FILE --json``: every row validated, one
  ``firearm.registered`` event per row with its ledger leaf and Merkle
  nodes, the projection, the import's own events, committed in slices so
  that the desk's writes get in between (``services.imports``; how long
  they wait meanwhile is ``bench/import_desk.py``'s);
- the anchor: the same file parsed with Python's ``csv`` module and written
  with ``sqlite3`` ``executemany`` into a table of its columns, in one
  transaction (no validation, no events), with the product's PRAGMAs.

Prints rows per second and peak RSS for both and the ratio, checks that
every row was imported, and exits 1 when a target is missed. Targets: at
least one third of the anchor's rate; peak memory under 300 MB; with ``--floor``, at
least half the storage floor's rate.

With ``--floor`` it also measures what the import's rows cost the database
alone: the very rows the import wrote (events, firearms, Merkle nodes) copied
by SQLite itself (``INSERT ... SELECT`` from the imported database, attached)
into a copy of the deployment as it was before the import, in one
transaction, with the product's PRAGMAs, indexes and foreign keys and the
page cache an import runs with. No Python touches a row there: its rate is
what the database alone costs for these rows in this schema. It then measures
the *cheapest order* for the same work: the same rows copied into bare tables
of the same columns (ids and positions rowid aliases, no index, constraint or
foreign key checked as they go in), then every index the import's tables carry
(the unique (make, serial) among them) built once, by sorting, in the same
transaction. No import that writes what each weapon needs, with the indexes the
registry is read through, can spend less in the database than that.

With ``--postgresql URL`` (an empty database) the deployment lives on that
PostgreSQL server instead, and the anchor is the same file parsed with ``csv``
and sent with psycopg's ``COPY`` into a table of its columns in one
transaction. The tables are dropped again at the end (unless ``--keep``).

    .venv/bin/python bench/import.py                  # 1,000,000 rows
    .venv/bin/python bench/import.py --rows 50000     # a quick run
    .venv/bin/python bench/import.py --floor          # and the storage floor
    .venv/bin/python bench/import.py --postgresql postgresql://me@/bench --rows 300000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAKES = ("Glock", "Beretta", "SIG Sauer", "Smith & Wesson", "Colt", "Heckler & Koch", "CZ",
         "Taurus")
MODELS = ("17", "19", "92FS", "P320", "M&P9", "MP5", "75 B", "PT92", "AR-15", "G3")
KINDS = ("pistola", "pistola", "pistola", "fusil", "carabina", "escopeta", "subametralladora",
         "revólver")
CALIBRES = ("9x19mm", "5.56x45mm", ".38 Especial", "12 GA", ".223", "7.62x51mm")
LOCATIONS = ("ARM1", "Armería Norte", "Bóveda Sur")
HEADER = ["No. de serie", "Marca", "Modelo", "Calibre", "Tipo", "Folio", "Estatus", "Ubicación",
          "Fecha de alta", "Observaciones"]
TARGET_RATIO = 1 / 3
#: The page cache an import runs with (``storage.bulk.CACHE_KIB``), given to the floor too.
CACHE_KIB = 64 * 1024
TARGET_MB = 300.0
#: With ``--floor``: the import at least half the storage floor's rate.
FLOOR_TARGET = 0.5


def generate(path: Path, rows: int, seed: int = 11) -> None:
    """A registry CSV with unique (make, serial) pairs and the mix of a real inventory."""
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(HEADER)
        for n in range(rows):
            out.writerow([
                f"{rnd.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rnd.choice('ABCDEFGHJKLMN')}-{n:07d}",
                rnd.choice(MAKES), rnd.choice(MODELS), rnd.choice(CALIBRES), rnd.choice(KINDS),
                f"F-{2000 + n % 25}-{n:07d}", "en armería", rnd.choice(LOCATIONS),
                f"{1 + n % 28:02d}/{1 + n % 12:02d}/{2000 + n % 25}",
                "cacha reparada" if n % 97 == 0 else "",
            ])


def prepare(directory: Path, url: str | None = None) -> dict[str, str]:
    """A fresh deployment (SQLite, or the empty PostgreSQL database at ``url``) with one
    agency, three locations and an armorer."""
    from resguardo.config import Settings
    from resguardo.services import registry, setup, users
    from resguardo.services.app import Resguardo

    directory.mkdir(parents=True, exist_ok=True)
    env = {"RESGUARDO_DATABASE_URL": url or f"sqlite:///{directory / 'resguardo.db'}",
           "RESGUARDO_SIGNING_KEY": str(directory / "signing.key")}
    os.environ.update(env)
    app = Resguardo(Settings.from_env())
    setup.initialize(app, "admin", "bench-password-1", "NACIONAL", "Autoridad nacional")
    with app.work("admin") as uow:
        registry.add_organization(uow, "SSP", "Secretaría de Seguridad", "state", "NACIONAL")
        registry.add_organization(uow, "MUN", "Policía Municipal", "agency", "SSP")
        registry.add_location(uow, "MUN", "ARM1", "Armería central", "armory")
        registry.add_location(uow, "MUN", "ARM2", "Armería Norte", "armory")
        registry.add_location(uow, "MUN", "BOV1", "Bóveda Sur", "vault")
        users.add_user(uow, "armero", "bench-password-1", "armorer", "MUN")
        uow.commit()
    app.engine.dispose()
    return env


ANCHOR = r"""
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[2], isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
    db.execute("PRAGMA " + pragma)
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = csv.reader(f)
    header = next(rows)
    db.execute("CREATE TABLE registry (" + ", ".join(f"c{i} TEXT" for i in range(len(header)))
               + ")")
    db.execute("BEGIN")
    db.executemany("INSERT INTO registry VALUES (" + ", ".join("?" * len(header)) + ")", rows)
    db.execute("COMMIT")
print(db.execute("SELECT count(*) FROM registry").fetchone()[0])
"""


ANCHOR_POSTGRESQL = r"""
import csv, sys
import psycopg
with psycopg.connect(sys.argv[2]) as db, open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = csv.reader(f)
    header = next(rows)
    db.execute("CREATE TABLE bench_anchor ("
               + ", ".join(f"c{i} TEXT" for i in range(len(header))) + ")")
    with db.cursor().copy("COPY bench_anchor FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
with psycopg.connect(sys.argv[2]) as db:
    print(db.execute("SELECT count(*) FROM bench_anchor").fetchone()[0])
"""


def _postgresql_tables(url: str, *, drop: bool = False) -> list[str]:
    """The tables of the database at ``url`` (``drop``: dropped as well)."""
    import psycopg

    with psycopg.connect(url) as db:
        names = [name for (name,) in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        if drop:
            for name in names:
                db.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')
        return names


FLOOR = r"""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
               f"cache_size=-{sys.argv[3]}"):
    db.execute("PRAGMA " + pragma)
db.execute("ATTACH DATABASE ? AS imported", (sys.argv[2],))
start = db.execute("SELECT coalesce(max(position) + 1, 0) FROM main.events").fetchone()[0]
db.execute("BEGIN")
db.execute("INSERT INTO main.events SELECT * FROM imported.events WHERE position >= ?", (start,))
db.execute("INSERT INTO main.firearms SELECT * FROM imported.firearms WHERE id >= ?", (start,))
db.execute("INSERT OR IGNORE INTO main.merkle_nodes SELECT * FROM imported.merkle_nodes")
db.execute("COMMIT")
print(db.execute("SELECT count(*) FROM main.firearms").fetchone()[0])
"""


BARE = r"""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=FULL", f"cache_size=-{sys.argv[4]}"):
    db.execute("PRAGMA " + pragma)
db.execute("ATTACH DATABASE ? AS imported", (sys.argv[2],))
start = int(sys.argv[3])
indexes = []
for table in ("events", "firearms"):
    columns = [(name, kind) for _, name, kind, *_ in
               db.execute(f"PRAGMA imported.table_info({table})")]
    key, rest = columns[0][0], columns[1:]
    db.execute(f"CREATE TABLE main.{table} ({key} INTEGER PRIMARY KEY, "
               + ", ".join(f"{name} {kind}" for name, kind in rest) + ")")
    for _, name, unique, origin, _ in db.execute(f"PRAGMA imported.index_list({table})"):
        if origin == "c":  # CREATE INDEX: as written
            indexes += [sql for (sql,) in db.execute(
                "SELECT sql FROM imported.sqlite_master WHERE name = ?", (name,))]
        elif origin == "u":  # a UNIQUE constraint of the table
            on = [c for _, _, c in db.execute(f"PRAGMA imported.index_info({name})")]
            indexes.append(f"CREATE UNIQUE INDEX main.uq_{table}_{len(indexes)} ON {table} "
                           f"({', '.join(on)})")
db.execute("CREATE TABLE main.merkle_nodes (level INTEGER, idx INTEGER, hash BLOB, "
           "PRIMARY KEY (level, idx)) WITHOUT ROWID")
db.execute("BEGIN")
db.execute("INSERT INTO main.events SELECT * FROM imported.events WHERE position >= ?", (start,))
db.execute("INSERT INTO main.firearms SELECT * FROM imported.firearms WHERE id >= ?", (start,))
db.execute("INSERT INTO main.merkle_nodes SELECT * FROM imported.merkle_nodes")
for sql in indexes:
    db.execute(sql)
db.execute("COMMIT")
print(len(indexes), "indexes;", db.execute("SELECT count(*) FROM main.firearms").fetchone()[0])
"""


def run_child(args: list[str], env: dict[str, str],
              out: Path) -> tuple[float, float, float, int]:
    """Run a child; (wall seconds, CPU seconds, its peak RSS in MB, exit status)."""
    with open(out, "wb") as stdout:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=stdout, stderr=subprocess.PIPE,
                                env={**os.environ, **env})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr is not None:
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        if proc.returncode:
            sys.stderr.write(err[-3000:])
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the files and databases.")
    parser.add_argument("--floor", action="store_true",
                        help="Also copy the imported rows with SQLite alone (the storage floor).")
    parser.add_argument("--postgresql", metavar="URL",
                        help="An empty PostgreSQL database to run on (postgresql://...).")
    parser.add_argument("--prepare", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        # In a child of its own: the parent stays small, so that the children it
        # forks start small and their peak memory is their own.
        print(json.dumps(prepare(Path(args.prepare), args.postgresql)))
        return 0
    if args.postgresql:
        if args.floor:
            parser.error("--floor measures SQLite's storage; it has no PostgreSQL form")
        if _postgresql_tables(args.postgresql):
            parser.error("--postgresql needs an empty database (its tables are dropped at "
                         "the end)")
    directory = Path(tempfile.mkdtemp(prefix="resguardo-import-bench-"))
    try:
        registry = directory / "inventario.csv"
        t0 = time.perf_counter()
        generate(registry, args.rows)
        print(f"generated {args.rows:,} rows ({registry.stat().st_size / 2**20:,.0f} MiB) in "
              f"{time.perf_counter() - t0:,.1f} s")
        python = sys.executable
        env = json.loads(subprocess.run(
            [python, __file__, "--prepare", str(directory / "product"),
             *(["--postgresql", args.postgresql] if args.postgresql else [])], check=True,
            capture_output=True, text=True).stdout)
        if args.postgresql:
            anchor_name = "csv + psycopg COPY"
            anchor = [python, "-c", ANCHOR_POSTGRESQL, str(registry), args.postgresql]
        else:
            product_db = Path(env["RESGUARDO_DATABASE_URL"].split("///", 1)[1])
            floor_db = directory / "floor.db"
            if args.floor:
                shutil.copyfile(product_db, floor_db)  # the deployment before the import
            db = sqlite3.connect(product_db)
            before = db.execute("SELECT coalesce(max(position) + 1, 0) FROM events").fetchone()[0]
            db.close()
            anchor_name = "csv + sqlite3 executemany"
            anchor = [python, "-c", ANCHOR, str(registry), str(directory / "anchor.db")]
        a_wall, a_cpu, a_mb, a_status = run_child(anchor, {}, directory / "anchor.out")
        if a_status:
            print("the anchor failed")
            return 1
        i_wall, i_cpu, i_mb, i_status = run_child(
            [python, "-m", "resguardo.cli.main", "--as", "armero", "import", "firearms",
             str(registry), "--json"], env, directory / "import.json")
        report = json.loads((directory / "import.json").read_text(encoding="utf-8") or "{}")
        a_rate, i_rate = args.rows / a_wall, args.rows / i_wall
        ratio = i_rate / a_rate
        print(f"{'anchor (' + anchor_name + '):':36}{a_wall:8.1f} s  {a_rate:10,.0f} rows/s  "
              f"peak {a_mb:6.0f} MB  (CPU {a_cpu:.1f} s)")
        print(f"{'resguardo import firearms:':36}{i_wall:8.1f} s  {i_rate:10,.0f} rows/s  "
              f"peak {i_mb:6.0f} MB  (CPU {i_cpu:.1f} s)")
        print(f"CPU time ratio (anchor / import): {a_cpu / i_cpu:.3f}; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"rate ratio (import / anchor): {ratio:.3f} (target >= {TARGET_RATIO:.3f}); "
              f"peak memory {i_mb:.0f} MB (target < {TARGET_MB:.0f} MB)")
        floor_ratio: float | None = None
        if args.floor and i_status == 0:
            f_wall, f_cpu, f_mb, f_status = run_child(
                [python, "-c", FLOOR, str(floor_db), str(product_db), str(CACHE_KIB)], {},
                directory / "floor.out")
            if f_status == 0:
                floor_ratio = i_rate / (args.rows / f_wall)
                print(f"storage floor (SQLite copying the import's rows): {f_wall:8.1f} s  "
                      f"{args.rows / f_wall:10,.0f} rows/s  (CPU {f_cpu:.1f} s); "
                      f"floor / anchor {(args.rows / f_wall) / a_rate:.3f}")
                print(f"rate ratio (import / storage floor): {floor_ratio:.3f} "
                      f"(target >= {FLOOR_TARGET:.3f})")
            b_wall, b_cpu, _, b_status = run_child(
                [python, "-c", BARE, str(directory / "bare.db"), str(product_db), str(before),
                 str(CACHE_KIB)], {}, directory / "bare.out")
            if b_status == 0:
                built = (directory / "bare.out").read_text().strip()
                print(f"cheapest order (bare tables, then {built.split(';')[0]}):  "
                      f"{b_wall:8.1f} s  {args.rows / b_wall:10,.0f} rows/s  "
                      f"(CPU {b_cpu:.1f} s); / anchor {(args.rows / b_wall) / a_rate:.3f}")
        imported = report.get("imported")
        print(f"imported {imported} of {args.rows:,} rows; entry {report.get('entry')}")
        if args.postgresql:  # the targets are SQLite's; the server's own memory is not counted
            print("figures only: the targets are for SQLite")
            return 0 if i_status == 0 and imported == args.rows else 1
        ok = (i_status == 0 and imported == args.rows and ratio >= TARGET_RATIO
              and i_mb < TARGET_MB and (floor_ratio is None or floor_ratio >= FLOOR_TARGET))
        print("targets met" if ok else "TARGET MISSED")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
            if args.postgresql:
                _postgresql_tables(args.postgresql, drop=True)


if __name__ == "__main__":
    sys.exit(main())
