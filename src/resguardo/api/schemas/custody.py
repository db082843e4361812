"""Custody actions, ammunition, alerts, pending requests, loss reports, corrections."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from resguardo.api.schemas.common import (
    PRINTABLE,
    Badge,
    Code,
    Count,
    Name,
    Quantity,
    Reason,
    Ref,
    _Encodable,
)
from resguardo.domain.movements import LOCATION, REASON, TEXT, Movement

Calibre = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=PRINTABLE),
                    _Encodable]
Lot = Ref
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                             pattern=r"^[a-z_][a-z0-9_]*$")]
FieldValue = Annotated[str, StringConstraints(max_length=200, pattern=PRINTABLE), _Encodable]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class IssueIn(BaseModel):
    model_config = _examples({"badge": "P1"})

    badge: Badge = Field(description="Badge of the receiving officer (same agency).")


class LocationRefIn(BaseModel):
    model_config = _examples({"location": "ARM1"})

    location: Code = Field(description="Location code of the firearm's agency.")


class MoveIn(BaseModel):
    model_config = _examples({"location": "ARM2", "reason": "Reorganización de armería"})

    location: Code
    reason: Reason | None = None


class RepairIn(BaseModel):
    model_config = _examples({"shop": "Taller SEDENA", "reason": "Percutor roto"})

    shop: Name
    reason: Reason | None = None


class LossIn(BaseModel):
    model_config = _examples({"stolen": True, "occurred_on": "2025-03-02",
                              "place": "Col. Centro", "on_duty": True,
                              "complaint_number": "FED/JAL/123/2025",
                              "complaint_authority": "FGE Jalisco"})

    stolen: bool = Field(description="A theft rather than a loss.")
    occurred_on: date
    place: Name
    on_duty: bool = Field(description="Whether it happened on duty.")
    complaint_number: Name = Field(description="Complaint (denuncia) number.")
    complaint_authority: Name = Field(
        description="Authority the complaint was filed with, e.g. FGE Jalisco.")
    notified_at: datetime | None = Field(
        None, description="When the military authority was notified, if it already was.")
    reason: Reason | None = None


class NotificationIn(BaseModel):
    model_config = _examples({"reference": "OF-2025-881"})

    notified_at: datetime | None = Field(None, description="Default: now.")
    reference: Name | None = None


class RecoverIn(BaseModel):
    model_config = _examples({"held_by": "FGE Jalisco", "circumstances": "Asegurada en cateo"})

    held_by: Name = Field(description="The authority holding it as evidence.")
    circumstances: Reason


class ReleaseIn(BaseModel):
    model_config = _examples({"location": "ARM1", "reference": "Oficio FGE/JAL/LIB/221/2025"})

    location: Code
    reference: Name = Field(description="The release document (oficio de liberación).")


class NegligenceIn(BaseModel):
    model_config = _examples({"negligent": True, "reason": "Dejada sin custodia"})

    negligent: bool
    reason: Reason


class LicenceAttachIn(BaseModel):
    model_config = _examples({"licence": "LOC-JAL-0042",
                              "reason": "Compra OC-2026-014 manifestada a la 15a Zona Militar"})

    licence: Name | None = Field(
        description="Number of a collective licence covering the agency (an alta); null "
                    "takes it off its licence (a baja).")
    reason: Reason


class ReasonIn(BaseModel):
    model_config = _examples({"reason": "Cañón fracturado"})

    reason: Reason


class TransferIn(BaseModel):
    model_config = _examples({"to_agency": "MUN2", "reason": "Reasignación"})

    to_agency: Code = Field(description="Code of the receiving agency.")
    reason: Reason


class CorrectionIn(BaseModel):
    model_config = _examples({"changes": {"model": "G17"}, "reason": "Error de captura"})

    changes: dict[FieldName, FieldValue] = Field(min_length=1, max_length=20)
    reason: Reason


class AmmoReceiveIn(BaseModel):
    model_config = _examples({"agency": "MUN1", "location": "ARM1", "calibre": "9x19mm",
                              "lot": "L-2291", "quantity": 500, "source": "SEDENA"})

    agency: Code | None = Field(None, description="Agency code (default: your own agency).")
    location: Code
    calibre: Calibre
    lot: Lot
    quantity: Quantity
    source: Name | None = None


class AmmoIssueIn(BaseModel):
    model_config = _examples({"agency": "MUN1", "location": "ARM1", "badge": "P1",
                              "calibre": "9x19mm", "lot": "L-2291", "quantity": 30})

    agency: Code | None = Field(None, description="Agency code (default: your own agency).")
    location: Code
    badge: Badge
    calibre: Calibre
    lot: Lot
    quantity: Quantity


class AmmoReturnIn(BaseModel):
    model_config = _examples({"agency": "MUN1", "location": "ARM1", "badge": "P1",
                              "calibre": "9x19mm", "lot": "L-2291", "returned": 27,
                              "consumed": 3, "justification": "training"})

    agency: Code | None = Field(None, description="Agency code (default: your own agency).")
    location: Code
    badge: Badge
    calibre: Calibre
    lot: Lot
    returned: Count
    consumed: Count = 0
    justification: Name | None = Field(
        None, description="training, duty_discharge or damaged (needed when consumed > 0).")
    incident_number: Ref | None = None


class AmmoConsumeIn(BaseModel):
    model_config = _examples({"agency": "MUN1", "location": "ARM1", "calibre": "9x19mm",
                              "lot": "L-2291", "quantity": 100, "justification": "training"})

    agency: Code | None = Field(None, description="Agency code (default: your own agency).")
    location: Code
    calibre: Calibre
    lot: Lot
    quantity: Quantity
    justification: Name
    incident_number: Ref | None = None


class AmmoStockOut(BaseModel):
    agency: str
    location: str
    calibre: str
    lot: str
    quantity: int


class AmmoHeldOut(BaseModel):
    agency: str
    badge: str
    calibre: str
    lot: str
    quantity: int


class AmmoBalanceOut(BaseModel):
    stock: list[AmmoStockOut]
    held: list[AmmoHeldOut]


class AlertOut(BaseModel):
    key: str = Field(description="Stable key; acknowledge with it.")
    kind: str
    agency: str
    subject: str
    message: str
    since: datetime
    acknowledged: bool


class AckIn(BaseModel):
    model_config = _examples({"note": "Oficio enviado a la zona militar"})

    note: Reason


class RequestOut(BaseModel):
    id: int
    kind: str
    firearm_id: int
    serial: str
    make: str
    agency: str
    to_agency: str | None
    requested_by: str | None
    requested_at: str
    reason: str | None
    state: str
    decided_by: str | None
    decided_at: str | None


class LossReportOut(BaseModel):
    id: int
    firearm_id: int
    serial: str
    make: str
    agency: str
    stolen: bool
    occurred_on: date
    place: str
    on_duty: bool
    complaint_number: str | None
    reported_at: str
    notified_at: str | None
    notification_ref: str | None
    recovered_at: str | None


def movement_body(movement: Movement) -> type[BaseModel]:
    """The request body of a movement of ``domain.movements``: one field per field it takes
    (a location code, a line of text, a reason), its example from the table."""
    fields: dict[str, Any] = {}
    example: dict[str, str] = {}
    for given in movement.inputs:
        kind: Any = {LOCATION: Code, TEXT: Name, REASON: Reason}[given.kind]
        about = given.about or given.label.get("en") or given.name.replace("_", " ")
        if given.kind == LOCATION:
            about = f"{about}: a location code of the firearm's agency"
        about = about[:1].upper() + about[1:] + "."
        if given.required:
            fields[given.name] = (kind, Field(description=about))
        else:
            fields[given.name] = (kind | None, Field(None, description=about))
        example[given.name] = given.example
    name = "".join(part.capitalize() for part in movement.name.split("_")) + "ActionIn"
    return create_model(name, __config__=_examples(example), **fields)
