"""A recorded event: one row of the log, and its canonical document (the ledger leaf)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: Event types that only record reads or sign-ins; they change no projection.
AUDIT_PREFIXES = ("access.", "auth.", "user.", "token.", "import.", "export.", "ledger.")


def canonical(obj: Any) -> str:
    """Canonical JSON text (RFC 8785 for the str/int/bool/null/list/dict data events hold)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


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
        return canonical(self.document()).encode("utf-8")
