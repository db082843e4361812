"""The ledger as a deployment runs it: its signing key, signed checkpoints (on request and
automatically), inclusion and consistency proofs, witness cosignatures and event export.
Verification of the whole log lives in `ledger_verify`.

The signing key is an Ed25519 C2SP note key named after the log's origin
(`settings.log_origin`), kept in `settings.signing_key` (RESGUARDO_SIGNING_KEY) with
mode 0600; `resguardo init` creates it through `setup.INIT_HOOKS`.

Automatic checkpoints are signed in the append path, in the event's transaction, once
RESGUARDO_CHECKPOINT_EVERY entries (default 1000) or RESGUARDO_CHECKPOINT_MINUTES
minutes (default 60) have passed since the last one. The append path knows only the
database connection, so it finds the deployment's key through `attach(app)` (done by
`resguardo init` and by every ledger command) or, failing that, through the settings
in the environment when they name the same database. A deployment whose key file is
missing keeps recording events but signs nothing, says so once in the log, and
`ledger verify` shows how many entries no checkpoint covers.
"""

from __future__ import annotations

import base64
import logging
import os
import stat
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resguardo.config import Settings
from resguardo.domain.errors import Conflict, NotFound, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.domain.timefmt import iso, parse_instant
from resguardo.ledger import (
    EMPTY_ROOT,
    SIG_TYPE_COSIGNATURE,
    SIG_TYPE_ED25519,
    Checkpoint,
    LedgerError,
    Signer,
    Verifier,
    add_signatures,
    consistency_proof,
    generate_signer,
    inclusion_proof,
    leaf_hash,
    parse_note,
    sign_checkpoint,
    tree_root,
    verify_consistency,
    verify_cosignature,
    verify_inclusion,
)
from resguardo.services import setup
from resguardo.storage import ledger_store
from resguardo.storage.ledger_store import DbNodeStore, StoredCheckpoint, StoredCosignature
from resguardo.storage.uow import APPEND_HOOKS, UnitOfWork

log = logging.getLogger("resguardo.ledger")

