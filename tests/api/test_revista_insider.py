"""The insider's pattern, tried the way the agency's armorer and chief would, from the
command line and the API: while a revista is open nothing of the books changes, each
attempt is recorded and listed in the acta, and nothing of the count can be read."""

from __future__ import annotations

import io
import json

from pypdf import PdfReader

from inprocess import api_app
from resguardo.services import inspections

from world import PASSWORD, do, look


def registration_of(app_, serial):  # type: ignore[no-untyped-def]
    return look(app_, None, lambda uow: next(
        e.position for e in uow.repo.iter_events()
        if e.type == "firearm.registered" and e.payload["serial"] == serial))


def test_the_armorer_and_chief_change_nothing_and_see_nothing_of_an_open_revista(
        world, cli, asgi_client, tmp_path):
    out = cli("--as", "inspector_zm", "inspection", "plan", "--agency", "MUN1",
              "--date", "2025-03-04", "--sealed", "--json")
    assert out.exit_code == 0, out.output
    iid = json.loads(out.stdout)["position"]
    assert cli("--as", "inspector_zm", "inspection", "open", str(iid)).exit_code == 0
    assert cli("--as", "inspector_zm", "inspection", "scan", str(iid), "GLK-A100",
               "--location", "ARM1").exit_code == 0

    # the command line, as the armorer and the chief would try it
    tries = [
        ("armero1", "correct", str(registration_of(world, "GLK-A300")), "serial=ZZ999999",
         "--reason", "Matrícula mal capturada"),
        ("armero1", "firearm", "add", "NEW-77", "--make", "Glock", "--calibre", "9x19mm",
         "--kind", "pistol", "--location", "ARM1"),
        ("armero1", "issue", "GLK-A200", "--to", "P1"),
        ("jefe1", "location", "add", "ARM7", "--name", "Bodega", "--agency", "MUN1"),
    ]
    for user, *args in tries:
        result = cli("--as", user, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "frozen" in result.stderr
    # the count: no numbers, no last scans, through the show command
    for user in ("armero1", "jefe1"):
        shown = json.loads(cli("--as", user, "inspection", "show", str(iid), "--json").stdout)
        assert shown["frozen"] is True and "count" not in shown and "record" not in shown
        assert "GLK-A100" not in json.dumps(shown)
        assert cli("--as", user, "inspection", "scan", str(iid), "GLK-A300").exit_code == 1

    # the API, with the same people's credentials
    client = asgi_client(api_app(world))

    def token(user: str) -> dict[str, str]:
        r = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    armorer = token("armero1")
    firearm_id = look(world, None, lambda uow: uow.repo.firearm("GLK-A400").id)
    r = client.post(f"/api/v1/firearms/{firearm_id}/issue", json={"badge": "P1"}, headers=armorer)
    assert r.status_code == 423 and r.json()["error"]["code"] == "lockdown"
    r = client.get(f"/api/v1/inspections/{iid}", headers=armorer)
    assert r.status_code == 200 and r.json()["frozen"] is True
    assert r.json()["count"] is None and "GLK-A100" not in r.text
    r = client.post(f"/api/v1/inspections/{iid}/scans", json={"serial": "GLK-A300"},
                    headers=armorer)
    assert r.status_code == 403

    # every attempt is on record and in the acta, with who made it
    closed = cli("--as", "inspector_zm", "inspection", "close", str(iid), "--json")
    assert closed.exit_code == 0, closed.output
    shown = do(world, "inspector_zm", inspections.show, iid)
    refused = shown["record"]["refusals"]
    assert len(refused) == len(tries) + 1
    assert sorted({r["who"] for r in refused}) == ["armero1", "jefe1"]
    pdf, _ = do(world, "inspector_zm", inspections.acta, iid)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Intentos rechazados durante la revista" in text and "NEW-77" in text
    assert "15a Zona Militar (ZM15)" in text
    # the serial correction never happened: the missing weapon is still missing as it was
    missing = {f["serial"] for f in json.loads(closed.stdout)["findings"]
               if f["kind"] == "missing"}
    assert "GLK-A300" in missing and "ZZ999999" not in missing
