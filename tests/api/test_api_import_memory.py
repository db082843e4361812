"""The server's memory stays bounded whatever workbook is uploaded, three at once included.

The real server (``resguardo serve``, uvicorn, SQLite) is sent each of the
hostile workbooks of ``hostile_workbooks`` through the API's upload (which
checks the file, reads its header and first rows), one after another, and
the three heaviest at once (those three only at once: each is read through
before it is refused, so one alone would only repeat a third of that run). A thread samples the server's resident memory
(``VmRSS`` in ``/proc``) all along. Asserted: every one is refused, naming the
limit it passed; the peak stays under the idle server's resident memory plus
300 MB; and, once the uploads are answered, memory returns near the idle level.

The idle level is taken after one small legitimate upload, so that the code an
import loads once (openpyxl) is not counted as the memory of a request.
The test server lowers three budgets (``TEST_LIMITS``) so that the cases that
pass them do so in seconds; the other limits are the defaults.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from test_api_crash import Server

from hostile_workbooks import CASES, HEADER_ROW, SHEET_CLOSE, SHEET_OPEN, TEST_LIMITS, workbook

from world import PASSWORD, build_world

BUDGET = 300 * 1024 * 1024
#: The three that take the most reading: all their rows go by before they are refused.
HEAVIEST = ("many_empty_rows", "many_tall_rows", "ratio_inflated_past_the_budget")


def rss(pid: int) -> int:
    """Resident memory of a process, in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Sampler(threading.Thread):
    """The highest resident memory of ``pid`` seen while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.01)

    def stop(self) -> int:
        self.done.set()
        self.join()
        self.peak = max(self.peak, rss(self.pid))
        return self.peak


def upload(base: str, token: str, name: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/imports/firearms", params={"filename": name},
                      content=data, headers={"Authorization": f"Bearer {token}"},
                      timeout=300)


@pytest.mark.slow
@pytest.mark.long
def test_hostile_workbooks_keep_the_server_under_its_memory_budget(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'memoria.db'}"
    world = build_world(url, lambda: datetime.now(UTC), tmp_path)
    key = world.settings.signing_key
    world.engine.dispose()
    files = {case.name: case.make() for case in CASES}
    good = workbook(iter([SHEET_OPEN, HEADER_ROW,
                          b'<row r="2"><c r="A2" t="inlineStr"><is><t>MEM-1</t></is></c>'
                          b'<c r="B2" t="inlineStr"><is><t>Glock</t></is></c>'
                          b'<c r="C2" t="inlineStr"><is><t>9x19mm</t></is></c>'
                          b'<c r="D2" t="inlineStr"><is><t>pistola</t></is></c></row>',
                          SHEET_CLOSE]))

    server = Server(url, key)
    server.env.update({f"RESGUARDO_IMPORT_{k.upper()}": str(v) for k, v in TEST_LIMITS.items()})
    server.env["RESGUARDO_IMPORT_DIR"] = str(tmp_path / "subidas")
    server.start()
    try:
        assert server.proc is not None
        pid = server.proc.pid
        token = httpx.post(f"{server.base}/api/v1/auth/token",
                           json={"username": "armero1", "password": PASSWORD}).json()
        token = token["access_token"]
        r = upload(server.base, token, "bueno.xlsx", good)
        assert r.status_code == 201, r.text
        assert r.json()["sample"][0][0] == "MEM-1"
        time.sleep(0.5)
        idle = rss(pid)

        sampler = Sampler(pid)
        sampler.start()
        answers: dict[str, dict] = {}
        for case in CASES:
            if case.name in HEAVIEST:
                continue  # sent three at once below: reading them is most of the test's time
            r = upload(server.base, token, f"{case.name}.xlsx", files[case.name])
            assert r.status_code == 422, (case.name, r.status_code, r.text)
            answers[case.name] = r.json()["error"]
        with ThreadPoolExecutor(3) as pool:
            together = list(pool.map(lambda name: upload(server.base, token, f"{name}.xlsx",
                                                         files[name]), HEAVIEST))
        for name, r in zip(HEAVIEST, together, strict=True):
            assert r.status_code == 422, (name, r.status_code, r.text)
            answers[name] = r.json()["error"]
        peak = sampler.stop()
        time.sleep(1.0)
        after = rss(pid)
    finally:
        server.stop()

    print(f"\nidle {idle / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB "
          f"(+{(peak - idle) / 2**20:.0f} MiB), after {after / 2**20:.0f} MiB "
          f"(+{(after - idle) / 2**20:.0f} MiB)")
    for case in CASES:
        error = answers[case.name]
        if case.limit is None:
            # read through in bounded memory; refused for holding no header at all
            assert "no header row" in error["message"], (case.name, error)
        else:
            assert error["details"].get("limit") == case.limit, (case.name, error)
            # the message says the limit it passed
            assert error["details"]["limit_value"] in error["message"], error
    assert [r.status_code for r in together] == [422, 422, 422]
    assert peak - idle < BUDGET, f"peak {peak - idle:,} bytes over the idle server"
    assert after - idle < BUDGET // 3, f"{after - idle:,} bytes still held after the uploads"
