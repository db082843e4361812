"""Firearms: the registry, each weapon's history, and registering new ones."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from resguardo.api import render
from resguardo.api.dependencies import Reader, Writer
from resguardo.api.routing import (
    MAX_ID,
    AgencyFilter,
    FirearmId,
    Limit,
    Offset,
    agency_of,
    firearm,
    may_read,
    needs,
    org_id_filter,
    router,
)
from resguardo.api.schemas.common import Page
from resguardo.api.schemas.registry import FirearmHistoryOut, FirearmIn, FirearmOut
from resguardo.domain.codes import FirearmKind, FirearmStatus
from resguardo.domain.policy import Action
from resguardo.domain.registry import FirearmInput
from resguardo.services import history, registry

firearms = router("/firearms", "firearms")
#: Most entries one page of a weapon's history returns.
HISTORY_PAGE_MAX = 500

Order = Literal["serial", "-serial", "make", "-make", "status", "-status", "since", "-since",
                "calibre", "-calibre", "kind", "-kind"]
Filter = Annotated[str | None, Query(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]*$")]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@firearms.get("", response_model=Page[FirearmOut], openapi_extra=needs(Action.READ))
def list_firearms(caller: Reader, status: FirearmStatus | None = None,
                  kind: FirearmKind | None = None, make: Filter = None, calibre: Filter = None,
                  agency: AgencyFilter = None,
                  location: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                                        description="Location id.")] = None,
                  custodian: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                                         description="Officer id.")] = None,
                  q: Annotated[str | None, Query(min_length=1, max_length=60,
                                                 pattern=r"^[^\x00-\x1f\x7f]*$",
                                                 description="Text in the serial (separators "
                                                             "ignored), or the exact folio.")
                               ] = None,
                  order: Order = "serial", offset: Offset = 0,
                  limit: Limit = 100) -> Page[FirearmOut]:
    """Firearms in your scope, filtered and paged."""
    with caller.read(may_lag=True) as uow:
        may_read(uow)
        page = uow.repo.firearms(
            offset=offset, limit=limit, order=order, agency_id=org_id_filter(uow, agency),
            status=status.value if status else None, kind=kind.value if kind else None,
            make=make, calibre=calibre, location_id=location, custodian_id=custodian, search=q)
        return Page(items=render.firearms(uow, page.items), total=page.total, offset=offset,
                    limit=limit)


@firearms.get("/{firearm_id}", response_model=FirearmOut, openapi_extra=needs(Action.READ))
def get_firearm(firearm_id: FirearmId, caller: Reader) -> FirearmOut:
    with caller.read(may_lag=True) as uow:
        may_read(uow)
        return render.firearms(uow, [firearm(uow, firearm_id)])[0]


@firearms.get("/{firearm_id}/history", response_model=FirearmHistoryOut,
              openapi_extra=needs(Action.READ))
def firearm_history(firearm_id: FirearmId, caller: Reader,
                    view: Literal["recorded", "corrected", "both"] = "both",
                    newest: Annotated[int | None, Query(
                        ge=1, le=HISTORY_PAGE_MAX,
                        description="Only this many entries, counted from the newest (still "
                                    "oldest first); `older` says whether there are more. "
                                    "Without it, every entry.")] = None,
                    skip: Annotated[int, Query(
                        ge=0, le=1_000_000_000,
                        description="With `newest`: entries to skip from the newest (the "
                                    "next page back is `skip + newest`).")] = 0,
                    ) -> FirearmHistoryOut:
    """Every entry about the weapon: as recorded, as corrected, or both side by side; a
    page of them counted from the newest with `newest` (and `skip`): a weapon taken every
    shift gathers about 1,460 entries a year."""
    with caller.read(may_lag=True) as uow:
        may_read(uow)
        found = firearm(uow, firearm_id)
        page = (skip, newest) if newest is not None else None
        detail = history.firearm_detail(uow, found.serial, make=found.make, view=view,
                                        page=page)
        return FirearmHistoryOut.model_validate(detail)


@firearms.post("", response_model=FirearmOut, status_code=201,
               openapi_extra=needs(Action.FIREARM_REGISTER))
def register_firearm(body: FirearmIn, caller: Writer) -> object:
    """Register a weapon into storage; (make, serial) must be new to the whole system."""
    def run(uow):  # type: ignore[no-untyped-def]
        data = FirearmInput(serial=body.serial, make=body.make, calibre=body.calibre,
                            kind=body.kind, model=body.model, folio=body.folio,
                            barrel_serial=body.barrel_serial, ballistic_id=body.ballistic_id,
                            acquired_on=body.acquired_on, supplier=body.supplier,
                            purchase_ref=body.purchase_ref)
        ev = registry.register_firearm(uow, agency_of(uow, body.agency), body.location, data,
                                       body.licence)
        return uow.repo.firearm_by_id(ev.position)
    return caller.write(run, lambda uow, f: render.firearms(uow, [f])[0], body=body)
