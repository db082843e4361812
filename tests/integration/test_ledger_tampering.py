"""Tampering with the database behind the application's back, each kind caught by
`verify` with the first index that disagrees (or, where only checkpoints reveal it, the
narrowest range they allow), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from ledger_world import (
    CHECKPOINT_EVERY,
    build_ledger_world,
    checkpoints,
    custody_rounds,
    kinds,
    run_verify,
    shift_up,
    size,
    sql,
    swap,
    truncate,
)
from resguardo.domain.errors import Conflict
from resguardo.ledger import Checkpoint, generate_signer, sign_checkpoint
from resguardo.services import custody, ledger, ledger_proofs
from resguardo.services.ledger_verify import verify

from world import do


@pytest.fixture
def app(db_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    return build_ledger_world(db_url, clock, tmp_path, monkeypatch)


def test_an_untouched_ledger_verifies_clean(app):
    report = run_verify(app)
    assert report.ok, report.findings
    assert report.size == size(app) and report.events == report.size == report.leaves
    assert report.checkpoints >= 4 and report.latest is not None and report.latest["ok"]
    assert report.projection is True
    assert report.first_bad_index is None and report.first_bad_range is None


def test_editing_one_field_of_an_old_event_is_reported_at_its_index(app):
    sql(app, "UPDATE events SET actor = 'armero2' WHERE position = 5")
    report = run_verify(app)
    assert not report.ok
    assert report.first_bad_index == 5
    leaf = [f for f in report.findings if f.kind == "leaf_mismatch"]
    assert [(f.first, f.last) for f in leaf] == [(5, 5)]
    # every checkpoint signed after entry 5 now disagrees; the first one narrows it down
    assert report.first_bad_range is not None
    lo, hi = report.first_bad_range
    assert lo <= 5 <= hi and hi - lo < CHECKPOINT_EVERY
    assert "node_mismatch" not in kinds(report)  # explained by the leaf, not repeated


def test_editing_the_payload_of_an_event_is_reported_at_its_index(app):
    position = sql(app, "SELECT min(position) FROM events WHERE type = 'custody.issued'")[0][0]
    sql(app, "UPDATE events SET payload = replace(payload, :a, :b) WHERE position = :p",
        a='"officer_id":', b='"officer_id":1', p=position)
    report = run_verify(app, projection=False)
    assert report.first_bad_index == position
    assert kinds(report) >= {"leaf_mismatch", "checkpoint_root"}


def test_deleting_an_event_is_reported_as_a_gap_at_its_index(app):
    sql(app, "DELETE FROM events WHERE position = 12")
    report = run_verify(app)
    assert report.first_bad_index == 12
    gap = [f for f in report.findings if f.kind == "gap"]
    assert [f.first for f in gap] == [12]
    # the tree still holds the deleted leaf, so the checkpoints themselves hold
    assert not kinds(report) & {"checkpoint_root", "node_mismatch"}


def test_deleting_the_last_events_is_reported_where_the_log_now_ends(app):
    n = size(app)
    sql(app, "DELETE FROM events WHERE position >= :k", k=n - 3)
    sql(app, "UPDATE log_head SET size = :k WHERE id = 1", k=n - 3)
    report = run_verify(app, projection=False)
    assert report.first_bad_index == n - 3
    assert "extra_leaves" in kinds(report)


def test_inserting_a_forged_event_in_the_middle_is_reported_at_its_index(app):
    n = size(app)
    shift_up(app, 20)
    sql(app, "INSERT INTO events (position, type, at, actor_id, actor, org_id, subject_type, "
             "subject_id, payload) VALUES (20, 'firearm.decommissioned', "
             "'2025-03-03T08:00:00.000000Z', 2, 'jefe1', 4, 'firearm', 30, '{}')")
    sql(app, "UPDATE log_head SET size = :n WHERE id = 1", n=n + 1)
    report = run_verify(app)
    assert report.first_bad_index == 20
    mismatched = sorted(f.first for f in report.findings if f.kind == "leaf_mismatch")
    assert mismatched[0] == 20
    assert "leaf_missing" in kinds(report)  # the tree never had a leaf n


def test_swapping_two_events_is_reported_at_the_first_of_them(app):
    swap(app, 14, 17)
    report = run_verify(app)
    assert report.first_bad_index == 14
    assert sorted(f.first for f in report.findings if f.kind == "leaf_mismatch") == [14, 17]


def test_truncating_the_log_and_reappending_through_the_app_is_reported_as_a_range(app, caplog):
    before = [c.size for c in checkpoints(app)]
    keep = 27
    truncate(app, keep)
    # the application appends again, past the next automatic checkpoint's size
    custody_rounds(app, (max(before) - keep) // 2 + CHECKPOINT_EVERY, serial="GLK-A200",
                   badge="P2")
    assert size(app) > max(before)
    report = run_verify(app, projection=False)
    # the app recomputed its own tree, so rows and nodes agree; the checkpoints do not
    assert report.first_bad_index is None
    last_good = max(s for s in before if s <= keep)
    first_bad = min(s for s in before if s > keep)
    assert report.first_bad_range == (last_good, first_bad - 1)
    assert kinds(report) == {"checkpoint_root"}
    # and the application refused to sign the forked history
    assert [c.size for c in checkpoints(app)] == before
    assert any("does not extend checkpoint" in r.message for r in caplog.records)


def test_an_explicit_checkpoint_of_a_truncated_or_forked_log_is_refused(app):
    last = checkpoints(app)[-1]
    truncate(app, 27)
    custody_rounds(app, 1, serial="GLK-A200", badge="P2")
    with app.work("auditor") as uow, pytest.raises(Conflict, match="fewer than checkpoint"):
        ledger.checkpoint(uow, ledger.LedgerKey.of(app.settings))
    while size(app) <= last.size:
        custody_rounds(app, 1, serial="GLK-A200", badge="P2")
    with app.work("auditor") as uow, pytest.raises(Conflict, match="does not extend"):
        ledger.checkpoint(uow, ledger.LedgerKey.of(app.settings))


def test_editing_a_projection_row_without_an_event_is_reported_with_its_entry(app):
    row = sql(app, "SELECT id, last_event FROM firearms WHERE serial = 'GLK-A300'")[0]
    sql(app, "UPDATE firearms SET status = 'decommissioned' WHERE id = :i", i=row[0])
    report = run_verify(app)
    assert kinds(report) == {"projection"}
    assert report.first_bad_index is None and report.first_bad_range is None
    (finding,) = report.findings
    assert finding.detail["table"] == "firearms" and finding.detail["entry"] == row[1]
    assert finding.detail["columns"]["status"] == {"live": "decommissioned",
                                                   "replayed": "in_storage"}


def test_a_checkpoint_replaced_by_one_signed_with_another_key_is_reported(app):
    stored = checkpoints(app)
    latest, previous = stored[-1], stored[-2]
    forger = generate_signer(app.settings.log_origin)
    note = sign_checkpoint(Checkpoint(app.settings.log_origin, latest.size, latest.root), forger)
    sql(app, "UPDATE checkpoints SET note = :n WHERE id = :i", n=note, i=latest.id)
    report = run_verify(app)
    assert kinds(report) == {"checkpoint_signature"}
    (finding,) = report.findings
    assert finding.detail["checkpoint_id"] == latest.id
    assert (finding.first, finding.last) == (previous.size, latest.size - 1)
    assert report.latest is not None and not report.latest["ok"]


def test_a_checkpoint_whose_columns_were_edited_is_reported(app):
    latest = checkpoints(app)[-1]
    sql(app, "UPDATE checkpoints SET size = size - 1 WHERE id = :i", i=latest.id)
    assert "checkpoint_mismatch" in kinds(run_verify(app, projection=False))


def test_a_rollback_to_the_same_size_is_caught_against_an_overseers_checkpoint(app, tmp_path):
    # the overseer keeps the checkpoints it was shown: an older one and the newest
    older = checkpoints(app)[2]
    with app.work("auditor") as uow:
        held = ledger.checkpoint(uow, ledger.LedgerKey.of(app.settings))
        uow.commit()
    copy = tmp_path / f"{held.size}.checkpoint"
    copy.write_text(held.note, encoding="utf-8")
    # an insider rolls the log back, covers the tracks and regrows it to the same size
    keep = 23
    truncate(app, keep, drop_checkpoints=True)
    while size(app) < held.size - 1:
        custody_rounds(app, 1, serial="GLK-A400", badge="P3")
    if size(app) < held.size:
        do(app, "armero1", custody.issue, "GLK-A500", "P2")
    assert size(app) == held.size
    with app.work("auditor") as uow:
        regrown = ledger.checkpoint(uow, ledger.LedgerKey.of(app.settings))
        uow.commit()
    assert regrown.size == held.size and regrown.root != held.root
    # the log is consistent with itself ...
    assert run_verify(app, projection=False).ok
    # ... but not with what the overseer saw
    report = run_verify(app, supplied=[("older", older.note), (str(copy), held.note)],
                        projection=False)
    assert kinds(report) == {"supplied_root"}
    assert older.size <= keep and report.first_bad_range == (older.size, held.size - 1)
    assert report.supplied[1] == {"source": str(copy), "size": held.size, "ok": False}
    assert report.supplied[0]["ok"]


def test_a_supplied_checkpoint_the_log_grew_from_verifies_with_a_consistency_proof(app, tmp_path):
    old = checkpoints(app)[1]
    custody_rounds(app, 2)
    report = run_verify(app, supplied=[("old", old.note)], projection=False)
    assert report.ok
    (entry,) = report.supplied
    assert entry["ok"] and entry["consistent_with"].startswith("checkpoint ")


def test_a_supplied_checkpoint_larger_than_the_log_is_a_rollback(app):
    with app.work("auditor") as uow:
        held = ledger.checkpoint(uow, ledger.LedgerKey.of(app.settings))
        uow.commit()
    truncate(app, held.size - 4, drop_checkpoints=True)
    report = run_verify(app, supplied=[("held", held.note)], projection=False)
    assert "supplied_beyond_log" in kinds(report)
    assert report.first_bad_range is not None and report.first_bad_range[1] == held.size - 1


def test_a_supplied_checkpoint_from_another_key_is_not_accepted(app):
    forger = generate_signer(app.settings.log_origin)
    stored = checkpoints(app)[-1]
    note = sign_checkpoint(Checkpoint(app.settings.log_origin, stored.size, stored.root), forger)
    report = run_verify(app, supplied=[("forged", note)], projection=False)
    assert kinds(report) == {"supplied_signature"}


def test_a_corrupted_tree_node_is_reported_with_the_entries_under_it(app):
    sql(app, "UPDATE merkle_nodes SET hash = :h WHERE level = 2 AND idx = 3", h=bytes(32))
    report = run_verify(app, projection=False)
    assert kinds(report) == {"node_mismatch"}
    (finding,) = report.findings
    assert (finding.first, finding.last, finding.exact) == (12, 15, False)
    with app.read("auditor") as uow, pytest.raises(Conflict, match="does not prove"):
        ledger_proofs.prove(uow, index=9)  # its path passes node (2, 3)


def test_verify_in_parallel_processes_reports_what_one_process_does(app):
    sql(app, "UPDATE events SET reason = 'x' WHERE position = 5")
    sql(app, "DELETE FROM events WHERE position = 20")
    sql(app, "UPDATE merkle_nodes SET hash = :h WHERE level = 1 AND idx = 15", h=bytes(32))
    key = ledger.LedgerKey.of(app.settings)

    def run(**options):  # type: ignore[no-untyped-def]
        with app.read("auditor") as uow:
            return verify(uow, verifier=key.verifier(), origin=key.origin, projection=False,
                          **options).as_dict()

    alone = run(workers=1, chunk_level=3)
    assert alone == run(workers=2, chunk_level=3)
    assert alone["first_bad_index"] == 5
    assert {f["kind"] for f in alone["findings"]} >= {"leaf_mismatch", "gap", "node_mismatch"}
    whole = run(workers=1)
    assert whole["first_bad_index"] == 5 and whole["findings"] == alone["findings"]


def test_a_value_of_the_wrong_type_in_a_sqlite_column_is_reported(sqlite_url, clock, tmp_path,
                                                                   monkeypatch):
    app = build_ledger_world(sqlite_url, clock, tmp_path, monkeypatch, rounds=1)
    sql(app, "UPDATE events SET actor_id = 'x' WHERE position = 3")  # SQLite stores it as text
    report = run_verify(app, projection=False)
    assert report.first_bad_index == 3 and "leaf_mismatch" in kinds(report)


def test_sqlite_refuses_a_row_at_a_fractional_position(sqlite_url, clock, tmp_path,
                                                       monkeypatch):
    # The position is the table's rowid (INTEGER PRIMARY KEY, migration 0020): SQLite itself
    # refuses anything but an integer there, so no such row can stand beside entry 12.
    app = build_ledger_world(sqlite_url, clock, tmp_path, monkeypatch, rounds=1)
    with pytest.raises(IntegrityError, match="datatype mismatch"):
        sql(app, "INSERT INTO events (position, type, at, actor_id, actor, org_id, "
                 "subject_type, subject_id, payload) SELECT 12.5, type, at, actor_id, actor, "
                 "org_id, subject_type, subject_id, payload FROM events WHERE position = 12")
    with pytest.raises(IntegrityError, match="datatype mismatch"):
        sql(app, "UPDATE events SET position = 'doce' WHERE position = 12")
    assert run_verify(app, projection=False).ok


def test_a_tree_hash_stored_as_text_in_sqlite_is_reported_not_a_crash(sqlite_url, clock,
                                                                       tmp_path, monkeypatch):
    app = build_ledger_world(sqlite_url, clock, tmp_path, monkeypatch, rounds=1)
    sql(app, "UPDATE merkle_nodes SET hash = 'abc' WHERE level = 1 AND idx = 2")
    report = run_verify(app, projection=False)
    assert kinds(report) == {"node_mismatch"}
    (finding,) = report.findings
    assert (finding.first, finding.last) == (4, 5)
    with app.read("auditor") as uow, pytest.raises(Conflict, match="does not prove"):
        ledger_proofs.prove(uow, index=6)  # node (1, 2) is its sibling on the way up


def test_a_tree_row_at_a_fractional_index_in_sqlite_is_reported(sqlite_url, clock, tmp_path,
                                                                monkeypatch):
    app = build_ledger_world(sqlite_url, clock, tmp_path, monkeypatch, rounds=1)
    sql(app, "INSERT INTO merkle_nodes (level, idx, hash) SELECT level, 5.5, hash "
             "FROM merkle_nodes WHERE level = 1 AND idx = 5")
    report = run_verify(app, projection=False)
    assert not report.ok and kinds(report) == {"node_stray"}
    assert report.findings[0].first == 10
