"""A recorded event: one row of the log, and its canonical document (the ledger leaf)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resguardo.ledger import canonical_json

#: Event types that only record reads or sign-ins; they change no projection.
AUDIT_PREFIXES = ("access.", "auth.", "user.", "token.", "import.", "export.", "ledger.")


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

    def document(self) -> dict[str, Any]:
        """The event as the ledger hashes it (every stored column, payload as an object)."""
        return {
            "position": self.position, "type": self.type, "at": self.at,
            "actor_id": self.actor_id, "actor": self.actor, "org_id": self.org_id,
            "subject_type": self.subject_type, "subject_id": self.subject_id,
            "corrects": self.corrects, "reason": self.reason, "request_id": self.request_id,
            "payload": self.payload,
        }

    def leaf(self) -> bytes:
        """The ledger leaf: RFC 8785 canonical JSON of `document()`."""
        return canonical_json(self.document())
