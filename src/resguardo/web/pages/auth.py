"""Signing in and out, and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from resguardo.domain.entities import Actor
from resguardo.domain.errors import DomainError
from resguardo.services import accounts, auth, sessions
from resguardo.web.i18n import LANGUAGES
from resguardo.web.site import (
    LANG_COOKIE,
    SESSION_COOKIE,
    Site,
    form_data,
    form_value,
    is_https,
)


def safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) is a place to go after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def authenticate(site: Site, username: str, password: str, totp: str | None,
                 client: str | None, new_password: str | None = None) -> Actor:
    """Check the credentials (throttle, lock, TOTP, one-time password) as the API does."""
    return auth.authenticate(site.rg, username, password, client or "unknown", totp=totp,
                             new_password=new_password)


def register(router: APIRouter, site: Site) -> None:

    @router.get("/login")
    def login_page(request: Request) -> Response:
        ctx = site.visitor(request)
        target = safe_next(request.query_params.get("next"))
        if ctx.viewer is not None:
            return ctx.redirect(target)
        return ctx.render("login.html", next=target, username="", error=None, need_totp=False,
                          need_new_password=False)

    @router.post("/login")
    def login(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.visitor(request, form)
        username = form_value(form, "username").lower()
        target = safe_next(form_value(form, "next"))
        client = request.client.host if request.client else None
        new_password = form_value(form, "new_password") or None
        try:
            user = authenticate(site, username, form_value(form, "password"),
                                form_value(form, "totp") or None, client, new_password)
        except DomainError as exc:
            need_totp = bool(form_value(form, "totp")) or exc.code == "totp_required"
            if exc.code in ("totp_required", "password_change_required"):
                return ctx.render("login.html", status=200, next=target, username=username,
                                  error=None, need_totp=need_totp,
                                  need_new_password=exc.code == "password_change_required")
            error = ctx.explain(exc)
            status = exc.status if exc.status in (423, 429) else 401
            return ctx.render("login.html", status=status, next=target, username=username,
                              error=error, need_totp=need_totp,
                              need_new_password=new_password is not None)
        with site.rg.work(None) as uow:
            token = sessions.open_session(uow, user)
            uow.commit()
        response = ctx.redirect(target)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                            secure=is_https(request), path="/", max_age=int(
                                sessions.lifetime().total_seconds()))
        return response

    @router.post("/logout")
    def logout(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        with site.rg.work(ctx.actor) as uow:
            if form_value(form, "everywhere"):
                accounts.sign_out_everywhere(uow)  # this browser's session and every other
            else:
                sessions.close_session(uow, request.cookies.get(SESSION_COOKIE),
                                       ctx.actor.scope.id)
            uow.commit()
        response = ctx.redirect("/login", "signed_out")
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                               secure=is_https(request))
        return response

    @router.post("/lang")
    def switch_language(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.visitor(request, form)
        code = form_value(form, "lang")
        response = ctx.redirect(safe_next(form_value(form, "next")))
        if code in LANGUAGES:
            response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax",
                                httponly=True, secure=is_https(request), path="/")
        return response
