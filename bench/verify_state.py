"""The daily verify against the full one: ``resguardo ledger verify --state DIR`` on a
grown log (``bench/year.py``), measured as a child process (wall and CPU seconds of the
command and its hashing workers, peak memory of the tree, the load average).

Each run is one ``ledger verify --state DIR --json``: the first into an empty DIR is the
full verify (every leaf, node and checkpoint, the projection replayed from entry 0) that
writes the state; a later run, after the log grew, is the incremental one (every leaf
still rehashed, the projection replayed from the state's snapshot). The figures of every
run are appended to ``--json``; ``--ratio`` prints the last run against the first full
one kept in that file (the anchor, measured on the same machine).

    python bench/verify_state.py --url URL --key prof.key --state /tmp/auditor --json runs.json
    python bench/year.py ... --sizes 10820000 --skip-verify ...      # grow the log a day
    python bench/verify_state.py --url URL --key prof.key --state /tmp/auditor --json runs.json --ratio
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from year import BL, load  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the grown log's database URL")
    parser.add_argument("--key", type=Path, required=True, help="its signing key")
    parser.add_argument("--origin", default="resguardo.example/log")
    parser.add_argument("--state", type=Path, required=True, help="the auditor's state DIR")
    parser.add_argument("--json", type=Path, required=True, help="runs kept here (appended)")
    parser.add_argument("--ratio", action="store_true",
                        help="print the last run's figures against the first full run's")
    args = parser.parse_args()
    env = {**os.environ, "RESGUARDO_DATABASE_URL": args.url,
           "RESGUARDO_SIGNING_KEY": str(args.key), "RESGUARDO_LOG_ORIGIN": args.origin,
           # generated entries carry the year's timestamps: freshness is not measured
           "RESGUARDO_UNSIGNED_TAIL_MINUTES": str(10 ** 9),
           "RESGUARDO_COSIGN_MINUTES": str(10 ** 9)}
    load_before = load()
    run = BL.run_cli(["--as", "admin", "ledger", "verify", "--state", str(args.state),
                      "--json"], env, interval=0.05)
    report = run.report("ledger verify --state did not answer with a report")
    row: dict[str, Any] = {
        "mode": report.get("mode"), "from_size": report.get("from_size"),
        "size": report.get("size"), "ok": report.get("ok"),
        "state_size": (report.get("state") or {}).get("size"),
        "wall_s": round(run.wall, 1), "cpu_s": round(run.cpu, 1), "peak_mb": round(run.peak_mb),
        "load_before": load_before, "load_after": load()}
    if run.returncode != 0:
        print(json.dumps(report, indent=2)[:3000], file=sys.stderr)
    runs = json.loads(args.json.read_text()) if args.json.exists() else []
    runs.append(row)
    args.json.write_text(json.dumps(runs, indent=2))
    print(json.dumps(row), flush=True)
    if args.ratio:
        full = next((r for r in runs if r["mode"] == "full" and r["ok"]), None)
        if full is not None and row is not full:
            print(json.dumps({"incremental_over_full": {
                "wall": round(row["wall_s"] / full["wall_s"], 3),
                "cpu": round(row["cpu_s"] / full["cpu_s"], 3)}}), flush=True)
    return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
