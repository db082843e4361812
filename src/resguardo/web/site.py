"""The web interface's core: who is looking, in which language, and how a page
is rendered, protected and refused.

Every page goes through ``Site``: ``visitor`` for pages anyone may open (the
sign-in page), ``viewer`` for everything else. A POST must carry the CSRF token
bound to the session (or, before signing in, the double-submit cookie), and
every response of these routes carries the security headers. Authorization is
never decided here: pages call the services, which refuse.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from resguardo.domain.codes import Role
from resguardo.domain.entities import Actor
from resguardo.domain.errors import DomainError, NotFound
from resguardo.domain.movements import MOVEMENTS
from resguardo.domain.policy import Action, may
from resguardo.services import sessions
from resguardo.services.app import Resguardo
from resguardo.web import labels, required
from resguardo.web.i18n import LANGUAGES, N_, Lang, pick_language
from resguardo.web.refusals import explain, problem

log = logging.getLogger("resguardo.web")

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "rg_session"
CSRF_COOKIE = "rg_csrf"
LANG_COOKIE = "rg_lang"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; media-src 'self' blob:; font-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class LoginRequired(Exception):
    """The page needs a signed-in user."""


class CsrfRejected(Exception):
    """A form arrived without the token this session issued."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person looking at a page."""

    actor: Actor
    display_name: str
    session: sessions.WebSession

    @property
    def role(self) -> str:
        return self.actor.role.value

    @property
    def scope(self):  # type: ignore[no-untyped-def]
        return self.actor.scope

    def is_(self, *roles: str) -> bool:
        return self.actor.role.value in roles


NAV: list[tuple[str, str, tuple[str, ...]]] = [
    # path, label, roles that see the link (the services decide what they may do)
    ("/", N_("Dashboard"), tuple(r.value for r in Role)),
    ("/desk", N_("Shift desk"), ("armorer",)),
    ("/firearms", N_("Firearms"), tuple(r.value for r in Role)),
    ("/officers", N_("Officers"), tuple(r.value for r in Role)),
    ("/transfers", N_("Transfers"), ("armorer", "chief", "supervisor")),
    ("/ammunition", N_("Ammunition"), ("armorer", "chief", "supervisor", "inspector", "auditor")),
    ("/inspections", N_("Inspections"), ("armorer", "chief", "supervisor", "inspector",
                                         "auditor")),
    ("/alerts", N_("Alerts"), ("armorer", "chief", "supervisor", "inspector", "auditor", "admin")),
    ("/losses", N_("Losses"), ("armorer", "chief", "supervisor", "inspector", "investigator",
                               "auditor")),
    ("/trace", N_("Trace"), ("investigator", "auditor")),
    ("/import", N_("Import"), ("armorer", "chief", "admin")),
    ("/ledger", N_("Ledger"), ("auditor", "admin", "supervisor", "inspector")),
    ("/admin", N_("Administration"), ("admin",)),
]


@dataclass
class Ctx:
    """One request as the pages see it."""

    site: Site
    request: Request
    lang: Lang
    viewer: Viewer | None
    csrf: str
    set_csrf_cookie: bool = False
    notices: list[tuple[str, str]] = field(default_factory=list)
    refused: DomainError | None = None

    @property
    def actor(self) -> Actor:
        assert self.viewer is not None
        return self.viewer.actor

    def _(self, message: str, **values: Any) -> str:
        return self.lang.gettext(message, **values)

    def flash(self, kind: str, message: str) -> None:
        self.notices.append((kind, message))

    def explain(self, exc: DomainError) -> str:
        self.refused = exc
        return explain(exc, self.lang)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        if status == 422 and self.refused is not None and self.refused.code == "permission_denied":
            status = 403  # the page shows the refusal; the status says what kind it is
        html = self.site.render(self, template, values)
        response = HTMLResponse(html, status_code=status)
        self.cookies(response)
        return response

    def redirect(self, url: str, notice: str | None = None) -> RedirectResponse:
        if notice:
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}{urlencode({'done': notice})}"
        response = RedirectResponse(url, status_code=303)
        self.cookies(response)
        return response

    def cookies(self, response: Response) -> None:
        if self.set_csrf_cookie:
            response.set_cookie(CSRF_COOKIE, self.csrf, httponly=True, samesite="lax",
                                secure=is_https(self.request), path="/")


