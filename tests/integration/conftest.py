"""The demonstration deployment, built once per process and copied for each test."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from resguardo.services import demo, ledger
from resguardo.services.app import Resguardo
from templates import copy_keys

from world import make_app

#: the demo the tests read: one day of shifts, every password the same
DEMO = {"days": 1, "password": "demo-password-long"}


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """``demo.build`` once (a minute of a loaded machine's time): the database, its keys,
    the build's result and its clock at the end, for :func:`demo_app` to copy."""
    where = tmp_path_factory.mktemp("demo")
    app = make_app(f"sqlite:///{where / 'demo.db'}", None, where)
    result = demo.build(app, **DEMO)  # type: ignore[arg-type]
    app.engine.dispose()
    return {"db": where / "demo.db", "result": result, "now": app.clock(),
            "keys": (app.settings.signing_key, app.settings.credential_key_path)}


@pytest.fixture
def demo_app(demo_template, tmp_path) -> Iterator[tuple[Resguardo, demo.DemoResult]]:  # type: ignore[no-untyped-def]
    """A fresh copy of the built demo (``demo.build(app, days=1, ...)``) and its result: the
    database, its signing and credential keys, and the demo's clock where the build left it
    (a copy made minutes after the build reads the demo's "today" as the build did)."""
    shutil.copy(demo_template["db"], tmp_path / "demo.db")
    app = make_app(f"sqlite:///{tmp_path / 'demo.db'}", None, tmp_path)
    copy_keys(demo_template["keys"], app)
    app.clock = demo.DemoClock(demo_template["now"])
    ledger.attach(app)  # as the build left its app: the append path knows the signing key
    yield app, copy.deepcopy(demo_template["result"])
    app.engine.dispose()
