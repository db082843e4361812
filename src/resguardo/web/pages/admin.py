"""Administration: users (roles, scopes, passwords), organizations, locations
and licences. Every change goes through the same services as the CLI, which
refuse anyone whose role may not make it."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.datastructures import FormData

from resguardo.domain.codes import LocationKind, OrgKind, Role
from resguardo.domain.errors import DomainError, ValidationFailed
from resguardo.domain.policy import Action, authorize
from resguardo.services import accounts, auth, powers, registry, users
from resguardo.storage import api_queries
from resguardo.web.i18n import timezone
from resguardo.web.paging import parse_day
from resguardo.web.site import Ctx, Site, form_data, form_value

TABS = ("users", "tokens", "organizations", "locations", "licences")


def _page(site: Site, ctx: Ctx, tab: str, *, status: int = 200, error: str | None = None,
          values: dict[str, str] | None = None, shown: dict[str, Any] | None = None) -> Response:
    data: dict[str, Any] = {}
    if tab in ("users", "tokens"):
        # accounts and their tokens are for those who manage them
        authorize(ctx.actor, Action.USER_MANAGE)
    with site.rg.read(ctx.actor) as uow:
        orgs = uow.repo.orgs()
        data["orgs"] = orgs
        if tab in ("users", "tokens"):
            data["users"] = uow.repo.users()
        if tab == "users":
            data["requests"] = powers.pending(uow)
        if tab == "tokens":
            data["tokens"] = api_queries.tokens_page(uow.repo, limit=500).items
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
                      location_kinds=[k.value for k in LocationKind], shown=shown or {}, **data)


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

    @router.post("/admin/users/security")
    def account_security(request: Request, form: FormData = Depends(form_data)) -> Response:
        """Enrol or remove an authenticator app, lift a sign-in lock, disable or enable the
        account, or end all its sessions."""
        ctx = site.viewer(request, form)
        username = form_value(form, "username")
        what = form_value(form, "what")
        reason = form_value(form, "reason")
        shown: dict[str, Any] = {}
        try:
            with site.rg.work(ctx.actor) as uow:
                if what == "enrol":
                    secret, uri = auth.enroll_totp(uow, username)
                    shown = {"username": username, "secret": secret, "uri": uri,
                             "qr": Markup(segno.make_qr(uri, error="m").svg_inline(
                                 scale=4, dark="#1b2430"))}
                elif what == "remove":
                    auth.remove_totp(uow, username)
                elif what == "unlock":
                    auth.unlock(uow, username)
                elif what == "disable":
                    accounts.disable(uow, username, reason)
                elif what == "enable":
                    accounts.enable(uow, username, reason)
                elif what == "sign_out":
                    accounts.sign_out_everywhere(uow, username)
                else:
                    raise ValidationFailed("choose what to do", field="what")
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, "users", status=422, error=ctx.explain(exc),
                         values={"reason": reason})
        if shown:
            # the secret is shown this once, never stored in a page or link
            return _page(site, ctx, "users", shown=shown)
        return ctx.redirect("/admin/users", "account_changed")

    @router.post("/admin/requests")
    def request_power(request: Request, form: FormData = Depends(form_data)) -> Response:
        """Ask for a grant of power; another admin approves it."""
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("kind", "username", "role", "scope")}
        try:
            with site.rg.work(ctx.actor) as uow:
                powers.request(uow, values["kind"], values["username"],
                               role=values["role"] or None, scope=values["scope"] or None)
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, "users", status=422, error=ctx.explain(exc), values=values)
        return ctx.redirect("/admin/users", "power_requested")

    @router.post("/admin/requests/decide")
    def decide_power(request: Request, form: FormData = Depends(form_data)) -> Response:
        """Approve (a second admin) or reject a request; an approval may show a one-time
        password, this once."""
        ctx = site.viewer(request, form)
        raw, what = form_value(form, "request"), form_value(form, "what")
        try:
            if not raw.isdigit():
                raise ValidationFailed("choose a request", field="request")
            with site.rg.work(ctx.actor) as uow:
                if what == "approve":
                    found = powers.approve(uow, int(raw))
                elif what == "reject":
                    found = powers.reject(uow, int(raw), form_value(form, "reason"))
                else:
                    raise ValidationFailed("choose what to do", field="what")
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, "users", status=422, error=ctx.explain(exc))
        if found.get("one_time_password"):
            return _page(site, ctx, "users", shown={"otp": found["one_time_password"],
                                                    "username": found["username"]})
        return ctx.redirect("/admin/users", "power_decided")

    @router.post("/admin/tokens")
    def create_token(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("username", "name", "expires_on")}
        try:
            day = parse_day(values["expires_on"], "expires_on")
            expires = (datetime.combine(day, time(23, 59), tzinfo=timezone())
                       if day is not None else None)
            with site.rg.work(ctx.actor) as uow:
                _token_id, token = auth.create_api_token(uow, values["username"],
                                                         values["name"], expires_at=expires)
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, "tokens", status=422, error=ctx.explain(exc), values=values)
        return _page(site, ctx, "tokens", shown={"token": token, "name": values["name"],
                                                 "username": values["username"]})

    @router.post("/admin/tokens/revoke")
    def revoke_token(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        raw = form_value(form, "token")
        try:
            if not raw.isdigit():
                raise ValidationFailed("choose a token", field="token")
            with site.rg.work(ctx.actor) as uow:
                auth.revoke_api_token(uow, int(raw))
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, "tokens", status=422, error=ctx.explain(exc))
        return ctx.redirect("/admin/tokens", "token_revoked")

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
