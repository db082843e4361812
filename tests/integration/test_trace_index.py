"""The trace index: built once per process, caught up from the log, persisted next to SQLite."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from resguardo.domain.registry import FirearmInput
from resguardo.services import custody, registry, trace_index
from resguardo.services import trace as service
from resguardo.services.app import Resguardo

from world import do, look


def ranked(app, serial, user="investigador"):  # type: ignore[no-untyped-def]
    answer = do(app, user, service.trace, service.TraceInput(serial, limit=3))
    return [(c["serial"], c["distance"]) for c in answer["candidates"]]


def register(app, serial, user="armero1", agency="MUN1"):  # type: ignore[no-untyped-def]
    return do(app, user, registry.register_firearm, agency, "ARM1", FirearmInput(
        serial=serial, make="Glock", calibre="9x19mm", kind="pistol"))


def cached(app):  # type: ignore[no-untyped-def]
    return trace_index._CACHE[app.engine]


def test_a_firearm_registered_after_the_index_was_built_is_found(world):
    assert ranked(world, "QRS-98765") == []
    built = cached(world).index
    register(world, "QRS-98765")
    assert ranked(world, "QRS-9876S")[0] == ("QRS-98765", 0.5)
    assert cached(world).index is built  # caught up, not rebuilt


def test_catching_up_reads_only_what_was_recorded_since_the_watermark(world):
    ranked(world, "GLK-A100")
    entry = cached(world)
    size = look(world, None, lambda uow: uow.repo.log_size())
    assert entry.watermark == size - 1  # read before the trace appended its own entry
    do(world, "armero1", custody.issue, "GLK-A100", "P1")
    register(world, "QRS-98761")
    with world.read(None) as uow:
        assert trace_index.catch_up(uow, entry) == 1  # one registration; the issue is not read
        assert entry.watermark == uow.repo.log_size()
        assert trace_index.catch_up(uow, entry) == 0


def test_a_corrected_serial_is_found_under_its_new_value_and_its_former_one(world):
    ranked(world, "GLK-A500")
    position = look(world, None, lambda uow: uow.repo.firearm("GLK-A500").id)
    do(world, "armero1", custody.correct, position, {"serial": "GLK-X500"},
       "typed from the wrong label")
    assert ranked(world, "GLK-X500")[0] == ("GLK-A500", 1.0)  # only asked for: not applied
    do(world, "jefe1", custody.approve_correction, "GLK-A500")
    assert ranked(world, "GLK-X500")[0] == ("GLK-X500", 0.0)
    # the serial it was recorded under still finds it, once, as the weapon it is now
    assert ranked(world, "GLK-A500")[0] == ("GLK-X500", 0.0)
    assert [s for s, _ in ranked(world, "GLK-A500")].count("GLK-X500") == 1


def test_each_deployment_has_its_own_index(world, tmp_path):
    ranked(world, "GLK-A100")
    other = Resguardo(world.settings, clock=world.clock)  # a second process, in effect
    register(world, "QRS-98762")
    assert ranked(other, "QRS-98762")[0] == ("QRS-98762", 0.0)
    assert trace_index._CACHE[other.engine] is not cached(world)
    other.engine.dispose()


# --- the persisted file (next to a SQLite database, or where RESGUARDO_TRACE_INDEX says) ---------

@pytest.fixture
def persisted(world, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The world with a persisted index: by default for SQLite, configured for PostgreSQL."""
    if not str(world.engine.url).startswith("sqlite"):
        monkeypatch.setenv(trace_index.ENV_PATH, str(tmp_path / "national.trace-index"))
    return world


def index_file(app) -> Path:  # type: ignore[no-untyped-def]
    path = trace_index.index_path(str(app.engine.url))
    assert path is not None
    return path


def fresh_process(app) -> Resguardo:  # type: ignore[no-untyped-def]
    """The same database as another process sees it: nothing cached in memory."""
    trace_index.forget(app.engine)
    return app


def test_the_index_is_saved_next_to_the_database_readable_only_by_its_owner(persisted):
    ranked(persisted, "GLK-A100")
    path = index_file(persisted)
    assert path.name.endswith((".db.trace-index", "national.trace-index")) and path.is_file()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_new_process_loads_the_file_and_catches_up_with_later_registrations(persisted):
    ranked(persisted, "GLK-A100")
    saved = pickle.loads(index_file(persisted).read_bytes())["watermark"]
    register(persisted, "QRS-98763")
    app = fresh_process(persisted)
    assert ranked(app, "QRS-98763")[0] == ("QRS-98763", 0.0)
    entry = cached(app)
    assert entry.source == "file" and entry.watermark > saved


