"""A recorded event: one row of the log, and its canonical document (the ledger leaf)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from resguardo.ledger import canonical_json
from resguardo.ledger.leaf import LEAF

#: Event types that only record reads or sign-ins; they change no projection.
AUDIT_PREFIXES = ("access.", "auth.", "user.", "token.", "import.", "export.", "ledger.")


#: Bytes of randomness in an entry's secret (written as hex: twice as many characters).
SECRET_BYTES = 16


def new_secret() -> str:
    """A fresh entry secret: 128 random bits from the operating system, as hex."""
    return secrets.token_hex(SECRET_BYTES)


def new_secrets(count: int) -> Iterator[str]:
    """``count`` fresh entry secrets, each as ``new_secret`` makes it (128 random bits from
    the operating system, as hex), drawn from the operating system in one call (a batch of
    entries: one system call instead of one per entry)."""
    width = 2 * SECRET_BYTES
    text = secrets.token_hex(SECRET_BYTES * count)
    return (text[i:i + width] for i in range(0, width * count, width))


def canonical(obj: Any) -> str:
    """RFC 8785 canonical JSON text: how a payload is stored, byte for byte as in the leaf."""
    return canonical_json(obj).decode("utf-8")


@dataclass(frozen=True, slots=True)
class Event:
    position: int
    type: str
    at: str
    actor_id: int | None
    actor: str
    org_id: int | None
    subject_type: str | None
    subject_id: int | None
    corrects: int | None
    reason: str | None
    request_id: str | None
    payload: dict = field(default_factory=dict)
    secret: str | None = None
    """Random, >= 128 bits, drawn when the entry is written; committed in the leaf so that
    the leaf hash says nothing of an entry one may not read. None for entries written
    before secrets existed: their leaf has no ``secret`` member, as it always had."""

    def document(self) -> dict[str, Any]:
        """The event as the ledger hashes it: the members of ``ledger.leaf.LEAF`` (every
        stored column, payload as an object; ``secret`` only when the entry has one)."""
        return LEAF.document(self)

    def leaf(self) -> bytes:
        """The ledger leaf: RFC 8785 canonical JSON of `document()` (the definition the
        fast writers of ``ledger.leaf`` are checked against)."""
        return canonical_json(self.document())
