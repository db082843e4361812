"""Leaves that reveal nothing: every entry carries its own random secret, committed in its
leaf, so a leaf hash or a proof says nothing of an entry one may not read; a log written
before secrets existed keeps verifying, its leaves as they were. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ledger_world import build_ledger_world, key, run_verify, sql
from resguardo.domain.events import Event
from resguardo.ledger import leaf_hash, verify_inclusion
from resguardo.services import custody, ledger, ledger_proofs
from resguardo.storage import ledger_store, rebuild

from world import do, look


@pytest.fixture
def app(db_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    return build_ledger_world(db_url, clock, tmp_path, monkeypatch, rounds=1)


def entries(app) -> list[Event]:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return list(uow.repo.iter_events())


def stored_leaf(app, position: int) -> bytes:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return ledger_store.DbNodeStore(uow.conn).get_many([(0, position)])[(0, position)]


def test_each_entry_draws_its_own_secret_and_its_leaf_commits_it(app):
    events = entries(app)
    secrets = [e.secret for e in events]
    assert all(s is not None and len(bytes.fromhex(s)) == 16 for s in secrets)  # 128 bits
    assert len(set(secrets)) == len(secrets)
    for ev in events:
        document = json.loads(ev.leaf())
        assert document["secret"] == ev.secret
        assert stored_leaf(app, ev.position) == leaf_hash(ev.leaf())
        # the same entry with another secret is another leaf: the hash commits the secret
        other = dataclasses.replace(ev, secret="0" * 32)
        assert leaf_hash(other.leaf()) != leaf_hash(ev.leaf())


def test_the_reader_of_an_entry_gets_its_secret_and_can_recompute_the_proven_leaf(app):
    do(app, "auditor", ledger.checkpoint, key(app))
    proof = look(app, "armero1", ledger_proofs.prove, serial="GLK-A100")
    event = proof.as_dict()["event"]
    assert event["secret"] == proof.event.secret
    rebuilt = Event(**event)
    verify_inclusion(rebuilt.position, proof.checkpoint.size, leaf_hash(rebuilt.leaf()),
                     proof.proof, proof.checkpoint.root)


def _as_written_before_secrets(app) -> int:  # type: ignore[no-untyped-def]
    """Turn the log into one written before 0009: no secrets, the tree and checkpoints
    built over the leaves as they were then. Returns its size."""
    sql(app, "UPDATE events SET secret = NULL")
    for table in ("cosignatures", "checkpoints", "merkle_nodes"):
        sql(app, f"DELETE FROM {table}")
    with app.work(None) as uow:
        leaves = [leaf_hash(ev.leaf()) for ev in uow.repo.iter_events()]
        ledger_store.append_leaf_hashes(uow.conn, 0, leaves)
        uow.commit()
    return len(leaves)


def test_a_log_written_before_secrets_keeps_verifying_and_grows_with_secret_leaves(app):
    old_size = _as_written_before_secrets(app)
    old = entries(app)
    assert all(e.secret is None and b'"secret"' not in e.leaf() for e in old)
    kept = do(app, "auditor", ledger.checkpoint, key(app))  # what an overseer kept
    assert kept.size == old_size
    do(app, "armero1", custody.issue, "GLK-A100", "P1")
    do(app, "armero1", custody.return_, "GLK-A100", "ARM1")
    do(app, "auditor", ledger.checkpoint, key(app))
    new = entries(app)[old_size:]
    assert new and all(e.secret is not None for e in new)
    report = run_verify(app, supplied=[("kept.txt", kept.note)])
    assert report.ok, [str(f) for f in report.findings]
    with app.read("auditor") as uow:
        scratch = rebuild.replay(uow.repo.iter_events())
        try:
            assert rebuild.compare(uow.conn, scratch) == []
        finally:
            scratch.close()
    # an old entry and a new one both prove against the latest checkpoint
    for position in (old[-1].position, new[-1].position):
        proof = look(app, "auditor", ledger_proofs.prove, index=position)
        verify_inclusion(position, proof.checkpoint.size, leaf_hash(proof.event.leaf()),
                         proof.proof, proof.checkpoint.root)


def test_a_changed_secret_is_caught_by_verify(app):
    do(app, "auditor", ledger.checkpoint, key(app))
    victim = entries(app)[-1].position
    sql(app, "UPDATE events SET secret = :s WHERE position = :p", s="f" * 32, p=victim)
    report = run_verify(app, projection=False)
    assert not report.ok and report.first_bad_index == victim
    sql(app, "UPDATE events SET secret = NULL WHERE position = :p", p=victim)
    report = run_verify(app, projection=False)
    assert not report.ok and report.first_bad_index == victim