KEY_FILE_MODE = 0o600
DEFAULT_CHECKPOINT_EVERY = 1000
DEFAULT_CHECKPOINT_MINUTES = 60.0


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- the signing key ------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerKey:
    """Where a deployment keeps its checkpoint signing key, and the log it signs for."""

    path: Path
    origin: str

    @classmethod
    def of(cls, settings: Settings) -> LedgerKey:
        return cls(Path(settings.signing_key), settings.log_origin)

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> Signer:
        """Make a new key file readable only by its owner; refuse to overwrite one."""
        signer = generate_signer(self.origin, SIG_TYPE_ED25519)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
        except FileExistsError:
            raise Conflict(f"signing key {self.path} already exists; it is never replaced",
                           path=str(self.path)) from None
        with os.fdopen(fd, "w", encoding="ascii") as f:
            os.fchmod(f.fileno(), KEY_FILE_MODE)  # whatever the umask said
            f.write(signer.to_key_string() + "\n")
        return signer

    def signer(self) -> Signer:
        """The private key; NotFound without the file, Conflict if others may read it."""
        try:
            mode = stat.S_IMODE(self.path.stat().st_mode)
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise NotFound(f"no signing key at {self.path}: run `resguardo init`, or point "
                           "RESGUARDO_SIGNING_KEY at the key file", path=str(self.path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise Conflict(f"cannot read signing key {self.path}: {exc}",
                           path=str(self.path)) from None
        if mode & 0o077:
            raise Conflict(f"signing key {self.path} is readable by others (mode {mode:04o}); "
                           "run `chmod 600` on it", path=str(self.path))
        try:
            signer = Signer.from_key_string(text)
        except ValueError as exc:
            raise Conflict(f"signing key {self.path} is not a key file: {exc}",
                           path=str(self.path)) from None
        if signer.sig_type != SIG_TYPE_ED25519:
            raise Conflict(f"signing key {self.path} is not a note key (type 0x01)")
        return signer

    def verifier(self) -> Verifier:
        """The public half, as overseers hold it."""
        return self.signer().verifier()


def parse_vkey(text: str) -> Verifier:
    """A verifier key given as its string or as the path of a file holding it."""
    value = text.strip()
    try:
        if Path(value).is_file():
            value = Path(value).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValidationFailed(f"cannot read verifier key file {value}: {exc}",
                               field="vkey") from None
    try:
        return Verifier.from_vkey(value)
    except ValueError as exc:
        raise ValidationFailed(f"not a verifier key: {exc}", field="vkey") from None


# --- which deployment an append belongs to ----------------------------------------------


@dataclass
class _Deployment:
    key: LedgerKey
    warned: bool = field(default=False)
    refused_at: int | None = field(default=None)
    """The checkpoint the log was last found not to extend (reported once)."""


_BY_DATABASE: dict[str, _Deployment | None] = {}
_BY_ENGINE: weakref.WeakKeyDictionary[Any, _Deployment | None] = weakref.WeakKeyDictionary()


def attach(app: Any) -> LedgerKey:
    """Tell the append path which key signs checkpoints for `app`'s database."""
    key = LedgerKey.of(app.settings)
    deployment = _Deployment(key)
    _BY_DATABASE[ledger_store.database_identity(app.engine)] = deployment
    _BY_ENGINE[app.engine] = deployment
    return key


def _deployment_of(engine: Any) -> _Deployment | None:
    try:
        return _BY_ENGINE[engine]
    except KeyError:
        pass
    identity = ledger_store.database_identity(engine)
    if identity not in _BY_DATABASE:
        settings = Settings.from_env()
        same = ledger_store.database_identity(settings.database_url) == identity
        _BY_DATABASE[identity] = _Deployment(LedgerKey.of(settings)) if same else None
    found = _BY_DATABASE[identity]
    _BY_ENGINE[engine] = found
    return found


# --- checkpoints ----------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointPolicy:
    """How often the append path signs a checkpoint on its own."""

    every: int
    minutes: float

    @classmethod
    def from_env(cls) -> CheckpointPolicy:
        return cls(_env_number("RESGUARDO_CHECKPOINT_EVERY", DEFAULT_CHECKPOINT_EVERY, int),
                   _env_number("RESGUARDO_CHECKPOINT_MINUTES", DEFAULT_CHECKPOINT_MINUTES, float))

    def due(self, size: int, last: tuple[int, str] | None, at: str) -> bool:
        """True if a log of `size` entries at instant `at` needs a newer checkpoint than `last`."""
        if last is None:
            return True
        last_size, last_at = last
        if size <= last_size:
            return False
        if size - last_size >= self.every:
            return True
        elapsed = parse_instant(at) - parse_instant(last_at)
        return elapsed.total_seconds() >= self.minutes * 60


def _env_number(name: str, default: Any, kind: type) -> Any:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be a number, got {raw!r}", field=name) from None
    if value <= 0:
        raise ValidationFailed(f"{name} must be positive, got {raw!r}", field=name)
    return value


def _refusal(conn: Any, last: StoredCheckpoint, size: int, root: bytes) -> str | None:
    """Why the tree of `size` with `root` does not extend checkpoint `last` (None if it does)."""
    if size < last.size:
        return f"the log has {size} entries, fewer than checkpoint {last.id} signed ({last.size})"
    if last.size == 0:
        return None if last.root == EMPTY_ROOT else f"checkpoint {last.id} has a bad empty root"
    try:
        proof = consistency_proof(DbNodeStore(conn), last.size, size)
        verify_consistency(last.size, size, proof, last.root, root)
    except LedgerError as exc:
        return f"the log does not extend checkpoint {last.id} (size {last.size}): {exc}"
    return None


def _sign(conn: Any, signer: Signer, origin: str, size: int, created_at: str
          ) -> StoredCheckpoint:
    root = tree_root(DbNodeStore(conn), size)
    last = ledger_store.latest_checkpoint(conn)
    reason = None if last is None else _refusal(conn, last, size, root)
    if reason is not None:
        raise Conflict(f"refusing to sign a checkpoint: {reason}; run `resguardo ledger verify`",
                       size=size, checkpoint_id=last.id if last else None)
    note = sign_checkpoint(Checkpoint(origin, size, root), signer)
    return ledger_store.store_checkpoint(conn, size, root, note, created_at)


def checkpoint(uow: UnitOfWork, key: LedgerKey) -> StoredCheckpoint:
    """Sign and keep a checkpoint of the log as this unit of work sees it (auditor, admin).

    Returns the latest checkpoint instead when it already covers the whole log. Refuses
    (Conflict) when the log no longer extends the last signed checkpoint.
    """
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_VERIFY)
    uow.lock()
    size = uow.repo.log_size() + len(uow.appended)
    last = ledger_store.latest_checkpoint(uow.conn)
    if last is not None and last.size == size and last.root == tree_root(DbNodeStore(uow.conn),
                                                                         size):
        return last
    return _sign(uow.conn, key.signer(), key.origin, size, iso(uow.now()))


def latest(uow: UnitOfWork) -> StoredCheckpoint:
    """The newest stored checkpoint (any reader: checkpoints are published)."""
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)
    found = ledger_store.latest_checkpoint(uow.conn)
    if found is None:
        raise NotFound("no checkpoint has been signed yet: run `resguardo ledger checkpoint`")
    return found


