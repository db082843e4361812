"""An auditor's verified state (`ledger verify --state DIR`): what a verify proved, kept on
the auditor's own machine, so that the next verify goes on from it instead of from entry 0.

The directory holds two files:

- ``state.json``: the log's origin and verifier key, the signed checkpoint the verify
  checked (its note, size and root), the tree's frontier at that size (the complete
  subtrees that make up its root: at most log2(size) + 1 hashes, into which later leaves
  fold), the projection snapshot's file name and SHA-256, and when and against which
  database the state was verified;
- ``projection-<size>-<digest>.sqlite``: the projection replayed from the log's first
  <size> entries (the scratch database of `storage.rebuild`), the snapshot the next
  replay starts from.

Nothing here is trusted without a check: the frontier must fold to the root the
checkpoint signed, the checkpoint's signature must verify with the state's key, and the
snapshot must hash to the recorded SHA-256 (`StateError` otherwise: the verify refuses
to run, it never falls back to trusting the database). A new state is written beside the
old one and renamed into place (the snapshot first, under a name of its own, then
``state.json`` through a temporary file), so a crash leaves the old state or the new one,
never half of one. A lock file keeps two verifies from writing one directory at once.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from resguardo.ledger import (
    Checkpoint,
    LedgerError,
    NodeKey,
    Verifier,
    frontier_root,
    parse_note,
    root_node_keys,
    verify_checkpoint,
)

FORMAT = "resguardo-verify-state/1"
STATE_FILE = "state.json"
LOCK_FILE = ".lock"
BLOCK = 1 << 20


class StateError(Exception):
    """The state directory cannot be trusted or used (the verify refuses to run)."""


@dataclass(frozen=True)
class VerifiedState:
    """What an auditor's last successful verify proved."""

    origin: str
    vkey: str
    size: int
    root: bytes
    checkpoint_id: int | None
    checkpoint: str | None
    """The signed note of the checkpoint at `size` (None only for an empty state, size 0)."""
    frontier: dict[NodeKey, bytes]
    projection: str
    """The snapshot's file name in the state directory."""
    projection_sha256: str
    verified_at: str
    database: str
    mode: str
    """How the verify that wrote it ran: "full" or "incremental"."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "origin": self.origin, "vkey": self.vkey, "size": self.size,
            "root": _b64(self.root), "checkpoint_id": self.checkpoint_id,
            "checkpoint": self.checkpoint,
            "frontier": [[level, idx, _b64(value)] for (level, idx), value
                         in sorted(self.frontier.items(), key=lambda kv: -kv[0][0])],
            "projection": {"file": self.projection, "sha256": self.projection_sha256},
            "verified_at": self.verified_at, "database": self.database, "mode": self.mode,
        }

    def summary(self) -> dict[str, Any]:
        """What the verify's report says of it."""
        return {"size": self.size, "root": _b64(self.root), "checkpoint_id": self.checkpoint_id,
                "projection_sha256": self.projection_sha256, "verified_at": self.verified_at}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise StateError(f"{what} is not a base64 string")
    try:
        data = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise StateError(f"{what} is not base64: {exc}") from None
    if len(data) != 32:
        raise StateError(f"{what} is not a 32-byte hash")
    return data


