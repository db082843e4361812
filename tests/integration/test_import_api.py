"""Import over HTTP: upload, preview with a column mapping, commit (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from inprocess import AsgiClient, api_app

from world import PASSWORD

INVENTORY = (
    "Núm. de arma;Marca;Calibre;Tipo;Ubicación;Resguardante\r\n"
    "API-1;Glock;9x19mm;pistola;ARM1;\r\n"
    "API-2;Glock;9x19mm;pistola;;P1\r\n"
    "API-3;Glock;9x19mm;cañón;ARM1;\r\n"
).encode("cp1252")


class Client:
    """The API in-process, with a token per user."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.http = AsgiClient(api_app(app))
        self.tokens: dict[str, str] = {}

    def call(self, user: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if user is not None:
            if user not in self.tokens:
                r = self.http.post("/api/v1/auth/token",
                                   json={"username": user, "password": PASSWORD})
                self.tokens[user] = r.json()["access_token"]
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return self.http.request(method, "/api/v1" + path, headers=headers, **kwargs)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def client(world, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RESGUARDO_IMPORT_DIR", str(tmp_path / "uploads"))
    made = Client(world)
    yield made
    made.close()
    world.engine.dispose()


def log_size(app) -> int:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return uow.repo.log_size()


def upload(client: Client, data: bytes, name: str = "inventario.csv",
           user: str = "armero1") -> httpx.Response:
    return client.call(user, "POST", "/imports/firearms", params={"filename": name},
                       content=data, headers={"Content-Type": "application/octet-stream"})


def test_upload_preview_with_a_mapping_and_commit(client, world, tmp_path):
    r = upload(client, INVENTORY)
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["format"] == "csv" and up["agency"] == "MUN1"
    assert up["headers"][0] == "Núm. de arma"
    assert up["mapping"]["Núm. de arma"] == "note"  # not a serial header by itself
    assert up["missing"] == ["serial"]
    assert up["sample"][0][:2] == ["API-1", "Glock"]
    assert {f["name"] for f in up["fields"]} >= {"serial", "make", "calibre", "kind"}

    before = log_size(world)
    body = {"upload": up["upload"], "location": "ARM1", "lang": "en"}
    r = client.call("armero1", "POST", "/imports/firearms/preview", json=body)
    assert r.status_code == 422, r.text  # without a mapping the serial column is missing
    body["mapping"] = {"Núm. de arma": "serial"}
    r = client.call("armero1", "POST", "/imports/firearms/preview", json=body)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["dry_run"], report["rows"], report["imported"], report["rejected"]) == (
        True, 3, 2, 1)
    assert report["problems"] == [{"line": 4, "column": "Tipo", "column_letter": "D",
                                   "code": "unknown_kind",
                                   "message": report["problems"][0]["message"]}]
    assert report["mapping"]["Núm. de arma"] == "serial"
    assert log_size(world) == before

    r = client.call("armero1", "POST", "/imports/firearms/commit", json=body)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"]["report"]["problems"][0]["line"] == 4
    assert log_size(world) == before

    r = client.call("armero1", "POST", "/imports/firearms/commit",
                    json={**body, "skip_invalid": True})
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["committed"] and done["imported"] == 2 and done["entry"] is not None
    with world.read(None) as uow:
        assert uow.repo.firearm("API-2").status.value == "issued"
        (event,) = [e for e in uow.repo.iter_events(done["entry"])]
    assert event.type == "import.completed" and event.payload["file"] == "inventario.csv"
    assert event.request_id  # the request is named on every entry it wrote
    r = client.call("armero1", "POST", "/imports/firearms/preview", json=body)
    assert r.status_code == 404  # a committed upload is gone


def test_an_upload_is_only_its_senders(client):
    up = upload(client, INVENTORY).json()
    body = {"upload": up["upload"], "mapping": {"Núm. de arma": "serial"}}
    r = client.call("armero2", "POST", "/imports/firearms/preview",
                    json=body)
    assert r.status_code == 404
    r = client.call("armero1", "POST", "/imports/officers/preview", json=body)
    assert r.status_code == 403  # an armorer does not manage officers
    r = client.call("jefe1", "POST", "/imports/officers/preview", json=body)
    assert r.status_code == 404  # and an upload is for one kind of import


def test_uploads_are_refused_by_role_scope_and_content(client, tmp_path):
    assert upload(client, INVENTORY, user="jefe1").status_code == 403
    r = client.call("armero1", "POST", "/imports/firearms", params={"agency": "MUN2"},
                    content=INVENTORY)
    assert r.status_code == 404
    r = upload(client, b"PK\x03\x04 not really a workbook", name="inventario.xlsx")
    assert r.status_code == 422 and "workbook" in r.json()["error"]["message"]
    r = upload(client, b"")
    assert r.status_code == 422
    assert not any((tmp_path / "uploads").iterdir())  # nothing refused is kept


def test_officers_and_locations_import_over_http(client, world):
    r = client.call("jefe1", "POST", "/imports/locations", params={"filename": "u.csv"},
                    content="Clave,Nombre,Tipo\nBOV9,Bóveda 9,bóveda\n".encode())
    assert r.status_code == 201, r.text
    r = client.call("jefe1", "POST", "/imports/locations/commit",
                    json={"upload": r.json()["upload"]})
    assert r.status_code == 201 and r.json()["imported"] == 1
    r = client.call("jefe1", "POST", "/imports/officers", params={"filename": "e.csv"},
                    content=b"Placa,Nombre,Vigencia de credencial\nP50,Ana Gil,31/12/2030\n"
)
    r = client.call("jefe1", "POST", "/imports/officers/commit",
                    json={"upload": r.json()["upload"]})
    assert r.status_code == 201 and r.json()["imported"] == 1
    with world.read(None) as uow:
        mun1 = uow.repo.org("MUN1").id
        assert uow.repo.location(mun1, "BOV9").kind == "vault"
        assert str(uow.repo.officer(mun1, "P50").credential_expiry) == "2030-12-31"


def test_a_refusal_names_the_request_body_field_that_changes_it(client):
    r = upload(client, b"Serie,Marca,Calibre,Tipo,Ubicacion\r\nGLK-A100,Glock,9x19mm,pistola,"
                       b"ARM1\r\n")
    assert r.status_code == 201, r.text
    r = client.call("armero1", "POST", "/imports/firearms/preview",
                    json={"upload": r.json()["upload"], "lang": "es"})
    assert r.status_code == 200, r.text
    (problem,) = r.json()["problems"]
    assert problem["code"] == "registered_here"
    assert problem["message"].endswith('; importe con "update": true para actualizarla')


def test_the_refused_rows_come_back_as_a_csv_to_fix_and_upload_again(client, world):
    r = upload(client, INVENTORY)
    assert r.status_code == 201, r.text
    before = log_size(world)
    body = {"upload": r.json()["upload"], "location": "ARM1", "lang": "es",
            "mapping": {"Núm. de arma": "serial"}}
    r = client.call("armero1", "POST", "/imports/firearms/rejects", json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="inventario-rechazos.csv"' in r.headers["content-disposition"]
    assert r.headers["x-rejected-rows"] == "1"
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["Núm. de arma", "Marca", "Calibre", "Tipo", "Ubicación", "Resguardante",
                       "error"]
    assert rows[1][:4] == ["API-3", "Glock", "9x19mm", "cañón"] and len(rows) == 2
    assert rows[1][-1].startswith("inventario.csv, línea 4, columna D (Tipo): tipo desconocido")
    assert log_size(world) == before  # a dry run
    other = client.call("jefe1", "POST", "/imports/firearms/rejects", json=body)
    assert other.status_code in (403, 404)  # not theirs to read, nor their role's


def test_a_file_with_no_rows_is_refused_by_name_and_records_nothing(client, world):
    r = upload(client, b"Serie,Marca,Calibre,Tipo,Ubicacion\r\n", name="vacio.csv")
    assert r.status_code == 201, r.text
    body = {"upload": r.json()["upload"], "lang": "es"}
    before = log_size(world)
    for step in ("preview", "commit"):
        r = client.call("armero1", "POST", f"/imports/firearms/{step}", json=body)
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["message"] == "vacio.csv: no rows to import"
        assert error["details"]["field"] == "file"
    assert log_size(world) == before


def test_the_import_queue_is_shown_and_a_full_one_answers_429_with_the_counts(
        client, world, monkeypatch):
    from resguardo.services import import_gate

    gate = import_gate.ImportGate(slots=1, places=0, wait=0)
    monkeypatch.setattr(import_gate, "_GATE", gate)
    r = client.call("armero1", "GET", "/imports/queue")
    assert r.status_code == 200
    assert r.json() == {"running": 0, "waiting": 0, "slots": 1, "places": 0, "yours": []}
    before = log_size(world)
    with gate.slot("jefe1"):  # another import is being read
        assert client.call("armero1", "GET", "/imports/queue").json()["running"] == 1
        r = upload(client, INVENTORY)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "60"
    error = r.json()["error"]
    assert error["code"] == "imports_busy"
    assert error["details"]["running"] == 1
    assert "the server is reading 1 import and 0 wait" in error["message"]
    assert log_size(world) == before
    assert upload(client, INVENTORY).status_code == 201  # its turn, once the other is done


def test_a_hostile_workbook_upload_names_the_limit_and_keeps_nothing(client, world, tmp_path):
    from hostile_workbooks import CASES

    data = next(c for c in CASES if c.name == "deeply_nested_sheet").make()
    r = upload(client, data, name="anidado.xlsx")
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["details"]["limit"] == "depth"
    assert error["message"] == ("anidado.xlsx: refused while reading it: "
                                "xl/worksheets/sheet1.xml: XML nested more than 64 elements deep")
    assert list((tmp_path / "uploads").iterdir()) == []
