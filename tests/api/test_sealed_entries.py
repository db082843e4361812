"""Sealed means sealed: a log entry one may not see answers exactly as one that does not exist.

The authorization walk of positions: as every role, every route and command that takes an
entry's position (the event API, corrections over HTTP and `resguardo correct`, inclusion
proofs over HTTP and `resguardo ledger prove`, the web pages whose ids are positions) is
asked for a hidden position (a sealed inspection's `inspection.planned` entry, or an entry
of an agency outside the role's scope) and for a position that does not exist. The two
answers must be the same, status and words (the number asked for aside), and neither may
leave a trace in the log. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from resguardo.cli import context
from resguardo.cli.main import app as cli_app
from resguardo.ledger import leaf_hash
from resguardo.services import inspections, ledger
from resguardo.web import create_site

from world import PASSWORD, USERS

ROLES = (*USERS, "admin")
#: user -> a position it may not see: the sealed plan at MUN1 (hidden from the inspected
#: agency and from other agencies), MUN3's weapon (outside the scope), or the record of
#: the inspector's read of the sealed plan (reads are for auditors; an investigator or an
#: admin may see the inspection itself, on its own page, and that read is recorded)
HIDDEN = {user: "plan" for user in ROLES}
HIDDEN.update({"supervisor": "mun3", "inspector": "mun3", "inspector_zm": "mun3",
               "investigador": "access",
               "admin": "access", "auditor": None})
#: user -> a weapon whose registration entry it may see
VISIBLE = {user: "GLK-A100" for user in ROLES}
VISIBLE.update({"armero2": "BER-B100", "jefe2": "BER-B100", "armero3": "SIG-C100",
                "investigador2": "SIG-C100"})
CORRECTION = {"changes": {"model": "G17"}, "reason": "Error de captura"}

runner = CliRunner()


def _log_size(app: Any) -> int:
    with app.read(None) as uow:
        return uow.repo.log_size()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Surfaces:
    """Every way of asking for an entry by its position, as one user."""

    def __init__(self, app: Any, api: Any, user: str, browser: Callable[[], Any]) -> None:
        self.app, self.api, self.user = app, api, user
        self.site = browser()
        page = self.site.get("/login")
        signed = self.site.post("/login", data={"csrf": _csrf(page.text), "username": user,
                                                "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        api.token(user)  # signing in is recorded: done before anything is counted

    def _cli(self, *args: str) -> tuple[Any, ...]:
        result = runner.invoke(cli_app, ["--as", self.user, *args])
        return result.exit_code, result.stdout, result.stderr

    def answers(self, position: int) -> dict[str, Any]:
        """What each surface answers for `position`, with the number itself blanked out."""
        p = str(position)
        asked: dict[str, Callable[[], Any]] = {
            "GET /events/{p}": lambda: self.api.get(self.user, f"/events/{p}"),
            "POST /events/{p}/corrections": lambda: self.api.post(
                self.user, f"/events/{p}/corrections", json=CORRECTION),
            "GET /ledger/proofs/inclusion?index={p}": lambda: self.api.get(
                self.user, f"/ledger/proofs/inclusion?index={p}"),
            "resguardo correct": lambda: self._cli("correct", p, "model=G17",
                                                   "--reason", "Error de captura"),
            "resguardo ledger prove": lambda: self._cli("ledger", "prove", p),
            "resguardo ledger prove --json": lambda: self._cli("ledger", "prove", p, "--json"),
            "web /firearms/{p}": lambda: self.site.get(f"/firearms/{p}"),
            "web /inspections/{p}": lambda: self.site.get(f"/inspections/{p}"),
        }
        out = {}
        for name, ask in asked.items():
            before = _log_size(self.app)
            answer = ask()
            if hasattr(answer, "status_code"):
                text = answer.text
                if name.startswith("web"):
                    text = re.sub(r'name="csrf" value="[^"]+"|"X-CSRF-Token": "[^"]+"', "",
                                  text)
                answer = (answer.status_code, text)
            recorded = _log_size(self.app) - before
            out[name] = (json.loads(json.dumps(answer, default=str)).__repr__()
                         .replace(p, "{position}"), recorded)
        return out


@pytest.fixture
def browser(world, asgi_client):  # type: ignore[no-untyped-def]
    """Opens a browser of its own (cookies) on the web interface of the world: one site for
    the test, so that its pages are compiled once, not once per person."""
    site = create_site(world)
    return lambda: asgi_client(site, follow_redirects=True)


@pytest.fixture
def walk(world, api, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The world with a sealed inspection planned at MUN1 and a checkpoint covering it."""
    monkeypatch.delenv("RESGUARDO_USER", raising=False)
    with world.work("inspector") as uow:
        plan = inspections.plan(uow, "MUN1", world.clock().date(), sealed=True).position
        uow.commit()
    with world.work("inspector") as uow:
        inspections.list_(uow)  # recorded: an access.inspection_read entry
        access = uow.appended[0].position
        uow.commit()
    key = ledger.LedgerKey.of(world.settings)
    if not key.exists():
        key.create()
    with world.work("auditor") as uow:
        ledger.checkpoint(uow, key)
        uow.commit()
    with world.read(None) as uow:
        positions = {"plan": plan, "access": access, "mun3": uow.repo.firearm("SIG-C100").id,
                     **{s: uow.repo.firearm(s).id for s in set(VISIBLE.values())}}
    context.set_deployment(world)
    yield positions
    context.set_deployment(None)
    os.environ.pop("RESGUARDO_USER", None)


