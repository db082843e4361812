"""Inspections and the ledger: what comes in and goes out."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from resguardo.api.schemas.common import PRINTABLE, Code, Name, Reason, Ref, Serial, _Encodable
from resguardo.domain.inspections import Resolution

PersonLine = Annotated[str, StringConstraints(min_length=1, max_length=620, pattern=PRINTABLE),
                       _Encodable]
PersonText = Annotated[str, StringConstraints(max_length=200, pattern=PRINTABLE), _Encodable]


class PersonIn(BaseModel):
    """A person present at a revista, as the acta names them."""

    model_config = ConfigDict(extra="forbid")

    name: PersonText = Field(description="Full name.")
    post: PersonText = Field(description="Post (cargo).")
    identification: PersonText = Field(
        description="The identification shown (INE IDMEX..., Credencial SEDENA A-...).")


#: A person present: an object, or the line ``name | post | identification``.
Person = PersonIn | PersonLine


def people_in(people: list[Person]) -> list[str | dict[str, Any]]:
    """The people as the service takes them."""
    return [p.model_dump() if isinstance(p, PersonIn) else p for p in people]
Calibre = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=PRINTABLE),
                    _Encodable]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


# --- inspections ------------------------------------------------------------------------

class InspectionIn(BaseModel):
    model_config = _examples({"agency": "MUN1", "planned_on": "2026-06-01", "sealed": False,
                              "locations": ["ARM1"],
                              "people": [{"name": "Cap. Juan Ruiz Soto",
                                          "post": "Inspector de la 15/a. Zona Militar",
                                          "identification": "Credencial SEDENA A-123456"}]})

    agency: Code = Field(description="The agency to inspect.")
    planned_on: date
    sealed: bool = Field(False, description="A surprise inspection: hidden from the agency's "
                                            "own staff until it opens; every read recorded.")
    locations: list[Code] = Field(default_factory=list, max_length=200,
                                  description="Locations in scope (empty: all).")
    people: list[Person] = Field(default_factory=list, max_length=50)


class OpenIn(BaseModel):
    model_config = _examples({"people": [
        {"name": "Tte. Luis Soto", "post": "Inspector de la 15/a. Zona Militar",
         "identification": "Credencial SEDENA A-654321"},
        "Lic. Marta Díaz Peña | Directora jurídica municipal | INE IDMEX1234567890"]})

    people: list[Person] = Field(default_factory=list, max_length=50)


class ScanIn(BaseModel):
    model_config = _examples({"serial": "GLK-A100", "location": "ARM1", "source": "scanner"})

    serial: Serial = Field(description="As read from the weapon.")
    location: Code | None = None
    holder: Ref | None = Field(None, description="Badge of the officer holding it, if any.")
    make: Name | None = None
    note: Name | None = None
    source: Literal["typed", "scanner", "camera", "file"] = "typed"


class RoundsIn(BaseModel):
    model_config = _examples({"location": "ARM1", "calibre": "9x19mm", "lot": "L-2291",
                              "quantity": 4800})

    location: Code
    calibre: Calibre
    lot: Ref
    quantity: int = Field(ge=0, le=1_000_000_000)


class RevealIn(BaseModel):
    model_config = _examples({"reason": "Discrepancia en la bóveda 2"})

    reason: Reason


def _day(value: Any) -> Any:
    """A day only as ``YYYY-MM-DD`` (a time of day with no offset is no day)."""
    if isinstance(value, str) and len(value.strip()) != 10:
        raise ValueError("a day is YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_day)]
"""A calendar day, written YYYY-MM-DD."""


class CloseIn(BaseModel):
    model_config = _examples({"lang": "es", "present_by": "2026-12-08T18:00:00Z"})

    lang: Literal["es", "en"] = Field("es", description="Language of the acta.")
    present_by: AwareDatetime | Day | None = Field(
        None, description="Deadline for weapons recorded as issued (officers on duty) to be "
                          "presented: an instant with its offset, or a day (YYYY-MM-DD: the end "
                          "of that day in the inspected agency's time zone); default 72 hours "
                          "after closing. Then they count as missing.")


class AnswerIn(BaseModel):
    model_config = _examples({"resolution": "found", "reason": "Estaba en el taller",
                              "evidence": "Orden de reparación TR-2291"})

    resolution: Resolution
    reason: Reason
    evidence: str = Field(min_length=3, max_length=2000,
                          description="The evidence: a complaint number, a document, where "
                                      "the weapon is.")


class AnswerManyIn(AnswerIn):
    model_config = _examples({"findings": [3, 7], "resolution": "reported_stolen",
                              "reason": "Robadas en servicio",
                              "evidence": "Denuncia FGE/JAL/123/2026"})

    findings: list[int] = Field(min_length=1, max_length=1000,
                                description="Finding numbers answered alike.")


class ReviewIn(BaseModel):
    model_config = _examples({"findings": [3], "accept": False,
                              "note": "Falta copia de la denuncia"})

    findings: list[int] = Field(min_length=1, max_length=1000)
    accept: bool = Field(description="true closes the findings; false reopens them.")
    note: str = Field("", max_length=2000, description="Why (required to reopen).")


class VerifyIn(BaseModel):
    model_config = _examples({"serial": "GLK-90001", "holder": "GDL-0142"})

    serial: str = Field(min_length=1, max_length=60)
    holder: str | None = Field(None, max_length=32)
    location: str | None = Field(None, max_length=64)


class FindingsPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[dict[str, Any]]


class DueOut(BaseModel):
    agency: str
    name: str
    last_closed: str | None
    due_on: date
    status: Literal["planned", "overdue", "due", "ok"]
    planned: list[int]


class InspectionSummaryOut(BaseModel):
    id: int
    agency: str
    state: str
    sealed: bool
    planned_on: date
    locations: list[str]


class ScanOut(BaseModel):
    serial: str
    location: str | None
    holder: str | None
    at: str


class BlindCountOut(BaseModel):
    """While open: how many scans and weapons, never what is expected."""

    inspection: int
    state: str
    scans: int
    weapons_seen: int
    last: list[ScanOut]


class InspectionOut(BaseModel):
    id: int
    agency: str
    authority: str
    state: str
    sealed: bool
    planned_on: date
    locations: list[str]
    people: list[PersonIn]
    opened_at: str | None
    closed_at: str | None
    present_by: str | None = None
    refused_movements: int | None = Field(
        None, description="Attempts the freeze refused (not shown to the agency's own staff).")
    revealed: bool
    frozen: bool = Field(False, description="Open: the agency's registry is frozen.")
    count: BlindCountOut | None = Field(
        None, description="The running count, for the inspectors (never the agency's staff).")
    record: dict[str, Any] | None = Field(
        None, description="Changes by the agency since the plan, losses reported and refused "
                          "attempts (for the overseers).")
    open_findings: dict[str, dict[str, int]] | None = None
    summary: dict[str, Any] | None = None
    acta_sha256: str | None = None
    findings: list[dict[str, Any]] | None = None


class ExpectedOut(BaseModel):
    serial: str
    make: str
    status: str
    location: str | None
    custodian: str | None


class RevealOut(BaseModel):
    expected: list[ExpectedOut]


class ClosedOut(BaseModel):
    inspection: int
    entry: int = Field(description="The log entry that closed it (with the acta's hash).")
    acta_sha256: str
    summary: dict[str, Any]
    findings: list[dict[str, Any]]
    present_by: str
    authority: str = Field(description="The overseeing authority that conducted it.")
    log_size: int = Field(description="The log's size just before the closing entry, as the "
                                      "acta prints it.")
    log_root: str = Field(description="The log's root at that size (base64), as printed.")
    witness: dict[str, Any] | None = Field(
        None, description="The checkpoint covering the closing and whether the overseer's "
                          "witness cosigned it (checkpoint_id, size, root, witness, cosigned, "
                          "detail).")


# --- ledger ---------------------------------------------------------------------------------

class CosignatureOut(BaseModel):
    witness: str
    vkey: str
    timestamp: int
    line: str


class CheckpointOut(BaseModel):
    checkpoint_id: int
    size: int
    root: str = Field(description="Base64 Merkle root (RFC 9162).")
    note: str = Field(description="The C2SP signed note, with any witness cosignatures.")
    cosignatures: list[CosignatureOut]


class SignedCheckpointOut(BaseModel):
    id: int
    size: int
    root: str
    created_at: str
    note: str


class InclusionOut(BaseModel):
    index: int
    size: int
    leaf_hash: str
    proof: list[str]
    root: str
    checkpoint_id: int
    checkpoint: str
    leaf: str = Field(description="The entry's canonical JSON (RFC 8785), the hashed leaf.")
    event: dict[str, Any]


class ConsistencyOut(BaseModel):
    from_: int = Field(alias="from")
    to: int
    proof: list[str]
    root1: str
    root2: str

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class CosignatureIn(BaseModel):
    model_config = _examples({"line": "— witness.example/w1 AAAA...",
                              "witness_vkey": "witness.example/w1+abcd1234+BAAA..."})

    line: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=PRINTABLE)]
    witness_vkey: Annotated[str, StringConstraints(min_length=1, max_length=400,
                                                   pattern=PRINTABLE)]


class LedgerEntryOut(BaseModel):
    index: int
    leaf_hash: str | None = None
    leaf: str | None = None
    event: dict[str, Any] | None = None
    missing: bool | None = None
    unreadable: str | None = None
