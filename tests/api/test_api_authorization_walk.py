"""The generated authorization walk (NetBox style, from the OpenAPI document).

Every operation in ``/api/v1/openapi.json`` is called, for every role:

- anonymously: it must answer 401;
- on an object in the caller's scope: never 500; 403 exactly when the role
  lacks the permission the operation names (``x-resguardo-action``, checked
  against the policy in the domain core) and then nothing is written; a read
  the role may do answers 200; and no list or detail shows anything outside
  the caller's scope;
- on an object of another agency (outside the scope): never 2xx, nothing is
  written, and the answer is the same, word for word, as for an object that
  does not exist; a list filtered by another agency's location or officer
  (``?location=``, ``?custodian=``) answers exactly as for one that does not exist.

Runs on SQLite and PostgreSQL. One world per database; violations are
collected and reported together.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from inprocess import api_app
from resguardo.api.webhooks import DeliveryWorker
from resguardo.domain.codes import Role
from resguardo.domain.policy import PERMISSIONS, Action
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.services import custody, inspections, ledger, registry, users

from world import PASSWORD, USERS

AGENCIES = ("MUN1", "MUN2", "MUN3")
MISSING = {"int": 999_999_999, "code": "NOPE", "username": "nobody",
           "key": "loss_unnotified:999999999"}

#: user -> (agency whose objects are in scope, an agency outside the scope or None)
ROLES: dict[str, tuple[str, str | None]] = {
    # agency staff first, so their writes succeed before oversight roles change things
    "armero1": ("MUN1", "MUN2"), "jefe1": ("MUN1", "MUN3"),
    "armero2": ("MUN2", "MUN1"), "jefe2": ("MUN2", "MUN1"), "armero3": ("MUN3", "MUN2"),
    "supervisor": ("MUN1", "MUN3"), "inspector": ("MUN2", "MUN3"),
    # the military zone: no agency below it, MUN1 and MUN2 through oversight, not MUN3
    "inspector_zm": ("MUN1", "MUN3"),
    "investigador": ("MUN1", "MUN3"), "investigador2": ("MUN3", "MUN1"),
    "auditor": ("MUN2", None), "admin": ("MUN1", None),
}
#: body fields that name the organization an operation acts in
AGENCY_FIELDS = ("agency", "holder", "scope", "parent")
RECEIVE = "/api/v1/firearms/{firearm_id}/transfer/receive"
#: path parameters naming objects that belong to no agency
GLOBAL_PARAMS = ("webhook_id", "delivery_id", "checkpoint_id")
#: query parameters that name an agency's object, and the object they name
BOUND_QUERY = {"agency": "code", "index": "position"}
#: query parameters that filter a list by an agency's object: a list filtered by another
#: agency's object answers 200, exactly as for an object that does not exist (empty)
FILTER_QUERY = {"location": "location_id", "custodian": "officer_id"}
#: values for other required query parameters
QUERY_VALUES = {"start": 0, "stop": 10, "old": 1, "serial": "GLK-A1O0"}


@dataclass
class Objects:
    """Per agency, one object of each kind a path can name."""

    by_agency: dict[str, dict[str, Any]] = field(default_factory=dict)
    in_transit_to: dict[str, int] = field(default_factory=dict)
    webhook_id: int = 0
    delivery_id: int = 0
    checkpoint_id: int = 0
    visible: dict[str, set[str]] = field(default_factory=dict)


def build(app, clock) -> Objects:  # type: ignore[no-untyped-def]
    """Give every agency one of each object, some alerts, transfers and a webhook."""
    far = date(2030, 1, 1)
    objs = Objects()
    with app.work("admin") as uow:
        registry.add_officer(uow, "MUN3", OfficerInput("R1", "Sara Lugo", credential_expiry=far,
                                                       qualification_expiry=far))
        for n, agency in enumerate(AGENCIES, 1):
            registry.add_licence(uow, f"LOC-{n}", agency, [agency], date(2025, 1, 1), far)
            users.add_user(uow, f"extra{n}", PASSWORD, "armorer", agency)
        uow.commit()
    with app.work("armero2") as uow:
        for serial in ("BER-B200", "BER-B300"):
            registry.register_firearm(uow, "MUN2", "ARM1", FirearmInput(
                serial=serial, make="Beretta", calibre="9x19mm", kind="pistol"))
        uow.commit()
    with app.work("armero3") as uow:
        registry.register_firearm(uow, "MUN3", "ARM1", FirearmInput(
            serial="SIG-C200", make="SIG Sauer", calibre="9x19mm", kind="pistol"))
        uow.commit()
    # a loss at each agency, unnotified past the deadline: one alert each
    for user, serial in (("armero1", "GLK-A500"), ("armero2", "BER-B200"),
                         ("armero3", "SIG-C200")):
        with app.work(user) as uow:
            custody.report_missing(uow, serial, stolen=True, occurred_on=date(2025, 3, 2),
                                   place="Centro", on_duty=True, complaint_number="X-1",
                                   complaint_authority="FGE Jalisco")
            uow.commit()
    # weapons in transit to each agency
    for sender, approver, serial, to in (("armero1", "jefe1", "GLK-A400", "MUN2"),
                                         ("armero2", "jefe2", "BER-B300", "MUN1"),
                                         ("armero1", "jefe1", "GLK-A300", "MUN3")):
        with app.work(sender) as uow:
            custody.request_transfer(uow, serial, to, "reasignación")
            uow.commit()
        with app.work(approver) as uow:
            ev = custody.approve_transfer(uow, serial)
            objs.in_transit_to[to] = ev.payload["firearm_id"]
            uow.commit()
    # one closed inspection per agency (so it has findings and an acta)
    with app.work("admin") as uow:
        users.add_user(uow, "inspector-n", PASSWORD, "inspector", "NACIONAL")
        uow.commit()
    inspection_ids = {}
    for code in AGENCIES:
        with app.work("inspector-n") as uow:
            planned = inspections.plan(uow, code, clock.now.date())
            inspections.open_(uow, planned.position)
            inspections.close(uow, planned.position)
            inspection_ids[code] = planned.position
            uow.commit()
    clock.advance(hours=25)
    key = ledger.LedgerKey.of(app.settings)
    if not key.exists():  # the world is a copy; its key stayed with the original
        key.create()
    with app.work("auditor") as uow:
        objs.checkpoint_id = ledger.checkpoint(uow, key).id
        uow.commit()
    with app.read(None) as uow:
        repo = uow.repo
        keys = {r["agency_id"]: f"loss_unnotified:{r['id']}" for r in repo.loss_reports()}
        mains = {"MUN1": "GLK-A100", "MUN2": "BER-B100", "MUN3": "SIG-C100"}
        badges = {"MUN1": "P1", "MUN2": "Q1", "MUN3": "R1"}
        licences = {r["holder_id"]: r["id"] for r in repo.licences()}
        orgs = {o.code: o for o in repo.orgs()}
        for n, code in enumerate(AGENCIES, 1):
            agency = orgs[code]
            fid = repo.firearm(mains[code]).id
            objs.by_agency[code] = {
                "firearm_id": fid, "position": fid, "code": code,
                "officer_id": repo.officer(agency.id, badges[code]).id,
                "location_id": repo.location(agency.id, "ARM1").id,
                "licence_id": licences[agency.id], "username": f"extra{n}",
                "key": keys[agency.id], "inspection_id": inspection_ids[code],
                "finding_id": 1,
            }
        for user in ROLES:
            actor = repo.actor_for(user)   # its scope, and the agencies it oversees
            objs.visible[user] = {o.code for o in orgs.values() if actor.in_scope(o.path)}
    with app.work("admin") as uow:
        from resguardo.api import webhooks
        objs.webhook_id, _ = webhooks.register(uow, "http://127.0.0.1:9/hook", ["*"], None, None)
        uow.commit()
    with app.work(None) as uow:
        from resguardo.services import accounts
        for n, agency in enumerate(AGENCIES, 1):  # integration tokens are for service accounts
            accounts.add_service_account(uow, f"svc{n}", "armorer", agency)
        uow.commit()
    with app.work("admin") as uow:
        for n, agency in enumerate(AGENCIES, 1):
            from resguardo.services import auth
            token_id, _ = auth.create_api_token(uow, f"svc{n}", "walk")
            objs.by_agency[agency]["token_id"] = token_id
            from resguardo.services import powers
            objs.by_agency[agency]["request_id"] = powers.request(
                uow, "password_reset", f"extra{n}")["id"]
        uow.commit()
    DeliveryWorker(app).enqueue()
    with app.read(None) as uow:
        from resguardo.storage.api_tables import webhook_deliveries
        objs.delivery_id = uow.conn.execute(webhook_deliveries.select()).first().id
    return objs


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    action: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    required_query: tuple[str, ...]
    body: dict | None

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operations(doc: dict) -> list[Operation]:
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            params = op.get("parameters", [])
            body = None
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content is not None:
                ref = content["schema"]["$ref"].rsplit("/", 1)[1]
                examples = doc["components"]["schemas"][ref].get("examples")
                assert examples, f"{method} {path}: request schema {ref} has no example"
                body = examples[0]
            found.append(Operation(
                method, path, op["x-resguardo-action"],
                tuple(p["name"] for p in params if p["in"] == "path"),
                tuple(p["name"] for p in params if p["in"] == "query"),
                tuple(p["name"] for p in params if p["in"] == "query" and p.get("required")),
                body))
    return found


def _fill(op: Operation, objs: Objects, agency: str | None, missing: bool = False,
          home: str | None = None) -> tuple[str, dict, dict | None]:
    values = objs.by_agency[agency] if agency else {}
    path = op.path
    for name in op.path_params:
        if missing:
            value: Any = MISSING["int"]
            if name in ("code", "username", "key"):
                value = MISSING[name]
        elif name in GLOBAL_PARAMS:
            value = getattr(objs, name)
        elif op.path == RECEIVE and name == "firearm_id":
            value = objs.in_transit_to[agency]  # type: ignore[index]
        else:
            value = values[name]
        path = path.replace("{" + name + "}", str(value))
    query: dict[str, Any] = {name: QUERY_VALUES[name] for name in op.required_query}
    for name, kind in BOUND_QUERY.items():
        if name in op.query_params and (home is None or name in op.required_query
                                        or name == "index"):
            if missing:
                query[name] = MISSING["int"] if kind == "position" else MISSING["code"]
            else:
                query[name] = values[kind]
    for name, kind in FILTER_QUERY.items():
        if name in op.query_params and home is None:
            query[name] = MISSING["int"] if missing else values[kind]
    body = copy.deepcopy(op.body)
    if body is not None:
        target = MISSING["code"] if missing else agency
        for name in AGENCY_FIELDS:
            if name in body:
                body[name] = target
        if "agencies" in body:
            body["agencies"] = [target]
    return path, query, body


def _bound(op: Operation) -> bool:
    """Does the operation name an object (or an organization) that belongs to an agency?"""
    return _names_object(op) or bool(set(FILTER_QUERY) & set(op.query_params))


def _names_object(op: Operation) -> bool:
    """Does the operation name an agency's object other than through a list's filter?"""
    names = set(op.path_params) - set(GLOBAL_PARAMS)
    fields = set(op.body or {}) & {*AGENCY_FIELDS, "agencies"}
    return bool(names or fields or set(BOUND_QUERY) & set(op.query_params))


def _normalized(text: str, *values: Any) -> str:
    for value in values:
        text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(str(value))}(?![0-9A-Za-z])", "<X>", text)
    return text


def _outside(data: Any, visible: set[str]) -> list[str]:
    """Organization codes named in a response that lie outside the caller's scope."""
    out = []
    if isinstance(data, dict):
        named = [data[k] for k in ("agency", "holder", "scope") if isinstance(data.get(k), str)]
        if "to_agency" in data and "agency" in data:
            named = [] if data["to_agency"] in visible else named
        out += [code for code in named if code not in visible]
        for value in data.values():
            out += _outside(value, visible)
    elif isinstance(data, list):
        for value in data:
            out += _outside(value, visible)
    return out


