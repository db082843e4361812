"""An import killed half-way (SIGKILL, or Ctrl-C) leaves the registry as it was.

The import runs as ``resguardo import firearms`` in a child process against
the test deployment (SQLite and PostgreSQL); the test waits until the child
is writing rows, stops it, and compares. The file is large enough to be written
in slices (``services.imports``): Ctrl-C voids the slices committed so far at
once; after SIGKILL the next import finds the dead one and voids it. The log
keeps what happened (``import.started``, ``import.voided``), the registry has
not one weapon of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text
from test_import_sliced import inventory

from resguardo.services.imports import ImportOptions, import_file
from resguardo.services.ledger_verify import verify

pytestmark = pytest.mark.slow

ROWS = 150_000
#: ``resguardo`` as a terminal starts it: Ctrl-C raises KeyboardInterrupt. (A test run
#: started in the background of a non-interactive shell inherits SIGINT ignored, and
#: Python keeps it ignored in its children.)
AS_FROM_A_TERMINAL = ("import runpy, signal, sys; "
                      "signal.signal(signal.SIGINT, signal.default_int_handler); "
                      "sys.argv[0] = 'resguardo'; "
                      "runpy.run_module('resguardo.cli.main', run_name='__main__')")



def snapshot(app) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        nodes = uow.conn.execute(text("SELECT count(*) FROM merkle_nodes")).scalar_one()
        return uow.repo.log_size(), uow.repo.firearms(limit=1).total, int(nodes)


def writing(app, before: int) -> bool:  # type: ignore[no-untyped-def]
    """Whether the child has committed slices of weapons (a large import is written in
    slices, ``services.imports``)."""
    with app.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM firearms")).scalar_one()) > before + 5000


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_an_interrupted_import_leaves_the_database_as_before(world, tmp_path, how):
    path = inventory(tmp_path / "inventario.csv", ROWS)
    url = world.settings.database_url
    world.engine.dispose()
    before = snapshot(world)
    # short slices: with nobody waiting a slice may last twenty times this, and a slice of
    # several seconds let a fast machine write every row before the test saw one committed
    env = {**os.environ, "RESGUARDO_DATABASE_URL": url,
           "RESGUARDO_SIGNING_KEY": str(world.settings.signing_key),
           "RESGUARDO_IMPORT_SLICE_SECONDS": "0.01"}
    child = subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL, "--as", "armero1", "import", "firearms",
         str(path), "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 600
        while not writing(world, before[1]):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.1)
        child.send_signal(how)
        said = child.communicate(timeout=300)[1].decode(errors="replace")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode != 0
    world.engine.dispose()
    if not url.startswith("sqlite"):
        time.sleep(1.0)  # PostgreSQL lets the dead connection's locks go once it notices
    if how == signal.SIGINT:  # voided on its way out
        assert snapshot(world)[1] == before[1], said[-3000:]
    with world.read("auditor") as uow:
        report = verify(uow, verifier=None, origin=world.settings.log_origin)
    assert [f.kind for f in report.findings if f.kind not in ("no_key",
                                                              "checkpoint_signature")] == []
    # and the next import goes through as if nothing had happened
    small = inventory(tmp_path / "pequeño.csv", 10)
    with world.work("armero1") as uow:
        report = import_file(uow, "firearms", small, ImportOptions())
        uow.commit()
    assert report.imported == 10
    assert snapshot(world)[1] == before[1] + 10
    with world.read(None) as uow:
        states = [row[0] for row in uow.conn.execute(text("SELECT state FROM imports"))]
    assert states in ([], ["voided"])  # voided, or stopped before its first slice
