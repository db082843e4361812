from __future__ import annotations

import pytest


def test_an_armorer_issues_and_returns_a_firearm(api, firearm_id):
    fid = firearm_id("GLK-A100")
    r = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"})
    assert r.status_code == 201, r.text
    assert r.json()["type"] == "custody.issued"
    r = api.get("armero1", f"/firearms/{fid}")
    assert r.json()["status"] == "issued" and r.json()["custodian"] == "P1"
    r = api.post("armero1", f"/firearms/{fid}/return", {"location": "ARM1"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("driver_error", ["sqlite3", "psycopg"])
def test_a_database_that_drops_away_answers_503_with_retry_after(api, monkeypatch,
                                                                 driver_error):
    """The drivers' own errors (raised on the hot paths, not wrapped by SQLAlchemy) are the
    database being busy or gone, whatever the deployment: 503, retry, not a 500."""
    import sqlite3

    import psycopg

    from resguardo.storage.repositories import Repositories

    error = {"sqlite3": sqlite3.OperationalError("database is locked"),
             "psycopg": psycopg.OperationalError("server closed the connection")}[driver_error]

    def gone(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise error
    token = api.token("armero1")
    monkeypatch.setattr(Repositories, "firearms", gone)
    r = api.client.get("/api/v1/firearms", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "1" and r.json()["error"]["code"] == "unavailable"


def test_the_health_endpoint_says_which_database_it_writes_to(api):
    """No sign-in: a load balancer asks it. On PostgreSQL it names the database and says
    the server is the primary (the test server has no replicas)."""
    r = api.client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    database = r.json()["database"]
    assert database["role"] == "primary" and database["replicas"] == []
    if database["engine"] == "postgresql":
        assert database["database"].startswith("t_") and database["server"]
    else:
        assert database["engine"] == "sqlite"


@pytest.mark.parametrize("driver_error", ["sqlite3", "psycopg", "wrapped"])
def test_a_full_disk_answers_503_storage_full_not_retry(api, monkeypatch, driver_error):
    """A full disk is not a busy database: its own code and a message saying so."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import OperationalError

    from resguardo.storage.repositories import Repositories

    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL
    error = {"sqlite3": full,
             "psycopg": psycopg.errors.DiskFull("could not extend file: No space left on device"),
             "wrapped": OperationalError("INSERT", {}, full)}[driver_error]

    def no_room(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise error
    token = api.token("armero1")
    monkeypatch.setattr(Repositories, "firearms", no_room)
    r = api.client.get("/api/v1/firearms", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 503, r.text
    body = r.json()["error"]
    assert body["code"] == "storage_full"
    assert body["message"].startswith("the storage is full")
    assert "busy" not in body["message"]
