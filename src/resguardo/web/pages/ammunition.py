"""Ammunition: rounds in stock per location, rounds out with officers, the
movements, and the armorer's forms (receive, issue, take back, use from stock).

Rounds are counted by calibre and lot, never serialized. The services decide
who may record a movement and where; the forms are offered to the roles that
may use them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from resguardo.domain.ammunition import Justification
from resguardo.domain.codes import OrgKind
from resguardo.domain.errors import T_, DomainError, NotFound, ValidationFailed
from resguardo.domain.policy import Action, authorize
from resguardo.services import ammunition
from resguardo.storage import web_queries
from resguardo.web.paging import clean_params, page_number
from resguardo.web.site import Ctx, Site, form_data, form_value

FILTERS = ("agency",)
#: Movements per page.
PER_PAGE = 50
#: Stock and holdings rows shown at once; a wider scope is narrowed to one agency.
MAX_ROWS = 300
FIELDS = ("agency", "location", "badge", "calibre", "lot", "quantity", "source", "returned",
          "consumed", "justification", "incident")


def _rounds(text: str, field: str, *, allow_empty: bool = False) -> int:
    if not text and allow_empty:
        return 0
    if not text.isdigit():
        raise ValidationFailed(T_("%(field)s must be a whole number of rounds"), field=field)
    return int(text)


def _listing(site: Site, ctx: Ctx, params: dict[str, str], page: int) -> dict[str, Any]:
    """The page's tables in a fixed number of queries, whatever they show."""
    with site.rg.read(ctx.actor) as uow:
        agencies = uow.repo.orgs(OrgKind.AGENCY)
        by_code = {a.code: a for a in agencies}
        agency = by_code.get(params["agency"])
        if agency is None and len(agencies) == 1:
            agency = agencies[0]
        agency_id = agency.id if agency else None
        stock = uow.repo.ammo_stock(agency_id)
        held = uow.repo.ammo_held(agency_id)
        moves, older = web_queries.ammunition_movements(
            uow.repo, agency_id, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
        locations = uow.repo.locations(agency_id)
        officers = uow.repo.officers_by_id([e.payload.get("officer_id") for e in moves])
        places = uow.repo.location_codes([e.payload.get("location_id") for e in moves])
    names = {a.id: a for a in agencies}
    lots = sorted({(r["calibre"], r["lot"]) for r in [*stock, *held]})
    return {
        "agencies": agencies, "agency": agency, "names": names, "params": params,
        "stock": stock[:MAX_ROWS], "stock_cut": len(stock) > MAX_ROWS,
        "held": held[:MAX_ROWS], "held_cut": len(held) > MAX_ROWS,
        "moves": [{"e": e, "officer": officers.get(e.payload.get("officer_id") or -1),
                   "location": places.get(e.payload.get("location_id") or -1)} for e in moves],
        "page": page, "older": older, "locations": locations,
        "calibres": sorted({c for c, _ in lots}), "lots": sorted({lot for _, lot in lots}),
        "justifications": [j.value for j in Justification],
    }


def _call(uow: Any, action: str, v: dict[str, str]) -> None:
    agency, location = v["agency"], v["location"]
    if action == "receive":
        ammunition.receive(uow, agency, location, v["calibre"], v["lot"],
                           _rounds(v["quantity"], "quantity"), v["source"] or None)
    elif action == "issue":
        ammunition.issue(uow, agency, location, v["badge"].upper(), v["calibre"], v["lot"],
                         _rounds(v["quantity"], "quantity"))
    elif action == "return":
        ammunition.give_back(uow, agency, location, v["badge"].upper(), v["calibre"], v["lot"],
                             _rounds(v["returned"], "returned", allow_empty=True),
                             _rounds(v["consumed"], "consumed", allow_empty=True),
                             v["justification"] or None, v["incident"] or None)
    elif action == "consume":
        ammunition.consume(uow, agency, location, v["calibre"], v["lot"],
                           _rounds(v["quantity"], "quantity"), v["justification"],
                           v["incident"] or None)
    else:
        raise NotFound("page not found")


def register(router: APIRouter, site: Site) -> None:

    @router.get("/ammunition")
    def ammunition_page(request: Request) -> Response:
        ctx = site.viewer(request)
        params = clean_params(request.query_params, FILTERS)
        data = _listing(site, ctx, params, page_number(request.query_params))
        return ctx.render("ammunition.html", **data, error=None, form={})

    @router.post("/ammunition/{action}")
    def record(request: Request, action: str, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in FIELDS}
        try:
            authorize(ctx.actor, Action.AMMO_MANAGE)  # before reading the form's numbers
            if not values["agency"]:
                if ctx.actor.scope.kind != OrgKind.AGENCY:
                    raise ValidationFailed("give the agency (your scope is not a single "
                                           "agency)", field="agency")
                values["agency"] = ctx.actor.scope.code
            if not values["location"]:
                raise ValidationFailed(T_("%(field)s is required"), field="location")
            with site.rg.work(ctx.actor) as uow:
                _call(uow, action, values)
                uow.commit()
        except DomainError as exc:
            params = {"agency": values["agency"]}
            return ctx.render("ammunition.html", status=422,
                              **_listing(site, ctx, params, 1), error=ctx.explain(exc),
                              form={**values, "which": action})
        notice = {"receive": "ammo_received", "issue": "ammo_issued", "return": "ammo_returned",
                  "consume": "ammo_consumed"}[action]
        return ctx.redirect("/ammunition", notice)
