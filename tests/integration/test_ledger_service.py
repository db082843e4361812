"""Checkpoints, proofs, witnesses and the signing key, as the deployment runs them,
on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from ledger_world import build_ledger_world, checkpoints, custody_rounds, key, size
from resguardo.domain.codes import Role
from resguardo.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from resguardo.domain.policy import PERMISSIONS, Action
from resguardo.ledger import (
    EMPTY_ROOT,
    SIG_TYPE_COSIGNATURE,
    ProofError,
    cosign,
    generate_signer,
    leaf_hash,
    parse_note,
    root_hash,
    verify_checkpoint,
    verify_consistency,
    verify_cosignatures,
    verify_inclusion,
)
from resguardo.services import ledger, ledger_proofs

from world import do, look


@pytest.fixture
def app(db_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    return build_ledger_world(db_url, clock, tmp_path, monkeypatch)


def sign_now(app, user="auditor"):  # type: ignore[no-untyped-def]
    return do(app, user, ledger.checkpoint, key(app))


# --- the key ---------------------------------------------------------------------------


@pytest.fixture
def fresh_app(db_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Built here, not copied: the key file is the one `init` made."""
    return build_ledger_world(db_url, clock, tmp_path, monkeypatch, fresh=True)


def test_init_creates_a_signing_key_only_its_owner_can_read(fresh_app):
    app = fresh_app
    path = app.settings.signing_key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    signer = key(app).signer()
    assert signer.name == app.settings.log_origin
    first = checkpoints(app)[0]
    assert verify_checkpoint(first.note, signer.verifier(), app.settings.log_origin).size == 2


def test_a_key_file_readable_by_others_is_refused(app):
    os.chmod(app.settings.signing_key, 0o644)
    with pytest.raises(Conflict, match="readable by others"):
        key(app).signer()
    custody_rounds(app, 1)  # entries no checkpoint covers yet, whatever the log's size was
    with pytest.raises(Conflict, match="readable by others"):
        sign_now(app)


def test_an_existing_key_is_never_overwritten(app):
    with pytest.raises(Conflict, match="never replaced"):
        key(app).create()


def test_the_verifier_key_is_a_c2sp_vkey_of_the_log(app):
    vkey = key(app).verifier().vkey()
    name, key_id, material = vkey.split("+", 2)
    assert name == app.settings.log_origin and len(key_id) == 8 and len(material) == 44
    assert ledger.parse_vkey(vkey) == key(app).verifier()


# --- checkpoints -------------------------------------------------------------------------


def test_a_checkpoint_signs_the_whole_log_and_is_not_repeated_for_the_same_size(app):
    first = sign_now(app)
    assert first.size == size(app)
    checkpoint = verify_checkpoint(first.note, key(app).verifier(), app.settings.log_origin)
    assert (checkpoint.size, checkpoint.root) == (first.size, first.root)
    assert sign_now(app).id == first.id


def test_only_auditors_and_admins_sign_checkpoints(app):
    with pytest.raises(PermissionDenied):
        sign_now(app, "armero1")
    assert sign_now(app, "admin").size == size(app)


def test_checkpoints_are_signed_automatically_every_n_entries(app):
    sizes = [c.size for c in checkpoints(app)]
    assert sizes[0] == 2  # resguardo init
    assert all(b - a == 8 for a, b in zip(sizes, sizes[1:], strict=False))
    custody_rounds(app, 5)
    assert [c.size for c in checkpoints(app)][len(sizes):] == [sizes[-1] + 8]


def test_checkpoints_are_signed_automatically_every_m_minutes(app, clock, monkeypatch):
    monkeypatch.setenv("RESGUARDO_CHECKPOINT_EVERY", "100000")
    monkeypatch.setenv("RESGUARDO_CHECKPOINT_MINUTES", "30")
    before = len(checkpoints(app))
    clock.advance(minutes=29)
    custody_rounds(app, 1)
    assert len(checkpoints(app)) == before
    clock.advance(minutes=2)
    custody_rounds(app, 1)
    stored = checkpoints(app)
    assert len(stored) == before + 1 and stored[-1].size == size(app) - 1
    assert stored[-1].created_at.startswith(clock.now.strftime("%Y-%m-%dT%H:%M"))


