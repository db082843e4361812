"""`ledger verify --state DIR`: a daily verify that goes on from what the auditor verified
last, kept on the auditor's own machine. An insider with the database in hand (plain SQL,
behind the application's back) must still be caught, on SQLite and PostgreSQL: an old
entry's row edited after the state was taken, a projection row edited, the log truncated
and regrown into another history, the state's own snapshot changed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ledger_world import (
    CHECKPOINT_EVERY,
    build_ledger_world,
    checkpoints,
    custody_rounds,
    key,
    kinds,
    size,
    sql,
    truncate,
)
from resguardo.ledger import root_hash
from resguardo.services import ledger_state
from resguardo.services.ledger_verify import VerifyReport, verify_with_state
from resguardo.storage import ledger_store
from resguardo.storage.tables import PROJECTION


@pytest.fixture
def app(db_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    return build_ledger_world(db_url, clock, tmp_path, monkeypatch)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "auditor-state"


def daily(app, directory: Path) -> VerifyReport:  # type: ignore[no-untyped-def]
    with app.read("auditor") as uow:
        return verify_with_state(uow, directory, verifier=key(app).verifier(),
                                 origin=app.settings.log_origin, database="test")


def state_json(directory: Path) -> dict:
    return json.loads((directory / ledger_state.STATE_FILE).read_text(encoding="utf-8"))


def leaves(app) -> list[bytes]:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        hashes = ledger_store.leaf_hashes(uow.conn, 0, size(app))
    assert hashes is not None
    return hashes


def test_the_first_run_verifies_everything_and_keeps_the_newest_checkpoint(app, state_dir):
    report = daily(app, state_dir)
    assert report.ok, report.findings
    assert (report.mode, report.from_size, report.state_updated) == ("full", 0, True)
    newest = checkpoints(app)[-1]
    kept = state_json(state_dir)
    assert (kept["size"], kept["checkpoint_id"]) == (newest.size, newest.id)
    assert kept["checkpoint"] == newest.note
    # the frontier folds to the root of the log's own first entries
    state = ledger_state.load(state_dir)
    assert state is not None and state.root == root_hash(leaves(app)[:newest.size])
    snapshot = state_dir / kept["projection"]["file"]
    assert ledger_state.file_sha256(snapshot) == kept["projection"]["sha256"]
    assert [p.name for p in state_dir.iterdir() if p.name.startswith(".") and p.name != ".lock"] == []


def test_an_entry_appended_normally_verifies_and_advances_the_state(app, state_dir):
    assert daily(app, state_dir).ok
    before = state_json(state_dir)
    custody_rounds(app, CHECKPOINT_EVERY)  # past at least one new checkpoint
    report = daily(app, state_dir)
    assert report.ok, report.findings
    assert (report.mode, report.from_size) == ("incremental", before["size"])
    assert report.events == report.leaves == size(app)  # every leaf still rehashed
    after = state_json(state_dir)
    assert after["size"] == checkpoints(app)[-1].size > before["size"]
    assert after["mode"] == "incremental"
    # the old snapshot is gone, the new one hashes to what is recorded
    assert not (state_dir / before["projection"]["file"]).exists()
    assert ledger_state.file_sha256(state_dir / after["projection"]["file"]) == \
        after["projection"]["sha256"]
    # and it replays to the same projection as a replay from entry 0 would
    assert daily(app, state_dir).ok


def test_an_old_entry_edited_after_the_state_was_taken_is_caught_at_its_index(app, state_dir):
    assert daily(app, state_dir).ok
    before = state_json(state_dir)
    sql(app, "UPDATE events SET actor = 'armero2' WHERE position = 5")
    report = daily(app, state_dir)
    assert not report.ok and report.mode == "incremental"
    assert report.first_bad_index == 5
    assert "leaf_mismatch" in kinds(report)
    assert state_json(state_dir) == before  # a failed verify never advances the state


def test_an_old_entry_edited_with_its_stored_leaf_is_caught_against_the_verified_root(
        app, state_dir):
    """A careful insider rewrites the row and the leaf stored for it: the stored tree
    below the state's size is not read again, but the rows no longer hash to the root the
    auditor verified."""
    assert daily(app, state_dir).ok
    verified = state_json(state_dir)["size"]
    sql(app, "UPDATE events SET actor = 'armero2' WHERE position = 5")
    with app.read(None) as uow:
        (forged,) = ledger_store.leaf_hashes(uow.conn, 5, 6) or []
    sql(app, "UPDATE merkle_nodes SET hash = :h WHERE level = 0 AND idx = 5", h=forged)
    report = daily(app, state_dir)
    assert not report.ok
    (fork,) = [f for f in report.findings if f.kind == "state_fork"]
    assert fork.first is not None and fork.last is not None
    assert fork.first <= 5 <= fork.last < verified


def test_a_projection_row_edited_is_caught(app, state_dir):
    assert daily(app, state_dir).ok
    row = sql(app, "SELECT id FROM firearms WHERE serial = 'GLK-A300'")[0]
    sql(app, "UPDATE firearms SET status = 'decommissioned' WHERE id = :i", i=row[0])
    report = daily(app, state_dir)
    assert kinds(report) == {"projection"}
    (finding,) = report.findings
    assert finding.detail["columns"]["status"] == {"live": "decommissioned",
                                                   "replayed": "in_storage"}


@pytest.mark.parametrize("drop_checkpoints", [False, True], ids=["checkpoints-kept",
                                                                  "checkpoints-dropped"])
def test_a_log_truncated_and_regrown_is_caught_as_not_extending_the_verified_root(
        app, state_dir, drop_checkpoints):
    """The insider cuts the log back and lets the application append another history,
    to the same size or beyond. Dropping the checkpoints too leaves a log that is
    consistent with itself (the application signs the new history): only the auditor's
    state still knows the old root."""
    assert daily(app, state_dir).ok
    verified = state_json(state_dir)["size"]
    keep = 11
    truncate(app, keep, drop_checkpoints=drop_checkpoints)
    custody_rounds(app, (verified - keep) // 2 + CHECKPOINT_EVERY, serial="GLK-A200",
                   badge="P2")
    assert size(app) > verified
    report = daily(app, state_dir)
    assert not report.ok
    (fork,) = [f for f in report.findings if f.kind == "state_fork"]
    assert fork.first is not None and fork.last is not None
    assert fork.first <= keep <= fork.last
    if drop_checkpoints:  # the log's own checkpoints now vouch for the forked history
        assert not kinds(report) & {"checkpoint_root", "leaf_mismatch", "node_mismatch"}


def test_a_log_cut_below_the_verified_size_is_caught(app, state_dir):
    assert daily(app, state_dir).ok
    verified = state_json(state_dir)["size"]
    truncate(app, verified - 3, drop_checkpoints=True)
    report = daily(app, state_dir)
    assert {"state_beyond_log", "state_checkpoints_removed"} <= kinds(report)


def test_a_tampered_snapshot_is_refused(app, state_dir):
    assert daily(app, state_dir).ok
    kept = state_json(state_dir)
    snapshot = state_dir / kept["projection"]["file"]
    data = bytearray(snapshot.read_bytes())
    data[-100] ^= 0xFF
    snapshot.write_bytes(bytes(data))
    with pytest.raises(ledger_state.StateError, match="does not hash to the SHA-256"):
        daily(app, state_dir)
    assert state_json(state_dir) == kept


def test_a_snapshot_replaced_with_its_digest_is_refused_by_the_signed_root(app, state_dir):
    """Whoever rewrites the state file's digest must also forge its root, which the
    frontier and the checkpoint's signature hold."""
    assert daily(app, state_dir).ok
    kept = state_json(state_dir)
    kept["root"] = kept["frontier"][0][2]
    (state_dir / ledger_state.STATE_FILE).write_text(json.dumps(kept), encoding="utf-8")
    with pytest.raises(ledger_state.StateError, match="does not fold"):
        daily(app, state_dir)


