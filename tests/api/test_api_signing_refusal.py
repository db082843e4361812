"""Through the API: a deployment restored without its signing key answers writes with 503
`signing_unavailable` and the reason, and keeps answering reads."""

from __future__ import annotations

import dataclasses

from inprocess import api_app
from resguardo.services import backup, ledger
from resguardo.services.app import Resguardo

from world import PASSWORD, build_world


def test_writes_get_503_with_the_reason_and_reads_go_on(sqlite_url, clock, tmp_path,
                                                        asgi_client):  # type: ignore[no-untyped-def]
    source = build_world(sqlite_url, clock, tmp_path)
    out = tmp_path / "copia.backup"
    backup.backup(source, out)
    source.engine.dispose()
    settings = dataclasses.replace(source.settings, database_url=f"sqlite:///{out}",
                                   signing_key=tmp_path / "not-restored.key")
    app = Resguardo(settings, clock=clock)
    ledger.attach(app)
    client = asgi_client(api_app(app))
    signed_in = client.post("/api/v1/auth/token", json={"username": "armero1",
                                                        "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text  # a sign-in only records a read
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    with app.read(None) as uow:
        fid = uow.repo.firearm("GLK-A100").id
    answer = client.post(f"/api/v1/firearms/{fid}/issue", json={"badge": "P1"},
                         headers=headers)
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "signing_unavailable"
    assert error["details"] == {"reason": "no_key"}
    assert "cannot sign checkpoints" in error["message"]
    assert "not-restored.key" in error["message"]
    read = client.get(f"/api/v1/firearms/{fid}", headers=headers)
    assert read.status_code == 200 and read.json()["status"] == "in_storage"
    app.engine.dispose()