def is_https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or proto == "https"


def secure(request: Request, response: Response) -> None:
    """The headers every page and file of the interface carries."""
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Frame-Options"] = "DENY"
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "same-origin"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=(), payment=()"
    h.setdefault("Cache-Control", "no-store")
    if is_https(request):
        h["Strict-Transport-Security"] = "max-age=31536000"


@functools.cache
def templates() -> jinja2.Environment:
    """The interface's templates, one environment for every ``Site`` of the process.

    Nothing in it belongs to a deployment (the values a page needs come with each
    rendering), and compiling a template is most of what its first rendering costs: a
    process that builds several sites (the API's and the pages' ``mount``, the demo, the
    tests' site per test) compiles each template once. Jinja still reloads a template
    whose file changed."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    env.globals.update(labels=labels, label=labels.label, who=labels.who,
                       LANGUAGES=LANGUAGES, quote=quote)
    return env


class Site:
    """The pages of one deployment."""

    def __init__(self, resguardo: Resguardo) -> None:
        self.rg = resguardo
        #: Pages that exist only when their service is installed add their path here.
        self.available: set[str] = set()
        self.env = templates()

    # --- who is looking ---------------------------------------------------------------

    def _viewer(self, request: Request) -> Viewer | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        upkeep = None
        viewer = None
        with self.rg.read(None) as uow:
            session, upkeep = sessions.find_session(uow, token)
            if session is not None:
                try:
                    actor = uow.repo.actor_for(session.username)
                except NotFound:
                    actor = None
                if actor is not None and actor.user_id == session.user_id:
                    row = uow.repo.user_row(session.username)
                    actor = dataclasses.replace(actor, credential=session.credential)
                    viewer = Viewer(actor, row.display_name if row else actor.username, session)
        if upkeep:
            with self.rg.work(None) as uow:
                sessions.keep_session(uow, token, upkeep)
                uow.commit()
        return viewer

    def _ctx(self, request: Request, viewer: Viewer | None) -> Ctx:
        lang = Lang(pick_language(request.cookies.get(LANG_COOKIE)))
        if viewer is not None:
            return Ctx(self, request, lang, viewer, viewer.session.csrf)
        token = request.cookies.get(CSRF_COOKIE)
        if token and 20 <= len(token) <= 128:
            return Ctx(self, request, lang, None, token)
        return Ctx(self, request, lang, None, secrets.token_urlsafe(32), set_csrf_cookie=True)

    def visitor(self, request: Request, form: FormData | None = None) -> Ctx:
        """A page anyone may open (signed in or not)."""
        ctx = self._ctx(request, self._viewer(request))
        self._check_form(ctx, form)
        return ctx

    def viewer(self, request: Request, form: FormData | None = None) -> Ctx:
        """A page for signed-in people; a POST must carry the session's CSRF token."""
        viewer = self._viewer(request)
        if viewer is None:
            raise LoginRequired()
        ctx = self._ctx(request, viewer)
        self._check_form(ctx, form)
        return ctx

    def _check_form(self, ctx: Ctx, form: FormData | None) -> None:
        request = ctx.request
        if request.method in ("GET", "HEAD"):
            return
        origin = request.headers.get("origin")
        if origin and origin != f"{request.url.scheme}://{request.url.netloc}" and \
                origin.split("://", 1)[-1] != request.url.netloc:
            raise CsrfRejected()
        given = request.headers.get("x-csrf-token")
        if form is not None:
            value = form.get("csrf")
            given = value if isinstance(value, str) else given
        if ctx.set_csrf_cookie or not sessions.same_token(ctx.csrf, given):
            raise CsrfRejected()

    # --- rendering -------------------------------------------------------------------

    def render(self, ctx: Ctx, template: str, values: dict[str, Any]) -> str:
        lang = ctx.lang
        viewer = ctx.viewer
        done = ctx.request.query_params.get("done")
        notices = list(ctx.notices)
        if done and done in NOTICES:
            notices.insert(0, ("ok", lang.gettext(NOTICES[done])))
        nav = []
        if viewer is not None:
            path = ctx.request.url.path
            for href, text, roles in NAV:
                if href in OPTIONAL and href not in self.available:
                    continue
                if viewer.role in roles:
                    active = path == href if href == "/" else path.startswith(href)
                    nav.append((href, lang.gettext(text), active))
        page = {
            "ctx": ctx, "viewer": viewer, "lang": lang, "_": lang.gettext,
            "gettext": lang.gettext, "ngettext": lang.ngettext, "csrf": ctx.csrf,
            "nav": nav, "notices": notices, "path": ctx.request.url.path,
            "here": str(ctx.request.url.path) + (f"?{ctx.request.url.query}"
                                                   if ctx.request.url.query else ""),
            "problem": lambda text: problem(text, lang),
            # offers a form only to roles that may use it; the services decide either way
            "may": lambda action: viewer is not None and may(viewer.actor, Action(action)),
        }
        html = self.env.get_template(template).render({**page, **values})
        return required.mark(html, lang.gettext(REQUIRED_NOTE))

    def error_page(self, request: Request, status: int, message: str) -> HTMLResponse:
        try:
            ctx = self._ctx(request, self._viewer(request))
        except Exception:  # noqa: BLE001 - the database may be what failed
            ctx = self._ctx(request, None)
        titles = {403: N_("Not allowed"), 404: N_("Not found"), 400: N_("Check the request"),
                  500: N_("Something went wrong")}
        title = ctx.lang.gettext(titles.get(status, N_("Refused")))
        return ctx.render("error.html", status=status, title=title, message=message)


