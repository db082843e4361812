"""The OpenAPI document, the one error shape and request ids."""

from __future__ import annotations

import dataclasses

import pytest

from resguardo.api import create_app
from resguardo.api.errors import codes_by_status
from resguardo.config import Settings
from resguardo.domain.errors import all_error_classes
from resguardo.domain.policy import Action
from resguardo.services.app import Resguardo


@pytest.fixture(scope="module")
def doc() -> dict:
    settings = dataclasses.replace(Settings.from_env(), database_url="sqlite:///:memory:")
    return create_app(Resguardo(settings), webhooks=False).openapi()


def _operations(doc: dict):  # type: ignore[no-untyped-def]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_everything_is_under_api_v1_and_names_the_permission_it_checks(doc):
    assert all(path.startswith("/api/v1/") for path in doc["paths"])
    actions = {a.value for a in Action} | {"none"}
    for path, method, op in _operations(doc):
        assert op["x-resguardo-action"] in actions, (method, path)
        if path != "/api/v1/auth/token":
            assert op.get("security") == [{"bearer": []}], (method, path)


def test_every_operation_declares_every_error_it_can_answer_in_the_one_shape(doc):
    statuses = {str(s) for s in codes_by_status() if s != 405}
    for path, method, op in _operations(doc):
        declared = {s for s in op["responses"] if s.startswith(("4", "5"))}
        if path == "/api/v1/auth/token":
            assert declared == {"401", "403", "422", "423", "429", "500", "503"}
        else:
            assert declared == statuses, (method, path)
        for status in declared:
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path)
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_every_error_code_is_documented_under_its_status(doc):
    text = str(doc)
    for cls in all_error_classes():
        assert f"`{cls.code}`" in text, cls.code
        assert cls.code in codes_by_status()[cls.status]


def test_request_bodies_carry_an_example_and_refuse_unknown_fields(doc):
    schemas = doc["components"]["schemas"]
    for path, method, op in _operations(doc):
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            continue
        schema = schemas[content["schema"]["$ref"].rsplit("/", 1)[1]]
        assert schema.get("examples"), (method, path)
        assert schema.get("additionalProperties") is False, (method, path)


def test_errors_from_the_framework_have_the_same_shape(api):
    r = api.get("armero1", "/no-such-thing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = api.client.request("PUT", "/api/v1/firearms", headers=api.headers("armero1"))
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    r = api.client.post("/api/v1/firearms/1/issue", content=b"{not json",
                        headers={**api.headers("armero1"), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    r = api.post("armero1", "/firearms/1/issue", {"badge": "P1", "extra": 1})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["errors"][0] == {
        "field": "extra", "location": "body", "message": "Extra inputs are not permitted",
        "type": "extra_forbidden"}
    r = api.post("armero1", "/firearms/1/issue", {"badge": "P\u0000"})
    assert r.status_code == 422


def test_the_request_id_comes_back_and_is_recorded_with_the_entry(api, firearm_id):
    fid = firearm_id("GLK-A100")
    r = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"},
                 headers={"X-Request-ID": "locker-7:0001"})
    assert r.headers["X-Request-ID"] == "locker-7:0001"
    assert r.json()["request_id"] == "locker-7:0001"
    with api.app.read(None) as uow:
        assert uow.repo.event(r.json()["position"]).request_id == "locker-7:0001"
    made_up = api.get("armero1", "/auth/me", headers={"X-Request-ID": "not valid!"})
    assert len(made_up.headers["X-Request-ID"]) == 32


def test_the_interactive_docs_are_served(api):
    r = api.client.get("/api/v1/docs")
    assert r.status_code == 200 and "/api/v1/openapi.json" in r.text