def _auto_checkpoint(conn: Any, event: Event) -> None:
    """Append hook: sign a checkpoint in the event's transaction when one is due."""
    deployment = _deployment_of(conn.engine)
    if deployment is None:
        return
    size = event.position + 1
    last = ledger_store.latest_checkpoint_head(conn)
    if not CheckpointPolicy.from_env().due(size, last, event.at):
        return
    key = deployment.key
    if last is None and not key.exists():
        return  # `resguardo init` at work: its hook makes the key and the first checkpoint
    try:
        signer = key.signer()
    except (NotFound, Conflict) as exc:
        if not deployment.warned:
            log.warning("ledger: no automatic checkpoints: %s", exc.message)
            deployment.warned = True
        return
    try:
        _sign(conn, signer, key.origin, size, event.at)
    except Conflict as exc:
        # Custody goes on; `ledger verify` explains the refusal. Said once, not per event.
        if deployment.refused_at != exc.details.get("checkpoint_id"):
            log.error("ledger: %s", exc.message)
            deployment.refused_at = exc.details.get("checkpoint_id")


APPEND_HOOKS.append(_auto_checkpoint)


def init_hook(app: Any) -> list[str]:
    """`resguardo init`: create the signing key if needed and sign the first checkpoint."""
    key = attach(app)
    created = not key.exists()
    signer = key.create() if created else key.signer()
    with app.work(None) as uow:
        first = checkpoint(uow, key)
        uow.commit()
    verb = "created" if created else "kept the existing"
    return [
        f"ledger: {verb} signing key {key.path} (mode 0600); back it up, it is not in the "
        "database",
        f"ledger: verifier key for overseers: {signer.vkey()}",
        f"ledger: checkpoint {first.id} signed at size {first.size}",
    ]


setup.INIT_HOOKS.append(init_hook)


# --- proofs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InclusionProof:
    """Entry `index` is leaf `index` of the tree the checkpoint signs."""

    event: Event
    leaf: bytes
    leaf_hash: bytes
    proof: list[bytes]
    checkpoint: StoredCheckpoint

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.event.position, "size": self.checkpoint.size,
                "leaf_hash": b64(self.leaf_hash), "proof": [b64(p) for p in self.proof],
                "root": b64(self.checkpoint.root), "checkpoint_id": self.checkpoint.id,
                "checkpoint": self.checkpoint.note, "leaf": self.leaf.decode("utf-8"),
                "event": self.event.document()}