#: Pages served only when the service behind them is installed.
OPTIONAL = frozenset({"/trace"})

#: Short confirmations shown after a redirect (``?done=key``).
#: What the asterisk of a required field means (``required.mark``).
REQUIRED_NOTE = N_("required field")

NOTICES = {
    "issued": N_("Issued. The officer may take the weapon."),
    "returned": N_("Returned to storage."),
    "acknowledged": N_("Alert acknowledged."),
    "reported": N_("Loss recorded. Notify the military authority and record it here."),
    "notified": N_("Notification to the military authority recorded."),
    "recovered": N_("Recovery recorded: held as evidence until a chief records its release."),
    "released": N_("Release recorded: the weapon is back in storage."),
    "licence_attached": N_("The weapon is on the collective licence."),
    "licence_detached": N_("The weapon is off its collective licence."),
    "negligence": N_("Negligence determination recorded."),
    "record_assigned": N_("Weapon of record assigned. Print the credential again: the old "
                          "paper does not name it."),
    "record_withdrawn": N_("Weapon of record withdrawn. Print the credential again and "
                           "collect the old one."),
    "pin_set": N_("PIN set. The officer can confirm at the shift desk."),
    "pin_unlocked": N_("PIN lock lifted. The officer can confirm at the shift desk again."),
    "officer_added": N_("Officer registered."),
    "officer_changed": N_("Officer updated."),
    "firearm_added": N_("Firearm registered."),
    "user_added": N_("User created."),
    "password_set": N_("Password changed."),
    "org_added": N_("Organization created."),
    "location_added": N_("Location created."),
    "licence_added": N_("Licence created."),
    "override_granted": N_("Override granted."),
    "signed_out": N_("You have signed out."),
    "moved": N_("Moved to its new location."),
    "repair_sent": N_("Sent to repair."),
    "repair_returned": N_("Back from repair, in storage."),
    "decommission_requested": N_("Decommission requested: a chief must approve it."),
    "decommissioned": N_("Decommissioned."),
    "correction_approved": N_("Correction approved: the weapon's identity is corrected."),
    "correction_requested": N_("Correction requested: a chief must approve it; until then the "
                               "weapon keeps its recorded identity."),
    "corrected": N_("Record corrected."),
    "transfer_requested": N_("Transfer requested: a chief or supervisor must approve it."),
    "transfer_sent": N_("Transfer approved: the weapon is in transit to the receiving agency."),
    "request_rejected": N_("Request rejected."),
    "transfer_received": N_("Transfer received: the weapon is in storage at your agency."),
    "ammo_received": N_("Rounds received into stock."),
    "ammo_issued": N_("Rounds issued to the officer."),
    "ammo_returned": N_("Rounds accounted for."),
    "ammo_consumed": N_("Rounds used from stock recorded."),
    "inspection_planned": N_("Inspection planned."),
    "inspection_opened": N_("Inspection open: the agency's registry and custody movements are "
                            "frozen until it closes. Start scanning."),
    "inspection_closed": N_("Inspection closed: findings frozen and the acta issued."),
    "finding_answered": N_("Answer recorded: it awaits the inspector's review."),
    "finding_reviewed": N_("Review recorded."),
    "finding_verified": N_("Weapon verified: its findings are closed."),
    "checkpoint_signed": N_("Checkpoint signed."),
    "account_changed": N_("Account updated."),
    "token_revoked": N_("Token revoked: it stopped working at once."),
    "power_requested": N_("Requested: another administrator must approve it."),
    "power_decided": N_("Request decided."),
    # a movement that brings its words (``domain.movements``), by its name
    **{m.name: m.words["en"].done for m in MOVEMENTS.values() if m.words},
}


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