def test_a_bad_checkpoint_interval_is_refused(app, monkeypatch):
    monkeypatch.setenv("RESGUARDO_CHECKPOINT_EVERY", "often")
    with pytest.raises(ValidationFailed, match="RESGUARDO_CHECKPOINT_EVERY"):
        custody_rounds(app, 1)


def test_without_its_key_the_log_goes_on_and_says_it_signs_nothing(app, caplog):
    os.remove(app.settings.signing_key)
    before = len(checkpoints(app))
    custody_rounds(app, 6)
    assert len(checkpoints(app)) == before
    assert sum("no automatic checkpoints" in r.message for r in caplog.records) == 1
    with pytest.raises(NotFound, match="no signing key"):
        sign_now(app)


# --- inclusion proofs -----------------------------------------------------------------------


def test_an_entry_is_proved_included_in_the_latest_checkpoint(app):
    sign_now(app)
    proof = look(app, "auditor", ledger_proofs.prove, index=7)
    assert proof.checkpoint.size == size(app)
    assert proof.leaf_hash == leaf_hash(proof.leaf)
    verify_inclusion(7, proof.checkpoint.size, proof.leaf_hash, proof.proof, proof.checkpoint.root)
    data = proof.as_dict()
    assert data["index"] == 7 and data["event"]["position"] == 7


def test_a_serial_proves_its_registration_to_a_reader_in_scope(app):
    sign_now(app)
    proof = look(app, "armero1", ledger_proofs.prove, serial="GLK-A100")
    assert proof.event.type == "firearm.registered"
    assert proof.event.payload["serial"] == "GLK-A100"
    verify_inclusion(proof.event.position, proof.checkpoint.size, leaf_hash(proof.event.leaf()),
                     proof.proof, proof.checkpoint.root)
    with pytest.raises(NotFound):
        look(app, "armero2", ledger_proofs.prove, serial="GLK-A100")


def test_an_entry_not_yet_covered_by_a_checkpoint_is_not_proved(app):
    sign_now(app)
    custody_rounds(app, 1)
    with pytest.raises(Conflict, match="not covered by a checkpoint"):
        look(app, "auditor", ledger_proofs.prove, index=size(app) - 1)


def test_a_proof_against_another_root_does_not_verify(app):
    sign_now(app)
    proof = look(app, "auditor", ledger_proofs.prove, index=3)
    with pytest.raises(ProofError):
        verify_inclusion(3, proof.checkpoint.size, proof.leaf_hash, proof.proof, bytes(32))


# --- consistency proofs -----------------------------------------------------------------------


def test_consistency_proofs_between_checkpoints_verify(app):
    stored = checkpoints(app)
    for old in stored:
        found = look(app, "inspector", ledger_proofs.consistency, old.size)
        assert (found.size1, found.size2) == (old.size, stored[-1].size)
        assert found.root1 == old.root and found.root2 == stored[-1].root
        if 0 < old.size < stored[-1].size:
            verify_consistency(old.size, found.size2, found.proof, old.root, found.root2)


def test_consistency_from_an_empty_log_is_an_empty_proof(app):
    found = look(app, "auditor", ledger_proofs.consistency, 0, 5)
    assert found.proof == [] and found.root1 == EMPTY_ROOT


def test_consistency_beyond_the_log_or_backwards_is_refused(app):
    with pytest.raises(ValidationFailed):
        look(app, "auditor", ledger_proofs.consistency, 10, 5)
    with pytest.raises(ValidationFailed):
        look(app, "auditor", ledger_proofs.consistency, 1, size(app) + 1)


# --- witnesses ---------------------------------------------------------------------------


def witness(name="witness.example.org/w1"):  # type: ignore[no-untyped-def]
    return generate_signer(name, SIG_TYPE_COSIGNATURE)


