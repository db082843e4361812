"""A real full database (SQLite held to its current size with PRAGMA max_page_count, which
fails writes with SQLITE_FULL exactly as a full disk does): the desk gets 503
`storage_full` saying so, reads go on, and the administrators see an alert; once there
is room again writes go through and the alert says since when."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from resguardo.services import storage_health


@pytest.fixture
def full(api):  # type: ignore[no-untyped-def]
    """Hold the database to the pages it has; returns a switch that gives room back."""
    if api.app.engine.dialect.name != "sqlite":
        pytest.skip("a page limit is SQLite's; PostgreSQL's disk_full is mapped the same way")
    limit = {"on": True}

    def hold(dbapi, _record):  # type: ignore[no-untyped-def]
        pages = dbapi.execute("PRAGMA page_count").fetchone()[0]
        dbapi.execute(f"PRAGMA max_page_count = {pages if limit['on'] else 2 ** 30}")

    api.app.engine.dispose()
    event.listen(api.app.engine, "connect", hold)
    storage_health._INCIDENTS.clear()

    def room() -> None:
        limit["on"] = False
        api.app.engine.dispose()
    yield room
    event.remove(api.app.engine, "connect", hold)
    storage_health._INCIDENTS.clear()


def test_a_full_database_refuses_writes_saying_so_and_alerts_the_admin(api, firearm_id, full):
    fid = firearm_id("GLK-A100")
    api.token("armero1"), api.token("admin")  # signed in before the disk filled
    answers = []
    for _ in range(400):  # issue and return until a page is needed that is not there
        step = (api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"})
                if len(answers) % 2 == 0 else
                api.post("armero1", f"/firearms/{fid}/return", {"location": "ARM1"}))
        answers.append(step)
        if step.status_code != 201:
            break
    refused = answers[-1]
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "storage_full"
    assert "storage is full" in refused.json()["error"]["message"]
    assert api.get("armero1", f"/firearms/{fid}").status_code == 200  # reading goes on

    alerts = api.get("admin", "/alerts").json()["items"]
    storage = [a for a in alerts if a["kind"] == "storage_full"]
    assert len(storage) == 1 and "1 write(s) refused" in storage[0]["message"]
    armorer = api.get("armero1", "/alerts").json()["items"]
    assert not [a for a in armorer if a["kind"] == "storage_full"]  # the admin's to act on

    full()  # space freed: the next write goes through, the alert says so for a day
    again = (api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"})
             if len(answers) % 2 == 1 else
             api.post("armero1", f"/firearms/{fid}/return", {"location": "ARM1"}))
    assert again.status_code == 201, again.text
    after = [a for a in api.get("admin", "/alerts").json()["items"]
             if a["kind"] == "storage_full"]
    assert len(after) == 1 and "writes go through again since" in after[0]["message"]