def load(directory: Path) -> VerifiedState | None:
    """The state kept in `directory`, or None when it holds none yet (a first run).

    Checks that the file is whole and agrees with itself: the frontier folds to the
    root, the root and size are the checkpoint's. The checkpoint's signature and the
    snapshot's digest are checked by `check` and `copy_snapshot`."""
    path = directory / STATE_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StateError(f"{path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateError(f"{path} is not a verify state ({FORMAT})")
    try:
        size = data["size"]
        if type(size) is not int or size < 0:
            raise StateError("size is not a whole number")
        nodes: dict[NodeKey, bytes] = {}
        for item in data["frontier"]:
            level, idx, value = item
            if type(level) is not int or type(idx) is not int:
                raise StateError("a frontier node's level or index is not a whole number")
            nodes[(level, idx)] = _unb64(value, f"frontier node ({level}, {idx})")
        projection = data["projection"]
        state = VerifiedState(
            origin=str(data["origin"]), vkey=str(data["vkey"]), size=size,
            root=_unb64(data["root"], "root"), checkpoint_id=data["checkpoint_id"],
            checkpoint=data["checkpoint"], frontier=nodes, projection=str(projection["file"]),
            projection_sha256=str(projection["sha256"]), verified_at=str(data["verified_at"]),
            database=str(data["database"]), mode=str(data["mode"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"{path} is incomplete or malformed: {exc!r}") from None
    if set(state.frontier) != set(root_node_keys(state.size)):
        raise StateError(f"{path}: the frontier does not hold the subtrees of size {state.size}")
    if frontier_root(state.frontier, state.size) != state.root:
        raise StateError(f"{path}: the frontier does not fold to the recorded root")
    if Path(state.projection).name != state.projection:
        raise StateError(f"{path}: the snapshot's name {state.projection!r} is not a file name")
    return state


def check(state: VerifiedState, verifier: Verifier, origin: str) -> None:
    """The state's checkpoint is signed by the state's key for this log and says the state's
    size and root; the log checked now has that key and origin (StateError otherwise)."""
    if verifier.vkey() != state.vkey:
        raise StateError(f"the log's key is now {verifier.vkey()}, not the key the state was "
                         f"verified with ({state.vkey})")
    if origin != state.origin:
        raise StateError(f"the log's origin is {origin!r}, not the state's {state.origin!r}")
    if state.checkpoint is None:
        if state.size != 0:
            raise StateError("the state holds no checkpoint for a non-empty tree")
        return
    try:
        verify_checkpoint(state.checkpoint, verifier)
        parsed = Checkpoint.parse(parse_note(state.checkpoint)[0])
    except LedgerError as exc:
        raise StateError(f"the state's checkpoint does not verify with its key: {exc}") from None
    if (parsed.origin, parsed.size, parsed.root) != (state.origin, state.size, state.root):
        raise StateError("the state's checkpoint does not say the state's origin, size and root")


def copy_snapshot(directory: Path, state: VerifiedState, target: Path) -> None:
    """Copy the state's projection snapshot to `target`, hashing what is copied: the copy
    is exactly the file whose SHA-256 the state recorded (StateError otherwise)."""
    source = directory / state.projection
    digest = hashlib.sha256()
    try:
        with source.open("rb") as src, target.open("wb") as dst:
            while block := src.read(BLOCK):
                digest.update(block)
                dst.write(block)
    except OSError as exc:
        raise StateError(f"the projection snapshot {source} cannot be read: {exc}") from None
    if digest.hexdigest() != state.projection_sha256:
        target.unlink(missing_ok=True)
        raise StateError(f"the projection snapshot {source} does not hash to the SHA-256 the "
                         f"state recorded ({state.projection_sha256}): it was changed or "
                         "replaced; the state cannot be used")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while block := src.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary(directory: Path, name: str) -> Path:
    """A path in `directory` for a file being written (never a state's own name)."""
    return directory / f".{name}.tmp-{os.getpid()}"


def save(directory: Path, *, origin: str, vkey: str, size: int, root: bytes,
         checkpoint_id: int | None, checkpoint: str | None, frontier: dict[NodeKey, bytes],
         snapshot: Path, database: str, mode: str, previous: VerifiedState | None
         ) -> VerifiedState:
    """Make the snapshot file `snapshot` (written in `directory`) and the rest the new state:
    the snapshot renamed to its own name, then ``state.json`` written to a temporary file
    and renamed over the old, each synced; then the previous snapshot removed."""
    _fsync(snapshot)
    digest = file_sha256(snapshot)
    name = f"projection-{size}-{digest[:16]}.sqlite"
    os.replace(snapshot, directory / name)
    state = VerifiedState(origin=origin, vkey=vkey, size=size, root=root,
                          checkpoint_id=checkpoint_id, checkpoint=checkpoint, frontier=frontier,
                          projection=name, projection_sha256=digest,
                          verified_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                          database=database, mode=mode)
    if frontier_root(frontier, size) != root:
        raise StateError("the new frontier does not fold to the verified root")  # a defect
    text = json.dumps(state.as_dict(), indent=2) + "\n"
    tmp = temporary(directory, STATE_FILE)
    with tmp.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, directory / STATE_FILE)
    _fsync(directory)
    if previous is not None and previous.projection != name:
        (directory / previous.projection).unlink(missing_ok=True)
    return state


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold the directory's lock (created with the directory if need be) for one verify."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = (directory / LOCK_FILE).open("a")
    except OSError as exc:
        raise StateError(f"the state directory {directory} cannot be used: {exc}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StateError(f"another verify is using the state directory {directory}") from None
        yield
    finally:
        handle.close()


def cleanup(directory: Path) -> None:
    """Remove files a verify interrupted before renaming them into place."""
    for leftover in directory.glob(".*.tmp-*"):
        leftover.unlink(missing_ok=True)
