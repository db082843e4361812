"""The trace on a grown log, read-only: how long a trace takes and how much it carries.

Runs ``--traces`` serials (those of weapons returned among the last 5,000 entries,
measured by ``bench/year.py``'s ``measure_traces``, as its own trace figures are) through ``services.trace`` as an existing auditor, each
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
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from year import measure_traces, trace_app  # noqa: E402


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
    app = trace_app(args.url, args.key, index)
    from resguardo.services import trace as trace_service

    def unrecorded(serial: str) -> dict[str, Any]:
        with app.work(args.user, write=False) as uow:
            uow.append = lambda *a, **k: None  # type: ignore[method-assign]  # not recorded
            return trace_service.trace(
                uow, trace_service.TraceInput(serial=serial, date=args.date))

    figures = measure_traces(app, args.traces, unrecorded)
    app.engine.dispose()
    print(json.dumps({**figures, "date": args.date,
                      "load": "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
