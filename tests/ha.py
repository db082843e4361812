"""A pg_auto_failover cluster (monitor, primary, synchronous standby) on loopback for the
test session, started with the deployment script the README documents
(``deploy/pg_auto_failover.sh``), so the script is what the tests exercise."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "pg_auto_failover.sh"


class Cluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="resguardo-ha-"))
        self.base = 40000 + (os.getpid() % 500) * 10

    def _run(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(["sh", str(SCRIPT), *args], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "HA_FAST": "1"},
                              start_new_session=True, check=False)
        if done.returncode != 0:
            logs = "".join(f"\n--- {log.name}\n" + log.read_text(errors="replace")[-1500:]
                           for log in sorted(self.dir.glob("*.log")))
            raise RuntimeError(f"{SCRIPT.name} {' '.join(args)}: {done.stderr}{logs}")
        return done.stdout.strip()

    def up(self) -> str:
        """Start the cluster; a bring-up that fails (on a loaded machine a node can miss
        its state's deadline) is stopped and tried once more, in a fresh directory: what
        the tests judge is the application once the cluster is up, not the bring-up."""
        if not shutil.which("pg_autoctl"):
            raise FileNotFoundError("pg_autoctl is not installed (Debian: "
                                    "postgresql-15-auto-failover pg-auto-failover-cli)")
        try:
            self.url = self._run("up", str(self.dir), str(self.base)).splitlines()[-1]
        except (RuntimeError, subprocess.TimeoutExpired):
            self.down()
            self.dir = Path(tempfile.mkdtemp(prefix="resguardo-ha-"))
            self.url = self._run("up", str(self.dir), str(self.base)).splitlines()[-1]
        return self.url

    def primary_port(self) -> int:
        return int(self._run("primary", str(self.dir)) or 0)

    def node_of_port(self, port: int) -> int:
        return port - self.base

    def kill(self, node: int) -> None:
        self._run("kill", str(node), str(self.dir))

    def state(self) -> str:
        return self._run("state", str(self.dir))

    def down(self) -> None:
        try:
            self._run("down", str(self.dir), timeout=120)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