def test_every_position_route_answers_a_hidden_entry_as_a_missing_one(world, api, walk,
                                                                    browser):
    differences = []
    for user in ROLES:
        surfaces = Surfaces(world, api, user, browser)
        missing = _log_size(world) + 50
        absent = surfaces.answers(missing)
        for name, (_answer, recorded) in absent.items():
            assert recorded == 0, f"{user}: {name} recorded {recorded} entries for a missing one"
        hidden = HIDDEN[user]
        if hidden is not None:
            for name, answer in surfaces.answers(walk[hidden]).items():
                if answer != absent[name]:
                    differences.append(f"{user} {name}:\n  hidden:  {answer}\n"
                                       f"  missing: {absent[name]}")
        # the walk is not vacuous: an entry the role may see answers otherwise
        seen = surfaces.answers(walk[VISIBLE[user]])
        assert seen["GET /events/{p}"] != absent["GET /events/{p}"], user
        assert seen["resguardo ledger prove"] != absent["resguardo ledger prove"], user
    assert not differences, "\n".join(differences)


def test_the_inspected_agency_cannot_see_its_sealed_plan_but_the_inspector_can(world, api,
                                                                                walk):
    plan = walk["plan"]
    for user in ("armero1", "jefe1"):
        assert api.get(user, f"/events/{plan}").status_code == 404
        assert api.get(user, f"/ledger/proofs/inclusion?index={plan}").status_code == 404
    assert api.get("inspector", f"/events/{plan}").json()["type"] == "inspection.planned"
    assert api.get("auditor", f"/ledger/proofs/inclusion?index={plan}").status_code == 200


def test_the_entry_export_gives_an_entry_one_may_not_see_as_its_leaf_hash_only(world, api,
                                                                               walk):
    for position in (walk["access"], walk["plan"]):
        query = f"/ledger/entries?start={position}&stop={position + 1}"
        (seen,) = api.get("auditor", query).json()
        assert seen["event"]["position"] == position and seen["event"]["secret"]
        (hidden,) = api.get("admin", query).json()  # admins read no inspection or access entry
        assert hidden["event"] is None and hidden["leaf"] is None
        assert hidden["leaf_hash"] == seen["leaf_hash"]
    result = runner.invoke(cli_app, ["--as", "admin", "ledger", "events", "--from",
                                     str(walk["plan"]), "--to", str(walk["plan"] + 1), "--json"])
    assert result.exit_code == 0, result.output
    assert "inspection.planned" not in result.stdout and '"leaf_hash"' in result.stdout


# --- an agency role tries to recover the sealed plan from everything it can fetch -----------


