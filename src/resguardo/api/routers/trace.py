"""Trace: candidates for a (possibly damaged) serial, and the access log of traces.

Every trace is recorded (``access.trace``) in the same transaction as its
answer, so a GET here writes one entry to the log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from resguardo.api.dependencies import Caller, Reader
from resguardo.api.routing import AgencyFilter, Limit, Offset, needs, router
from resguardo.api.schemas.common import PRINTABLE, Page, _Encodable
from resguardo.api.schemas.trace import (
    CUSTODY_HELP,
    MAX_CANDIDATES,
    MOMENT_HELP,
    MOMENT_PATTERN,
    CustodyExtent,
    TraceIn,
    TraceLogEntryOut,
    TraceOut,
)
from resguardo.domain.codes import FirearmKind
from resguardo.domain.policy import Action
from resguardo.domain.trace import DEFAULT_LIMIT, DEFAULT_MAX_DISTANCE, MAX_MAX_DISTANCE
from resguardo.services import trace as service
from resguardo.services import trace_index

traces = router("/trace", "trace")


@traces.get("", response_model=TraceOut, openapi_extra=needs(Action.TRACE))
def trace(
    caller: Reader,
    serial: Annotated[str, Query(min_length=1, max_length=60, pattern=PRINTABLE,
                                 description="The serial as read: '?' for each unreadable "
                                             "character, '*' at an end for an unknown rest."),
                      _Encodable],
    make: Annotated[str | None, Query(min_length=1, max_length=60, pattern=PRINTABLE,
                                      description="Only this make."), _Encodable] = None,
    calibre: Annotated[str | None, Query(min_length=1, max_length=40, pattern=PRINTABLE,
                                         description="Only this calibre."), _Encodable] = None,
    kind: FirearmKind | None = None,
    agency: AgencyFilter = None,
    date: Annotated[str | None, Query(pattern=MOMENT_PATTERN, description=MOMENT_HELP)] = None,
    max_distance: Annotated[float, Query(ge=0, le=MAX_MAX_DISTANCE, description=(
        "Largest weighted distance (look-alike 0.5, '?' 0.1, other edit 1)."))
    ] = DEFAULT_MAX_DISTANCE,
    limit: Annotated[int, Query(ge=1, le=MAX_CANDIDATES,
                                description="Most candidates.")] = DEFAULT_LIMIT,
    reason: Annotated[str | None, Query(min_length=1, max_length=200, pattern=PRINTABLE,
                                        description="Case number or purpose, recorded."),
                      _Encodable] = None,
    custody: Annotated[CustodyExtent, Query(description=CUSTODY_HELP)] = CustodyExtent.window,
) -> JSONResponse:
    """Candidates in your scope, nearest first, each with its custody around the date and
    holder on the date.

    Each candidate's `custody` is the window around the date (now by default) with the
    length of its whole chain (`custody_total`, `custody_complete`); `custody=full` returns
    the whole chain. The trace is recorded (who, the query, the candidates returned).
    """
    # The parameters are validated already, with the same limits as the body of the POST.
    return _answer(caller, TraceIn.model_construct(
        serial=serial, make=make, calibre=calibre, kind=kind, agency=agency, date=date,
        max_distance=max_distance, limit=limit, reason=reason, custody=custody))


@traces.post("", response_model=TraceOut, openapi_extra=needs(Action.TRACE))
def trace_body(body: TraceIn, caller: Reader) -> JSONResponse:
    """The same trace with the question in a JSON body (recorded; answers 200, not 201)."""
    return _answer(caller, body)


def _answer(caller: Caller, body: TraceIn) -> JSONResponse:
    ask = service.TraceInput(body.serial, make=body.make, calibre=body.calibre,
                             kind=body.kind.value if body.kind else None, agency=body.agency,
                             date=body.date, max_distance=body.max_distance, limit=body.limit)
    with caller.read() as uow:
        service.validate(uow, ask)  # refused or invalid: nothing loaded, nothing recorded
    trace_index.prepare(caller.app.engine)  # outside the writer's lock: may take a while
    full = body.custody == CustodyExtent.full
    answer = caller.recorded_read(
        lambda uow: service.trace(uow, ask, reason=body.reason, full_custody=full),
        lambda uow, found: found)
    # Returned as built: each custody entry carries only the details of its kind.
    return JSONResponse(jsonable_encoder(answer))


@traces.get("/log", response_model=Page[TraceLogEntryOut], openapi_extra=needs(Action.TRACE))
def trace_log(
    caller: Reader,
    user: Annotated[str | None, Query(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$",
                                      description="Only this user's traces (auditors).")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[TraceLogEntryOut]:
    """Recorded traces, newest first: your own (investigators) or all in your scope (auditors)."""
    with caller.read(may_lag=True) as uow:
        page = service.trace_log(uow, offset=offset, limit=limit, user=user)
    return Page[TraceLogEntryOut].model_validate(page)
