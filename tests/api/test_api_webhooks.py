"""Webhooks: signed deliveries to a receiver on 127.0.0.1, retries with backoff, a log."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from resguardo.api import create_app
from resguardo.api.webhooks import SIGNATURE_HEADER, DeliveryWorker, matches
from resguardo.domain.registry import OfficerInput
from resguardo.services import accounts, registry, users
from resguardo.services.auth import AuthSettings

from world import PASSWORD


class Receiver:
    """A webhook receiver that answers with the statuses it is told to, in order."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict]:
        return [json.loads(body)["event"] for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def _worker(app, **kwargs) -> DeliveryWorker:  # type: ignore[no-untyped-def]
    return DeliveryWorker(app, poll_interval=0.02, backoff_base=0.05, timeout=2, **kwargs)


def _drain(worker: DeliveryWorker, until, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the deliveries did not complete"
        if not worker.run_once():
            time.sleep(0.02)


def test_event_type_patterns():
    assert matches(["*"], "custody.issued")
    assert matches(["custody.*"], "custody.returned")
    assert not matches(["custody.*"], "custodyx.issued")
    assert matches(["firearm.reported_stolen"], "firearm.reported_stolen")
    assert not matches(["firearm.reported_stolen"], "firearm.reported_lost")


def test_a_subscriber_gets_each_event_signed_after_retries_with_a_delivery_log(
        api, receiver, firearm_id):
    created = api.post("admin", "/webhooks", {"url": receiver.url,
                                              "event_types": ["custody.*"]})
    assert created.status_code == 201
    hook = created.json()
    secret = hook["secret"]
    assert secret.startswith("whsec_")
    assert "secret" not in api.get("admin", f"/webhooks/{hook['id']}").json()
    receiver.statuses = [500, 503]  # the first two attempts fail
    fid = firearm_id("GLK-A100")
    issued = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"}).json()
    api.post("armero1", f"/firearms/{fid}/move", {"location": "ARM2"})  # not subscribed
    worker = _worker(api.app)
    try:
        _drain(worker, lambda: any(json.loads(b)["event"]["position"] == issued["position"]
                                   and h.get(SIGNATURE_HEADER) for h, b in receiver.received)
               and len(receiver.received) >= 3)
    finally:
        worker.stop()
    assert len(receiver.received) == 3
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers[SIGNATURE_HEADER], expected)
        assert headers["X-Resguardo-Event"] == "custody.issued"
    assert receiver.events()[-1] == {**receiver.events()[-1], "position": issued["position"],
                                     "type": "custody.issued"}
    log = api.get("admin", f"/webhooks/{hook['id']}/deliveries").json()
    assert log["total"] == 1
    delivery = log["items"][0]
    assert delivery["state"] == "delivered" and delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 503, 200]
    assert delivery["attempt_log"][0]["error"] == "HTTP 500"


