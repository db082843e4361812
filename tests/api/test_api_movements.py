"""The generic action route, ``POST /firearms/{id}/actions/{name}``, generated from the
domain's movement table: it records what the movement's own route records, with the same
scope, permission and field checks, and the OpenAPI document says what each one takes."""

from __future__ import annotations

import dataclasses

from resguardo.api import create_app
from resguardo.config import Settings
from resguardo.domain.movements import MOVEMENTS
from resguardo.services.app import Resguardo

from world import check_log


def test_every_movement_has_its_documented_route():
    settings = dataclasses.replace(Settings.from_env(), database_url="sqlite:///:memory:")
    doc = create_app(Resguardo(settings), webhooks=False).openapi()
    for name, movement in MOVEMENTS.items():
        op = doc["paths"][f"/api/v1/firearms/{{firearm_id}}/actions/{name}"]["post"]
        assert op["x-resguardo-action"] == movement.permission.value
        assert op["summary"] == movement.summary and movement.entry in op["description"]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(schema["properties"]) == {f.name for f in movement.inputs}
        assert set(schema.get("required", [])) == {f.name for f in movement.inputs
                                                   if f.required}
        assert schema["additionalProperties"] is False and schema["examples"]


def test_a_weapon_moves_repairs_and_comes_back_through_the_generic_route(api, firearm_id):
    fid = firearm_id("GLK-A100")
    moved = api.post("armero1", f"/firearms/{fid}/actions/move",
                     {"location": "ARM2", "reason": "Reorganización"})
    assert moved.status_code == 201, moved.text
    assert moved.json()["type"] == "firearm.moved"
    assert moved.json()["payload"]["location_id"] != moved.json()["payload"]["from_location_id"]
    again = api.post("armero1", f"/firearms/{fid}/actions/move", {"location": "ARM2"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"

    blank = api.post("armero1", f"/firearms/{fid}/actions/repair_send", {"shop": " "})
    assert blank.status_code == 422
    assert blank.json()["error"]["details"]["field"] == "shop"
    sent = api.post("armero1", f"/firearms/{fid}/actions/repair_send", {"shop": "Taller SEDENA"})
    assert sent.status_code == 201 and sent.json()["payload"]["shop"] == "Taller SEDENA"
    assert api.get("armero1", f"/firearms/{fid}").json()["status"] == "in_repair"
    refused = api.post("armero1", f"/firearms/{fid}/actions/move", {"location": "ARM1"})
    assert refused.status_code == 409

    back = api.post("armero1", f"/firearms/{fid}/actions/repair_return", {"location": "ARM1"})
    assert back.status_code == 201 and back.json()["type"] == "firearm.repair_returned"
    assert api.get("armero1", f"/firearms/{fid}").json()["status"] == "in_storage"
    check_log(api.app)


def test_the_generic_route_keeps_to_scope_and_permission(api, firearm_id):
    ours, theirs = firearm_id("GLK-A100"), firearm_id("BER-B100")
    foreign = api.post("armero1", f"/firearms/{theirs}/actions/move", {"location": "ARM1"})
    missing = api.post("armero1", "/firearms/999999/actions/move", {"location": "ARM1"})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"] == missing.json()["error"]
    chief = api.post("jefe1", f"/firearms/{ours}/actions/move", {"location": "ARM2"})
    assert chief.status_code == 403 and chief.json()["error"]["code"] == "permission_denied"
    unknown = api.post("armero1", f"/firearms/{ours}/actions/move",
                       {"location": "ARM2", "price": "1000"})
    assert unknown.status_code == 422
    assert api.get("armero1", f"/firearms/{ours}").json()["status"] == "in_storage"
