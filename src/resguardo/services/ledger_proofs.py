"""What a reader checks against the ledger's signed checkpoints: inclusion proofs of an
entry, consistency proofs between two sizes, witness cosignatures of a checkpoint, and the
event export an auditor rehashes. Signing keys and checkpoints live in `ledger`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from resguardo.domain.errors import Conflict, NotFound, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.domain.visibility import may_see_log_shape
from resguardo.ledger import (
    SIG_TYPE_COSIGNATURE,
    LedgerError,
    add_signatures,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    parse_note,
    tree_root,
    verify_consistency,
    verify_cosignature,
    verify_inclusion,
)
from resguardo.services.ledger import b64, latest, parse_vkey
from resguardo.storage import ledger_store
from resguardo.storage.ledger_store import DbNodeStore, StoredCheckpoint, StoredCosignature
from resguardo.storage.uow import UnitOfWork

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
    against the latest checkpoint; the entry must be one the reader may see, and an entry
    it may not see answers exactly as a missing one (`repo.event`). A reader who may not
    see the log's shape learns no size but the proof's own checkpoint's."""
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
        if not may_see_log_shape(uow.actor):
            raise Conflict(f"entry {index} is not covered by a checkpoint yet; ask again "
                           "after the next one is signed", index=index)
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
    """Consistency proof from size `old` to size `new` (default: the latest checkpoint's);
    for the roles that may see the log's shape."""
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_READ)
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
    """A checkpoint (default: the latest) and its cosignatures (the oversight roles)."""
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_READ)
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

    Entries the reader may not read (``storage.scoped.entries``) come as their leaf hash only,
    which is all a root needs (and, with the entry's secret, says nothing of it). A missing entry comes as {"index": i, "missing": true}.
    """
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_VERIFY)
    size = uow.repo.log_size()
    if not 0 <= start <= stop <= size:
        raise ValidationFailed(f"the range must satisfy 0 <= from <= to <= {size} (the log's "
                               f"size), got {start} and {stop}", field="from")
    for lo in range(start, stop, _EXPORT_BATCH):
        hi = min(stop, lo + _EXPORT_BATCH)
        # which of them the reader may read: the one rule of ``storage.scoped.entries``
        readable = None if uow.actor is None else uow.repo.readable_positions(lo, hi)
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
            visible = readable is None or position in readable
            item: dict[str, Any] = {"index": position, "leaf_hash": b64(digest)}
            if visible:
                item["leaf"] = leaf.decode("utf-8")
                item["event"] = (event or ledger_store.event_of_row(row)).document()
            yield item
