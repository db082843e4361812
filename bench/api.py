"""HTTP API throughput: concurrent clients issuing and returning weapons over HTTP,
next to an anchor measured in the same run on the same server stack.

The server is ``resguardo.api`` under uvicorn, in its own process, on a SQLite
file at the product's default durability (synchronous=FULL). The anchor is a
minimal endpoint added to that same server: the same uvicorn, FastAPI, bearer
token check and SQLAlchemy engine, inserting one row and committing per
request. Each client is one keep-alive HTTP/1.1 connection (a minimal client, so the
measuring side stays cheap); every request carries a fresh ``X-Request-ID``.

    python bench/api.py                       # 50 clients, 30 s per phase
    python bench/api.py --clients 20 --seconds 10

Prints requests per second, p50 and p99 latency for both and the ratio
(target: issue/return at least half the anchor's throughput, zero errors).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
from fastapi.responses import JSONResponse

from resguardo.api.dependencies import Writer, writer_gate
from resguardo.config import Settings
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.services import registry, setup, users
from resguardo.services.app import Resguardo
from resguardo.storage.database import make_engine

PASSWORD = "benchmark-password"
ANCHOR_TABLE = "bench_anchor"


# --- the server process -------------------------------------------------------------------

def bench_app():  # type: ignore[no-untyped-def]
    """The API plus the anchor endpoint, on RESGUARDO_DATABASE_URL (in each server process)."""
    from sqlalchemy import Column, Integer, MetaData, String, Table

    from resguardo.api import create_app
    from resguardo.storage.database import WRITE

    deployment = Resguardo()
    app = create_app(deployment, webhooks=False)
    anchor = Table(ANCHOR_TABLE, MetaData(), Column("id", Integer, primary_key=True),
                   Column("request_id", String(64), nullable=False))
    insert = anchor.insert()

    @app.post("/api/v1/bench/anchor", status_code=201, include_in_schema=False)
    def anchor_endpoint(caller: Writer) -> JSONResponse:
        """Insert one row and commit: the floor any write on this stack stands on."""
        assert caller.username  # the same token check as every other endpoint
        with writer_gate(deployment), deployment.engine.connect() as conn:
            conn = conn.execution_options(**{WRITE: True})  # BEGIN IMMEDIATE, as writes do
            with conn.begin():
                row = conn.execute(insert, {"request_id": caller.request_id})
        return JSONResponse({"id": row.inserted_primary_key[0]}, status_code=201)

    return app


def serve(port: int, workers: int) -> None:
    """Run the server (this is the child process)."""
    import uvicorn
    sys.path.insert(0, str(Path(__file__).parent))
    uvicorn.run("api:bench_app", factory=True, host="127.0.0.1", port=port, workers=workers,
                log_level="warning", access_log=False)


def build(db: Path, clients: int, per_client: int) -> None:
    """A deployment with one agency, an officer per client and its firearms."""
    url = f"sqlite:///{db}"
    settings = dataclasses.replace(Settings.from_env(), database_url=url,
                                   signing_key=db.with_suffix(".key"),
                                   sqlite_synchronous="OFF")
    app = Resguardo(settings, engine=make_engine(url, synchronous="OFF"))
    setup.initialize(app, "admin", PASSWORD, "NACIONAL", "Nacional")
    far = date(2099, 1, 1)
    with app.work(None) as uow:
        registry.add_organization(uow, "SSP", "Secretaría", "state", "NACIONAL")
        registry.add_organization(uow, "MUN", "Municipal", "agency", "SSP")
        registry.add_location(uow, "MUN", "ARM1", "Armería", "armory")
        users.add_user(uow, "armero", PASSWORD, "armorer", "MUN")
        for c in range(clients):
            registry.add_officer(uow, "MUN", OfficerInput(f"B{c:04d}", f"Officer {c}",
                                                          credential_expiry=far,
                                                          qualification_expiry=far))
            for n in range(per_client):
                registry.register_firearm(uow, "MUN", "ARM1", FirearmInput(
                    serial=f"BENCH-{c:04d}-{n}", make="Glock", calibre="9x19mm",
                    kind="pistol"))
        uow.commit()
    with app.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {ANCHOR_TABLE} (id INTEGER PRIMARY KEY, "
                             "request_id VARCHAR(64) NOT NULL)")
    app.engine.dispose()


def firearm_ids(db: Path, clients: int, per_client: int) -> list[list[int]]:
    import sqlite3
    with sqlite3.connect(db) as conn:
        ids = dict(conn.execute("select serial, id from firearms"))
    return [[ids[f"BENCH-{c:04d}-{n}"] for n in range(per_client)] for c in range(clients)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "RESGUARDO_DATABASE_URL": f"sqlite:///{db}",
           "RESGUARDO_SIGNING_KEY": str(db.with_suffix(".key"))}
    env.pop("RESGUARDO_SQLITE_SYNCHRONOUS", None)  # the product default: FULL
    return spawn(__file__, env, workers)


def spawn(script: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen, str]:
    """Run ``script --serve`` (a benchmark's server) on a free port; its address once its
    health endpoint answers."""
    port = free_port()
    # its own process group: stopping it stops every uvicorn worker it started
    proc = subprocess.Popen([sys.executable, script, "--serve", "--port", str(port),
                             "--workers", str(workers)], env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stop_server(proc)
            raise SystemExit("the server exited")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("the server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server and its workers (the whole process group)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # any worker left behind


# --- the clients --------------------------------------------------------------------------------

@dataclasses.dataclass
class Result:
    name: str
    ok: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = dataclasses.field(default_factory=list)
    first_error: str | None = None

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def as_dict(self) -> dict:
        return {"name": self.name, "requests": self.ok, "errors": self.errors,
                "seconds": round(self.elapsed, 2), "per_second": round(self.throughput, 1),
                "p50_ms": round(self.percentile(50), 2), "p99_ms": round(self.percentile(99), 2),
                "mean_ms": round(statistics.fmean(self.latencies) * 1000, 2)
                if self.latencies else None}


class Connection:
    """One keep-alive HTTP/1.1 connection with a minimal client.

    The measuring side must cost far less than the server it measures; a general
    client library spends a millisecond or more of CPU per request, this a tenth.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = (f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\n")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = json.dumps(body).encode()
        self.writer.write(f"POST {path} HTTP/1.1\r\n{self.head}X-Request-ID: {uuid.uuid4().hex}"
                          f"\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def run_phase(name: str, base: str, token: str, plans: list[list[tuple[str, dict]]],
                    seconds: float, warmup: float, *, tokens: list[str] | None = None) -> Result:
    """Each client cycles through its plan of (path, body) as fast as answers come back
    (client ``n`` signed in with ``tokens[n]`` when given, else all with ``token``)."""
    result = Result(name)
    host, port = base.removeprefix("http://").split(":")
    start_at = time.monotonic() + warmup
    stop_at = start_at + seconds

    async def client(plan: list[tuple[str, dict]], token: str) -> None:
        conn = Connection(host, int(port), token)
        n = 0
        try:
            while True:
                path, body = plan[n % len(plan)]
                n += 1
                began = time.monotonic()
                if began >= stop_at:
                    return
                try:
                    status, answer = await asyncio.wait_for(conn.post(path, body), 120)
                    good = status == 201
                    problem = None if good else f"{status} {answer[:200]!r}"
                except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError) as exc:
                    good, problem = False, f"{type(exc).__name__}: {exc}"
                    conn.close()
                    conn = Connection(host, int(port), token)
                ended = time.monotonic()
                if began < start_at or ended > stop_at:
                    continue  # warm-up, or finished after the measured window
                if good:
                    result.ok += 1
                    result.latencies.append(ended - began)
                else:
                    result.errors += 1
                    result.first_error = result.first_error or problem
        finally:
            conn.close()

    await asyncio.gather(*(client(plan, tokens[n] if tokens else token)
                           for n, plan in enumerate(plans)))
    result.elapsed = seconds
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured time per phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured start per phase")
    parser.add_argument("--firearms-per-client", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "out",
                        help="where the database goes (use a real disk, not tmpfs)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn server processes (default 1)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.workers)
        return 0

    args.dir.mkdir(parents=True, exist_ok=True)
    db = args.dir / "api.db"
    for path in args.dir.glob("api.db*"):
        path.unlink()
    db.with_suffix(".key").unlink(missing_ok=True)
    t0 = time.perf_counter()
    build(db, args.clients, args.firearms_per_client)
    ids = firearm_ids(db, args.clients, args.firearms_per_client)
    print(f"set-up: {args.clients} officers, {args.clients * args.firearms_per_client} firearms "
          f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    proc, base = start_server(db, args.workers)
    try:
        token = httpx.post(f"{base}/api/v1/auth/token",
                           json={"username": "armero", "password": PASSWORD}).json()
        token = token["access_token"]
        anchor_plans = [[("/api/v1/bench/anchor", {})] for _ in range(args.clients)]
        custody_plans = []
        for c, owned in enumerate(ids):
            plan: list[tuple[str, dict]] = []
            for fid in owned:
                plan.append((f"/api/v1/firearms/{fid}/issue", {"badge": f"B{c:04d}"}))
                plan.append((f"/api/v1/firearms/{fid}/return", {"location": "ARM1"}))
            custody_plans.append(plan)
        print(f"anchor: {args.clients} clients for {args.seconds:.0f} s ...", file=sys.stderr)
        anchor = asyncio.run(run_phase("anchor: insert one row", base, token, anchor_plans,
                                       args.seconds, args.warmup))
        print(f"issue/return: {args.clients} clients for {args.seconds:.0f} s ...",
              file=sys.stderr)
        custody = asyncio.run(run_phase("issue/return", base, token, custody_plans,
                                        args.seconds, args.warmup))
    finally:
        stop_server(proc)
    ratio = custody.throughput / anchor.throughput if anchor.throughput else 0.0
    met = ratio >= 0.5 and custody.errors == 0 and anchor.errors == 0
    if args.json:
        print(json.dumps({"clients": args.clients, "workers": args.workers,
                          "anchor": anchor.as_dict(),
                          "issue_return": custody.as_dict(), "ratio": round(ratio, 3),
                          "target_met": met}, indent=2))
    else:
        print(f"{args.clients} concurrent clients, {args.seconds:.0f} s each, SQLite "
              f"synchronous=FULL, {args.workers} uvicorn process(es), {os.cpu_count()} CPUs")
        print(f"{'':24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
        for r in (anchor, custody):
            print(f"{r.name:24}{r.throughput:10.1f}{r.percentile(50):10.1f}"
                  f"{r.percentile(99):10.1f}{r.errors:8d}")
        print(f"ratio issue/return : anchor = {ratio:.2f}  (target >= 0.50, zero errors: "
              f"{'met' if met else 'NOT met'})")
        for r in (anchor, custody):
            if r.first_error:
                print(f"first error ({r.name}): {r.first_error}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
