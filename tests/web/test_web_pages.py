"""The web interface without a browser: signing in, the security rules every
page follows, language, and every page as every role."""

from __future__ import annotations

import re

import pytest
from web_support import Browser, csrf_of, shown

from world import USERS, do


def test_a_visitor_is_sent_to_sign_in_and_back_where_they_were_going(web):
    page = web.get("/firearms?status=issued")
    assert page.url.path == "/login"
    assert "Iniciar sesión" in page.text
    signed = web.client.post("/login", data={
        "csrf": csrf_of(page.text), "username": "armero1", "password": "correct-horse-battery",
        "next": "/firearms?status=issued"})
    assert signed.url.path == "/firearms" and signed.url.query == b"status=issued"


def test_the_header_says_who_you_are_your_role_and_your_scope(signed_in):
    page = signed_in("jefe1").get("/")
    header = page.text.split("</header>")[0]
    assert "jefe1" in header and "Jefe" in header and "Policía Municipal 1" in header


def test_a_wrong_password_is_refused_in_red_without_saying_which_part_was_wrong(web):
    refused = web.sign_in("armero1", "not the password")
    assert refused.status_code == 401
    assert 'class="refusal"' in refused.text
    assert "Usuario o contraseña incorrectos." in refused.text
    unknown = web.sign_in("nobody", "not the password")
    assert "Usuario o contraseña incorrectos." in unknown.text


def test_signing_out_ends_the_session_on_the_server(sqlite_world, signed_in):
    browser = signed_in("armero1")
    cookie = browser.client.cookies.get("rg_session")
    assert cookie
    browser.post("/logout", page="/")
    replay = Browser(sqlite_world)
    replay.client.cookies.set("rg_session", cookie)
    assert replay.get("/").url.path == "/login"


def test_a_disabled_account_loses_its_session(sqlite_world, signed_in):
    from sqlalchemy import update

    from resguardo.storage import tables as t
    browser = signed_in("armero1")
    with sqlite_world.engine.begin() as conn:
        conn.execute(update(t.users).where(t.users.c.username == "armero1").values(active=False))
    assert browser.get("/").url.path == "/login"


def session_cookie(web, **headers) -> str:  # type: ignore[no-untyped-def]
    page = web.get("/login")
    response = web.client.post("/login", data={
        "csrf": csrf_of(page.text), "username": "armero1", "password": "correct-horse-battery"},
        headers=headers, follow_redirects=False)
    return [h for h in response.headers.get_list("set-cookie") if h.startswith("rg_session=")][0]


def test_session_cookies_are_httponly_samesite_and_secure_behind_tls(web):
    behind_tls = session_cookie(web, **{"X-Forwarded-Proto": "https"})
    assert "HttpOnly" in behind_tls and "SameSite=lax" in behind_tls and "Secure" in behind_tls
    plain = session_cookie(web)
    assert "HttpOnly" in plain and "Secure" not in plain


def test_every_page_carries_the_security_headers(signed_in):
    response = signed_in("armero1").get("/firearms")
    h = response.headers
    assert "script-src 'self'" in h["content-security-policy"]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert "unsafe-inline" not in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "same-origin"
    assert h["cache-control"] == "no-store"


def test_pages_have_no_inline_scripts_or_styles(signed_in):
    browser = signed_in("armero1")
    for url in ("/", "/desk", "/firearms", "/officers", "/alerts", "/inspections"):
        html = browser.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html and "<style" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url


def all_routes(routes):  # type: ignore[no-untyped-def]
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router, unflattened
        if inner is not None:
            yield from all_routes(inner.routes)
        else:
            yield route


def post_routes(app) -> list[str]:  # type: ignore[no-untyped-def]
    found = []
    for route in all_routes(app.routes):
        if "POST" in getattr(route, "methods", set()):
            path = route.path
            path = re.sub(r"\{[a-z_]+:int\}", "1", path)
            path = re.sub(r"\{[a-z_]+\}", "suspend", path)
            found.append(path)
    return found


def test_every_form_is_refused_without_its_csrf_token(signed_in):
    browser = signed_in("admin")
    routes = post_routes(browser.client.app)
    assert len(routes) >= 12
    for path in routes:
        response = browser.client.post(path, data={"username": "admin"})
        assert response.status_code == 403, path
        assert "Este formulario caducó" in response.text, path
        forged = browser.client.post(path, data={"csrf": "x" * 43})
        assert forged.status_code == 403, path


