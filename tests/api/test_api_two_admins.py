"""No admin acts as another person: the decommission-by-an-admin path is refused
whichever way one admin tries it (tokens, password resets, new accounts, role
changes); grants of power take a second admin; a reset gives a one-time password."""

from __future__ import annotations

import pytest

from resguardo.services import users

from world import PASSWORD

NEW_PASSWORD = "my-very-own-password"


@pytest.fixture
def two_admins(api):  # type: ignore[no-untyped-def]
    with api.app.work(None) as uow:
        users.add_user(uow, "admin2", PASSWORD, "admin", "NACIONAL")
        uow.commit()
    return api


def _sign_in(api, username: str, password: str, **extra):  # type: ignore[no-untyped-def]
    return api.client.post("/api/v1/auth/token",
                           json={"username": username, "password": password, **extra})


def _events(app, kind: str) -> list:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return [e for e in uow.repo.iter_events() if e.type == kind]


def _status(app, serial: str) -> str:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return uow.repo.firearm(serial).status.value


def test_one_admin_cannot_fill_both_halves_of_a_decommission_whichever_way(two_admins,
                                                                           firearm_id):
    api = two_admins
    fid = firearm_id("GLK-A100")
    # 1. tokens acting as the armorer and the chief
    for person in ("armero1", "jefe1"):
        r = api.post("admin", "/tokens", {"username": person, "name": "as them"})
        assert r.status_code == 422
    # 2. resetting their passwords
    for person in ("armero1", "jefe1"):
        r = api.post("admin", f"/users/{person}/password", {"password": "admin-knows-this"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "second_admin_required"
        assert _sign_in(api, person, "admin-knows-this").status_code == 401
    # 3. new accounts of its own making, directly or as a service account
    r = api.post("admin", "/users", {"username": "armero9", "password": "admin-knows-this",
                                     "role": "armorer", "scope": "MUN1"})
    assert r.status_code == 409 and r.json()["error"]["details"]["kind"] == "account"
    r = api.post("admin", "/users/service-accounts",
                 {"username": "robot9", "role": "chief", "scope": "MUN1"})
    assert r.status_code == 409 and r.json()["error"]["details"]["kind"] == "service_account"
    # 4. a role change that turns a read-only account into a chief
    r = api.post("admin", "/power-requests", {"kind": "role", "username": "investigador",
                                              "role": "chief", "scope": "MUN1"})
    assert r.status_code == 201
    # ... and every request it files, it cannot approve itself
    requests = [r.json()["id"]]
    for body in ({"kind": "password_reset", "username": "armero1"},
                 {"kind": "password_reset", "username": "jefe1"},
                 {"kind": "account", "username": "armero9", "role": "armorer", "scope": "MUN1"},
                 {"kind": "account", "username": "jefe9", "role": "chief", "scope": "MUN1"}):
        r = api.post("admin", "/power-requests", body)
        assert r.status_code == 201, r.text
        requests.append(r.json()["id"])
    for request_id in requests:
        r = api.post("admin", f"/power-requests/{request_id}/approve")
        assert r.status_code == 403 and r.json()["error"]["code"] == "separation_of_duties"
        assert "one_time_password" not in r.text
    # nothing it holds signs in as anyone else, and its own session cannot decommission
    for person in ("armero1", "jefe1", "armero9", "jefe9"):
        assert _sign_in(api, person, "admin-knows-this").status_code == 401
    assert api.post("admin", f"/firearms/{fid}/decommission", {"reason": "x"}).status_code \
        == 403
    assert _status(api.app, "GLK-A100") == "in_storage"
    assert not _events(api.app, "user.power_approved")
    assert len(_events(api.app, "user.power_requested")) == 5


def test_a_second_admin_approves_a_reset_and_only_it_sees_the_one_time_password(two_admins):
    api = two_admins
    old_session = api.token("armero1")
    r = api.post("admin", "/power-requests", {"kind": "password_reset", "username": "armero1"})
    assert r.status_code == 201 and "one_time_password" not in r.json() or \
        r.json()["one_time_password"] is None
    approved = api.post("admin2", f"/power-requests/{r.json()['id']}/approve")
    assert approved.status_code == 200, approved.text
    otp = approved.json()["one_time_password"]
    assert otp and approved.json()["status"] == "approved"
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {old_session}"})
    assert me.status_code == 401  # the reset ended the sessions from before
    assert _sign_in(api, "armero1", PASSWORD).status_code == 401
    first = _sign_in(api, "armero1", otp)
    assert first.status_code == 403
    assert first.json()["error"]["code"] == "password_change_required"
    assert _sign_in(api, "armero1", otp, new_password=otp).status_code == 422
    ok = _sign_in(api, "armero1", otp, new_password=NEW_PASSWORD)
    assert ok.status_code == 200
    assert _sign_in(api, "armero1", otp).status_code == 401  # used once
    assert _sign_in(api, "armero1", NEW_PASSWORD).status_code == 200
    changed = _events(api.app, "user.password_changed")
    assert [(e.actor, e.payload["reset"], e.payload["second_admin"]) for e in changed] == [
        ("admin2", True, True), ("armero1", False, False)]
    assert api.post("admin2", f"/power-requests/{r.json()['id']}/approve").status_code == 409


def test_a_new_account_with_write_rights_needs_a_second_admin(two_admins):
    api = two_admins
    r = api.post("admin", "/power-requests", {"kind": "account", "username": "armero9",
                                              "role": "armorer", "scope": "MUN1"})
    assert r.status_code == 201
    listed = api.get("admin2", "/power-requests").json()
    assert [(x["kind"], x["username"], x["details"]["role"]) for x in listed] == [
        ("account", "armero9", "armorer")]
    otp = api.post("admin2", f"/power-requests/{r.json()['id']}/approve").json()[
        "one_time_password"]
    assert _sign_in(api, "armero9", otp).json()["error"]["code"] == "password_change_required"
    assert _sign_in(api, "armero9", otp, new_password=NEW_PASSWORD).status_code == 200
    # an account that only reads needs no second admin
    r = api.post("admin", "/users", {"username": "auditor9", "password": "a-long-password-9",
                                     "role": "auditor", "scope": "NACIONAL"})
    assert r.status_code == 201


def test_an_approved_role_change_ends_the_sessions_and_rejections_are_recorded(two_admins):
    api = two_admins
    session = api.token("armero2")
    r = api.post("admin", "/power-requests", {"kind": "role", "username": "armero2",
                                              "role": "chief", "scope": "MUN2"})
    assert api.post("admin2", f"/power-requests/{r.json()['id']}/approve").status_code == 200
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {session}"})
    assert me.status_code == 401
    api.sign_in_again()
    assert api.get("armero2", "/auth/me").json()["role"] == "chief"
    changed = _events(api.app, "user.role_changed")[-1]
    assert changed.payload["previous_role"] == "armorer" and changed.actor == "admin2"
    r = api.post("admin", "/power-requests", {"kind": "service_account", "username": "robot1",
                                              "role": "armorer", "scope": "MUN1"})
    rejected = api.post("admin2", f"/power-requests/{r.json()['id']}/reject",
                        {"reason": "No hay cerradura"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert _events(api.app, "user.power_rejected")[-1].reason == "No hay cerradura"


def test_an_admin_cannot_approve_a_change_to_their_own_account(two_admins):
    api = two_admins
    r = api.post("admin", "/power-requests", {"kind": "password_reset", "username": "admin2"})
    assert r.status_code == 201
    r = api.post("admin2", f"/power-requests/{r.json()['id']}/approve")
    assert r.status_code == 403
    r = api.post("admin", "/power-requests", {"kind": "password_reset", "username": "admin"})
    assert r.status_code == 422


def test_every_grant_of_power_is_an_alert_to_the_auditors_of_its_scope(two_admins, clock):
    api = two_admins
    r = api.post("admin", "/power-requests", {"kind": "password_reset", "username": "jefe1"})
    request_id = r.json()["id"]

    def power_alerts(user: str) -> list[str]:
        items = api.get(user, "/alerts").json()["items"]
        return [a["subject"] for a in items if a["kind"] == "power_change"]
    assert power_alerts("auditor") == ["password reset: jefe1 (pending)"]
    assert power_alerts("jefe1") == [] and power_alerts("supervisor") == []
    api.post("admin2", f"/power-requests/{request_id}/approve")
    assert power_alerts("auditor") == ["password reset: jefe1 (approved)"]
    clock.advance(days=8)
    api.sign_in_again()
    assert power_alerts("auditor") == []


def test_the_only_admin_creates_a_second_admin_who_must_replace_the_password(api):
    """Bootstrap: nobody could approve, so the only admin acts alone; but the password it
    chose for the second admin works once, with the second admin's own new password."""
    r = api.post("admin", "/users", {"username": "admin2", "password": "chosen-by-admin-1",
                                     "role": "admin", "scope": "NACIONAL"})
    assert r.status_code == 201
    created = _events(api.app, "user.created")[-1]
    assert created.payload["second_admin"] is False
    first = _sign_in(api, "admin2", "chosen-by-admin-1")
    assert first.json()["error"]["code"] == "password_change_required"
    assert _sign_in(api, "admin2", "chosen-by-admin-1",
                    new_password="admin2-own-password").status_code == 200
    # from now on the deployment has two admins: the first no longer acts alone
    r = api.post("admin", "/users", {"username": "armero9", "password": "a-long-password-9",
                                     "role": "armorer", "scope": "MUN1"})
    assert r.status_code == 409
