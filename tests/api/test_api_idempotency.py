"""Writes with an Idempotency-Key happen once, however often the client retries."""

from __future__ import annotations

import threading
from datetime import date

from inprocess import api_app
from resguardo.services import inspections
from resguardo.storage.api_tables import idempotency_keys


def _issued_events(app, firearm_id: int) -> int:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return sum(1 for e in uow.repo.firearm_history(firearm_id) if e.type == "custody.issued")


def test_a_retried_issue_is_answered_from_the_first_without_issuing_twice(api, firearm_id):
    fid = firearm_id("GLK-A100")
    key = {"Idempotency-Key": "scanner-7f3a"}
    first = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"}, headers=key)
    again = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"}, headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _issued_events(api.app, fid) == 1
    # without a key the same request is a new request, refused by the state machine
    fresh = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"})
    assert fresh.status_code == 409 and fresh.json()["error"]["code"] == "invalid_transition"


def test_a_key_reused_for_a_different_request_is_refused(api, firearm_id):
    fid = firearm_id("GLK-A100")
    key = {"Idempotency-Key": "k-1"}
    assert api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"},
                    headers=key).status_code == 201
    r = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P2"}, headers=key)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "idempotency_key_reused"
    other = api.post("armero1", f"/firearms/{firearm_id('GLK-A200')}/issue", {"badge": "P1"},
                     headers=key)
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_keys_belong_to_one_account(api, firearm_id):
    key = {"Idempotency-Key": "shared-key"}
    a = api.post("armero1", f"/firearms/{firearm_id('GLK-A100')}/issue", {"badge": "P1"},
                 headers=key)
    b = api.post("armero2", f"/firearms/{firearm_id('BER-B100')}/issue", {"badge": "Q1"},
                 headers=key)
    assert a.status_code == b.status_code == 201
    assert a.json()["position"] != b.json()["position"]


def test_a_refused_request_keeps_nothing_so_its_retry_is_judged_again(api, firearm_id):
    fid = firearm_id("GLK-A100")
    key = {"Idempotency-Key": "return-1"}
    refused = api.post("armero1", f"/firearms/{fid}/return", {"location": "ARM1"}, headers=key)
    assert refused.status_code == 409
    assert api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"}).status_code == 201
    retried = api.post("armero1", f"/firearms/{fid}/return", {"location": "ARM1"}, headers=key)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers


def test_a_lockdown_refusal_is_recorded_but_its_key_is_not_kept(api, firearm_id):
    with api.app.work("inspector") as uow:
        ev = inspections.plan(uow, "MUN1", date(2025, 3, 3))
        inspections.open_(uow, ev.position)
        uow.commit()
    fid = firearm_id("GLK-A100")
    key = {"Idempotency-Key": "during-lockdown"}
    for _ in range(2):
        r = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"}, headers=key)
        assert r.status_code == 423 and r.json()["error"]["code"] == "lockdown"
    with api.app.read(None) as uow:
        assert uow.conn.execute(idempotency_keys.select()).first() is None
        refusals = [e for e in uow.repo.iter_events() if e.type == "inspection.lockdown_refused"]
    assert len(refusals) == 2


def test_concurrent_retries_with_one_key_write_once(world, firearm_id, asgi_client, api):
    fid = firearm_id("GLK-A300")
    app = api_app(world)
    token = api.token("armero1")
    clients = [asgi_client(app) for _ in range(8)]
    answers: list = [None] * len(clients)
    start = threading.Barrier(len(clients))

    def send(n: int) -> None:
        start.wait()
        answers[n] = clients[n].post(
            f"/api/v1/firearms/{fid}/issue", json={"badge": "P3"},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "burst"})

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1
    assert sum(1 for a in answers if "Idempotent-Replayed" not in a.headers) == 1
    assert _issued_events(world, fid) == 1
