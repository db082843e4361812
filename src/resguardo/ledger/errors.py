"""Errors raised by the ledger library; all are ValueErrors so callers may catch either."""

from __future__ import annotations


class LedgerError(ValueError):
    """Base class for every error the ledger library raises on bad input or evidence."""


class ProofError(LedgerError):
    """An inclusion or consistency proof does not verify against the given roots and sizes."""


class NoteError(LedgerError):
    """A signed note is malformed, or carries no valid signature from a known key."""


class CheckpointError(NoteError):
    """A note's text is not a well-formed C2SP tlog-checkpoint body."""


class MissingNodeError(LedgerError, LookupError):
    """A node store lacks a node the requested tree size needs; the store is incomplete."""
