"""The real server (``resguardo serve``) in a child process, and what clients sent it:
for the tests that kill a server or a database under concurrent traffic."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``resguardo serve`` in a child process."""

    def __init__(self, url: str, key: Path, **env: str) -> None:
        self.env = {**os.environ, "RESGUARDO_DATABASE_URL": url,
                    "RESGUARDO_SIGNING_KEY": str(key), **env}
        self.proc: subprocess.Popen | None = None
        self.base = ""
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 - the stderr of every start

    def start(self) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "resguardo.cli.main", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.errors)
        deadline = time.monotonic() + 120  # generous: CI machines can be slow to import
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def log(self) -> str:
        """What the server has written to stderr so far."""
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclasses.dataclass
class Sent:
    request_id: str
    key: str
    path: str
    body: dict
    status: int | None = None  # None: no answer (the server died)