def test_a_receiver_that_keeps_failing_ends_failed_and_an_admin_can_retry(
        api, receiver, firearm_id):
    hook = api.post("admin", "/webhooks", {"url": receiver.url,
                                           "event_types": ["firearm.reported_stolen"]}).json()
    receiver.statuses = [500] * 3
    api.post("armero1", f"/firearms/{firearm_id('GLK-A200')}/report-loss", {
        "stolen": True, "occurred_on": "2025-03-02", "place": "Centro", "on_duty": True,
        "complaint_number": "FED/1", "complaint_authority": "FGE Jalisco"}).raise_for_status()
    worker = _worker(api.app, max_attempts=3)
    try:
        _drain(worker, lambda: api.get("admin", f"/webhooks/{hook['id']}/deliveries?state=failed"
                                       ).json()["total"] == 1)
        delivery = api.get("admin", f"/webhooks/{hook['id']}/deliveries").json()["items"][0]
        assert delivery["attempts"] == 3 and delivery["last_status"] == 500
        retried = api.post("admin", f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry")
        assert retried.status_code == 200 and retried.json()["state"] == "pending"
        _drain(worker, lambda: api.get("admin", f"/webhooks/{hook['id']}/deliveries"
                                       ).json()["items"][0]["state"] == "delivered")
    finally:
        worker.stop()
    assert [e["type"] for e in receiver.events()] == ["firearm.reported_stolen"] * 4


def test_a_subscription_sees_only_its_owners_scope_and_stops_when_deleted(
        api, receiver, firearm_id):
    with api.app.work(None) as uow:  # (an admin's new admin must replace its password first)
        users.add_user(uow, "admin-ssp", PASSWORD, "admin", "SSP")
        uow.commit()
    hook = api.post("admin-ssp", "/webhooks", {"url": receiver.url,
                                               "event_types": ["custody.issued"]}).json()
    assert hook["scope"] == "SSP"
    assert api.get("admin", f"/webhooks/{hook['id']}").status_code == 200
    api.post("armero1", f"/firearms/{firearm_id('GLK-A100')}/issue", {"badge": "P1"})
    with api.app.work("admin") as uow:
        registry.add_officer(uow, "MUN3", OfficerInput("R1", "Sara Lugo",
                                                       credential_expiry=date(2030, 1, 1),
                                                       qualification_expiry=date(2030, 1, 1)))
        uow.commit()
    assert api.post("armero3", f"/firearms/{firearm_id('SIG-C100')}/issue",
                    {"badge": "R1"}).status_code == 201  # MUN3 lies outside SSP
    worker = _worker(api.app)
    try:
        worker.run_once()
        _drain(worker, lambda: len(receiver.received) >= 1)
        worker.run_once()
        assert [e["org_id"] for e in receiver.events()] == [firearm_agency(api, "GLK-A100")]
        assert api.delete("admin-ssp", f"/webhooks/{hook['id']}").json()["active"] is False
        api.post("armero1", f"/firearms/{firearm_id('GLK-A200')}/issue", {"badge": "P2"})
        worker.run_once()
        worker.run_once()
    finally:
        worker.stop()
    assert len(receiver.received) == 1


def firearm_agency(api, serial: str) -> int:  # type: ignore[no-untyped-def]
    with api.app.read(None) as uow:
        return uow.repo.firearm(serial).agency_id


def test_the_server_runs_the_delivery_worker_in_the_background(world, receiver, firearm_id):
    app = create_app(world, auth_settings=AuthSettings(),
                     worker_options={"poll_interval": 0.02, "backoff_base": 0.05})
    with TestClient(app) as client:
        token = client.post("/api/v1/auth/token",
                            json={"username": "admin", "password": PASSWORD}).json()
        admin = {"Authorization": f"Bearer {token['access_token']}"}
        client.post("/api/v1/webhooks", headers=admin,
                    json={"url": receiver.url, "event_types": ["token.*"]})
        client.post("/api/v1/users/service-accounts", headers=admin,
                    json={"username": "cerradura1", "role": "armorer", "scope": "MUN1"})
        client.post("/api/v1/tokens", headers=admin,
                    json={"username": "cerradura1", "name": "x"})  # tokens: service accounts
        deadline = time.monotonic() + 10
        while not receiver.received:
            assert time.monotonic() < deadline, "the background worker delivered nothing"
            time.sleep(0.05)
    assert receiver.events()[0]["type"] == "token.created"
    world.engine.dispose()


def test_only_http_urls_and_known_pattern_shapes_are_accepted(api):
    for body in ({"url": "ftp://example.org/x", "event_types": ["*"]},
                 {"url": "https://example.org/x", "event_types": []},
                 {"url": "https://example.org/x", "event_types": ["Custody Issued"]}):
        r = api.post("admin", "/webhooks", body)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    assert api.post("jefe1", "/webhooks", {"url": "https://example.org/x",
                                           "event_types": ["*"]}).status_code == 403


def _delivered_positions(receiver: Receiver) -> list[int]:
    return [e["position"] for e in receiver.events()]


def test_a_disabled_admins_subscription_sends_nothing_more_not_even_what_was_queued(
        api, receiver, firearm_id):
    """An admin about to be let go subscribes their own URL to every entry of the state:
    once the account is disabled, the subscription streams nothing more, and a delivery
    queued before (its receiver was failing, a retry due later) is not sent either."""
    with api.app.work(None) as uow:
        users.add_user(uow, "admin-ssp", PASSWORD, "admin", "SSP")
        uow.commit()
    hook = api.post("admin-ssp", "/webhooks", {"url": receiver.url,
                                               "event_types": ["custody.*"]}).json()
    receiver.statuses = [500]  # the first attempt fails: a retry waits in the queue
    first = api.post("armero1", f"/firearms/{firearm_id('GLK-A100')}/issue",
                     {"badge": "P1"}).json()["position"]
    worker = DeliveryWorker(api.app, poll_interval=0.02, backoff_base=0.3, timeout=2)
    try:
        _drain(worker, lambda: len(receiver.received) >= 1)
        assert _delivered_positions(receiver) == [first]  # attempted once, failed
        with api.app.work("admin") as uow:
            accounts.disable(uow, "admin-ssp", "baja del servicio")
            uow.commit()
        api.post("armero1", f"/firearms/{firearm_id('GLK-A200')}/issue", {"badge": "P2"})
        _drain(worker, lambda: all(d["state"] != "pending" for d in api.get(
            "admin", f"/webhooks/{hook['id']}/deliveries").json()["items"]))
        for _ in range(3):
            worker.run_once()
    finally:
        worker.stop()
    assert _delivered_positions(receiver) == [first]  # the one failed attempt, nothing more
    log = api.get("admin", f"/webhooks/{hook['id']}/deliveries").json()
    assert log["total"] == 1
    [delivery] = log["items"]
    assert delivery["state"] == "failed"
    assert "owner" in delivery["attempt_log"][-1]["error"]


def test_a_subscription_follows_its_owner_when_the_owner_moves_to_one_agency(
        api, receiver, firearm_id):
    """A state admin's subscription, and the admin is moved to MUN2 (a second admin
    approves): the subscription no longer streams the state's entries, MUN1's included."""
    with api.app.work(None) as uow:
        users.add_user(uow, "admin-ssp", PASSWORD, "admin", "SSP")
        uow.commit()
    api.post("admin-ssp", "/webhooks", {"url": receiver.url, "event_types": ["custody.*"]})
    with api.app.work("admin") as uow:
        accounts.change_role(uow, "admin-ssp", "admin", "MUN2", approved=True)
        uow.commit()
    api.post("armero1", f"/firearms/{firearm_id('GLK-A100')}/issue", {"badge": "P1"})
    worker = _worker(api.app)
    try:
        for _ in range(3):
            worker.run_once()
    finally:
        worker.stop()
    assert receiver.received == []
