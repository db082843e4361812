"""Inspections (revistas): plan, open, scan blind, reveal, close with the acta, answer.

A sealed inspection is hidden from the inspected agency's own staff until it
opens (404, as if it did not exist), and every read of it, through any of
these operations, is recorded in the log; that is why even the reads here
commit.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import Path
from fastapi.responses import JSONResponse, Response

from resguardo.api import render
from resguardo.api.dependencies import Reader, Writer
from resguardo.api.errors import error_responses
from resguardo.api.routing import MAX_ID, Limit, Offset, needs, router
from resguardo.api.schemas.common import EventOut, Page
from resguardo.api.schemas.oversight import (
    AnswerIn,
    AnswerManyIn,
    BlindCountOut,
    ClosedOut,
    CloseIn,
    DueOut,
    FindingsPage,
    InspectionIn,
    InspectionOut,
    InspectionSummaryOut,
    OpenIn,
    RevealIn,
    RevealOut,
    ReviewIn,
    RoundsIn,
    ScanIn,
    VerifyIn,
    people_in,
)
from resguardo.domain.errors import NotFound
from resguardo.domain.policy import Action
from resguardo.services import inspections as service

inspections = router("/inspections", "inspections")

InspectionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Inspection id.")]
FindingId = Annotated[int, Path(ge=1, le=MAX_ID, description="Finding number.")]


def _same_404(fn):  # type: ignore[no-untyped-def]
    """Run ``fn``; an inspection the caller may not see answers like a missing one."""
    def run(uow):  # type: ignore[no-untyped-def]
        try:
            return fn(uow)
        except NotFound as exc:
            if set(exc.details) == {"inspection"}:  # the inspection itself, not a part of it
                raise NotFound("inspection not found") from None
            raise
    return run


@inspections.get("", response_model=Page[InspectionSummaryOut], openapi_extra=needs(Action.READ))
def list_inspections(caller: Reader, state: Literal["planned", "open", "closed"] | None = None,
                     offset: Offset = 0, limit: Limit = 100) -> object:
    """Inspections you may know about (listing a sealed one is recorded)."""
    def render_page(uow, rows):  # type: ignore[no-untyped-def]
        items = [InspectionSummaryOut.model_validate(r) for r in rows[offset:offset + limit]]
        return Page(items=items, total=len(rows), offset=offset, limit=limit)
    return caller.recorded_read(lambda uow: service.list_(uow, state), render_page)


@inspections.get("/due", response_model=list[DueOut], openapi_extra=needs(Action.READ))
def revistas_due(caller: Reader) -> object:
    """Each agency in scope with its next revista (every RESGUARDO_REVISTA_MONTHS months
    after the last closed one), most overdue first."""
    with caller.read() as uow:
        return [DueOut.model_validate(r)
                for r in service.due(uow, caller.app.settings.revista_months)]


@inspections.get("/{inspection_id}", response_model=InspectionOut,
                 openapi_extra=needs(Action.READ))
def get_inspection(inspection_id: InspectionId, caller: Reader) -> object:
    """The inspection: the blind count while open, the findings once closed."""
    return caller.recorded_read(_same_404(lambda uow: service.show(uow, inspection_id)),
                                lambda uow, data: InspectionOut.model_validate(data))


@inspections.get("/{inspection_id}/acta", response_class=Response,
                 responses={**error_responses(),
                            200: {"content": {"application/pdf": {}},
                                  "description": "The acta PDF exactly as hashed in the log."}},
                 openapi_extra=needs(Action.READ))
def get_acta(inspection_id: InspectionId, caller: Reader) -> Response:
    """The closed inspection's acta, checked against the SHA-256 the log recorded."""
    pdf, digest = caller.recorded_read(
        _same_404(lambda uow: service.acta(uow, inspection_id)), lambda uow, found: found)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="acta-{inspection_id}.pdf"',
                             "X-Acta-SHA256": digest})


@inspections.post("", response_model=EventOut, status_code=201,
                  openapi_extra=needs(Action.INSPECTION_ORDER))
def plan_inspection(body: InspectionIn, caller: Writer) -> object:
    """Plan an inspection of an agency (sealed: a surprise)."""
    return caller.write(lambda uow: service.plan(
        uow, body.agency, body.planned_on, sealed=body.sealed, locations=body.locations,
        people=people_in(body.people)), render.event, body=body)


@inspections.post("/{inspection_id}/open", response_model=EventOut, status_code=201,
                  openapi_extra=needs(Action.INSPECTION_CONDUCT))
def open_inspection(inspection_id: InspectionId, body: OpenIn, caller: Writer) -> object:
    """Open it: custody movements at the agency stop until it closes (lockdown)."""
    return caller.write(
        _same_404(lambda uow: service.open_(uow, inspection_id, people_in(body.people))),
        render.event, body=body)


@inspections.post("/{inspection_id}/scans", response_model=BlindCountOut, status_code=201,
                  openapi_extra=needs(Action.INSPECTION_CONDUCT))