def test_a_state_of_another_key_is_refused(app, state_dir):
    assert daily(app, state_dir).ok
    kept = state_json(state_dir)
    kept["vkey"] = kept["vkey"][:-4] + "AAA="
    (state_dir / ledger_state.STATE_FILE).write_text(json.dumps(kept), encoding="utf-8")
    with pytest.raises(ledger_state.StateError, match="key"):
        daily(app, state_dir)


def test_the_incremental_replay_equals_the_full_one(app, state_dir):
    """A projection replayed from the snapshot through the new entries is the one a replay
    from entry 0 gives: a run on a fresh directory and a daily run agree on the rows."""
    assert daily(app, state_dir).ok
    custody_rounds(app, 5)
    assert daily(app, state_dir).ok
    fresh = state_dir.parent / "fresh"
    assert daily(app, fresh).ok
    assert state_json(fresh)["size"] == state_json(state_dir)["size"]
    assert rows(fresh) == rows(state_dir)
    assert rows(fresh)["firearms"]


def rows(directory: Path) -> dict[str, list[tuple]]:
    path = directory / state_json(directory)["projection"]["file"]
    db = sqlite3.connect(path)
    try:
        return {table.name: sorted(db.execute(f"SELECT * FROM {table.name}").fetchall(),
                                   key=repr) for table in PROJECTION}
    finally:
        db.close()
