"""One error model for the whole product.

Every refusal is a ``DomainError`` subclass with a stable ``code`` (never
renamed once released) and the HTTP status the API answers with. The CLI maps
any of them to exit code 1 and prints the message on one line.

A refusal built around a name or a number is raised with a *template*: an English
sentence with named ``%(name)s`` placeholders, marked ``T_`` so the web catalogue
extracts it, and its parameters as keyword arguments (they are also its
``details``)::

    raise InvalidTransition(T_("firearm %(serial)s is already at %(location)s"),
                            serial=firearm.serial, location=location.code)

``message`` is the English sentence rendered (what the CLI prints and the API's JSON
says); every surface that speaks another language translates ``template`` from its
catalogue and fills in ``params`` -- never the English text. A fixed sentence
(``NotFound("no such firearm")``) is a template with no parameters.
"""

from __future__ import annotations

from typing import Any


class Template(str):
    """An English sentence with named ``%(name)s`` placeholders (see ``T_``)."""

    __slots__ = ()


def T_(template: str) -> Template:
    """Mark a refusal's template for extraction into the catalogue; its placeholders are
    filled from the error's keyword arguments."""
    return Template(template)


class Phrase(str):
    """A sentence rendered from a template and its parameters that keeps both, so a list
    of reasons (``OfficerNotEligible.details["problems"]``) stays a list of English
    strings for the API while each surface can translate them from the catalogue."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Phrase:
        text = super().__new__(cls, render(template, params))
        text.template = str(template)
        text.params = params
        return text

    def __reduce__(self) -> Any:  # copy and pickle keep the template
        return (_phrase, (self.template, self.params))


def _phrase(template: str, params: dict[str, Any]) -> Phrase:
    return Phrase(template, **params)


def shown(value: Any) -> Any:
    """A parameter as a sentence shows it: a list as its items separated by commas."""
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return value


def render(template: str, params: dict[str, Any]) -> str:
    """The English sentence: ``template`` with its placeholders filled from ``params``."""
    return template % {k: shown(v) for k, v in params.items()} if params else template


class DomainError(Exception):
    """A refused operation, with a stable machine code and a human message.

    ``template`` is the sentence before its parameters were filled in and ``params`` the
    values (empty for a fixed sentence or a message not raised with ``T_``)."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        #: raised with ``T_``: ``template`` has placeholders filled from ``params``
        self.templated = isinstance(message, Template)
        if self.templated:
            self.template: str = str(message)
            self.params: dict[str, Any] = details
            message = render(message, details)
        else:
            self.template = message
            self.params = {}
        super().__init__(message)
        self.message = str(message)
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
