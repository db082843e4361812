"""Transfers between agencies: weapons on their way in (received here by the
receiving agency's armorer or a supervisor), weapons sent and not yet
received, and requests awaiting a second person's approval.

A weapon in transit still belongs to the sending agency, so the receiving
agency cannot open its record: this page is where it books the weapon in.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from resguardo.domain.codes import OrgKind
from resguardo.domain.errors import DomainError, NotFound, ValidationFailed
from resguardo.services import custody
from resguardo.storage import web_queries
from resguardo.web.site import Ctx, Site, form_data, form_value


def _listing(site: Site, ctx: Ctx) -> dict[str, Any]:
    """Everything the page shows, in a fixed number of queries."""
    with site.rg.read(ctx.actor) as uow:
        incoming = web_queries.transfers_in_transit(uow.repo, incoming=True)
        outgoing = web_queries.transfers_in_transit(uow.repo, incoming=False)
        pending = web_queries.transfers_pending(uow.repo)
        ids = {r["agency_id"] for r in [*incoming, *outgoing, *pending]} | \
            {r["to_agency_id"] for r in [*incoming, *outgoing, *pending]}
        names = web_queries.org_labels(uow.repo, list(ids))
        locations = uow.repo.locations()
        mine = {a.id for a in uow.repo.orgs(OrgKind.AGENCY)}
    where: dict[int, list] = {}
    for loc in locations:
        where.setdefault(loc.agency_id, []).append(loc)
    incoming_ids = {r["id"] for r in incoming}
    # a supervisor whose scope holds both ends sees a transfer once, as incoming
    outgoing = [r for r in outgoing if r["id"] not in incoming_ids]
    return {"incoming": incoming, "outgoing": outgoing, "pending": pending, "names": names,
            "where": where, "mine": mine}


def register(router: APIRouter, site: Site) -> None:

    @router.get("/transfers")
    def transfers_page(request: Request) -> Response:
        ctx = site.viewer(request)
        return ctx.render("transfers.html", **_listing(site, ctx), error=None, failed=None)

    @router.post("/transfers/receive")
    def receive(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("firearm", "location", "back")}
        try:
            if not values["firearm"].isdigit():
                raise ValidationFailed("choose the weapon to receive", field="firearm")
            if not values["location"]:
                raise ValidationFailed("choose where the weapon is stored", field="location")
            firearm_id = int(values["firearm"])
            with site.rg.work(ctx.actor) as uow:
                arriving = {r["firearm_id"]: r for r in web_queries.transfers_in_transit(
                    uow.repo, incoming=True)}
                if firearm_id not in arriving:
                    raise NotFound("no weapon on its way to your agency with that reference")
                item = arriving[firearm_id]
                custody.receive_transfer(uow, item["serial"], values["location"],
                                         make=item["make"])
                uow.commit()
        except DomainError as exc:
            return ctx.render("transfers.html", status=422, **_listing(site, ctx),
                              error=ctx.explain(exc), failed=values["firearm"])
        if values["back"] == "firearm":
            return ctx.redirect(f"/firearms/{firearm_id}", "transfer_received")
        return ctx.redirect("/transfers", "transfer_received")
