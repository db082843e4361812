"""Web sessions the server ends: a browser signed in before a password reset, a
disable or "sign out everywhere" is refused on its next request; every web entry
records the session it came from; the web sign-in is throttled per name and address."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from web_support import Browser, csrf_of

from resguardo.services import accounts, auth, users
from resguardo.storage import account_tables
from resguardo.web import create_site

from world import PASSWORD, do

NEW_PASSWORD = "a-brand-new-password"


def _signed_out(browser: Browser) -> bool:
    page = browser.get("/firearms")
    return page.url.path == "/login"


def _lock(app, username: str) -> None:  # type: ignore[no-untyped-def]
    do(app, "admin", auth.enroll_totp, username)
    for _ in range(auth.TOTP_FAILURES_TO_LOCK - 1):
        with pytest.raises(auth.AuthenticationFailed):
            auth.authenticate(app, username, PASSWORD, "192.0.2.1", totp="000000")
    with pytest.raises(auth.AccountLocked):
        auth.authenticate(app, username, PASSWORD, "192.0.2.1", totp="000000")


def _change_role(app, username: str) -> None:  # type: ignore[no-untyped-def]
    with app.work(None) as uow:  # as approved by a second admin
        accounts.change_role(uow, username, "investigator", "SSP")
        uow.commit()


@pytest.mark.browser
def test_a_browser_signed_in_before_a_reset_lock_disable_or_role_change_is_refused(
        chromium, live, sqlite_world):
    from test_web_browser import new_page, sign_in_with_the_form
    for username, end in (
            ("armero1", lambda: do(sqlite_world, "admin", users.set_password, "armero1",
                                   NEW_PASSWORD)),
            ("jefe1", lambda: do(sqlite_world, "admin", accounts.disable, "jefe1",
                                 "Dejó la corporación")),
            ("armero2", lambda: _lock(sqlite_world, "armero2")),
            ("jefe2", lambda: _change_role(sqlite_world, "jefe2"))):
        context, page = new_page(chromium)
        sign_in_with_the_form(page, live.url, username)
        page.goto(f"{live.url}/firearms")
        assert page.url == f"{live.url}/firearms"
        end()
        page.goto(f"{live.url}/firearms")
        assert page.url.startswith(f"{live.url}/login"), (username, page.url)
        context.close()


def test_sign_out_everywhere_ends_the_other_browsers_too(sqlite_world):
    first, second = Browser(sqlite_world), Browser(sqlite_world)
    assert first.sign_in("armero1").status_code == 200
    assert second.sign_in("armero1").status_code == 200
    r = first.post("/logout", {"everywhere": "1"}, page="/")
    assert r.url.path == "/login"
    assert _signed_out(first) and _signed_out(second)


def test_plain_sign_out_ends_only_this_browser(sqlite_world):
    first, second = Browser(sqlite_world), Browser(sqlite_world)
    first.sign_in("armero1")
    second.sign_in("armero1")
    first.post("/logout", {}, page="/")
    assert _signed_out(first) and not _signed_out(second)


def test_an_admin_disables_an_account_from_the_administration_page(sqlite_world):
    victim = Browser(sqlite_world)
    victim.sign_in("armero2")
    admin = Browser(sqlite_world)
    admin.sign_in("admin")
    r = admin.post("/admin/users/security", {"username": "armero2", "what": "disable",
                                             "reason": ""}, page="/admin/users")
    assert r.status_code == 422 and "por qué" in r.text
    assert not _signed_out(victim)
    r = admin.post("/admin/users/security", {"username": "armero2", "what": "disable",
                                             "reason": "Baja"}, page="/admin/users")
    assert r.status_code == 200 and "desactivada" in r.text
    assert _signed_out(victim)
    assert victim.sign_in("armero2").url.path == "/login"
    r = admin.post("/admin/users/security", {"username": "armero2", "what": "enable",
                                             "reason": "Reingreso"}, page="/admin/users")
    assert r.status_code == 200
    assert victim.sign_in("armero2").url.path == "/"


def test_a_web_entry_records_the_web_session_it_came_from(sqlite_world):
    browser = Browser(sqlite_world)
    browser.sign_in("armero1")
    with sqlite_world.read(None) as uow:
        firearm = uow.repo.firearm("GLK-A100")
        before = uow.repo.log_size()
    r = browser.post(f"/firearms/{firearm.id}/movement", {"action": "move", "location": "ARM2"},
                     page=f"/firearms/{firearm.id}")
    assert r.status_code == 200, r.text
    with sqlite_world.read(None) as uow:
        credential = account_tables.credential_of(uow.conn, before)
        entry = next(e for e in uow.repo.iter_events() if e.position == before)
    assert entry.type == "firearm.moved"
    assert credential is not None and credential.startswith("web:session:")


def _web_client(app, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_site(app), follow_redirects=False, client=(address, 50000))


def _web_sign_in(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(page.text), "username": username,
                                       "password": password})


def test_eight_failures_from_one_address_slow_it_and_leave_the_inspector_free_elsewhere(
        sqlite_world, clock):
    attacker = _web_client(sqlite_world, "203.0.113.9")
    for _ in range(8):
        r = _web_sign_in(attacker, "inspector", "guess-guess-guess")
        if r.status_code == 429:  # a patient attacker waits out each delay
            clock.advance(minutes=15)
            r = _web_sign_in(attacker, "inspector", "guess-guess-guess")
        assert r.status_code == 401 and "Usuario o contraseña incorrectos" in r.text
    slowed = _web_sign_in(attacker, "inspector", PASSWORD)
    assert slowed.status_code == 429 and "Espere" in slowed.text
    assert "rg_session" not in slowed.cookies
    inspector = _web_client(sqlite_world, "198.51.100.7")
    r = _web_sign_in(inspector, "inspector", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_two_admins_grant_a_new_account_on_the_web_and_its_one_time_password_works_once(
        sqlite_world):
    with sqlite_world.work(None) as uow:
        users.add_user(uow, "admin2", PASSWORD, "admin", "NACIONAL")
        uow.commit()
    first, second = Browser(sqlite_world), Browser(sqlite_world)
    first.sign_in("admin")
    second.sign_in("admin2")
    r = first.post("/admin/users", {"username": "armero9", "password": "a-long-password-9",
                                    "role": "armorer", "scope": "MUN1"}, page="/admin/users")
    assert r.status_code == 422 and "segundo administrador" in r.text
    r = first.post("/admin/requests", {"kind": "account", "username": "armero9",
                                       "role": "armorer", "scope": "MUN1"}, page="/admin/users")
    assert r.status_code == 200 and "otro administrador debe aprobarlo" in r.text
    with sqlite_world.read(None) as uow:
        from resguardo.storage.account_tables import pending_power_requests
        request_id = pending_power_requests(uow.conn)[0]["id"]
    r = first.post("/admin/requests/decide", {"request": str(request_id), "what": "approve"},
                   page="/admin/users")
    assert r.status_code == 422 and "cannot approve" not in r.text  # refused, in Spanish
    r = second.post("/admin/requests/decide", {"request": str(request_id), "what": "approve"},
                    page="/admin/users")
    assert r.status_code == 200 and "Contraseña de un solo uso para armero9" in r.text
    otp = r.text.split('<p class="mono token">', 1)[1].split("<", 1)[0].strip()
    person = Browser(sqlite_world)
    page = person.sign_in("armero9", otp)
    assert "elija la suya" in page.text and 'name="new_password"' in page.text
    page = person.client.post("/login", data={"csrf": csrf_of(page.text), "username": "armero9",
                                              "password": otp,
                                              "new_password": "my-own-password-9"})
    assert page.url.path == "/"
    assert Browser(sqlite_world).sign_in("armero9", otp).url.path == "/login"


def test_the_token_form_offers_only_service_accounts_and_refuses_a_person(sqlite_world):
    with sqlite_world.work(None) as uow:
        accounts.add_service_account(uow, "cerradura1", "armorer", "MUN1")
        uow.commit()
    admin = Browser(sqlite_world)
    admin.sign_in("admin")
    page = admin.get("/admin/tokens").text
    form = page[page.index('action="/admin/tokens"'):]
    assert 'value="cerradura1"' in form and 'value="armero1"' not in form
    r = admin.post("/admin/tokens", {"username": "armero1", "name": "como el armero"},
                   page="/admin/tokens")
    assert r.status_code == 422 and "es una persona" in r.text
    r = admin.post("/admin/tokens", {"username": "cerradura1", "name": "cerradura"},
                   page="/admin/tokens")
    assert r.status_code == 200 and "rgd_" in r.text
