"""Ammunition, alerts, pending requests, loss reports and log entries (with corrections)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

from resguardo.api import render
from resguardo.api.dependencies import Reader, Writer
from resguardo.api.routing import (
    AgencyFilter,
    Limit,
    Offset,
    Position,
    agency_of,
    may_read,
    needs,
    org_id_filter,
    router,
)
from resguardo.api.schemas.common import EventOut, Page
from resguardo.api.schemas.custody import (
    AckIn,
    AlertOut,
    AmmoBalanceOut,
    AmmoConsumeIn,
    AmmoIssueIn,
    AmmoReceiveIn,
    AmmoReturnIn,
    CorrectionIn,
    LossReportOut,
    RequestOut,
)
from resguardo.domain.errors import NotFound
from resguardo.domain.policy import Action
from resguardo.services import alerts as alert_service
from resguardo.services import ammunition, custody
from resguardo.storage import api_queries as q

ammo = router("/ammunition", "ammunition")
alerts = router("/alerts", "alerts")
requests = router("/requests", "requests")
losses = router("/loss-reports", "loss reports")
entries = router("/events", "log")


# --- ammunition ----------------------------------------------------------------------------

@ammo.get("", response_model=AmmoBalanceOut, openapi_extra=needs(Action.READ))
def ammunition_balance(caller: Reader, agency: AgencyFilter = None) -> AmmoBalanceOut:
    """Rounds in stock per location and lot, and rounds held by officers."""
    with caller.read() as uow:
        may_read(uow)
        agency_id = org_id_filter(uow, agency)
        stock, held = uow.repo.ammo_stock(agency_id), uow.repo.ammo_held(agency_id)
        names = uow.repo.org_names([r["agency_id"] for r in stock + held])
        for r in stock + held:
            r["agency"] = names[r.pop("agency_id")]
        return AmmoBalanceOut.model_validate({"stock": stock, "held": held})


@ammo.post("/receive", response_model=EventOut, status_code=201,
           openapi_extra=needs(Action.AMMO_MANAGE))
def receive_rounds(body: AmmoReceiveIn, caller: Writer) -> object:
    """Receive rounds into a location."""
    return caller.write(lambda uow: ammunition.receive(
        uow, agency_of(uow, body.agency), body.location, body.calibre, body.lot, body.quantity,
        body.source), render.event, body=body)


@ammo.post("/issue", response_model=EventOut, status_code=201,
           openapi_extra=needs(Action.AMMO_MANAGE))
def issue_rounds(body: AmmoIssueIn, caller: Writer) -> object:
    """Issue rounds to an officer."""
    return caller.write(lambda uow: ammunition.issue(
        uow, agency_of(uow, body.agency), body.location, body.badge, body.calibre, body.lot,
        body.quantity), render.event, body=body)


@ammo.post("/return", response_model=EventOut, status_code=201,
           openapi_extra=needs(Action.AMMO_MANAGE))
def return_rounds(body: AmmoReturnIn, caller: Writer) -> object:
    """Take rounds back from an officer; justify any that were used."""
    return caller.write(lambda uow: ammunition.give_back(
        uow, agency_of(uow, body.agency), body.location, body.badge, body.calibre, body.lot,
        body.returned, body.consumed, body.justification, body.incident_number),
        render.event, body=body)


@ammo.post("/consume", response_model=EventOut, status_code=201,
           openapi_extra=needs(Action.AMMO_MANAGE))
def consume_rounds(body: AmmoConsumeIn, caller: Writer) -> object:
    """Use rounds from stock, with a justification."""
    return caller.write(lambda uow: ammunition.consume(
        uow, agency_of(uow, body.agency), body.location, body.calibre, body.lot, body.quantity,
        body.justification, body.incident_number), render.event, body=body)


# --- alerts ---------------------------------------------------------------------------------------

def _limits(caller: Reader) -> dict:
    settings = caller.app.settings
    return {"loss_deadline": settings.loss_notify_deadline,
            "shift_length": settings.shift_length}


@alerts.get("", response_model=Page[AlertOut], openapi_extra=needs(Action.READ))
def list_alerts(caller: Reader, include_acknowledged: bool = False, offset: Offset = 0,
                limit: Limit = 100) -> Page[AlertOut]:
    """Open alerts in your scope, oldest first."""
    with caller.read(may_lag=True) as uow:
        found = alert_service.open_alerts(uow, include_acknowledged=include_acknowledged,
                                          **_limits(caller))
    items = [AlertOut.model_validate(a.as_dict()) for a in found[offset:offset + limit]]
    return Page(items=items, total=len(found), offset=offset, limit=limit)


AlertKey = Annotated[str, Path(min_length=1, max_length=120, pattern=r"^[a-z_]+:[A-Za-z0-9:._-]+$",
                               description="The alert's key, e.g. loss_unnotified:118.")]


@alerts.post("/{key}/acknowledge", response_model=EventOut, status_code=201,
             openapi_extra=needs(Action.ALERT_ACK))
def acknowledge_alert(key: AlertKey, body: AckIn, caller: Writer) -> object:
    """Acknowledge an alert, saying what was done about it."""
    def run(uow):  # type: ignore[no-untyped-def]
        try:
            return alert_service.acknowledge(uow, key, body.note, **_limits(caller))
        except NotFound:
            raise NotFound("alert not found") from None
    return caller.write(run, render.event, body=body)


# --- requests and loss reports ------------------------------------------------------------------------

@requests.get("", response_model=Page[RequestOut], openapi_extra=needs(Action.READ))
def list_requests(caller: Reader,
                  state: Literal["pending", "approved", "rejected"] | None = "pending",
                  kind: Literal["decommission", "transfer", "correction"] | None = None,
                  offset: Offset = 0, limit: Limit = 100) -> Page[RequestOut]:
    """Decommissions, transfers and identity corrections awaiting (or given) a second
    person's decision (a correction's changes are in its entry: `GET /events/{id}`)."""
    with caller.read(may_lag=True) as uow:
        may_read(uow)
        page = q.requests_page(uow.repo, state=state, kind=kind, offset=offset, limit=limit)
        return Page(items=render.requests(uow, page.items), total=page.total, offset=offset,
                    limit=limit)


@losses.get("", response_model=Page[LossReportOut], openapi_extra=needs(Action.READ))
def list_loss_reports(caller: Reader,
                      open_only: Annotated[bool, Query(alias="open")] = False,
                      offset: Offset = 0, limit: Limit = 100) -> Page[LossReportOut]:
    """Loss and theft reports in your scope (`open=true`: not yet recovered)."""
    with caller.read(may_lag=True) as uow:
        may_read(uow)
        page = q.loss_reports_page(uow.repo, open_only=open_only, offset=offset, limit=limit)
        return Page(items=render.loss_reports(uow, page.items), total=page.total,
                    offset=offset, limit=limit)


# --- log entries ---------------------------------------------------------------------------------------------

@entries.get("/{position}", response_model=EventOut, openapi_extra=needs(Action.READ))
def get_entry(position: Position, caller: Reader) -> EventOut:
    """One entry of the log, if you may see it (an entry you may not see answers exactly
    as one that does not exist)."""
    with caller.read() as uow:
        may_read(uow)
        try:
            ev = uow.repo.event(position)
        except NotFound:
            raise NotFound("entry not found") from None
        return render.event(uow, ev)


@entries.post("/{position}/corrections", response_model=EventOut, status_code=201,
              openapi_extra=needs(Action.CORRECT))
def correct_entry(position: Position, body: CorrectionIn, caller: Writer) -> object:
    """Correct fields of an earlier entry; the entry itself is never edited.

    A correction of a weapon's serial, make, kind or calibre answers an
    `entry.correction_requested` entry: they change nothing until another person
    approves it (`POST /firearms/{id}/correction/approve`); other fields sent with
    them are corrected at once, in an `entry.corrected` just before."""
    def run(uow):  # type: ignore[no-untyped-def]
        try:
            uow.repo.event(position)  # one answer for a hidden entry and a missing one
        except NotFound:
            raise NotFound("entry not found") from None
        return custody.correct(uow, position, dict(body.changes), body.reason)
    return caller.write(run, render.event, body=body)
