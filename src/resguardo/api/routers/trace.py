"""Trace: candidates for a (possibly damaged) serial, and the access log of traces.

Every trace is recorded (``access.trace``) in the same transaction as its
answer, so a GET here writes one entry to the log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from resguardo.api.dependencies import Reader
from resguardo.api.routing import AgencyFilter, Limit, Offset, needs, router
from resguardo.api.schemas.common import PRINTABLE, Page, _Encodable
from resguardo.api.schemas.trace import TraceLogEntryOut, TraceOut
from resguardo.domain.codes import FirearmKind
from resguardo.domain.policy import Action
from resguardo.domain.trace import DEFAULT_LIMIT, DEFAULT_MAX_DISTANCE, MAX_MAX_DISTANCE
from resguardo.services import trace as service

traces = router("/trace", "trace")

_MOMENT = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
           r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$")
Text = _Encodable


@traces.get("", response_model=TraceOut, openapi_extra=needs(Action.TRACE))
def trace(
    caller: Reader,
    serial: Annotated[str, Query(min_length=1, max_length=60, pattern=PRINTABLE,
                                 description="The serial as read: '?' for each unreadable "
                                             "character, '*' at an end for an unknown rest."),
                      Text],
    make: Annotated[str | None, Query(min_length=1, max_length=60, pattern=PRINTABLE,
                                      description="Only this make."), Text] = None,
    calibre: Annotated[str | None, Query(min_length=1, max_length=40, pattern=PRINTABLE,
                                         description="Only this calibre."), Text] = None,
    kind: FirearmKind | None = None,
    agency: AgencyFilter = None,
    date: Annotated[str | None, Query(pattern=_MOMENT, description=(
        "Who held each weapon then: YYYY-MM-DD (a whole UTC day: its last holder that day) or "
        "YYYY-MM-DDTHH:MM (UTC unless an offset is given). Default: now."))] = None,
    max_distance: Annotated[float, Query(ge=0, le=MAX_MAX_DISTANCE, description=(
        "Largest weighted distance (look-alike 0.5, '?' 0.1, other edit 1)."))
    ] = DEFAULT_MAX_DISTANCE,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT,
                                description="Most candidates.")] = DEFAULT_LIMIT,
    reason: Annotated[str | None, Query(min_length=1, max_length=200, pattern=PRINTABLE,
                                        description="Case number or purpose, recorded."),
                      Text] = None,
) -> JSONResponse:
    """Candidates in your scope, nearest first, each with its custody chain and holder on a date.

    The trace is recorded (who, the query, the candidates returned).
    """
    ask = service.TraceInput(serial, make=make, calibre=calibre,
                             kind=kind.value if kind else None, agency=agency, date=date,
                             max_distance=max_distance, limit=limit)
    answer = caller.recorded_read(lambda uow: service.trace(uow, ask, reason=reason),
                                  lambda uow, found: found)
    # The answer is returned as built: entries carry only the details of their kind.
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
    with caller.read() as uow:
        page = service.trace_log(uow, offset=offset, limit=limit, user=user)
    return Page[TraceLogEntryOut].model_validate(page)
