"""The primary PostgreSQL server dies in the middle of a shift change: nothing confirmed
is lost, nothing is applied twice.

A pg_auto_failover cluster (monitor, primary, synchronous standby) runs on
loopback, started by ``deploy/pg_auto_failover.sh``. The real server
(``resguardo serve``) connects with the multi-host URL the script prints
(``target_session_attrs=read-write``). Concurrent clients issue and return
weapons, each movement with its own ``Idempotency-Key``; a client that gets no
answer or a 5xx retries the same movement with the same key, as the API's
documentation tells integrators to. Mid-burst the primary's machine is lost
(keeper and server killed with SIGKILL). After the standby is promoted:
every movement was confirmed once and is in the log exactly once, the log has
no gap, the projection replayed from the log equals the live one, and
``ledger verify`` and ``ledger rebuild --check`` pass on the new primary.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from ha import Cluster
from live_api import Server
from resguardo.domain.registry import FirearmInput
from resguardo.services import registry
from resguardo.storage import api_queries as q

from world import PASSWORD, build_world, make_app

CLIENTS = 6
PER_CLIENT = 2
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@dataclasses.dataclass
class Movement:
    key: str
    path: str
    body: dict
    attempts: list[str] = dataclasses.field(default_factory=list)  # X-Request-IDs sent
    failures: int = 0  # attempts that got no answer or a 5xx
    status: int | None = None  # the final answer
    confirmed_at: float = 0.0


def client_loop(base: str, token: str, firearms: list[int], badge: str,
                stop: threading.Event, log: list[Movement]) -> None:
    """Issue and return the client's weapons until told to stop, retrying each movement
    with its key until it gets a final answer (2xx or 4xx)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=15) as client:
        while not stop.is_set():
            for fid in firearms:
                for path, body in ((f"/api/v1/firearms/{fid}/issue", {"badge": badge}),
                                   (f"/api/v1/firearms/{fid}/return", {"location": "ARM1"})):
                    move = Movement(uuid.uuid4().hex, path, body)
                    log.append(move)
                    give_up = time.monotonic() + 120
                    while move.status is None:
                        rid = f"{move.key}-{len(move.attempts)}"
                        move.attempts.append(rid)
                        try:
                            r = client.post(path, json=body, headers={
                                "X-Request-ID": rid, "Idempotency-Key": move.key})
                        except httpx.HTTPError:
                            r = None
                        if r is not None and r.status_code < 500:
                            move.status = r.status_code
                            move.confirmed_at = time.monotonic()
                        else:
                            move.failures += 1
                            if time.monotonic() > give_up:
                                return
                            time.sleep(0.2)
                    if move.status >= 300:
                        return  # a refusal is a defect the test reports


def _cli(url: str, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESGUARDO_DATABASE_URL": url, "RESGUARDO_SIGNING_KEY": key,
           "RESGUARDO_USER": "auditor"}
    return subprocess.run([sys.executable, "-m", "resguardo.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def cluster():  # type: ignore[no-untyped-def]
    ha = Cluster()
    try:
        ha.up()
    except (FileNotFoundError, RuntimeError) as exc:
        ha.down()
        if IN_CI:
            pytest.fail(f"pg_auto_failover is required in CI and could not start: {exc}")
        pytest.skip(f"pg_auto_failover not available here: {exc}")
    yield ha
    ha.down()


@pytest.mark.slow
def test_losing_the_primary_mid_shift_loses_no_confirmed_movement_and_applies_none_twice(
        cluster, tmp_path):  # type: ignore[no-untyped-def]
    url = cluster.url
    world = build_world(url, lambda: datetime.now(UTC), tmp_path)
    key = world.settings.signing_key
    with world.work("armero1") as uow:
        for n in range(CLIENTS * PER_CLIENT):
            registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
                serial=f"HA-{n:03d}", make="Glock", calibre="9x19mm", kind="pistol"))
        uow.commit()
    with world.read(None) as uow:
        ids = [uow.repo.firearm(f"HA-{n:03d}").id for n in range(CLIENTS * PER_CLIENT)]
    world.engine.dispose()
    first_primary = cluster.primary_port()

    server = Server(url, key)
    server.start()
    try:
        health = httpx.get(f"{server.base}/api/v1/health").json()["database"]
        assert health["role"] == "primary" and health["server"].endswith(f":{first_primary}")
        assert [r["sync"] for r in health["replicas"]] == ["quorum"], health
        token = httpx.post(f"{server.base}/api/v1/auth/token",
                           json={"username": "armero1", "password": PASSWORD}).json()
        token = token["access_token"]
        stop = threading.Event()
        logs: list[list[Movement]] = [[] for _ in range(CLIENTS)]
        threads = [threading.Thread(target=client_loop, args=(
            server.base, token, ids[i * PER_CLIENT:(i + 1) * PER_CLIENT],
            ("P1", "P2", "P3")[i % 3], stop, logs[i])) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()

        def confirmed_after(moment: float) -> list[int]:
            return [sum(1 for m in log if m.status and m.confirmed_at > moment)
                    for log in logs]

        deadline = time.monotonic() + 120
        while sum(confirmed_after(0)) < 60:
            assert time.monotonic() < deadline, "the shift change did not get going"
            time.sleep(0.05)
        killed_at = time.monotonic()
        cluster.kill(cluster.node_of_port(first_primary))  # mid-burst: requests in flight
        deadline = time.monotonic() + 180
        while min(confirmed_after(killed_at)) < 8:
            alive = [t.is_alive() for t in threads]
            assert all(alive), f"a client stopped: {[log[-1] for log in logs if log]}"
            assert time.monotonic() < deadline, (
                f"no failover: {confirmed_after(killed_at)}\n{cluster.state()}")
            time.sleep(0.1)
        stop.set()
        for thread in threads:
            thread.join(timeout=180)
        health = httpx.get(f"{server.base}/api/v1/health").json()["database"]
    finally:
        server.stop()

    new_primary = cluster.primary_port()
    assert new_primary != first_primary
    assert health["role"] == "primary" and health["server"].endswith(f":{new_primary}")
    moves = [m for log in logs for m in log]
    refused = [m for m in moves if m.status is not None and m.status >= 300]
    assert refused == [], [(m.path, m.status) for m in refused]
    assert all(m.status for m in moves), "a client gave up"
    interrupted = [m for m in moves if m.failures]
    assert interrupted, "the failover interrupted no movement: the test proved nothing"

    app = make_app(url, lambda: datetime.now(UTC), tmp_path)
    with app.read(None) as uow:
        found = q.events_with_request_ids(uow.repo, [a for m in moves for a in m.attempts])
        count, first, last = q.event_count(uow.repo)
        size = uow.repo.log_size()
    app.engine.dispose()
    twice = [m.path for m in moves if sum(found.get(a, 0) for a in m.attempts) > 1]
    lost = [m.path for m in moves if sum(found.get(a, 0) for a in m.attempts) == 0]
    assert twice == [] and lost == [], f"applied twice: {twice}; confirmed but lost: {lost}"
    assert (count, first, last) == (size, 0, size - 1), "the log has a gap or a stray row"

    verify = _cli(url, str(key), "ledger", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    check = _cli(url, str(key), "ledger", "rebuild", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