def scan(inspection_id: InspectionId, body: ScanIn, caller: Writer) -> object:
    """Record one observation of a weapon; answers with the blind count."""
    return caller.write(_same_404(lambda uow: service.scan(
        uow, inspection_id, body.serial, location=body.location, holder=body.holder,
        make=body.make, note=body.note, source=body.source)),
        lambda uow, view: BlindCountOut.model_validate(view), body=body)


@inspections.post("/{inspection_id}/rounds", response_model=EventOut, status_code=201,
                  openapi_extra=needs(Action.INSPECTION_CONDUCT))
def count_rounds(inspection_id: InspectionId, body: RoundsIn, caller: Writer) -> object:
    """Record the rounds counted for one calibre and lot at a location."""
    return caller.write(_same_404(lambda uow: service.count_rounds(
        uow, inspection_id, body.location, body.calibre, body.lot, body.quantity)),
        render.event, body=body)


@inspections.post("/{inspection_id}/reveal", response_model=RevealOut,
                  openapi_extra=needs(Action.INSPECTION_CONDUCT))
def reveal(inspection_id: InspectionId, body: RevealIn, caller: Writer) -> object:
    """End the blind count: show what the books expect (recorded, with the reason)."""
    return caller.write(_same_404(lambda uow: service.reveal(uow, inspection_id, body.reason)),
                        lambda uow, data: RevealOut.model_validate(data), status=200, body=body)


@inspections.post("/{inspection_id}/close", response_model=ClosedOut,
                  openapi_extra=needs(Action.INSPECTION_CONDUCT))
def close(inspection_id: InspectionId, body: CloseIn, caller: Writer) -> object:
    """Close it: reconcile, freeze the findings, render the acta and record its hash; then
    the overseeing authority's witness cosigns a checkpoint covering the closing
    (``witness``: cosigned or why not)."""
    response = caller.write(_same_404(lambda uow: service.close(
        uow, inspection_id, lang=body.lang, present_by=body.present_by)),
        lambda uow, data: ClosedOut.model_validate(data), status=200, body=body)
    if response.status_code != 200:
        return response
    data = json.loads(bytes(response.body))
    if data.get("witness") is None:
        data["witness"] = service.witness_closing(caller.app, data)
    return JSONResponse(data)


@inspections.get("/{inspection_id}/findings", response_model=FindingsPage,
                 openapi_extra=needs(Action.READ))
def list_findings(inspection_id: InspectionId, caller: Reader,
                  state: Literal["pending", "open", "answered", "closed", "reopened"] | None = None,
                  kind: str | None = None, offset: Offset = 0, limit: Limit = 50) -> object:
    """A page of a closed inspection's findings, filtered by state (pending: open or
    reopened) and kind."""
    return caller.recorded_read(_same_404(lambda uow: service.findings(
        uow, inspection_id, state=state, kind=kind, offset=offset, limit=limit)),
        lambda uow, page: FindingsPage.model_validate(page))


@inspections.post("/{inspection_id}/findings/{finding_id}/answer", response_model=EventOut,
                  status_code=201, openapi_extra=needs(Action.FINDING_ANSWER))
def answer_finding(inspection_id: InspectionId, finding_id: FindingId, body: AnswerIn,
                   caller: Writer) -> object:
    """The agency's answer to a finding (found, reported lost, corrected, registered...),
    with its evidence; it waits for the inspector's review."""
    return caller.write(_same_404(lambda uow: service.answer(
        uow, inspection_id, finding_id, body.resolution.value, body.reason, body.evidence)[0]),
        render.event, body=body)


@inspections.post("/{inspection_id}/answers", response_model=list[EventOut],
                  status_code=201, openapi_extra=needs(Action.FINDING_ANSWER))
def answer_findings(inspection_id: InspectionId, body: AnswerManyIn, caller: Writer) -> object:
    """The same answer to many findings at once (all or none)."""
    return caller.write(_same_404(lambda uow: service.answer(
        uow, inspection_id, body.findings, body.resolution.value, body.reason, body.evidence)),
        lambda uow, events: [render.event(uow, ev) for ev in events], body=body)


@inspections.post("/{inspection_id}/reviews", response_model=list[EventOut],
                  status_code=201, openapi_extra=needs(Action.INSPECTION_CONDUCT))
def review_findings(inspection_id: InspectionId, body: ReviewIn, caller: Writer) -> object:
    """The overseeing inspector accepts answers (the findings close) or reopens them."""
    return caller.write(_same_404(lambda uow: service.review(
        uow, inspection_id, body.findings, accept=body.accept, note=body.note)),
        lambda uow, events: [render.event(uow, ev) for ev in events], body=body)


@inspections.post("/{inspection_id}/verifications", response_model=list[EventOut],
                  status_code=201, openapi_extra=needs(Action.INSPECTION_CONDUCT))
def verify_weapon(inspection_id: InspectionId, body: VerifyIn, caller: Writer) -> object:
    """After closing, a weapon the inspector sees (presented by its officer, a follow-up
    count) closes the findings about it."""
    return caller.write(_same_404(lambda uow: service.verify(
        uow, inspection_id, body.serial, holder=body.holder, location=body.location)),
        lambda uow, events: [render.event(uow, ev) for ev in events], body=body)