def _collect(world: Any, api: Any, user: str, size: int,
             browser: Callable[[], Any]) -> tuple[list[str], set[bytes]]:
    """Every answer `user` gets from the API, the CLI and the web that could say anything of
    the log, and every hash among them."""
    texts: list[str] = []
    hashes: set[bytes] = set()
    paths = ["/ledger/checkpoint", "/ledger/checkpoints/1", "/ledger/proofs/consistency?old=1",
             f"/ledger/proofs/consistency?old=1&new={size}", f"/ledger/entries?start=0&stop={size}",
             "/inspections", "/alerts", "/firearms?limit=500"]
    paths += [f"/events/{p}" for p in range(size + 3)]
    paths += [f"/ledger/proofs/inclusion?index={p}" for p in range(size + 3)]
    for path in paths:
        r = api.get(user, path)
        texts.append(r.text)
        if path.startswith("/ledger/proofs/inclusion") and r.status_code == 200:
            body = r.json()
            hashes.update(base64.b64decode(h) for h in [*body["proof"], body["leaf_hash"],
                                                       body["root"]])
    for args in (["ledger", "checkpoint"], ["ledger", "checkpoint", "--latest"],
                 ["ledger", "consistency", "1"], ["inspection", "list"]):
        result = runner.invoke(cli_app, ["--as", user, *args])
        texts.append(result.stdout + result.stderr)
    site = Surfaces(world, api, user, browser).site
    for page in ("/", "/ledger", "/ledger/checkpoint.txt", "/inspections"):
        texts.append(site.get(page).text)
    return texts, hashes


def test_an_agency_role_cannot_recover_its_sealed_plan_from_anything_it_can_fetch(world, api,
                                                                                   monkeypatch,
                                                                                   browser):
    monkeypatch.delenv("RESGUARDO_USER", raising=False)
    from resguardo.domain.registry import FirearmInput
    from resguardo.services import registry

    if _log_size(world) % 2:  # the plan at an even position: its leaf is a proof's sibling
        with world.work("armero3") as uow:
            registry.register_firearm(uow, "MUN3", "ARM1", FirearmInput(
                serial="SIG-C900", make="SIG Sauer", calibre="9x19mm", kind="pistol"))
            uow.commit()
    planned_on = world.clock().date() + timedelta(days=17)
    with world.work("inspector") as uow:
        plan = inspections.plan(uow, "MUN1", planned_on, sealed=True)
        uow.commit()
    with world.work("armero1") as uow:  # the entry right after it is the armorer's own
        registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
            serial="GLK-Z900", make="Glock", calibre="9x19mm", kind="pistol"))
        uow.commit()
    key = ledger.LedgerKey.of(world.settings)
    if not key.exists():
        key.create()
    with world.work("auditor") as uow:
        ledger.checkpoint(uow, key)
        uow.commit()
    size = _log_size(world)
    context.set_deployment(world)
    try:
        for user in ("armero1", "jefe1"):
            texts, hashes = _collect(world, api, user, size, browser)
            everything = "\n".join(texts)
            # nothing names the plan, its date or its secret
            for said in ("inspection.planned", planned_on.isoformat(), plan.secret or "?!"):
                assert said not in everything, (user, said)
            # nothing counts the log but the checkpoint its own entries are proven against:
            # no checkpoint, consistency proof or entry export, no size on the ledger page
            for path in ("/ledger/checkpoint", "/ledger/checkpoints/1",
                         "/ledger/proofs/consistency?old=1", "/ledger/entries?start=0&stop=1"):
                assert api.get(user, path).status_code == 403, (user, path)
            for args in (["ledger", "checkpoint", "--latest"], ["ledger", "consistency", "1"]):
                assert runner.invoke(cli_app, ["--as", user, *args]).exit_code == 1, args
            site = Surfaces(world, api, user, browser).site
            assert world.settings.log_origin not in site.get("/ledger").text
            assert site.get("/ledger/checkpoint.txt").status_code in (403, 404)
            if user == "armero1":
                # the armorer holds the plan's leaf hash (its own entry's proof has it) ...
                assert leaf_hash(plan.leaf()) in hashes
            # ... and trying every date of the year against every hash it holds finds none,
            # though without the secret the right date would have been found at once
            candidates = {}
            for day in range(-180, 181):
                guess = planned_on + timedelta(days=day)
                payload = {**plan.payload, "planned_on": guess.isoformat()}
                bare = dataclasses.replace(plan, payload=payload, secret=None)
                candidates[leaf_hash(bare.leaf())] = guess
            assert leaf_hash(dataclasses.replace(plan, secret=None).leaf()) in candidates
            assert not hashes & set(candidates), user
    finally:
        context.set_deployment(None)
        os.environ.pop("RESGUARDO_USER", None)
