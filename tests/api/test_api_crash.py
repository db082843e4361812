"""A server killed with SIGKILL in the middle of a burst loses nothing it confirmed.

The real server (``resguardo serve``, uvicorn) runs against a SQLite file.
Concurrent clients issue and return weapons, each request with its own
``X-Request-ID`` and ``Idempotency-Key``. The server is killed with SIGKILL
mid-burst and started again. Then: every request that was answered 2xx is in
the log exactly once; the log has no gap and no half-written entry (the
projection replayed from the log equals the live one, and the ledger
verifies); and retrying the unanswered requests with their keys writes each
at most once.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from live_api import Sent, Server
from resguardo.config import Settings
from resguardo.domain.registry import FirearmInput
from resguardo.services import ledger, ledger_verify, registry
from resguardo.services.app import Resguardo
from resguardo.storage import api_queries as q
from resguardo.storage import rebuild

from world import PASSWORD, build_world

CLIENTS = 8
PER_CLIENT = 2


def client_loop(base: str, token: str, firearms: list[int], badge: str, stop: threading.Event,
                log: list[Sent]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        while not stop.is_set():
            for fid in firearms:
                for path, body in ((f"/api/v1/firearms/{fid}/issue", {"badge": badge}),
                                   (f"/api/v1/firearms/{fid}/return", {"location": "ARM1"})):
                    rid = uuid.uuid4().hex
                    sent = Sent(rid, rid, path, body)
                    log.append(sent)
                    try:
                        r = client.post(path, json=body, headers={"X-Request-ID": rid,
                                                                  "Idempotency-Key": rid})
                    except httpx.HTTPError:
                        return  # the server is gone
                    sent.status = r.status_code


@pytest.mark.slow
@pytest.mark.long
def test_a_sigkilled_server_keeps_every_confirmed_write_and_no_half_written_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    world = build_world(url, lambda: datetime.now(UTC), tmp_path)
    key = world.settings.signing_key
    with world.work("armero1") as uow:
        for n in range(CLIENTS * PER_CLIENT):
            registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
                serial=f"CRASH-{n:03d}", make="Glock", calibre="9x19mm", kind="pistol"))
        uow.commit()
    with world.read(None) as uow:
        ids = [uow.repo.firearm(f"CRASH-{n:03d}").id for n in range(CLIENTS * PER_CLIENT)]
    world.engine.dispose()

    server = Server(url, key)
    server.start()
    try:
        token = httpx.post(f"{server.base}/api/v1/auth/token",
                           json={"username": "armero1", "password": PASSWORD}).json()
        token = token["access_token"]
        stop = threading.Event()
        logs: list[list[Sent]] = [[] for _ in range(CLIENTS)]
        threads = [threading.Thread(target=client_loop, args=(
            server.base, token, ids[i * PER_CLIENT:(i + 1) * PER_CLIENT], ("P1", "P2", "P3")[i % 3],
            stop, logs[i])) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while sum(1 for log in logs for s in log if s.status == 201) < 60:
            assert time.monotonic() < deadline, "the burst did not get going"
            time.sleep(0.02)
        server.kill()  # mid-burst: requests are in flight
        for thread in threads:
            thread.join(timeout=15)
        stop.set()
        sent = [s for log in logs for s in log]
        confirmed = [s for s in sent if s.status is not None and 200 <= s.status < 300]
        unanswered = [s for s in sent if s.status is None]
        assert confirmed and unanswered

        app = Resguardo(dataclasses.replace(Settings.from_env(), database_url=url,
                                            signing_key=key))
        with app.read(None) as uow:
            found = q.events_with_request_ids(uow.repo, [s.request_id for s in sent])
            count, first, last = q.event_count(uow.repo)
            size = uow.repo.log_size()
            scratch = rebuild.replay(uow.repo.iter_events())
            try:
                differences = rebuild.compare(uow.conn, scratch)
            finally:
                scratch.close()
        missing = [s for s in confirmed if found.get(s.request_id) != 1]
        assert missing == [], f"{len(missing)} confirmed writes are not in the log once"
        assert (count, first, last) == (size, 0, size - 1), "the log has a gap or a stray row"
        assert differences == [], [str(d) for d in differences]
        with app.read(None) as uow:
            key_info = ledger.LedgerKey.of(app.settings)
            report = ledger_verify.verify(
                uow, verifier=key_info.verifier() if key_info.exists() else None,
                origin=key_info.origin, workers=1)
        assert [f for f in report.findings if f.kind != "no_key"] == []
        app.engine.dispose()

        # The same server starts again; clients retry what got no answer, with the same keys.
        server.start()
        with httpx.Client(base_url=server.base, timeout=10,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            retried = Counter()
            for s in unanswered:
                r = client.post(s.path, json=s.body, headers={"Idempotency-Key": s.key,
                                                              "X-Request-ID": "retry-" + s.key})
                retried[r.headers.get("Idempotent-Replayed") == "true"] += 1
                assert r.status_code == 201, r.text
        with app.read(None) as uow:
            again = q.events_with_request_ids(uow.repo, [s.request_id for s in unanswered]
                                              + ["retry-" + s.key for s in unanswered])
        for s in unanswered:
            assert found.get(s.request_id, 0) + again.get("retry-" + s.key, 0) <= 1, \
                f"{s.path} was written twice"
        app.engine.dispose()
    finally:
        server.stop()
