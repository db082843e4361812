"""Reads on a lagging replica and a primary that dies, on a real high-availability cluster.

The primary PostgreSQL server dies in the middle of a shift change: nothing confirmed
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
import re
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import psycopg
import pytest

from ha import Cluster
from live_api import Server
from resguardo.domain.registry import FirearmInput
from resguardo.services import pins, registry
from resguardo.storage import api_queries as q

from world import PASSWORD, build_world, make_app

CLIENTS = 6
PER_CLIENT = 2
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# One cluster on fixed ports serves the module: with the suite spread over processes
# (pytest-xdist, scripts/test.sh), its tests run in one of them.
pytestmark = [pytest.mark.xdist_group("pg_auto_failover"), pytest.mark.long]


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


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def _web_sign_in(client: httpx.Client, username: str) -> None:
    page = client.get("/login")
    done = client.post("/login", data={"csrf": csrf_of(page.text), "username": username,
                                      "password": PASSWORD})
    assert done.status_code == 200, done.text


def _new_database(cluster: Cluster, name: str) -> str:
    port = cluster.primary_port()
    with psycopg.connect(f"host=localhost port={port} user=postgres dbname=postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return cluster.url.replace("/postgres?", f"/{name}?")


@pytest.mark.slow
def test_a_lagging_replica_serves_pages_and_a_person_sees_their_own_write_at_once(
        cluster, tmp_path):  # type: ignore[no-untyped-def]
    url = _new_database(cluster, "replica_reads")
    world = build_world(url, lambda: datetime.now(UTC), tmp_path)
    with world.work("jefe1") as uow:
        pins.set_pin(uow, "MUN1", "P1", "4821")
        uow.commit()
    with world.read(None) as uow:
        fid = uow.repo.firearm("GLK-A100").id
        fid2 = uow.repo.firearm("GLK-A200").id
    world.engine.dispose()
    primary = cluster.primary_port()
    standby = next(p for p in (cluster.base + 1, cluster.base + 2) if p != primary)
    replica_url = f"postgresql://postgres@localhost:{standby}/replica_reads"
    server = Server(url, world.settings.signing_key, RESGUARDO_READ_DATABASE_URL=replica_url)
    server.start()
    pause = psycopg.connect(f"host=localhost port={standby} user=postgres dbname=replica_reads",
                            autocommit=True)
    try:
        with httpx.Client(base_url=server.base, follow_redirects=True) as armorer, \
                httpx.Client(base_url=server.base, follow_redirects=True) as chief:
            _web_sign_in(armorer, "armero1")
            _web_sign_in(chief, "jefe1")
            before = chief.get(f"/firearms/{fid}")
            assert before.status_code == 200 and "Ana Ruiz" not in before.text
            # the replica stops replaying: whatever the primary takes now, it does not have
            pause.execute("SELECT pg_wal_replay_pause()")
            desk = armorer.get("/desk")
            done = armorer.post("/desk", data={"csrf": csrf_of(desk.text), "badge": "P1",
                                               "serial": "GLK-A100", "pin": "4821"})
            assert "Entregada" in done.text, done.text
            assert int(armorer.cookies["rg_pos"]) > 0
            # the person who acted sees it on the next page (read from the primary) ...
            mine = armorer.get(f"/firearms/{fid}")
            assert "Ana Ruiz" in mine.text
            # ... another person's pages come from the replica, which has not replayed it
            theirs = chief.get(f"/firearms/{fid}")
            assert theirs.status_code == 200 and "Ana Ruiz" not in theirs.text
            assert chief.get("/").status_code == 200  # the dashboard, served by the replica
            health = httpx.get(f"{server.base}/api/v1/health").json()
            assert health["read_replica"]["role"] == "standby"
            assert health["read_replica"]["entries_behind"] >= 1
            metrics = httpx.get(f"{server.base}/api/v1/metrics").text
            behind = [line for line in metrics.splitlines()
                      if line.startswith("resguardo_read_replica_entries_behind ")]
            assert behind and int(behind[0].split()[1]) >= 1, metrics

            # the API: a write answers its position; a read asking for it sees the write
            token = httpx.post(f"{server.base}/api/v1/auth/token", json={
                "username": "armero1", "password": PASSWORD}).json()["access_token"]
            bearer = {"Authorization": f"Bearer {token}"}
            other = f"{server.base}/api/v1/firearms/{fid2}"
            issued = httpx.post(f"{other}/issue", json={"badge": "P2"}, headers=bearer)
            assert issued.status_code == 201, issued.text
            at = issued.headers["Resguardo-Log-Position"]
            assert int(at) > int(armorer.cookies["rg_pos"])
            stale = httpx.get(other, headers=bearer).json()
            assert stale["status"] == "in_storage", stale
            fresh = httpx.get(other, headers={**bearer, "Resguardo-Read-After": at}).json()
            assert fresh["status"] == "issued", fresh

            pause.execute("SELECT pg_wal_replay_resume()")
            deadline = time.monotonic() + 60
            while "Ana Ruiz" not in chief.get(f"/firearms/{fid}").text:
                assert time.monotonic() < deadline, "the replica never caught up"
                time.sleep(0.2)
    finally:
        pause.execute("SELECT pg_wal_replay_resume()")
        pause.close()
        server.stop()
        print(server.log()[-6000:])  # shown by pytest when the test fails


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
        print(server.log()[-6000:])  # shown by pytest when the test fails

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