def test_the_file_is_written_again_after_enough_changes(persisted, monkeypatch):
    ranked(persisted, "GLK-A100")
    monkeypatch.setattr(trace_index, "SAVE_AFTER", 2)
    app = fresh_process(persisted)
    register(app, "QRS-98764")
    trace_index.prepare(app.engine)  # as every entry point does before a trace
    ranked(app, "GLK-A100")
    assert "QRS98764" not in pickle.loads(index_file(app).read_bytes())["index"]._keys
    register(app, "QRS-98765")
    ranked(app, "GLK-A100")  # a trace's own transaction never writes the file
    assert "QRS98765" not in pickle.loads(index_file(app).read_bytes())["index"]._keys
    trace_index.prepare(app.engine)
    assert "QRS98765" in pickle.loads(index_file(app).read_bytes())["index"]._keys


def _rewrite(path: Path, **changes: object) -> None:
    data = pickle.loads(path.read_bytes())
    data.update(changes)
    path.write_bytes(pickle.dumps(data))


@pytest.mark.parametrize("changes", [
    {"genesis": "0" * 64},          # another database's index
    {"tail": "0" * 64},             # the same start, a different history
    {"watermark": 10**9},           # a log longer than this one: restored from a backup
    {"format": "something-else/9"},
])
def test_a_file_that_does_not_belong_to_this_log_is_ignored_and_rebuilt(persisted, changes):
    ranked(persisted, "GLK-A100")
    path = index_file(persisted)
    _rewrite(path, **changes)
    register(persisted, "QRS-98766")
    app = fresh_process(persisted)
    assert ranked(app, "QRS-98766")[0] == ("QRS-98766", 0.0)
    assert cached(app).source == "file"  # rebuilt, and saved again
    assert pickle.loads(path.read_bytes())["genesis"] != "0" * 64


def test_a_file_others_may_write_is_never_unpickled(persisted):
    ranked(persisted, "GLK-A100")
    path = index_file(persisted)
    os.chmod(path, 0o666)
    with persisted.read(None) as uow:
        assert trace_index.load(path, uow) is None
    os.chmod(path, 0o600)
    with persisted.read(None) as uow:
        assert trace_index.load(path, uow) is not None


def test_a_damaged_file_is_rebuilt(persisted):
    ranked(persisted, "GLK-A100")
    index_file(persisted).write_bytes(b"not a pickle")
    app = fresh_process(persisted)
    assert ranked(app, "GLK-A100")[0] == ("GLK-A100", 0.0)


def test_an_unwritable_place_costs_a_rebuild_not_a_trace(world, tmp_path, monkeypatch):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setenv(trace_index.ENV_PATH, str(blocked / "trace-index"))
    app = fresh_process(world)
    assert ranked(app, "GLK-A100")[0] == ("GLK-A100", 0.0)
    assert cached(app).source == "unsaved"


def test_the_file_can_be_placed_anywhere_or_turned_off(monkeypatch, tmp_path):
    monkeypatch.setenv(trace_index.ENV_PATH, str(tmp_path / "idx"))
    assert trace_index.index_path("postgresql+psycopg://x@/db") == tmp_path / "idx"
    monkeypatch.setenv(trace_index.ENV_PATH, "off")
    assert trace_index.index_path("sqlite:///a.db") is None
    monkeypatch.delenv(trace_index.ENV_PATH)
    assert trace_index.index_path("sqlite:///data/a.db") == Path("data/a.db.trace-index")
    assert trace_index.index_path("sqlite:///:memory:") is None
    assert trace_index.index_path("postgresql+psycopg://x@/db") is None


def test_prepare_loads_the_index_before_any_transaction_and_a_refusal_loads_nothing(world):
    from resguardo.domain.errors import PermissionDenied

    trace_index.forget(world.engine)
    with pytest.raises(PermissionDenied):
        ranked(world, "GLK-A100", user="armero1")
    assert world.engine not in trace_index._CACHE
    trace_index.prepare(world.engine)
    entry = cached(world)
    assert entry.watermark > 0 and "GLKA100" in entry.index._keys
    assert ranked(world, "GLK-A100")[0] == ("GLK-A100", 0.0)
    assert cached(world) is entry
