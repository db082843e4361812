"""Administration: users (roles, scopes, passwords), organizations, locations
and licences. Every change goes through the same services as the CLI, which
refuse anyone whose role may not make it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from resguardo.domain.codes import LocationKind, OrgKind, Role
from resguardo.domain.errors import DomainError, ValidationFailed
from resguardo.domain.policy import Action, authorize
from resguardo.services import registry, users
from resguardo.web.paging import parse_day
from resguardo.web.site import Ctx, Site, form_data, form_value

TABS = ("users", "organizations", "locations", "licences")


def _page(site: Site, ctx: Ctx, tab: str, *, status: int = 200, error: str | None = None,
          values: dict[str, str] | None = None) -> Response:
    data: dict[str, Any] = {}
    if tab == "users":
        # the list of accounts is for those who manage them
        authorize(ctx.actor, Action.USER_MANAGE)
    with site.rg.read(ctx.actor) as uow:
        orgs = uow.repo.orgs()
        data["orgs"] = orgs
        if tab == "users":
            data["users"] = uow.repo.users()
        elif tab == "locations":
            data["locations"] = uow.repo.locations()
        elif tab == "licences":
            data["licences"] = uow.repo.licences()
    names = {o.id: o for o in orgs}
    by_code = {o.code: o for o in orgs}
    return ctx.render("admin.html", status=status, tab=tab, tabs=TABS, error=error,
                      values=values or {}, names=names, by_code=by_code,
                      agencies=[o for o in orgs if o.kind == OrgKind.AGENCY],
                      roles=[r.value for r in Role], org_kinds=[k.value for k in OrgKind],
                      location_kinds=[k.value for k in LocationKind], **data)


def register(router: APIRouter, site: Site) -> None:

    @router.get("/admin")
    def admin_home(request: Request) -> Response:
        ctx = site.viewer(request)
        return _page(site, ctx, "users")

    @router.get("/admin/{tab}")
    def admin_tab(request: Request, tab: str) -> Response:
        ctx = site.viewer(request)
        if tab not in TABS:
            from resguardo.domain.errors import NotFound
            raise NotFound("page not found")
        return _page(site, ctx, tab)

    @router.post("/admin/users")
    def add_user(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("username", "display_name", "role", "scope")}
        try:
            with site.rg.work(ctx.actor) as uow:
                users.add_user(uow, values["username"], form_value(form, "password"),
                               values["role"], values["scope"], values["display_name"] or None)
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, "users", status=422, error=ctx.explain(exc), values=values)
        return ctx.redirect("/admin/users", "user_added")

    @router.post("/admin/users/password")
    def set_password(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        try:
            with site.rg.work(ctx.actor) as uow:
                users.set_password(uow, form_value(form, "username"),
                                   form_value(form, "password"))
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, "users", status=422, error=ctx.explain(exc))
        return ctx.redirect("/admin/users", "password_set")

    @router.post("/admin/organizations")
    def add_organization(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("code", "name", "kind", "parent")}
        try:
            with site.rg.work(ctx.actor) as uow:
                registry.add_organization(uow, values["code"], values["name"], values["kind"],
                                          values["parent"] or None)
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, "organizations", status=422, error=ctx.explain(exc),
                         values=values)
        return ctx.redirect("/admin/organizations", "org_added")

    @router.post("/admin/locations")
    def add_location(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("agency", "code", "name", "kind")}
        try:
            with site.rg.work(ctx.actor) as uow:
                registry.add_location(uow, values["agency"], values["code"], values["name"],
                                      values["kind"])
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, "locations", status=422, error=ctx.explain(exc),
                         values=values)
        return ctx.redirect("/admin/locations", "location_added")

    @router.post("/admin/licences")
    def add_licence(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("number", "holder", "valid_from", "valid_to")}
        agencies = [a for a in form.getlist("agencies") if isinstance(a, str) and a]
        try:
            start = parse_day(values["valid_from"], "valid_from")
            end = parse_day(values["valid_to"], "valid_to")
            if start is None or end is None:
                raise ValidationFailed("give the dates the licence is valid", field="valid_from")
            with site.rg.work(ctx.actor) as uow:
                registry.add_licence(uow, values["number"], values["holder"], agencies, start,
                                     end)
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, "licences", status=422, error=ctx.explain(exc),
                         values=values)
        return ctx.redirect("/admin/licences", "licence_added")
