"""Signing in: passwords, throttling, locks, rate limits, TOTP, sessions and integration
tokens."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta

import pyotp
import pytest

from inprocess import api_app
from resguardo.api import create_app
from resguardo.services import accounts, auth
from resguardo.storage.api_tables import api_tokens

from world import PASSWORD


def _events(app, prefix: str) -> list:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return [e for e in uow.repo.iter_events() if e.type.startswith(prefix)]


def login(api, username: str, password: str = PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return api.client.post("/api/v1/auth/token",
                           json={"username": username, "password": password, **extra})


def test_a_right_password_gets_a_bearer_token_and_the_sign_in_is_recorded(api):
    r = login(api, "armero1")
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_at"]
    me = api.client.get("/api/v1/auth/me",
                        headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "armero1" and me.json()["scope"] == "MUN1"
    assert "custody.issue" in me.json()["permissions"]
    logins = _events(api.app, "auth.login")
    assert logins[-1].payload["username"] == "armero1"
    assert logins[-1].payload["address"] == "testclient"


def test_a_wrong_password_is_refused_with_one_error_shape_and_recorded(api):
    r = login(api, "armero1", "wrong-password!")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json() == {"error": {"code": "authentication_failed",
                                  "message": "wrong username or password", "details": {}}}
    failed = _events(api.app, "auth.login_failed")
    assert failed[-1].payload["reason"] == "wrong_password"
    # an unknown user gets exactly the same answer
    assert login(api, "nobody", "wrong-password!").json() == r.json()


def test_failures_slow_the_name_at_that_address_without_locking_the_account(api, clock):
    for _ in range(auth.FREE_FAILURES):
        assert login(api, "armero1", "wrong-password!").status_code == 401
    slowed = login(api, "armero1")  # even the right password waits out the delay
    assert slowed.status_code == 429 and slowed.json()["error"]["code"] == "too_many_attempts"
    assert int(slowed.headers["Retry-After"]) >= 1
    assert _events(api.app, "auth.rate_limited")[-1].payload["username"] == "armero1"
    assert not _events(api.app, "auth.locked")
    clock.advance(minutes=1)
    assert login(api, "armero1").status_code == 200


def test_eight_failures_for_the_inspector_from_one_address_slow_only_that_address(
        world, clock, asgi_client):
    app = api_app(world)
    attacker = asgi_client(app, address="203.0.113.9")
    inspector = asgi_client(app, address="198.51.100.7")

    def sign_in(client, password):  # type: ignore[no-untyped-def]
        return client.post("/api/v1/auth/token",
                           json={"username": "inspector", "password": password})
    for _ in range(8):
        r = sign_in(attacker, "guess-guess-guess")
        if r.status_code == 429:  # wait out the delay, as a patient attacker would
            clock.advance(seconds=int(r.headers["Retry-After"]))
            r = sign_in(attacker, "guess-guess-guess")
        assert r.status_code == 401
    assert len([e for e in _events(world, "auth.login_failed")
                if e.payload["username"] == "inspector"]) == 8
    slowed = sign_in(attacker, PASSWORD)  # the attacker's address waits, right password or not
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 16
    assert sign_in(inspector, PASSWORD).status_code == 200  # at once, from elsewhere
    assert not _events(world, "auth.locked")
    world.engine.dispose()


def test_a_name_that_does_not_exist_answers_like_one_that_does(api):
    """Same status, same words, and the same work: a password hash is checked either way."""
    calls: list[str] = []
    real = auth.users.verify_password

    def counting(stored: str, password: str) -> bool:
        calls.append(stored[:9])
        return real(stored, password)
    auth.users.verify_password = counting  # type: ignore[assignment]
    try:
        known = login(api, "inspector", "guess-guess-guess")
        unknown = login(api, "nadie-existe", "guess-guess-guess")
    finally:
        auth.users.verify_password = real  # type: ignore[assignment]
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert calls == ["$argon2id", "$argon2id"]
    for _ in range(auth.FREE_FAILURES):
        login(api, "nadie-existe", "guess-guess-guess")
        login(api, "inspector", "guess-guess-guess")
    known, unknown = login(api, "inspector", "x-x-x-x-x-x"), login(api, "nadie-existe", "x-x-x")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) and \
        known.status_code == 429


def test_the_delay_grows_with_each_failure():
    cap = timedelta(minutes=15)
    delays = [auth.delay_after(n, cap) for n in range(12)]
    assert delays[:auth.FREE_FAILURES] == [timedelta(0)] * auth.FREE_FAILURES
    grown = delays[auth.FREE_FAILURES:]
    assert all(a < b for a, b in zip(grown, grown[1:], strict=False) if b < cap)
    assert auth.delay_after(100, cap) == cap


def test_failures_from_one_address_are_rate_limited_across_usernames(world, clock, asgi_client):
    settings = dataclasses.replace(auth.AuthSettings(), address_limit=6)
    client = asgi_client(create_app(world, auth_settings=settings, webhooks=False))
    for i in range(6):
        r = client.post("/api/v1/auth/token",
                        json={"username": f"guess{i}", "password": "wrong-password!"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token",
                    json={"username": "armero1", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0
    assert _events(world, "auth.rate_limited")
    clock.advance(minutes=16)
    assert client.post("/api/v1/auth/token", json={"username": "armero1",
                                                   "password": PASSWORD}).status_code == 200
    world.engine.dispose()


def _lock_with_wrong_codes(api, username: str) -> str:  # type: ignore[no-untyped-def]
    with api.app.work("admin") as uow:
        secret, _ = auth.enroll_totp(uow, username)
        uow.commit()
    for _ in range(auth.TOTP_FAILURES_TO_LOCK - 1):
        assert login(api, username, totp="123456").status_code == 401
    assert login(api, username, totp="123456").status_code == 423
    return secret


def test_an_admin_unlocks_a_locked_account(api, clock):
    secret = _lock_with_wrong_codes(api, "armero2")
    assert login(api, "armero2", totp=pyotp.TOTP(secret).at(clock.now)).status_code == 423
    r = api.post("admin", "/users/armero2/unlock")
    assert r.status_code == 200 and r.json()["locked_until"] is None
    assert login(api, "armero2", totp=pyotp.TOTP(secret).at(clock.now)).status_code == 200


def test_the_deployment_can_require_totp_for_oversight_roles(world, clock, asgi_client):
    settings = dataclasses.replace(auth.AuthSettings(), require_totp=True)
    client = asgi_client(create_app(world, auth_settings=settings, webhooks=False))
    def sign_in(user, **extra):  # type: ignore[no-untyped-def]
        return client.post("/api/v1/auth/token",
                           json={"username": user, "password": PASSWORD, **extra})
    # armorers and chiefs are not required to have a second factor
    assert sign_in("armero1").status_code == 200
    r = sign_in("supervisor")
    assert r.status_code == 401 and r.json()["error"]["code"] == "totp_not_enrolled"
    # the supervisor cannot sign in, so an admin (signed in with a second factor) enrols
    with world.work("admin") as uow:
        admin_secret, _ = auth.enroll_totp(uow, "admin")
        uow.commit()
    admin_code = pyotp.TOTP(admin_secret).at(clock.now)
    assert sign_in("admin").json()["error"]["code"] == "totp_required"
    token = sign_in("admin", totp=admin_code).json()["access_token"]
    r = client.post("/api/v1/users/supervisor/totp",
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201 and r.json()["uri"].startswith("otpauth://totp/")
    secret = r.json()["secret"]
    assert sign_in("supervisor", totp="000000").json()["error"]["code"] in {
        "authentication_failed"}
    ok = sign_in("supervisor", totp=pyotp.TOTP(secret).at(clock.now))
    assert ok.status_code == 200
    assert _events(world, "auth.login")[-1].payload["method"] == "password+totp"
    world.engine.dispose()


def test_wrong_codes_after_a_right_password_lock_until_an_admin_lifts_it(api, clock):
    """Whoever types wrong codes after the right password knows the password: that
    deserves a lock, and its sessions end; a wrong password never locks anyone."""
    token = api.token("jefe1")
    secret = _lock_with_wrong_codes(api, "jefe1")
    locks = _events(api.app, "auth.locked")
    assert locks[-1].payload["reason"] == "second_factor_after_right_password"
    assert login(api, "jefe1", totp=pyotp.TOTP(secret).at(clock.now)).status_code == 423
    clock.advance(days=30)  # a lock for what deserves it is lifted by an admin, not by time
    assert login(api, "jefe1", totp=pyotp.TOTP(secret).at(clock.now)).status_code == 423
    # a wrong password answers like any wrong password: the lock is told only to the owner
    assert login(api, "jefe1", "wrong-password!").status_code == 401
    r = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_a_session_token_expires_and_a_forged_one_is_refused(api, clock):
    token = api.token("armero1")
    ok = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    r = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    clock.advance(hours=9)
    r = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def _service_account(app, name: str = "cerradura1", role: str = "armorer",  # type: ignore[no-untyped-def]
                     scope: str = "MUN1") -> str:
    with app.work(None) as uow:
        accounts.add_service_account(uow, name, role, scope)
        uow.commit()
    return name


def test_an_admin_creates_an_integration_token_shown_once_and_stored_hashed(api):
    _service_account(api.app)
    r = api.post("admin", "/tokens", {"username": "cerradura1", "name": "locker ARM1"})
    assert r.status_code == 201
    created = r.json()
    token = created["token"]
    assert token.startswith("rgd_") and created["username"] == "cerradura1"
    with api.app.read(None) as uow:
        stored = uow.conn.execute(api_tokens.select()).all()
    assert [row.token_hash for row in stored] == [hashlib.sha256(token.encode()).hexdigest()]
    assert all(token not in str(tuple(row)) for row in stored)
    listed = api.get("admin", "/tokens").json()["items"]
    assert "token" not in listed[0] and listed[0]["prefix"] == token[:12]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/auth/me", headers=headers).json()["username"] == "cerradura1"
    assert [e.type for e in _events(api.app, "token.")] == ["token.created"]
    assert api.delete("admin", f"/tokens/{created['id']}").status_code == 200
    assert api.client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert api.delete("admin", f"/tokens/{created['id']}").status_code == 409


def test_only_an_admin_manages_tokens_and_only_for_accounts_in_scope(api):
    r = api.post("jefe1", "/tokens", {"username": "armero1", "name": "x"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    r = api.post("admin", "/tokens", {"username": "nobody", "name": "x"})
    assert r.status_code == 404


def test_an_expired_integration_token_is_refused(api, clock):
    _service_account(api.app)
    expiry = (clock.now + timedelta(days=1)).isoformat()
    token = api.post("admin", "/tokens", {"username": "cerradura1", "name": "temp",
                                          "expires_at": expiry}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/auth/me", headers=headers).status_code == 200
    clock.advance(days=2)
    assert api.client.get("/api/v1/auth/me", headers=headers).status_code == 401


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer nonsense", "Basic YWRtaW46YWRtaW4="])
def test_requests_without_a_valid_bearer_token_are_refused(api, header):
    headers = {"Authorization": header} if header else {}
    r = api.client.get("/api/v1/firearms", headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "authentication_failed"


def test_the_authenticate_function_needs_no_web_framework(world):
    actor = auth.authenticate(world, "jefe2", PASSWORD, "10.0.0.9")
    assert actor.username == "jefe2" and actor.scope.code == "MUN2"
    with pytest.raises(auth.AuthenticationFailed):
        auth.authenticate(world, "jefe2", "nope-nope-nope", "10.0.0.9")
