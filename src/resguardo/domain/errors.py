"""One error model for the whole product.

Every refusal is a ``DomainError`` subclass with a stable ``code`` (never
renamed once released) and the HTTP status the API answers with. The CLI maps
any of them to exit code 1 and prints the message on one line.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused operation, with a stable machine code and a human message."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(DomainError):
    """Input that names a field and why it is not acceptable."""

    code = "validation_failed"
    status = 422


class NotFound(DomainError):
    """The object does not exist, or is outside the caller's scope (same answer)."""

    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    """The caller's role may not perform this action."""

    code = "permission_denied"
    status = 403


class Conflict(DomainError):
    """The operation clashes with recorded state (duplicate, already done)."""

    code = "conflict"
    status = 409


class DuplicateSerial(Conflict):
    code = "duplicate_serial"


class InvalidTransition(DomainError):
    """The custody state machine does not allow this change from the current status."""

    code = "invalid_transition"
    status = 409


class OfficerNotEligible(DomainError):
    """The officer may not receive a weapon (status, credential, qualification)."""

    code = "officer_not_eligible"
    status = 409


class OfficerHoldsWeapons(DomainError):
    code = "officer_holds_weapons"
    status = 409


class InsufficientAmmunition(DomainError):
    code = "insufficient_ammunition"
    status = 409


class SeparationOfDuties(DomainError):
    """The same person may not both report and approve."""

    code = "separation_of_duties"
    status = 403


class Lockdown(DomainError):
    """An inspection is open at the agency: custody movements are frozen."""

    code = "lockdown"
    status = 423


class ImportsBusy(DomainError):
    """Every import slot of the server is taken and its queue is full, or the wait was
    too long (``services.import_gate``)."""

    code = "imports_busy"
    status = 429


class AuthenticationFailed(DomainError):
    code = "authentication_failed"
    status = 401


class SigningUnavailable(DomainError):
    """The deployment cannot sign checkpoints for its log (no key, another key, the signer
    unreachable): it refuses writes until it can, and says why; reads go on."""

    code = "signing_unavailable"
    status = 503


def all_error_classes() -> list[type[DomainError]]:
    """Every error class, for documentation and the OpenAPI document."""
    seen: list[type[DomainError]] = []
    stack: list[type[DomainError]] = [DomainError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen
