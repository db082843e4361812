"""Sessions the server can end, accounts an admin can disable, service accounts, and
the credential behind every entry (API)."""

from __future__ import annotations

import pytest

from resguardo.services import accounts
from resguardo.storage import account_tables
from resguardo.storage.web_tables import web_sessions

from world import PASSWORD

NEW_PASSWORD = "a-brand-new-password"


def _me(api, token: str) -> int:  # type: ignore[no-untyped-def]
    return api.client.get("/api/v1/auth/me",
                          headers={"Authorization": f"Bearer {token}"}).status_code


def _sign_in(api, username: str, password: str = PASSWORD) -> str:  # type: ignore[no-untyped-def]
    r = api.client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _service_account(app, name: str = "cerradura1", role: str = "armorer",  # type: ignore[no-untyped-def]
                     scope: str = "MUN1") -> None:
    with app.work(None) as uow:
        accounts.add_service_account(uow, name, role, scope)
        uow.commit()


def _events(app, kind: str) -> list:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return [e for e in uow.repo.iter_events() if e.type == kind]


def test_the_session_token_holds_nothing_but_a_random_id_kept_on_the_server(api):
    token = _sign_in(api, "armero1")
    body = token.removeprefix("rs1.")
    assert "." not in body and "armero1" not in body  # no signed claims, no expiry to forge
    with api.app.read(None) as uow:
        rows = uow.conn.execute(web_sessions.select()).all()
    assert [(r.username, r.surface) for r in rows] == [("armero1", "api")]
    assert all(body not in str(tuple(r)) for r in rows)  # only its hash is kept


def test_an_api_session_from_before_a_password_reset_is_refused(api):
    token = _sign_in(api, "armero1")
    assert _me(api, token) == 200
    r = api.post("admin", "/users/armero1/password", {"password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert _me(api, token) == 401
    ended = _events(api.app, "auth.sessions_ended")[-1]
    assert ended.payload["username"] == "armero1" and ended.payload["reason"] == \
        "password_changed"
    assert _me(api, _sign_in(api, "armero1", NEW_PASSWORD)) == 200


def test_changing_your_own_password_ends_your_other_sessions_too(api):
    first, second = _sign_in(api, "jefe1"), _sign_in(api, "jefe1")
    r = api.client.post("/api/v1/users/jefe1/password", json={"password": NEW_PASSWORD},
                        headers={"Authorization": f"Bearer {first}"})
    assert r.status_code == 200, r.text
    assert _me(api, first) == 401 and _me(api, second) == 401


def test_a_disabled_account_is_refused_at_once_and_cannot_sign_in(api):
    token = _sign_in(api, "armero1")
    r = api.post("admin", "/users/armero1/disable", {"reason": "Dejó la corporación"})
    assert r.status_code == 200 and r.json()["active"] is False
    assert _me(api, token) == 401
    refused = api.client.post("/api/v1/auth/token",
                              json={"username": "armero1", "password": PASSWORD})
    unknown = api.client.post("/api/v1/auth/token",
                              json={"username": "nadie", "password": PASSWORD})
    assert refused.status_code == 401 and refused.json() == unknown.json()
    disabled = _events(api.app, "user.disabled")[-1]
    assert disabled.reason == "Dejó la corporación" and disabled.actor == "admin"
    r = api.post("admin", "/users/armero1/enable", {"reason": "Reingresó"})
    assert r.status_code == 200 and r.json()["active"] is True
    assert _me(api, token) == 401  # the old session stays ended
    assert _me(api, _sign_in(api, "armero1")) == 200
    assert [e.type for e in _events(api.app, "user.enabled")] == ["user.enabled"]


def test_disabling_needs_a_reason_and_an_admin(api):
    r = api.post("admin", "/users/armero1/disable", {"reason": " "})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "reason"
    r = api.post("jefe1", "/users/armero1/disable", {"reason": "x"})
    assert r.status_code == 403
    r = api.post("admin", "/users/admin/disable", {"reason": "x"})
    assert r.status_code == 409


def test_a_disabled_service_account_s_token_stops_at_once(api):
    _service_account(api.app)
    token = api.post("admin", "/tokens", {"username": "cerradura1", "name": "locker"}).json()
    assert _me(api, token["token"]) == 200
    assert api.post("admin", "/users/cerradura1/disable", {"reason": "retirada"}).status_code \
        == 200
    assert _me(api, token["token"]) == 401


def test_sign_out_ends_this_session_and_everywhere_ends_them_all(api):
    one, two, three = (_sign_in(api, "jefe1") for _ in range(3))
    r = api.client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {one}"})
    assert r.status_code == 200 and r.json() == {"sessions": 1}
    assert _me(api, one) == 401 and _me(api, two) == 200
    r = api.client.post("/api/v1/auth/logout?everywhere=true",
                        headers={"Authorization": f"Bearer {two}"})
    assert r.status_code == 200 and r.json() == {"sessions": 2}
    assert _me(api, two) == 401 and _me(api, three) == 401


def test_an_admin_signs_an_account_out_everywhere(api):
    token = _sign_in(api, "armero2")
    r = api.post("admin", "/users/armero2/sessions/end")
    assert r.status_code == 200 and r.json() == {"sessions": 1}
    assert _me(api, token) == 401
    assert api.post("jefe1", "/users/armero2/sessions/end").status_code in (403, 404)


def test_an_admin_cannot_mint_a_token_that_acts_as_a_person(api):
    for person in ("armero1", "jefe1"):
        r = api.post("admin", "/tokens", {"username": person, "name": "as a person"})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["field"] == "username"
    assert not _events(api.app, "token.created")


def test_a_service_account_never_signs_in_with_a_password(api):
    r = api.post("admin", "/users/service-accounts",
                 {"username": "puerta1", "role": "armorer", "scope": "MUN1"})
    assert r.status_code == 201 and r.json()["kind"] == "service"
    for password in ("", PASSWORD, "!service-account: signs in with a token only"):
        r = api.client.post("/api/v1/auth/token",
                            json={"username": "puerta1", "password": password or "x"})
        assert r.status_code == 401
        assert r.json()["error"]["message"] == "wrong username or password"
    r = api.post("admin", "/users/puerta1/password", {"password": NEW_PASSWORD})
    assert r.status_code == 422


@pytest.mark.parametrize("half", ["request", "approve"])
def test_a_service_account_takes_no_half_of_a_two_person_rule(api, firearm_id, half):
    _service_account(api.app, "cerradura1", "armorer", "MUN1")
    _service_account(api.app, "tablero1", "chief", "MUN1")
    tokens = {name: api.post("admin", "/tokens", {"username": name, "name": "x"}).json()["token"]
              for name in ("cerradura1", "tablero1")}
    fid = firearm_id("GLK-A100")

    def as_token(name: str, path: str, body=None):  # type: ignore[no-untyped-def]
        return api.client.post("/api/v1" + path, json=body,
                               headers={"Authorization": f"Bearer {tokens[name]}"})
    if half == "request":
        r = as_token("cerradura1", f"/firearms/{fid}/decommission", {"reason": "Rota"})
    else:
        assert api.post("armero1", f"/firearms/{fid}/decommission",
                        {"reason": "Rota"}).status_code == 201
        r = as_token("tablero1", f"/firearms/{fid}/decommission/approve")
    assert r.status_code == 403, r.text
    assert r.json()["error"]["details"]["account"] == "service"


def test_every_entry_records_the_credential_it_was_made_with(api, firearm_id):
    _service_account(api.app)
    token = api.post("admin", "/tokens", {"username": "cerradura1", "name": "locker"}).json()
    session = _sign_in(api, "armero1")
    fid = firearm_id("GLK-A100")
    r = api.client.post(f"/api/v1/firearms/{fid}/move", json={"location": "ARM2"},
                        headers={"Authorization": f"Bearer {session}"})
    assert r.status_code == 201, r.text
    by_session = r.json()["position"]
    r = api.client.post(f"/api/v1/firearms/{fid}/move", json={"location": "ARM1"},
                        headers={"Authorization": f"Bearer {token['token']}"})
    assert r.status_code == 201, r.text
    by_token = r.json()["position"]
    with api.app.read(None) as uow:
        with_session = account_tables.credential_of(uow.conn, by_session)
        with_token = account_tables.credential_of(uow.conn, by_token)
        before = account_tables.credential_of(uow.conn, 0)
    assert with_session is not None and with_session.startswith("api:session:")
    assert session.removeprefix("rs1.") not in with_session  # an id, never the secret
    assert with_token == f"api:token:{token['id']}"
    assert before is None  # the system's own entries (init) carry no credential
