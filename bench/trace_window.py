"""The trace on a grown log, read-only: how long a trace takes and how much it carries.

Runs ``--traces`` serials (those of weapons returned among the last 5,000 entries, as
``bench/year.py`` picks them) through ``services.trace`` as an existing auditor, each
exact and then with two characters unreadable, in a read-only unit of work: the trace is
not recorded (``uow.append`` is replaced by a no-op), so nothing is written to the
database measured, and the figures leave out the one append a recorded trace costs.
``--date`` asks every trace about that moment instead of now.

Prints one JSON object: the first trace (it loads the trace index) apart, p50 and the
slowest of the others in ms, the custody entries an answer carries and its size as JSON
(p50), the process's CPU seconds next to the wall seconds, and the load average.

Runs on any version of the code that has ``services.trace.trace`` (``PYTHONPATH``
chooses it), so the same script measures before and after a change:

    PYTHONPATH=src python bench/trace_window.py --url URL --key KEY --traces 20
    PYTHONPATH=src python bench/trace_window.py --url URL --key KEY --traces 20 --date 2026-06-01
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the database (read only)")
    parser.add_argument("--key", type=Path, required=True, help="the deployment's signing key")
    parser.add_argument("--traces", type=int, default=20)
    parser.add_argument("--date", default=None, help="the moment every trace asks about")
    parser.add_argument("--user", default="auditor-year", help="an existing auditor")
    parser.add_argument("--index", type=Path, default=None,
                        help="the trace index file (default: a new one, loaded by the first)")
    args = parser.parse_args()
    index = args.index or Path(tempfile.mkdtemp(prefix="trace-window-")) / "trace-index"
    os.environ.update({"RESGUARDO_DATABASE_URL": args.url,
                       "RESGUARDO_SIGNING_KEY": str(args.key),
                       "RESGUARDO_TRACE_INDEX": str(index)})
    from resguardo.config import Settings
    from resguardo.services import trace as trace_service
    from resguardo.services.app import Resguardo

    app = Resguardo(Settings.from_env())
    rng = random.Random(11)
    with app.engine.connect() as conn:
        serials = [r[0] for r in conn.exec_driver_sql(
            "SELECT serial FROM firearms WHERE id IN (SELECT subject_id FROM events "
            "WHERE type = 'custody.returned' ORDER BY position DESC LIMIT 5000) "
            f"LIMIT {int(args.traces)}")]

    def damaged(serial: str) -> str:
        chars = list(serial)
        for i in rng.sample(range(len(chars)), 2):
            chars[i] = "?"
        return "".join(chars)

    entries: list[int] = []
    sizes: list[int] = []

    def one(serial: str) -> float:
        t0 = time.perf_counter()
        with app.work(args.user, write=False) as uow:
            uow.append = lambda *a, **k: None  # type: ignore[method-assign]  # not recorded
            answer: dict[str, Any] = trace_service.trace(
                uow, trace_service.TraceInput(serial=serial, date=args.date))
        took = (time.perf_counter() - t0) * 1000
        if not answer["candidates"]:
            raise SystemExit(f"trace of {serial!r} found nothing")
        entries.append(sum(len(c["custody"]) for c in answer["candidates"]))
        sizes.append(len(json.dumps(answer, default=str)))
        return took

    cpu0 = _cpu()
    first = one(serials[0])
    wall1, cpu1 = time.perf_counter(), _cpu()
    exact = [one(s) for s in serials]
    hurt = [one(damaged(s)) for s in serials]
    wall2, cpu2 = time.perf_counter(), _cpu()
    app.engine.dispose()
    print(json.dumps({
        "traces": len(serials), "date": args.date,
        "first_ms": round(first), "first_cpu_s": round(cpu1 - cpu0, 1),
        "exact_p50_ms": round(statistics.median(exact), 1), "exact_max_ms": round(max(exact), 1),
        "damaged_p50_ms": round(statistics.median(hurt), 1),
        "damaged_max_ms": round(max(hurt), 1),
        "custody_entries_p50": round(statistics.median(entries)),
        "answer_kb_p50": round(statistics.median(sizes) / 1024, 1),
        "rest_wall_s": round(wall2 - wall1, 1), "rest_cpu_s": round(cpu2 - cpu1, 1),
        "load": "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