def prove(uow: UnitOfWork, *, index: int | None = None, serial: str | None = None,
          make: str | None = None) -> InclusionProof:
    """Inclusion proof of an entry (by index, or a firearm's registration by serial)
    against the latest checkpoint; the entry must be within the reader's scope."""
    if (index is None) == (serial is None):
        raise ValidationFailed("give an entry index or a serial", field="target")
    if serial is not None:
        firearm = uow.repo.firearm(serial, make)
        if uow.actor is not None:
            authorize(uow.actor, Action.READ, uow.repo.org_unscoped(firearm.agency_id).path,
                      "firearm")
        index = firearm.id  # a firearm's id is the position of its registration
    assert index is not None
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)
    event = uow.repo.event(index)
    leaf = event.leaf()
    digest = leaf_hash(leaf)
    stored = DbNodeStore(uow.conn).get_many([(0, index)]).get((0, index))
    if stored != digest:
        raise Conflict(f"entry {index} no longer hashes to the leaf the ledger recorded: the "
                       "row was altered; run `resguardo ledger verify`", index=index)
    last = ledger_store.latest_checkpoint(uow.conn)
    if last is None or last.size <= index:
        covered = "no checkpoint yet" if last is None else f"the latest covers {last.size}"
        raise Conflict(f"entry {index} is not covered by a checkpoint yet ({covered}); an "
                       "auditor can sign one with `resguardo ledger checkpoint`", index=index)
    try:
        proof = inclusion_proof(DbNodeStore(uow.conn), index, last.size)
        verify_inclusion(index, last.size, digest, proof, last.root)
    except LedgerError as exc:
        raise Conflict(f"the stored tree does not prove entry {index} against checkpoint "
                       f"{last.id}: {exc}; run `resguardo ledger verify`", index=index) from None
    return InclusionProof(event, leaf, digest, proof, last)


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of `size2` extends the tree of `size1` (RFC 9162 §2.1.4)."""

    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: list[bytes]

    def as_dict(self) -> dict[str, Any]:
        """The form `tools/witness.py check --proof` reads, with both roots added."""
        return {"from": self.size1, "to": self.size2, "proof": [b64(p) for p in self.proof],
                "root1": b64(self.root1), "root2": b64(self.root2)}


def consistency(uow: UnitOfWork, old: int, new: int | None = None) -> ConsistencyProof:
    """Consistency proof from size `old` to size `new` (default: the latest checkpoint's)."""
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)
    if new is None:
        new = latest(uow).size
    size = uow.repo.log_size()
    if not 0 <= old <= new:
        raise ValidationFailed(f"sizes must satisfy 0 <= old <= new, got {old} and {new}",
                               field="old")
    if new > size:
        raise ValidationFailed(f"the log has {size} entries, fewer than {new}", field="new")
    store = DbNodeStore(uow.conn)
    try:
        root1, root2 = tree_root(store, old), tree_root(store, new)
        proof = consistency_proof(store, old, new)
        if 0 < old < new:
            verify_consistency(old, new, proof, root1, root2)
    except LedgerError as exc:
        raise Conflict(f"the stored tree cannot prove {old} -> {new}: {exc}; run "
                       "`resguardo ledger verify`") from None
    return ConsistencyProof(old, new, root1, root2, proof)


# --- witnesses --------------------------------------------------------------------------


def cosign(uow: UnitOfWork, checkpoint_id: int, line: str, witness_vkey: str
           ) -> StoredCosignature:
    """Keep a witness's cosignature of a stored checkpoint, once it verifies (auditor, admin)."""
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_VERIFY)
    witness = parse_vkey(witness_vkey)
    if witness.sig_type != SIG_TYPE_COSIGNATURE:
        raise ValidationFailed("the witness key must be a cosignature key (type 0x04), as "
                               "`tools/witness.py keygen` makes", field="witness_vkey")
    stored = ledger_store.checkpoint_by_id(uow.conn, checkpoint_id)
    if stored is None:
        raise NotFound(f"checkpoint {checkpoint_id} not found", checkpoint_id=checkpoint_id)
    body, _ = parse_note(stored.note)
    try:
        timestamp = verify_cosignature(body, line, witness)
    except LedgerError as exc:
        raise ValidationFailed(f"the cosignature does not verify for checkpoint "
                               f"{checkpoint_id}: {exc}", field="line") from None
    record = StoredCosignature(checkpoint_id, witness.name, witness.vkey(),
                               line.strip("\n"), timestamp)
    held = ledger_store.cosignature_of(uow.conn, checkpoint_id, witness.name)
    if held is not None:
        if held.line == record.line:
            return held
        raise Conflict(f"witness {witness.name} has already cosigned checkpoint "
                       f"{checkpoint_id}", checkpoint_id=checkpoint_id, witness=witness.name)
    ledger_store.add_cosignature(uow.conn, record)
    return record


