"""Tables of the tamper-evident ledger, on the same metadata as the log they hash.

``merkle_nodes`` holds every complete-subtree hash of the RFC 9162 tree over the
``events`` rows: node (level, idx) covers leaves ``[idx * 2**level, (idx + 1) * 2**level)``
and level 0 holds the leaf hashes, so appends and proofs touch O(log n) rows. The rows
are written in the transaction that appends the event and never change afterwards.

``checkpoints`` keeps every signed checkpoint (the note exactly as signed, with its size
and root copied out for queries); ``cosignatures`` keeps the witnesses' C2SP
tlog-cosignature lines on them, each with the verifier key it was checked against;
``witness_attempts`` records every push of a checkpoint to a witness (C2SP tlog-witness)
and how it ended, so that refusals and silences become alerts and verify findings.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from resguardo.storage.tables import Instant, metadata

merkle_nodes = Table(
    "merkle_nodes", metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    # One B-tree keyed by (level, idx) instead of a rowid table plus an index.
    sqlite_with_rowid=False,
)

checkpoints = Table(
    "checkpoints", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", Instant, nullable=False),
    Index("ix_checkpoints_size", "size"),
)

cosignatures = Table(
    "cosignatures", metadata,
    Column("checkpoint_id", Integer, ForeignKey("checkpoints.id"), primary_key=True),
    Column("witness", String(200), primary_key=True),
    Column("vkey", String(300), nullable=False),
    Column("line", Text, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
)

witness_attempts = Table(
    "witness_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("witness", String(200), nullable=False),
    Column("checkpoint_id", Integer, ForeignKey("checkpoints.id"), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("old_size", BigInteger, nullable=False),
    Column("at", Instant, nullable=False),
    Column("status", Integer, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_witness_attempts_witness", "witness", "id"),
)

#: The ledger's own tables (not part of the replayed projection).
LEDGER_TABLES: tuple[Table, ...] = (merkle_nodes, checkpoints, cosignatures,
                                    witness_attempts)
