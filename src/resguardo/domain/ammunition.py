"""Ammunition is counted, not serialized: rounds by calibre and lot per location.

Rounds go out with an officer and come back; what does not come back must be
justified (training, or a duty discharge with its incident number). No
balance may go negative.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from resguardo.domain.custody import covering_override
from resguardo.domain.entities import Location, NewEvent, Officer, Override
from resguardo.domain.errors import T_, InsufficientAmmunition, ValidationFailed


class Justification(StrEnum):
    TRAINING = "training"
    DUTY_DISCHARGE = "duty_discharge"
    DAMAGED = "damaged"


def _lot(calibre: str, lot: str) -> tuple[str, str]:
    calibre, lot = (calibre or "").strip(), (lot or "").strip()
    if not calibre:
        raise ValidationFailed(T_("%(field)s is required"), field="calibre")
    if not lot:
        raise ValidationFailed(T_("%(field)s is required"), field="lot")
    return calibre, lot


def _quantity(quantity: int, field: str = "quantity", *, allow_zero: bool = False) -> int:
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise ValidationFailed(T_("%(field)s must be a positive number of rounds"), field=field)
    if quantity > 10_000_000:
        raise ValidationFailed(T_("%(field)s is implausibly large"), field=field)
    return quantity


def receive(location: Location, calibre: str, lot: str, quantity: int, source: str | None) -> NewEvent:
    calibre, lot = _lot(calibre, lot)
    return NewEvent(
        "ammunition.received",
        {"location_id": location.id, "calibre": calibre, "lot": lot,
         "quantity": _quantity(quantity), "source": (source or "").strip() or None},
        org_id=location.agency_id, subject_type="location", subject_id=location.id,
    )


def issue(location: Location, officer: Officer, calibre: str, lot: str, quantity: int,
          balance: int, now: datetime, override: Override | None = None, *,
          today: date) -> NewEvent:
    """Issue rounds from a location to an officer who may hold a weapon ``today`` (the
    agency's calendar day at ``now``), or whom a chief's override in force covers (the same
    rule as a weapon: ``custody``)."""
    calibre, lot = _lot(calibre, lot)
    _quantity(quantity)
    if officer.agency_id != location.agency_id:
        raise ValidationFailed("officer belongs to another agency", field="officer")
    override_id = covering_override(officer, now, override, f"{quantity} rounds of {calibre}",
                                    today=today, single_use=False)
    if quantity > balance:
        raise InsufficientAmmunition(
            T_("only %(balance)s rounds of %(calibre)s lot %(lot)s at %(location)s; "
               "cannot issue %(quantity)s"),
            balance=balance, calibre=calibre, lot=lot, location=location.code, quantity=quantity)
    payload = {"location_id": location.id, "officer_id": officer.id, "calibre": calibre,
               "lot": lot, "quantity": quantity}
    if override_id is not None:
        payload["override_id"] = override_id
    return NewEvent(
        "ammunition.issued", payload,
        org_id=location.agency_id, subject_type="officer", subject_id=officer.id,
    )


def give_back(location: Location, officer: Officer, calibre: str, lot: str, returned: int,
              consumed: int, outstanding: int, justification: str | None,
              incident_number: str | None) -> NewEvent:
    """An officer hands rounds back; any consumed rounds need a justification."""
    calibre, lot = _lot(calibre, lot)
    _quantity(returned, "returned", allow_zero=True)
    _quantity(consumed, "consumed", allow_zero=True)
    if returned + consumed == 0:
        raise ValidationFailed("nothing returned or consumed", field="returned")
    if returned + consumed > outstanding:
        raise InsufficientAmmunition(
            T_("officer %(badge)s holds %(outstanding)s rounds of %(calibre)s lot %(lot)s; "
               "cannot account for %(quantity)s"), outstanding=outstanding,
            badge=officer.badge, calibre=calibre, lot=lot, quantity=returned + consumed)
    payload = {"location_id": location.id, "officer_id": officer.id, "calibre": calibre,
               "lot": lot, "returned": returned, "consumed": consumed}
    if consumed:
        payload.update(_justify(justification, incident_number))
    return NewEvent("ammunition.returned", payload, org_id=location.agency_id,
                    subject_type="officer", subject_id=officer.id)


def consume(location: Location, calibre: str, lot: str, quantity: int, balance: int,
            justification: str | None, incident_number: str | None) -> NewEvent:
    """Rounds used from stock (range training, damaged) with their justification."""
    calibre, lot = _lot(calibre, lot)
    _quantity(quantity)
    if quantity > balance:
        raise InsufficientAmmunition(
            T_("only %(balance)s rounds of %(calibre)s lot %(lot)s at %(location)s; "
               "cannot consume %(quantity)s"),
            balance=balance, calibre=calibre, lot=lot, location=location.code, quantity=quantity)
    payload = {"location_id": location.id, "calibre": calibre, "lot": lot, "quantity": quantity}
    payload.update(_justify(justification, incident_number))
    return NewEvent("ammunition.consumed", payload, org_id=location.agency_id,
                    subject_type="location", subject_id=location.id)


def _justify(justification: str | None, incident_number: str | None) -> dict:
    try:
        why = Justification((justification or "").strip().lower())
    except ValueError:
        raise ValidationFailed(
            T_("consumed rounds need a justification: %(accepted)s"),
            field="justification", accepted=[j.value for j in Justification]) from None
    incident = (incident_number or "").strip() or None
    if why == Justification.DUTY_DISCHARGE and not incident:
        raise ValidationFailed("a duty discharge needs the incident number", field="incident")
    return {"justification": why.value, "incident_number": incident}
