"""Custody actions on one firearm. Each appends one entry to the log and answers with it.

Every action looks the firearm up in the caller's scope first: a weapon of
another agency answers 404 exactly like one that does not exist.

Every movement of the domain's table (``domain.movements``) also has its route,
``POST /firearms/{firearm_id}/actions/{name}``, generated from the table (its body, its
permission, its summary) and recorded by the one generic service
(``services.custody.perform``): a new movement needs no code here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from resguardo.api import render
from resguardo.api.dependencies import Writer
from resguardo.api.routing import FirearmId, firearm_ref, needs, router
from resguardo.api.schemas.common import EventOut
from resguardo.api.schemas.custody import (
    IssueIn,
    LicenceAttachIn,
    LocationRefIn,
    LossIn,
    MoveIn,
    NegligenceIn,
    NotificationIn,
    ReasonIn,
    RecoverIn,
    ReleaseIn,
    RepairIn,
    TransferIn,
    movement_body,
)
from resguardo.domain.errors import NotFound
from resguardo.domain.movements import MOVEMENTS, Movement
from resguardo.domain.policy import Action
from resguardo.services import custody, registry
from resguardo.storage import api_queries as q
from resguardo.storage.uow import UnitOfWork

actions = router("/firearms", "custody")


@actions.post("/{firearm_id}/issue", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.CUSTODY_ISSUE))
def issue(firearm_id: FirearmId, body: IssueIn, caller: Writer) -> object:
    """Issue a stored weapon to an eligible officer of the same agency."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.issue(uow, serial, body.badge, make=make)))


@actions.post("/{firearm_id}/return", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.CUSTODY_RETURN))
def return_(firearm_id: FirearmId, body: LocationRefIn, caller: Writer) -> object:
    """Return an issued weapon to storage at a location of its agency."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.return_(uow, serial, body.location, make=make)))


@actions.post("/{firearm_id}/move", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.FIREARM_MOVE))
def move(firearm_id: FirearmId, body: MoveIn, caller: Writer) -> object:
    """Move a stored weapon to another location of its agency."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.move(uow, serial, body.location, make=make, reason=body.reason)))


@actions.post("/{firearm_id}/repair", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.FIREARM_REPAIR))
def send_to_repair(firearm_id: FirearmId, body: RepairIn, caller: Writer) -> object:
    """Send a stored weapon to a repair shop."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.send_to_repair(uow, serial, body.shop, make=make, reason=body.reason)))


@actions.post("/{firearm_id}/repair/return", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.FIREARM_REPAIR))
def return_from_repair(firearm_id: FirearmId, body: LocationRefIn, caller: Writer) -> object:
    """Book a weapon back from repair into a location."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.return_from_repair(uow, serial, body.location, make=make)))


@actions.post("/{firearm_id}/report-loss", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.FIREARM_REPORT_LOSS))
def report_loss(firearm_id: FirearmId, body: LossIn, caller: Writer) -> object:
    """Report the weapon lost or stolen (always allowed, even during an inspection)."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.report_missing(
            uow, serial, stolen=body.stolen, occurred_on=body.occurred_on, place=body.place,
            on_duty=body.on_duty, complaint_number=body.complaint_number,
            complaint_authority=body.complaint_authority, notified_at=body.notified_at, make=make, reason=body.reason)))


@actions.post("/{firearm_id}/notification", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.FIREARM_NOTIFY_LOSS))
def record_notification(firearm_id: FirearmId, body: NotificationIn, caller: Writer) -> object:
    """Record that the military authority was notified of the loss or theft."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.record_notification(uow, serial, body.notified_at or uow.now(),
                                           reference=body.reference, make=make)))


@actions.post("/{firearm_id}/recover", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.FIREARM_RECOVER))
def recover(firearm_id: FirearmId, body: RecoverIn, caller: Writer) -> object:
    """Recover a lost or stolen weapon: held as evidence until released (the report stays)."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.recover(uow, serial, body.held_by, body.circumstances, make=make)))


@actions.post("/{firearm_id}/release", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.FIREARM_RELEASE))
def release(firearm_id: FirearmId, body: ReleaseIn, caller: Writer) -> object:
    """Record that the authority gave back a weapon held as evidence: back to storage."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.release(uow, serial, body.location, body.reference, make=make)))


@actions.post("/{firearm_id}/licence", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.LICENCE_DECLARE))
def attach_to_licence(firearm_id: FirearmId, body: LicenceAttachIn, caller: Writer) -> object:
    """Put the weapon on a collective licence covering its agency, or take it off (null)."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        registry.attach_firearm(uow, serial, body.licence, body.reason, make)))


@actions.post("/{firearm_id}/negligence", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.NEGLIGENCE_DETERMINE))
def determine_negligence(firearm_id: FirearmId, body: NegligenceIn, caller: Writer) -> object:
    """Record whether the latest loss or theft came of negligence (not by its reporter)."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.determine_negligence(uow, serial, body.negligent, body.reason, make=make)))


