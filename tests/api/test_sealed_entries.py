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

import json
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from resguardo.cli import context
from resguardo.cli.main import app as cli_app
from resguardo.services import inspections, ledger
from resguardo.web import create_site

from world import PASSWORD, USERS

ROLES = (*USERS, "admin")
#: user -> a position it may not see: the sealed plan at MUN1 (hidden from the inspected
#: agency and from other agencies), MUN3's weapon (outside the scope), or the record of
#: the inspector's read of the sealed plan (reads are for auditors; an investigator or an
#: admin may see the inspection itself, on its own page, and that read is recorded)
HIDDEN = {user: "plan" for user in ROLES}
HIDDEN.update({"supervisor": "mun3", "inspector": "mun3", "investigador": "access",
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

    def __init__(self, app: Any, api: Any, user: str) -> None:
        self.app, self.api, self.user = app, api, user
        self.site = TestClient(create_site(app), follow_redirects=True)
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
                    text = re.sub(r'name="csrf" value="[^"]+"', "", text)
                answer = (answer.status_code, text)
            recorded = _log_size(self.app) - before
            out[name] = (json.loads(json.dumps(answer, default=str)).__repr__()
                         .replace(p, "{position}"), recorded)
        return out


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


def test_every_position_route_answers_a_hidden_entry_as_a_missing_one(world, api, walk):
    differences = []
    for user in ROLES:
        surfaces = Surfaces(world, api, user)
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
