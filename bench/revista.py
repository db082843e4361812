"""A revista of the demo's largest agency (MUN-GDL, 1,000 weapons) closed with half its
weapons counted: how many alerts it opens, how long closing takes, and how fast the
findings page and its next pages load for the inspector and for the agency's chief,
next to an anchor measured in the same run on the same database: plain ``sqlite3``
reading the same page of findings (its rows and the count).

    python bench/revista.py                 # the demo with 60 days of history
    python bench/revista.py --days 365      # the full demo

Prints the figures and the ratios (target: one alert; each page under a second).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from resguardo.config import Settings
from resguardo.services import alerts, demo, inspections
from resguardo.services.app import Resguardo
from resguardo.web import create_site

AGENCY = "MUN-GDL"
REPEAT = 7


def timed(fn, repeat: int = REPEAT) -> float:  # type: ignore[no-untyped-def]
    """Median seconds of ``repeat`` calls."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def sign_in(app: Resguardo, username: str, password: str) -> TestClient:
    client = TestClient(create_site(app), follow_redirects=True)
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None, "no CSRF token on the sign-in page"
    answer = client.post("/login", data={"csrf": csrf.group(1), "username": username,
                                         "password": password})
    if answer.status_code != 200:
        raise SystemExit(f"cannot sign in as {username}: {answer.status_code}")
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=60, help="days of demo history")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="resguardo-bench-revista-"))
    db = work / "demo.db"
    settings = dataclasses.replace(Settings.from_env(), database_url=f"sqlite:///{db}",
                                   signing_key=work / "demo.key")
    app = Resguardo(settings)
    print(f"building the demo ({args.days} days of history) in {work} ...", file=sys.stderr)
    password = "bench-password-1"
    result = demo.build(app, days=args.days, password=password)
    print(f"demo: {result.firearms} weapons, {result.officers} officers, "
          f"{result.events} entries", file=sys.stderr)

    with app.work("inspector") as uow:
        iid = inspections.plan(uow, AGENCY, uow.now().date()).position
        inspections.open_(uow, iid)
        books = inspections.q.registry_for(uow.repo, inspections.q.get(uow.repo, iid))
        uow.commit()
    stored = [e for e in books if e.status.value == "in_storage"]
    counted = stored[: len(books) // 2]
    with app.work("inspector") as uow:
        for entry in counted:
            inspections.scan(uow, iid, entry.serial, location=entry.location)
        uow.commit()
    start = time.perf_counter()
    with app.work("inspector") as uow:
        closed = inspections.close(uow, iid)
        uow.commit()
    close_s = time.perf_counter() - start
    with app.read("jefe") as uow:
        found = alerts.open_alerts(uow, loss_deadline=settings.loss_notify_deadline,
                                   shift_length=settings.shift_length)
    revista_alerts = [a for a in found if a.key.startswith(f"open_findings:{iid}")]
    actionable = sum(n for k, n in closed["summary"].items()
                     if k in ("missing", "to_present", "unregistered", "foreign",
                              "mislocated", "custody_mismatch", "status_conflict"))

    def anchor() -> None:
        with sqlite3.connect(db) as conn:
            conn.execute("SELECT count(*) FROM inspection_findings WHERE inspection_id = ?",
                         (iid,)).fetchone()
            conn.execute("SELECT * FROM inspection_findings WHERE inspection_id = ? "
                         "ORDER BY seq LIMIT 50", (iid,)).fetchall()

    anchor_s = timed(anchor)
    rows = [("books", len(books)), ("counted", len(counted)),
            ("actionable findings", actionable), ("alerts for the chief", len(revista_alerts)),
            ("close (s)", round(close_s, 3))]
    for who in ("inspector", "jefe"):
        client = sign_in(app, who, password)
        first = client.get(f"/inspections/{iid}")
        assert first.status_code == 200, first.text[:400]
        page_s = timed(lambda c=client: c.get(f"/inspections/{iid}"))
        last_s = timed(lambda c=client: c.get(f"/inspections/{iid}?state=pending&page=10"))
        rows += [(f"{who}: findings page (s)", round(page_s, 4)),
                 (f"{who}: page size (KB)", round(len(first.content) / 1024, 1)),
                 (f"{who}: page 10, pending (s)", round(last_s, 4)),
                 (f"{who}: ratio to the anchor", round(page_s / anchor_s, 1))]
    rows.append(("anchor: sqlite3 page of findings (s)", round(anchor_s, 5)))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    ok = len(revista_alerts) == 1 and all(
        v < 1.0 for k, v in rows if k.endswith("(s)") and "page" in k)
    print("target met" if ok else "TARGET MISSED: one alert, each page under a second")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