def test_a_form_posted_from_another_site_is_refused(signed_in):
    browser = signed_in("armero1")
    html = browser.get("/desk").text
    response = browser.client.post("/desk", data={"csrf": csrf_of(html), "badge": "P1"},
                                   headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_the_interface_is_in_spanish_until_you_switch_to_english(signed_in):
    browser = signed_in("armero1")
    assert "Tablero" in browser.get("/").text
    page = browser.post("/lang", {"lang": "en", "next": "/firearms"}, page="/")
    assert page.url.path == "/firearms"
    assert "Firearms" in page.text and "Register a firearm" in page.text
    assert "Armas" not in page.text.split("<main")[1]
    back = browser.post("/lang", {"lang": "es", "next": "/"}, page="/")
    assert "Tablero" in back.text


def test_dates_and_numbers_follow_the_language(signed_in):
    browser = signed_in("armero1")
    spanish = browser.get("/firearms").text
    assert "mar 2025" in spanish
    browser.post("/lang", {"lang": "en", "next": "/firearms"}, page="/")
    english = browser.get("/firearms").text
    assert "Mar 2, 2025" in english or "Mar 3, 2025" in english


PAGES = ["/", "/desk", "/firearms", "/firearms?status=issued&sort=-make&page=1",
         "/firearms?q=nothing-matches", "/officers", "/officers?status=suspended",
         "/inspections", "/alerts", "/alerts?all=1", "/losses", "/admin/organizations",
         "/admin/locations", "/admin/licences", "/firearms/labels.pdf"]


@pytest.mark.parametrize("username", ["admin", *USERS])
def test_every_page_answers_every_role_without_an_error(signed_in, username):
    browser = signed_in(username)
    for url in PAGES:
        response = browser.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        assert "Traceback" not in response.text
        if response.status_code == 403:
            assert 'class="refusal"' in response.text


def test_pages_refused_to_a_role_say_why(signed_in):
    desk = signed_in("jefe1").get("/desk")
    assert desk.status_code == 403
    assert "Su rol (Jefe) no puede asignar armas." in desk.text
    users = signed_in("armero1").get("/admin/users")
    assert users.status_code == 403
    assert "administrar usuarios" in users.text


def test_an_unknown_address_is_a_page_not_a_traceback(signed_in):
    response = signed_in("armero1").get("/no/such/page")
    assert response.status_code == 404
    assert "No hay ninguna página en esta dirección." in response.text


def test_another_agencys_weapon_is_answered_as_missing(sqlite_world, signed_in):
    from world import look
    theirs = look(sqlite_world, None, lambda uow: uow.repo.firearm("BER-B100").id)
    response = signed_in("armero1").get(f"/firearms/{theirs}")
    assert response.status_code == 404
    assert "BER-B100" not in response.text


def test_the_admin_creates_a_user_and_a_location(signed_in):
    admin = signed_in("admin")
    done = admin.post("/admin/users", {"username": "armero9", "display_name": "Nuevo armero",
                                       "role": "armorer", "scope": "MUN1",
                                       "password": "a-long-password-1"}, page="/admin/users")
    assert "Usuario creado." in done.text and "armero9" in done.text
    refused = admin.post("/admin/users", {"username": "jefe9", "role": "chief", "scope": "SSP",
                                          "password": "a-long-password-1"}, page="/admin/users")
    assert refused.status_code == 422
    assert 'class="refusal"' in refused.text
    location = admin.post("/admin/locations", {"agency": "MUN2", "code": "ARM9",
                                               "name": "Armería sur", "kind": "armory"},
                          page="/admin/locations")
    assert "Ubicación creada." in location.text and "Armería sur" in location.text


def test_a_chief_cannot_create_users_even_by_posting_the_form(signed_in):
    chief = signed_in("jefe1")
    html = chief.get("/admin/organizations").text
    response = chief.client.post("/admin/users", data={
        "csrf": csrf_of(html), "username": "sneaky", "role": "armorer", "scope": "MUN1",
        "password": "a-long-password-1"})
    assert response.status_code == 403
    assert "Su rol (Jefe) no puede administrar usuarios." in response.text
    assert "sneaky" not in signed_in("admin").get("/admin/users").text


def test_officers_list_and_record(signed_in, sqlite_world):
    from resguardo.services import custody
    do(sqlite_world, "armero1", custody.issue, "GLK-A200", "P2")
    chief = signed_in("jefe1")
    listing = chief.get("/officers")
    assert "Ana Ruiz" in listing.text and "Luis Mora" in listing.text
    found = chief.get("/officers?q=p2")
    assert found.url.path.startswith("/officers/")
    assert "GLK-A200" in found.text
    assert "Sin asignar: el elemento no puede confirmar en la armería" in found.text


def test_the_pages_mount_beside_the_api_in_one_application(sqlite_world):
    from fastapi.testclient import TestClient

    from resguardo.api import create_app
    from resguardo.web import mount

    app = create_app(sqlite_world, webhooks=False)
    mount(app, sqlite_world)
    client = TestClient(app)
    assert client.get("/api/v1/health").json()["status"] == "ok"
    page = client.get("/")
    assert page.url.path == "/login" and "Iniciar sesión" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    signed = client.post("/login", data={"csrf": csrf_of(page.text), "username": "armero1",
                                         "password": "correct-horse-battery"})
    assert "Tablero" in signed.text
    assert "content-security-policy" not in client.get("/api/v1/health").headers


def test_an_account_with_an_authenticator_app_signs_in_with_its_code(sqlite_world, signed_in,
                                                                     clock):
    import pyotp

    admin = signed_in("admin")
    enrolled = admin.post("/admin/users/security", {"username": "auditor", "what": "enrol"},
                          page="/admin/users")
    assert "Aplicación autenticadora de auditor" in enrolled.text
    assert "<svg" in enrolled.text.split("Aplicación autenticadora de auditor")[1]
    secret = re.search(r'<p class="mono">([A-Z2-7]{16,})</p>', enrolled.text).group(1)
    visitor = Browser(sqlite_world)
    asked = visitor.sign_in("auditor")
    assert 'name="totp"' in asked.text and "código de 6 dígitos" in asked.text
    wrong = visitor.client.post("/login", data={"csrf": csrf_of(asked.text),
                                                "username": "auditor",
                                                "password": "correct-horse-battery",
                                                "totp": "000000"})
    assert wrong.status_code == 401 and "Código del autenticador incorrecto." in wrong.text
    code = pyotp.TOTP(secret).at(clock.now)
    done = visitor.client.post("/login", data={"csrf": csrf_of(wrong.text),
                                               "username": "auditor",
                                               "password": "correct-horse-battery",
                                               "totp": code})
    assert done.url.path == "/" and "Tablero" in done.text


def test_htmx_is_served_from_the_npm_package_when_installed(web):
    from resguardo.web.pages.assets import htmx_path

    response = web.get("/static/vendor/htmx.min.js")
    if htmx_path() is None:
        assert response.status_code == 404  # the pages work without it: plain forms
        return
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "htmx" in response.text[:2000]
    assert web.get("/static/app.css").headers["x-content-type-options"] == "nosniff"


def test_refusals_built_around_a_name_are_translated_too(signed_in):
    admin = signed_in("admin")
    taken = admin.post("/admin/locations", {"agency": "MUN1", "code": "ARM1",
                                            "name": "Otra", "kind": "armory"},
                       page="/admin/locations")
    assert "Policía Municipal 1 ya tiene una ubicación ARM1." in taken.text \
        or "MUN1 ya tiene una ubicación ARM1." in taken.text
    short = admin.post("/admin/users", {"username": "nuevo", "role": "auditor",
                                        "scope": "NACIONAL", "password": "corta"},
                       page="/admin/users")
    assert "La contraseña necesita al menos 10 caracteres." in short.text


def test_officers_are_found_by_name_and_a_miss_says_so(signed_in):
    chief = signed_in("jefe1")
    by_name = chief.get("/officers?q=mora")
    assert by_name.url.path.startswith("/officers/") and "Luis Mora" in by_name.text
    missing = chief.get("/officers?q=zzz")
    assert "Ningún elemento coincide con zzz." in missing.text


def test_a_tampered_ledger_is_explained_to_the_auditor_in_their_language(sqlite_world,
                                                                         signed_in):
    """An entry edited behind the application's back: the verify page names the entry and
    says in Spanish what happened, the technical line kept under "Detalles técnicos"."""
    from sqlalchemy import text

    with sqlite_world.engine.begin() as conn:
        position = conn.execute(text(
            "SELECT min(position) FROM events WHERE type = 'firearm.registered'")).scalar_one()
        conn.execute(text("UPDATE events SET payload = replace(payload, '\"Glock\"', "
                          "'\"Gl0ck\"') WHERE position = :p"), {"p": position})
    browser = signed_in("auditor")
    page = browser.post("/ledger/verify", page="/ledger")
    assert page.status_code == 409
    html = page.text
    assert "La bitácora NO es íntegra." in html
    assert "Un asiento ya no corresponde a la huella registrada cuando se escribió" in html
    assert f"Asiento {position}." in html
    assert "Detalles técnicos" in html and f"leaf_mismatch: entry {position} does" in html
    # the words shown, outside the technical details: none of the report's English
    words = shown(re.sub(r"<details.*?</details>", "", html, flags=re.S))
    assert "does not hash" not in words and "entry" not in words
    assert "checkpoint" not in words.lower()
    browser.post("/lang", {"lang": "en", "next": "/ledger"}, page="/")
    english = browser.post("/ledger/verify", page="/ledger").text
    assert "An entry no longer hashes to the leaf recorded when it was written" in english
    assert f"Entry {position}." in english


def test_the_barcode_reader_is_served_from_its_npm_package_and_nothing_else(web):
    from resguardo.web.pages.assets import VENDOR, vendor_path

    if vendor_path(VENDOR["zxing-browser.min.js"]) is None:
        pytest.skip("npm install has not run")
    response = web.get("/static/vendor/zxing-browser.min.js")
    assert response.status_code == 200 and "ZXingBrowser" in response.text[:3000]
    assert web.get("/static/vendor/package.json").status_code == 404
    assert web.get("/static/vendor/..%2Fpackage.json").status_code == 404
