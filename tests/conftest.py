"""Shared fixtures: fresh databases on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import typer.testing
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings

from resguardo.services import users
from resguardo.storage import schema
from resguardo.storage.database import make_engine

from pg import PostgresServer, memory_dir

# Password hashing stays argon2, with the cheapest parameters: tests check who may
# do what, not how long a hash takes to compute.
users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

# No timed assertion in the suite: a property test is judged by its examples, not by how
# fast a loaded machine draws or runs them (Hypothesis's deadline and its too-slow health
# check are clocks). Tests that set their own settings inherit these.
settings.register_profile("resguardo", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("resguardo")

# Typer's CliRunner turns the application into its Click command on every ``invoke``: for
# this command line (over a hundred commands) that is most of what a test's ``cli(...)``
# costs, seconds on a loaded machine. The tests run the same command that a real process
# builds once, so it is built once per application object here too.
_built: dict[int, tuple[object, object]] = {}
_get_command = typer.testing._get_command


def _command_once(app):  # type: ignore[no-untyped-def]
    app_and_command = _built.get(id(app))
    if app_and_command is None or app_and_command[0] is not app:
        app_and_command = _built[id(app)] = (app, _get_command(app))
    return app_and_command[1]


typer.testing._get_command = _command_once  # type: ignore[assignment]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """The tests' temporary files (their SQLite databases among them) in memory when it has
    room, as the PostgreSQL server's are (``pg.memory_dir``): SQLite commits with
    ``synchronous=FULL``, and a commit on this project's disks waits for the disk (about a
    sixth of a database test's time); deleting thousands of files on a disk mounted with
    ``discard`` costs seconds more. ``--basetemp DIR`` chooses another place; the
    pytest-xdist processes make theirs inside this one. Removed when the session ends."""
    if config.option.basetemp or hasattr(config, "workerinput"):
        return
    parent = memory_dir()
    if parent is not None:
        config.option.basetemp = tempfile.mkdtemp(prefix="resguardo-tests-", dir=parent)
        config.stash[_MADE_BASETEMP] = config.option.basetemp


_MADE_BASETEMP = pytest.StashKey[str]()


def pytest_unconfigure(config: pytest.Config) -> None:
    made = config.stash.get(_MADE_BASETEMP, None)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)


#: Fixtures whose tests need a server process or a browser: they are marked as such, and
#: ``slow``, so ``pytest -m "not slow"`` is the quick subset (README, "Tests").
_SLOW_FIXTURES = {"postgres": "postgres", "chromium": "browser", "live": "browser",
                   "playwright_session": "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The tests marked ``long`` (a minute or more of one process's time) go first, the rest
    # keep their order. pytest-xdist hands tests out in collection order as each process
    # asks for more; a long test handed out last would leave the other process idle while
    # it runs alone. Every process collects the same order, as xdist requires.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        kinds = {mark for fixture, mark in _SLOW_FIXTURES.items() if fixture in names}
        if "postgresql" in params.values():
            kinds.add("postgres")
        for kind in kinds:
            item.add_marker(kind)
        if kinds:
            item.add_marker("slow")
        if "demo_app" in names:
            # one process builds the demo (a minute of a loaded machine) and runs every test
            # that reads it, rather than each process building its own
            item.add_marker(pytest.mark.xdist_group("demo"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
    except (FileNotFoundError, OSError, Exception) as exc:  # noqa: BLE001
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and could not start: {exc}")
        pytest.skip(f"PostgreSQL not available here: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    """Which database a test runs on: it runs once on each."""
    return request.param


@pytest.fixture
def db_url(request: pytest.FixtureRequest, db_kind: str, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty database URL, once on SQLite and once on PostgreSQL."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'resguardo.db'}"
        return
    server = request.getfixturevalue("postgres")
    url = server.new_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Any]:
    """An engine on `db_url` with the schema at its head, disposed after the test."""
    engine = make_engine(db_url)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'resguardo.db'}"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 3, 3, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(request, db_kind, clock, tmp_path):  # type: ignore[no-untyped-def]
    """The small test deployment of tests/world.py, fresh for each test (SQLite and PostgreSQL):
    a copy of one built per process and database kind (``templates.built_once``: a file
    copy on SQLite, a database made from a template on PostgreSQL)."""
    from templates import built_once

    from world import build_world, make_app

    if db_kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'resguardo.db'}"
    else:
        server = request.getfixturevalue("postgres")
        url = server.url("t_" + uuid.uuid4().hex[:12])  # made by built_once
    app = built_once("world", url, clock, tmp_path, lambda at: build_world(at, clock, tmp_path),
                     lambda: make_app(url, clock, tmp_path))
    yield app
    app.engine.dispose()
    if db_kind != "sqlite":
        server.drop_database(url)


@pytest.fixture
def cli(world, monkeypatch):  # type: ignore[no-untyped-def]
    """``cli("--as", "armero1", "issue", ...)``: the command line against the test deployment
    (a Click result: exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from resguardo.cli import context
    from resguardo.cli.main import app

    runner = CliRunner()
    context.set_deployment(world)
    monkeypatch.delenv("RESGUARDO_USER", raising=False)

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=input)
    yield invoke
    context.set_deployment(None)