def route_class(site: Site) -> type[APIRoute]:
    """Routes whose refusals become pages and whose responses carry the security headers."""

    class WebRoute(APIRoute):
        def get_route_handler(self) -> Endpoint:
            original = super().get_route_handler()

            async def handler(request: Request) -> Response:
                try:
                    response = await original(request)
                except LoginRequired:
                    target = request.url.path + (f"?{request.url.query}" if request.url.query
                                                 else "")
                    if request.method != "GET":
                        # after signing in, go back to the page the form was on
                        target = _same_site_path(request, request.headers.get("referer"))
                    login = f"/login?{urlencode({'next': target})}"
                    if request.headers.get("HX-Request") == "true":
                        # a fragment request: have htmx load the sign-in page as a whole page
                        response = Response(status_code=200, headers={"HX-Redirect": login})
                    else:
                        response = RedirectResponse(login, 303)
                except CsrfRejected:
                    lang = Lang(pick_language(request.cookies.get(LANG_COOKIE)))
                    response = await run_in_threadpool(site.error_page, request, 403, lang.gettext(
                        "This form has expired. Go back, reload the page and try again."))
                except DomainError as exc:
                    lang = Lang(pick_language(request.cookies.get(LANG_COOKIE)))
                    response = await run_in_threadpool(site.error_page, request, exc.status,
                                                       explain(exc, lang))
                except (RequestValidationError, HTTPException) as exc:
                    lang = Lang(pick_language(request.cookies.get(LANG_COOKIE)))
                    status = exc.status_code if isinstance(exc, HTTPException) else 400
                    response = await run_in_threadpool(site.error_page, request, status, lang.gettext(
                        "The address or the form is not valid."))
                except Exception:
                    log.exception("web page failed: %s %s", request.method, request.url.path)
                    lang = Lang(pick_language(request.cookies.get(LANG_COOKIE)))
                    response = await run_in_threadpool(site.error_page, request, 500, lang.gettext(
                        "The page could not be shown. Nothing was changed; try again, and tell "
                        "the administrator if it happens again."))
                secure(request, response)
                return response

            return handler

    return WebRoute


def _same_site_path(request: Request, url: str | None) -> str:
    if not url:
        return "/"
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.url.netloc:
        return "/"
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


async def form_data(request: Request) -> FormData:
    """The submitted form (a dependency, so sync pages can read it)."""
    return await request.form()


def form_value(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
