"""Through the API: a deployment restored without its signing key answers writes with 503
`signing_unavailable` and the reason, and keeps answering reads."""

from __future__ import annotations

import dataclasses

from resguardo.api import create_app
from resguardo.services import backup, ledger
from resguardo.services.app import Resguardo

from conftest import SETTINGS, Api
from world import build_world


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
    api = Api(app, asgi_client(create_app(app, auth_settings=SETTINGS, webhooks=False)))
    with app.read(None) as uow:
        fid = uow.repo.firearm("GLK-A100").id
    answer = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"})
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "signing_unavailable"
    assert error["details"] == {"reason": "no_key"}
    assert "cannot sign checkpoints" in error["message"]
    assert "not-restored.key" in error["message"]
    read = api.get("armero1", f"/firearms/{fid}")
    assert read.status_code == 200 and read.json()["status"] == "in_storage"
    app.engine.dispose()
