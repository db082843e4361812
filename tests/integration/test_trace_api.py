"""``GET /api/v1/trace`` and ``/trace/log`` over HTTP, in process."""

from __future__ import annotations

import pytest

from inprocess import AsgiClient, api_app
from resguardo.services import custody

from world import PASSWORD, do, look, shifts


@pytest.fixture
def http(world):  # type: ignore[no-untyped-def]
    client = AsgiClient(api_app(world), address="t", port=1)
    tokens: dict[str, str] = {}

    def get(user: str, path: str, **params):  # type: ignore[no-untyped-def]
        if user not in tokens:
            r = client.post("/api/v1/auth/token",
                            json={"username": user, "password": PASSWORD})
            tokens[user] = r.json()["access_token"]
        return client.get("/api/v1" + path, params=params,
                          headers={"Authorization": f"Bearer {tokens[user]}"})
    yield get
    client.close()
    world.engine.dispose()


def test_get_trace_answers_the_formats_md_shape_and_records_it(world, http):
    do(world, "armero1", custody.issue, "GLK-A100", "P1")
    r = http("investigador", "/trace", serial="GLK-AI00", date="2025-03-03T08:30", limit=1)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert list(answer) == ["query", "candidates"]
    c = answer["candidates"][0]
    assert (c["serial"], c["distance"], c["agency"], c["custodian_on_date"]) == (
        "GLK-A100", 0.5, "MUN1", {"badge": "P1", "name": "Ana Ruiz"})
    assert [e["event"] for e in c["custody"]] == ["firearm.registered", "custody.issued"]
    assert "shop" not in c["custody"][0]  # entries carry only their own details
    log = http("investigador", "/trace/log").json()
    assert log["total"] == 1
    assert log["items"][0]["candidates"] == [{"firearm_id": glk_a100_id(world), "serial": "GLK-A100",
                                              "make": "Glock", "agency": "MUN1",
                                              "distance": 0.5}]


def glk_a100_id(world) -> int:  # type: ignore[no-untyped-def]
    with world.read(None) as uow:
        return uow.repo.firearm("GLK-A100").id


def test_get_trace_keeps_to_scope_and_refuses_other_roles(http):
    assert http("investigador2", "/trace", serial="GLK-A100").json()["candidates"] == []
    r = http("investigador2", "/trace", serial="GLK-A100", agency="MUN1")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert http("armero1", "/trace", serial="GLK-A100").status_code == 403
    assert http("investigador", "/trace", serial="???").status_code == 422
    assert http("investigador", "/trace", serial="GLK", date="2025-02-30").status_code == 422
    assert http("investigador2", "/trace/log").json()["total"] == 1


def test_get_trace_finds_a_weapon_by_the_serial_it_carried_before_a_correction(world, http):
    fid = look(world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    do(world, "armero1", custody.correct, fid, {"serial": "ZZ999999"}, "Serie mal capturada")
    do(world, "jefe1", custody.approve_correction, "GLK-A100")
    r = http("investigador", "/trace", serial="GLK-A100", limit=1)
    assert r.status_code == 200, r.text
    best = r.json()["candidates"][0]
    assert (best["serial"], best["former_serial"], best["distance"]) == (
        "ZZ999999", "GLK-A100", 0.0)


def test_get_trace_returns_the_window_and_custody_full_the_whole_chain(world, http, clock):
    shifts(world, clock, "GLK-A100", "P1", "ARM2", 13)
    window = http("investigador", "/trace", serial="GLK-A100", limit=1).json()["candidates"][0]
    assert (len(window["custody"]), window["custody_total"], window["custody_complete"]) == (
        20, 27, False)
    full = http("investigador", "/trace", serial="GLK-A100", limit=1,
                custody="full").json()["candidates"][0]
    assert (len(full["custody"]), full["custody_total"], full["custody_complete"]) == (
        27, 27, True)
    assert full["custody"][-20:] == window["custody"]
    assert full["custody"][0]["event"] == "firearm.registered"
    r = http("investigador", "/trace", serial="GLK-A100", custody="all")
    assert r.status_code == 422 and "custody" in r.text
    # a weapon outside the scope: no window, no count, whatever is asked
    assert http("investigador2", "/trace", serial="GLK-A100", custody="full"
                ).json()["candidates"] == []
