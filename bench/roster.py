"""The officers import: new officers appended in batches, next to one by one.

Builds a deployment with two agencies, then imports the same roster of ``--rows``
new, active officers (different badges) into each through ``resguardo import
officers`` (``services.imports.import_file``): into one as the product does it
(batches, ``registry.add_officers``), into the other with the batching turned off
in this process (every row through ``registry.add_officer`` in a savepoint, as
before). The two take turns for ``--rounds`` rounds; the best of each is kept.
Prints rows per second of both and their ratio, and checks that ``ledger verify``
finds nothing.

    python bench/roster.py                                  # SQLite, 2,000 rows
    python bench/roster.py --url postgresql://postgres@/roster?host=/tmp --rows 5000
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

from argon2 import PasswordHasher

from resguardo.config import Settings
from resguardo.services import import_roster, imports, registry, setup, users
from resguardo.services.app import Resguardo
from resguardo.services.ledger_verify import verify


def roster(path: Path, prefix: str, rows: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["badge", "name", "cuip", "credential_expiry"])
        for n in range(rows):
            out.writerow([f"{prefix}-{n:06d}", f"Elemento {prefix} {n}", f"CUIP{n:08d}",
                          "2031-12-31"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an empty database (default: a SQLite file)")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="roster-bench-"))
    url = args.url or f"sqlite:///{work / 'roster.db'}"
    os.environ["RESGUARDO_DATABASE_URL"] = url
    os.environ["RESGUARDO_SIGNING_KEY"] = str(work / "roster.key")
    users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = Resguardo(Settings.from_env())
    setup.initialize(app, "admin", "roster-bench-1", "NACIONAL", "Nacional")
    with app.work("admin") as uow:
        registry.add_organization(uow, "EST", "Estado", "state", "NACIONAL")
        for code in ("LOTES", "UNO"):
            registry.add_organization(uow, code, f"Policía {code}", "agency", "EST")
        uow.commit()
    best = {"batched": float("inf"), "one by one": float("inf")}
    batched_queue = import_roster.OfficerImport.queue
    for r in range(args.rounds):
        for label, code in (("batched", "LOTES"), ("one by one", "UNO")):
            import_roster.OfficerImport.queue = (  # type: ignore[method-assign]
                batched_queue if label == "batched" else lambda self, line, cells: False)
            sheet = work / f"{code}-{r}.csv"
            roster(sheet, f"{code}{r}", args.rows)
            t0 = time.perf_counter()
            with app.work("admin") as uow:
                report = imports.import_file(uow, "officers", sheet,
                                             imports.ImportOptions(agency=code))
                if not report.commit or report.imported != args.rows:
                    raise SystemExit(f"the import was refused: {report.problems[:3]}")
                uow.commit()
            best[label] = min(best[label], time.perf_counter() - t0)
    import_roster.OfficerImport.queue = batched_queue  # type: ignore[method-assign]
    with app.read(None) as uow:
        found = verify(uow, verifier=None, origin=app.settings.log_origin, projection=True)
    problems = [f for f in found.findings if f.kind not in ("checkpoint_signature", "no_key")]
    if problems:
        raise SystemExit(f"ledger verify: {problems[:3]}")
    fast, slow = args.rows / best["batched"], args.rows / best["one by one"]
    load = "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    print(f"{args.rows:,} officers, {app.engine.dialect.name}, best of {args.rounds}, "
          f"load {load}")
    print(f"batched    {fast:9.0f} rows/s ({best['batched']:.2f} s)")
    print(f"one by one {slow:9.0f} rows/s ({best['one by one']:.2f} s)")
    print(f"batched : one by one = {fast / slow:.1f}x; ledger verify: no finding")
    app.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