@dataclass(frozen=True)
class Cosigned:
    """A checkpoint with the cosignatures the log keeps for it."""

    checkpoint: StoredCheckpoint
    cosignatures: list[StoredCosignature]

    @property
    def note(self) -> str:
        """The signed checkpoint with every kept cosignature line appended."""
        return add_signatures(self.checkpoint.note, [c.line for c in self.cosignatures])

    def as_dict(self) -> dict[str, Any]:
        return {"checkpoint_id": self.checkpoint.id, "size": self.checkpoint.size,
                "root": b64(self.checkpoint.root), "note": self.note,
                "cosignatures": [{"witness": c.witness, "vkey": c.vkey, "timestamp": c.timestamp,
                                  "line": c.line} for c in self.cosignatures]}


def cosigned(uow: UnitOfWork, checkpoint_id: int | None = None) -> Cosigned:
    """A checkpoint (default: the latest) and its cosignatures (any reader)."""
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)
    if checkpoint_id is None:
        stored = latest(uow)
    else:
        found = ledger_store.checkpoint_by_id(uow.conn, checkpoint_id)
        if found is None:
            raise NotFound(f"checkpoint {checkpoint_id} not found", checkpoint_id=checkpoint_id)
        stored = found
    return Cosigned(stored, ledger_store.cosignatures(uow.conn, stored.id))


# --- export -----------------------------------------------------------------------------

_EXPORT_BATCH = 2000


def export_events(uow: UnitOfWork, start: int, stop: int) -> Iterator[dict[str, Any]]:
    """Entries start..stop-1 with their leaves, for an auditor to rehash (auditor, admin).

    Entries outside the reader's scope come as their leaf hash only, which is all a
    root needs. A missing entry comes as {"index": i, "missing": true}.
    """
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_VERIFY)
    size = uow.repo.log_size()
    if not 0 <= start <= stop <= size:
        raise ValidationFailed(f"the range must satisfy 0 <= from <= to <= {size} (the log's "
                               f"size), got {start} and {stop}", field="from")
    paths = ledger_store.organization_paths(uow.conn)
    actor = uow.actor
    for lo in range(start, stop, _EXPORT_BATCH):
        hi = min(stop, lo + _EXPORT_BATCH)
        rows = {int(r.position): r for r in ledger_store.event_rows(uow.conn, lo, hi)}
        texts = dict(ledger_store.leaf_texts(uow.conn, lo, hi))
        stored = ledger_store.node_rows(uow.conn, 0, lo, hi)
        for position in range(lo, hi):
            row = rows.get(position)
            if row is None:
                yield {"index": position, "missing": True}
                continue
            leaf = (texts.get(position) or "").encode("utf-8")
            digest = leaf_hash(leaf)
            event: Event | None = None
            if digest != stored.get(position):
                try:  # the fast text is not the leaf: let Event.leaf() decide
                    event = ledger_store.event_of_row(row)
                    leaf = event.leaf()
                    digest = leaf_hash(leaf)
                except ValueError as exc:
                    yield {"index": position, "unreadable": str(exc)}
                    continue
            org = row.org_id
            visible = (actor is None or org is None
                       or (int(org) in paths and actor.in_scope(paths[int(org)])))
            item: dict[str, Any] = {"index": position, "leaf_hash": b64(digest)}
            if visible:
                item["leaf"] = leaf.decode("utf-8")
                item["event"] = (event or ledger_store.event_of_row(row)).document()
            yield item


def checkpoint_dict(stored: StoredCheckpoint) -> dict[str, Any]:
    return {"id": stored.id, "size": stored.size, "root": b64(stored.root),
            "created_at": stored.created_at, "note": stored.note}