@actions.post("/{firearm_id}/decommission", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.DECOMMISSION_REQUEST))
def request_decommission(firearm_id: FirearmId, body: ReasonIn, caller: Writer) -> object:
    """Ask to decommission the weapon; another person (a chief) approves."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.request_decommission(uow, serial, body.reason, make=make)))


@actions.post("/{firearm_id}/decommission/approve", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.DECOMMISSION_APPROVE))
def approve_decommission(firearm_id: FirearmId, caller: Writer) -> object:
    """Approve a pending decommission (not by whoever asked for it)."""
    return _act(caller, firearm_id, body=None, run=lambda uow, serial, make: (
        custody.approve_decommission(uow, serial, make=make)))


@actions.post("/{firearm_id}/decommission/reject", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.DECOMMISSION_APPROVE))
def reject_decommission(firearm_id: FirearmId, body: ReasonIn, caller: Writer) -> object:
    """Reject a pending decommission, saying why."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.reject_request(uow, serial, "decommission", body.reason, make=make)))


@actions.post("/{firearm_id}/correction/approve", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.CORRECTION_APPROVE))
def approve_correction(firearm_id: FirearmId, caller: Writer) -> object:
    """Approve the weapon's pending identity correction (serial, make, kind or calibre,
    asked for with `POST /events/{position}/corrections`); not by whoever asked for it."""
    return _act(caller, firearm_id, body=None, run=lambda uow, serial, make: (
        custody.approve_correction(uow, serial, make=make)))


@actions.post("/{firearm_id}/correction/reject", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.CORRECTION_APPROVE))
def reject_correction(firearm_id: FirearmId, body: ReasonIn, caller: Writer) -> object:
    """Reject the weapon's pending identity correction, saying why: it keeps its identity."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.reject_request(uow, serial, "correction", body.reason, make=make)))


@actions.post("/{firearm_id}/transfer", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.TRANSFER_REQUEST))
def request_transfer(firearm_id: FirearmId, body: TransferIn, caller: Writer) -> object:
    """Ask to transfer the weapon to another agency; a chief or supervisor approves."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.request_transfer(uow, serial, body.to_agency, body.reason, make=make)))


@actions.post("/{firearm_id}/transfer/approve", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.TRANSFER_APPROVE))
def approve_transfer(firearm_id: FirearmId, caller: Writer) -> object:
    """Approve a requested transfer: the weapon leaves, in transit."""
    return _act(caller, firearm_id, body=None, run=lambda uow, serial, make: (
        custody.approve_transfer(uow, serial, make=make)))


@actions.post("/{firearm_id}/transfer/reject", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.TRANSFER_APPROVE))
def reject_transfer(firearm_id: FirearmId, body: ReasonIn, caller: Writer) -> object:
    """Reject a pending transfer, saying why."""
    return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
        custody.reject_request(uow, serial, "transfer", body.reason, make=make)))


@actions.post("/{firearm_id}/transfer/receive", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.TRANSFER_RECEIVE))
def receive_transfer(firearm_id: FirearmId, body: LocationRefIn, caller: Writer) -> object:
    """Book in a weapon sent to your agency (it is not in your scope until it arrives)."""
    def run(uow):  # type: ignore[no-untyped-def]
        serial = _in_transit_serial(uow, firearm_id)
        try:
            return custody.receive_transfer(uow, serial[0], body.location, make=serial[1])
        except NotFound as exc:
            if "location" in exc.details:  # the armory named: say so
                raise
            raise NotFound("firearm not found") from None
    return caller.write(run, render.event, body=body)


def _movement_route(movement: Movement) -> None:
    """``POST /firearms/{firearm_id}/actions/<name>`` for one movement of the domain's table."""
    body_type = movement_body(movement)

    def act(firearm_id: int, body: BaseModel, caller: Any) -> object:
        values = body.model_dump()
        return _act(caller, firearm_id, body=body, run=lambda uow, serial, make: (
            custody.perform(uow, movement.name, serial, values, make=make)))

    # the parameters' types are the generated body's (FastAPI reads the signature)
    act.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("firearm_id", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          annotation=FirearmId),
        inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=body_type),
        inspect.Parameter("caller", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Writer),
    ], return_annotation=object)
    act.__name__ = f"{movement.name}_action"
    actions.post(f"/{{firearm_id}}/actions/{movement.name}", response_model=EventOut,
                 status_code=201, openapi_extra=needs(movement.permission),
                 summary=movement.summary or None,
                 description=(f"{movement.summary} Records `{movement.entry}` (the same "
                              f"rules as every route that records it)."))(act)


for _movement in MOVEMENTS.values():
    _movement_route(_movement)


def _act(caller: Writer, firearm_id: int, *, body: BaseModel | None,
         run: Callable[[UnitOfWork, str, str], Any]) -> object:
    """Look the firearm up in the caller's scope (404 outside it), then run the action."""
    def write(uow: UnitOfWork) -> Any:
        serial, make = firearm_ref(uow, firearm_id)
        return run(uow, serial, make)
    return caller.write(write, render.event, body=body)


def _in_transit_serial(uow, firearm_id: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Serial and make of a weapon the caller may receive; the same 404 otherwise.

    The receiving agency cannot see the weapon until it arrives, so the look-up
    goes through the approved transfer, whose destination must be in scope.
    """
    found = q.transfer_to_scope(uow.repo, firearm_id)
    if found is None:
        raise NotFound("firearm not found")
    return found["serial"], found["make"]