def test_a_witness_cosignature_is_kept_and_served_with_the_checkpoint(app):
    stored = sign_now(app)
    body, _ = parse_note(stored.note)
    w1, w2 = witness(), witness("witness.example.net/w2")
    for w, t in ((w1, 1_700_000_000), (w2, 1_700_000_100)):
        kept = do(app, "auditor", ledger_proofs.cosign, stored.id, cosign(body, w, t), w.vkey())
        assert (kept.witness, kept.timestamp) == (w.name, t)
    served = look(app, "inspector", ledger_proofs.cosigned, stored.id)
    assert [c.witness for c in served.cosignatures] == sorted([w1.name, w2.name])
    assert verify_cosignatures(served.note, [w1.verifier(), w2.verifier()]) == {
        w1.name: 1_700_000_000, w2.name: 1_700_000_100}
    # the served note still carries the log's own signature
    verify_checkpoint(served.note, key(app).verifier(), app.settings.log_origin)
    assert look(app, "auditor", ledger_proofs.cosigned).checkpoint.id == stored.id


def test_a_cosignature_that_does_not_verify_is_refused(app):
    stored = sign_now(app)
    earlier = checkpoints(app)[0]
    w = witness()
    wrong_body, _ = parse_note(earlier.note)
    with pytest.raises(ValidationFailed, match="does not verify"):
        do(app, "auditor", ledger_proofs.cosign, stored.id, cosign(wrong_body, w, 5), w.vkey())
    body, _ = parse_note(stored.note)
    with pytest.raises(ValidationFailed, match="does not verify"):
        do(app, "auditor", ledger_proofs.cosign, stored.id, cosign(body, w, 5), witness().vkey())
    with pytest.raises(ValidationFailed, match="type 0x04"):
        do(app, "auditor", ledger_proofs.cosign, stored.id, cosign(body, w, 5),
           key(app).verifier().vkey())
    assert look(app, "auditor", ledger_proofs.cosigned, stored.id).cosignatures == []


def test_a_witness_cosigns_a_checkpoint_once(app):
    stored = sign_now(app)
    body, _ = parse_note(stored.note)
    w = witness()
    do(app, "auditor", ledger_proofs.cosign, stored.id, cosign(body, w, 5), w.vkey())
    do(app, "auditor", ledger_proofs.cosign, stored.id, cosign(body, w, 5), w.vkey())  # idempotent
    with pytest.raises(Conflict, match="already cosigned"):
        do(app, "auditor", ledger_proofs.cosign, stored.id, cosign(body, w, 6), w.vkey())


def test_only_auditors_and_admins_record_cosignatures(app):
    stored = sign_now(app)
    body, _ = parse_note(stored.note)
    w = witness()
    with pytest.raises(PermissionDenied):
        do(app, "armero1", ledger_proofs.cosign, stored.id, cosign(body, w, 5), w.vkey())
    with pytest.raises(NotFound):
        do(app, "auditor", ledger_proofs.cosign, 999, cosign(body, w, 5), w.vkey())


# --- export --------------------------------------------------------------------------------


def test_an_auditor_downloads_a_range_that_rehashes_to_the_checkpoint(app):
    stored = sign_now(app)
    items = look(app, "auditor", lambda uow: list(ledger_proofs.export_events(uow, 0, stored.size)))
    assert [i["index"] for i in items] == list(range(stored.size))
    assert all(leaf_hash(i["leaf"].encode()) == base64.b64decode(i["leaf_hash"])
               for i in items)
    assert root_hash([leaf_hash(i["leaf"].encode()) for i in items]) == stored.root


def test_the_export_gives_only_leaf_hashes_outside_the_readers_scope(app, monkeypatch):
    # a reader at state level, allowed to verify for this test
    monkeypatch.setitem(PERMISSIONS, Role.SUPERVISOR,
                        PERMISSIONS[Role.SUPERVISOR] | {Action.LEDGER_VERIFY})
    n = size(app)
    items = look(app, "supervisor", lambda uow: list(ledger_proofs.export_events(uow, 0, n)))
    hidden = [i for i in items if "event" not in i]
    shown = [i for i in items if "event" in i]
    assert hidden and shown and all("leaf_hash" in i for i in items)
    assert all(i["event"]["type"] != "firearm.registered" or
               i["event"]["payload"]["serial"] != "SIG-C100" for i in shown)
    with pytest.raises(PermissionDenied):
        look(app, "armero1", lambda uow: list(ledger_proofs.export_events(uow, 0, 2)))
