"""Outside witnesses for tests: `tools/witness.py serve` run as separate processes on
loopback (random free ports), and the insider who rewrites the log with the key file."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text

from ledger_world import key, sql
from resguardo.ledger import (
    SIG_TYPE_COSIGNATURE,
    Checkpoint,
    MemoryNodeStore,
    Signer,
    append_leaves,
    generate_signer,
    leaf_hash,
    sign_checkpoint,
    tree_root,
)
from resguardo.ledger.witnesses import Witness, WitnessList
from resguardo.services.app import Resguardo

WITNESS_TOOL = Path(__file__).resolve().parents[1] / "tools" / "witness.py"


class WitnessProcess:
    """One overseer's witness, its own key and state directory, in its own process."""

    def __init__(self, directory: Path, name: str, log_vkey: str,
                 organization: str | None = None) -> None:
        self.directory = directory
        self.name = name
        self.log_vkey = log_vkey
        self.organization = organization
        directory.mkdir(parents=True, exist_ok=True)
        self.signer: Signer = generate_signer(name, SIG_TYPE_COSIGNATURE)
        self.key_file = directory / "witness.key"
        self.key_file.write_text(self.signer.to_key_string() + "\n", encoding="ascii")
        os.chmod(self.key_file, 0o600)
        self.state = directory / "state"
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, port: int = 0) -> WitnessProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(WITNESS_TOOL), "serve", "--key", str(self.key_file),
             "--log", self.log_vkey, "--state", str(self.state), "--port", str(port)],
            stdout=subprocess.PIPE, stderr=open(self.directory / "stderr.log", "a"),  # noqa: SIM115
            encoding="utf-8")
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until it listens
        assert " listening on http://" in line, line
        self.url = line.rsplit(" ", 1)[1].strip()
        return self

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def entry(self) -> Witness:
        return Witness(self.url, self.signer.verifier(), self.organization)

    def held_checkpoint(self, origin: str) -> str | None:
        """The checkpoint note this witness last cosigned for `origin`."""
        import hashlib

        path = self.state / hashlib.sha256(origin.encode()).hexdigest() / "checkpoint"
        return path.read_text(encoding="utf-8") if path.exists() else None

    def evidence(self, origin: str) -> list[Path]:
        import hashlib

        return sorted((self.state / hashlib.sha256(origin.encode()).hexdigest() / "refused")
                      .glob("*.txt"))


def use_witnesses(app: Resguardo, witnesses: list[WitnessProcess], quorum: int) -> None:
    """Configure the deployment with these witnesses (what RESGUARDO_WITNESSES does)."""
    listed = WitnessList(tuple(w.entry() for w in witnesses), quorum)
    app.settings = dataclasses.replace(app.settings, witnesses=listed)


def rewrite_with_the_key_file(app: Resguardo, position: int, reason: str) -> None:
    """The insider with the database and the key file: edit an entry's reason, rebuild
    the whole tree, re-sign every checkpoint, and delete the cosignatures and the record
    of what the witnesses said."""
    sql(app, "UPDATE events SET reason = :r WHERE position = :p", r=reason, p=position)
    rebuild_tree_and_resign(app)


def rebuild_tree_and_resign(app: Resguardo, drop_checkpoints_from: int | None = None,
                            resign: bool = True) -> None:
    """Recompute the tree from the rows; drop the checkpoints above a size; re-sign the
    others with the key file (an insider without the key cannot)."""
    signer = key(app).signer() if resign else None
    with app.read(None) as uow:
        events = list(uow.repo.iter_events())
    store = MemoryNodeStore()
    nodes = append_leaves(store, 0, [leaf_hash(ev.leaf()) for ev in events])
    store = MemoryNodeStore({(lv, ix): h for lv, ix, h in nodes})
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM merkle_nodes"))
        conn.execute(text("INSERT INTO merkle_nodes (level, idx, hash) VALUES (:l, :i, :h)"),
                     [{"l": lv, "i": ix, "h": h} for lv, ix, h in nodes])
        conn.execute(text("DELETE FROM cosignatures"))
        conn.execute(text("DELETE FROM witness_attempts"))
        if drop_checkpoints_from is not None:
            conn.execute(text("DELETE FROM checkpoints WHERE size > :k"),
                         {"k": drop_checkpoints_from})
        rows: list[Any] = conn.execute(text("SELECT id, size FROM checkpoints")).all()
        for cp_id, cp_size in rows if signer is not None else []:
            root = tree_root(store, cp_size)
            note = sign_checkpoint(Checkpoint(app.settings.log_origin, cp_size, root), signer)
            conn.execute(text("UPDATE checkpoints SET root = :r, note = :n WHERE id = :i"),
                         {"r": root, "n": note, "i": cp_id})
