"""Organizations, locations, licences, officers and firearms: what comes in and goes out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from resguardo.api.schemas.common import (
    PRINTABLE,
    Badge,
    Code,
    Name,
    Ref,
    Serial,
    Strict,
    _Encodable,
)
from resguardo.domain.codes import FirearmKind, LocationKind, OfficerStatus, OrgKind

Make = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=PRINTABLE),
                 _Encodable]
Calibre = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=PRINTABLE),
                    _Encodable]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


# --- organizations ---------------------------------------------------------------------------

_ZONE = ("IANA time zone its documents print times in and its days are decided on, one of "
         "Mexico's (America/Hermosillo: Sonora keeps UTC-7 all year); without one, its "
         "parent's.")
TimeZone = Annotated[str, StringConstraints(min_length=3, max_length=64,
                                            pattern=r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)+$")]
Address = Annotated[str, StringConstraints(min_length=1, max_length=400, pattern=PRINTABLE),
                    _Encodable]


class OrganizationIn(Strict):
    model_config = _examples({"code": "MUN9", "name": "Policía Municipal 9", "kind": "agency",
                              "parent": "SSP", "time_zone": "America/Hermosillo",
                              "city": "Hermosillo, Sonora",
                              "address": "Blvd. Luis Encinas 100, Col. Centro"})

    code: Code
    name: Name
    kind: OrgKind
    parent: Code = Field(description="Code of the parent organization.")
    time_zone: TimeZone | None = Field(None, description=_ZONE)
    city: Name | None = Field(None, description="City (and state) of its armory.")
    address: Address | None = Field(None, description="Street address of its armory.")


class PlaceIn(Strict):
    model_config = _examples({"time_zone": "America/Hermosillo", "city": "Hermosillo, Sonora",
                              "address": "Blvd. Luis Encinas 100, Col. Centro"})

    time_zone: TimeZone | None = Field(None, description=_ZONE)
    city: Name | None = Field(None, description="City (and state) of its armory.")
    address: Address | None = Field(None, description="Street address of its armory.")


class OrganizationOut(BaseModel):
    id: int
    code: str
    name: str
    kind: OrgKind
    parent_id: int | None
    parent: str | None = Field(description="Code of the parent organization.")
    time_zone: str | None = Field(None, description="The zone its documents print times in "
                                                    "(its own, or inherited).")
    city: str | None = None
    address: str | None = None


# --- locations -----------------------------------------------------------------------------------

class LocationIn(Strict):
    model_config = _examples({"agency": "MUN1", "code": "VAULT9", "name": "Bóveda 9",
                              "kind": "vault"})

    agency: Code | None = Field(None, description="Agency code (default: your own agency).")
    code: Code
    name: Name
    kind: LocationKind = LocationKind.ARMORY


class LocationOut(BaseModel):
    id: int
    agency_id: int
    agency: str
    code: str
    name: str
    kind: str


# --- licences ----------------------------------------------------------------------------------------

class LicenceIn(Strict):
    model_config = _examples({"number": "LOC-999", "holder": "SSP", "agencies": ["MUN1"],
                              "valid_from": "2025-01-01", "valid_to": "2027-12-31"})

    number: Name
    holder: Code = Field(description="Organization holding the licence.")
    agencies: list[Code] = Field(min_length=1, max_length=200,
                                 description="Agencies the licence covers.")
    valid_from: date
    valid_to: date


class LicenceOut(BaseModel):
    id: int
    number: str
    holder_id: int
    holder: str
    valid_from: date
    valid_to: date
    agencies: list[str]


# --- officers ------------------------------------------------------------------------------------------

class OfficerIn(Strict):
    model_config = _examples({"agency": "MUN1", "badge": "P99", "name": "Iris Vega",
                              "credential_expiry": "2030-01-01",
                              "qualification_expiry": "2030-01-01"})

    agency: Code | None = Field(None, description="Agency code (default: your own agency).")
    badge: Badge
    name: Name
    cuip: Badge | None = None
    credential_folio: Ref | None = None
    credential_expiry: date | None = None
    qualification_expiry: date | None = None
    licence: Name | None = Field(None, description="Number of the licence covering the officer.")


class OfficerOut(BaseModel):
    id: int
    agency_id: int
    agency: str
    badge: str
    name: str
    cuip: str | None
    status: OfficerStatus
    credential_folio: str | None
    credential_expiry: date | None
    qualification_expiry: date | None
    licence_id: int | None


class OfficerReasonIn(Strict):
    model_config = _examples({"reason": "Procedimiento administrativo 14/2025"})

    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=PRINTABLE),
                      _Encodable]


class RenewIn(Strict):
    model_config = _examples({"credential_folio": "CRED-2031", "credential_expiry": "2031-06-30",
                              "qualification_expiry": "2031-06-30"})

    credential_folio: Ref | None = None
    credential_expiry: date | None = None
    qualification_expiry: date | None = None
    #: the renewed credential's issue date; its expiry may not precede it
    credential_issued: date | None = None


class OverrideIn(Strict):
    model_config = _examples({"reason": "Requalification booked; operation Tormenta",
                              "hours": 12})

    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=PRINTABLE),
                      _Encodable]
    hours: float = Field(12.0, gt=0, le=72, description="How long the override lasts.")


# --- firearms ------------------------------------------------------------------------------------------------

class FirearmIn(Strict):
    model_config = _examples({"agency": "MUN1", "location": "ARM1", "serial": "GLK-Z900",
                              "make": "Glock", "model": "19", "calibre": "9x19mm",
                              "kind": "pistol", "folio": "F-0099"})

    agency: Code | None = Field(None, description="Agency code (default: your own agency).")
    location: Code = Field(description="Location code where it is stored.")
    serial: Serial
    make: Make
    calibre: Calibre = Field(description=(
        "A calibre of the list (`resguardo calibres`: 9x19mm, .380 ACP, .38 Special, "
        ".40 S&W, .45 ACP, .22 LR, 5.56x45mm, .223 Rem, 7.62x39mm, 7.62x51mm, 12 ga, ...) or "
        "one of its spellings (`9 mm Luger`, `9mm Parabellum`); stored as its canonical name. "
        "An unknown calibre is refused (422, field calibre) with the closest names in "
        "`details.closest`."))
    kind: FirearmKind
    model: Make | None = None
    folio: Ref | None = None
    barrel_serial: Serial | None = None
    ballistic_id: Ref | None = None
    licence: Name | None = Field(None, description="Number of the licence covering it.")
    acquired_on: date | None = None
    supplier: Name | None = None
    purchase_ref: Ref | None = None


class FirearmOut(BaseModel):
    id: int
    serial: str
    make: str
    model: str | None
    calibre: str
    kind: FirearmKind
    status: str
    agency_id: int
    agency: str
    location_id: int | None
    location: str | None = Field(description="Location code (when in storage).")
    custodian_id: int | None
    custodian: str | None = Field(description="Badge of the officer holding it.")
    folio: str | None
    barrel_serial: str | None
    ballistic_id: str | None
    licence_id: int | None
    acquired_on: date | None
    supplier: str | None
    purchase_ref: str | None
    status_since: datetime | None
    record_officer_id: int | None = Field(None, description="The officer whose weapon of "
                                          "record (arma de cargo) it is; null for a pool weapon.")
    officer_of_record: str | None = Field(None, description="That officer's badge.")


class CorrectionOut(BaseModel):
    position: int
    at: str
    actor: str
    reason: str | None
    changes: dict[str, Any]
    previous: dict[str, Any]


class HistoryEntryOut(BaseModel):
    position: int
    at: str
    event: str
    actor: str
    reason: str | None
    officer: str | None
    location: str | None
    to_agency: str | None = None
    place: str | None = None
    complaint_number: str | None = None
    occurred_on: str | None = None
    shop: str | None = None
    notified_at: str | None = None
    serial: str | None = None
    serial_as_typed: str | None = None
    make: str | None = None
    model: str | None = None
    #: "armorer" on a return the armorer received at the shift desk without the officer's PIN
    received_by: str | None = None
    corrections: list[CorrectionOut] | None = None
    as_recorded: dict[str, Any] | None = None


class CustodianOut(BaseModel):
    badge: str
    name: str


class FirearmHistoryOut(BaseModel):
    id: int
    serial: str
    serial_as_typed: str | None = Field(
        None, description="The serial as it was typed, when it differs from the form it is "
                          "recorded and shown in (upper case, no spaces).")
    make: str
    agency: str | None
    status: str
    location: str | None
    custodian: CustodianOut | None
    since: datetime | None
    history: list[HistoryEntryOut]
    older: bool = Field(False, description="With `newest`: whether older entries exist "
                                           "(ask again with `skip` increased by `newest`).")


# --- weapons of record and the credential ----------------------------------------------


class RecordAssignIn(Strict):
    model_config = _examples({"serial": "ABC123", "reason": "Arma de cargo por adscripción"})
    serial: str = Field(min_length=1, max_length=40)
    make: str | None = Field(None, max_length=60,
                             description="Make, when several makes share the serial.")
    reason: str | None = Field(None, max_length=500)


class RecordWithdrawIn(Strict):
    model_config = _examples({"serial": "ABC123", "reason": "Cambio de adscripción"})
    serial: str = Field(min_length=1, max_length=40)
    make: str | None = Field(None, max_length=60)
    reason: str = Field(min_length=1, max_length=500)


class CredentialOut(BaseModel):
    """The officer's signed credential statement and the QR text that carries it."""

    badge: str
    name: str
    credential_folio: str | None
    credential_expiry: date | None
    weapons_of_record: list[FirearmOut]
    issued_now: list[FirearmOut] = Field(description="Weapons issued to the officer now "
                                         "(pool weapons and weapons of record alike).")
    statement: dict[str, Any] = Field(description="What the QR says (signed): short keys, "
                                      "see docs/credential.md.")
    payload: str = Field(description="The QR text, RGC1.<statement>.<signature> (base64url); "
                         "tools/verify_credential.py checks it offline.")
    vkey: str = Field(description="The public credential key that verifies it.")