class Walk:
    def __init__(self, app, objs: Objects, client) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.objs = objs
        self.client = client
        self.doc = self.client.get("/api/v1/openapi.json").json()
        self.ops = operations(self.doc)
        self.problems: list[str] = []
        self.tokens: dict[str, str] = {}
        self._head: Any = None
        for user in ROLES:
            self.sign_in(user)

    def sign_in(self, user: str) -> None:
        r = self.client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.tokens[user] = r.json()["access_token"]

    def log_size(self) -> int:
        """The log's size now: read around every request (thousands of times), on a driver
        connection of the walk's own outside any transaction, so it sees every commit
        without a unit of work's connection, transaction and actor each time."""
        if self._head is None:
            self._head = self.app.engine.raw_connection()
            self._head.detach()  # never handed back to the pool in autocommit
            if self.app.engine.dialect.name == "postgresql":
                self._head.dbapi_connection.autocommit = True
            # SQLite's connections run outside a transaction until BEGIN (storage.database)
        cur = self._head.cursor()
        try:
            cur.execute("SELECT size FROM log_head WHERE id = 1")
            return int(cur.fetchone()[0])
        finally:
            cur.close()

    def close(self) -> None:
        if self._head is not None:
            self._head.close()
            self._head = None

    def call(self, op: Operation, user: str | None, path: str, query: dict,
             body: dict | None):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        r = self.client.request(op.method.upper(), path, params=query, json=body,
                                headers=headers)
        if user and r.status_code == 200 and op.path == "/api/v1/auth/logout":
            self.sign_in(user)  # signing out ends the session the walk goes on with
        return r

    def problem(self, op: Operation, user: str | None, case: str, what: str, r) -> None:  # type: ignore[no-untyped-def]
        self.problems.append(f"{op} as {user or 'anonymous'} ({case}): {what}: "
                             f"{r.status_code} {r.text[:300]}")

    def anonymous(self) -> None:
        for op in self.ops:
            path, query, body = _fill(op, self.objs, "MUN1")
            before = self.log_size()
            r = self.call(op, None, path, query, body)
            if r.status_code != 401:
                self.problem(op, None, "anonymous", "expected 401", r)
            elif r.json()["error"]["code"] != "authentication_failed":
                self.problem(op, None, "anonymous", "wrong error code", r)
            if op.path != "/api/v1/auth/token" and self.log_size() != before:
                self.problem(op, None, "anonymous", "the log changed", r)

    def in_scope(self, user: str) -> None:
        home, _ = ROLES[user]
        role = Role(USERS[user][0]) if user != "admin" else Role.ADMIN
        allowed = PERMISSIONS[role]
        for op in self.ops:
            if op.path == "/api/v1/auth/token":
                continue  # signing in is the anonymous case
            path, query, body = _fill(op, self.objs, home, home=home)
            before = self.log_size()
            r = self.call(op, user, path, query, body)
            if r.status_code >= 500:
                self.problem(op, user, "in scope", "server error", r)
                continue
            needed = None if op.action == "none" else Action(op.action)
            if needed is not None and needed not in allowed:
                if r.status_code != 403:
                    self.problem(op, user, "in scope", f"role lacks {needed}, expected 403", r)
                if r.status_code == 403 and self.log_size() != before:
                    self.problem(op, user, "in scope", "refused but the log changed", r)
                continue
            if r.status_code in (401, 403) and (
                    r.status_code == 401 or r.json()["error"]["code"] != "separation_of_duties"):
                self.problem(op, user, "in scope", f"role has {needed}, refused", r)
            if op.method == "get" and r.status_code != 200:
                self.problem(op, user, "in scope", "a permitted read did not answer 200", r)
            if r.status_code < 300 and r.headers.get("content-type", "").startswith(
                    "application/json"):
                data = r.json()
                if op.path == "/api/v1/organizations":
                    data = [{"agency": item["code"]} for item in data["items"]]
                leaked = _outside(data, self.objs.visible[user])
                if leaked:
                    self.problem(op, user, "in scope", f"shows {sorted(set(leaked))}", r)

    def foreign(self, user: str) -> None:
        other = ROLES[user][1]
        if other is None:
            return
        for op in self.ops:
            if not _bound(op) or op.path == "/api/v1/auth/token":
                continue
            path, query, body = _fill(op, self.objs, other)
            before = self.log_size()
            r = self.call(op, user, path, query, body)
            if r.status_code >= 500:
                self.problem(op, user, "other agency", "server error", r)
                continue
            if r.status_code < 300 and _names_object(op):
                self.problem(op, user, "other agency", "succeeded", r)
            if self.log_size() != before:
                self.problem(op, user, "other agency", "the log changed", r)
            mpath, mquery, mbody = _fill(op, self.objs, other, missing=True)
            m = self.call(op, user, mpath, mquery, mbody)
            ids = [v for k, v in self.objs.by_agency[other].items()]
            if other == "MUN3" or op.path == RECEIVE:
                ids.append(self.objs.in_transit_to.get(other, -1))
            seen = (r.status_code, _normalized(r.text, other, *ids))
            absent = (m.status_code, _normalized(m.text, *MISSING.values()))
            if seen != absent:
                self.problems.append(f"{op} as {user} (other agency): reveals the object: "
                                     f"{seen} vs missing {absent}")


@pytest.mark.long
def test_every_route_for_every_role_keeps_to_scope_and_policy(world, clock, asgi_client):
    objs = build(world, clock)
    client = asgi_client(api_app(world),
                         raise_server_exceptions=False)
    walk = Walk(world, objs, client)
    assert len(walk.ops) >= 60
    try:
        walk.anonymous()
        for user in ROLES:
            walk.foreign(user)
            walk.in_scope(user)
    finally:
        walk.close()
    world.engine.dispose()
    assert walk.problems == [], "\n" + "\n".join(walk.problems)
