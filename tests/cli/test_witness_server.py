"""`tools/witness.py serve` against the C2SP tlog-witness specification, run as its own
process on loopback: what it cosigns, each refusal with its status, the state it keeps
across a restart, and the refused requests it keeps as evidence."""

from __future__ import annotations

import hashlib

import pytest

from resguardo.ledger import (
    SIG_TYPE_COSIGNATURE,
    Checkpoint,
    MemoryNodeStore,
    append_leaves,
    consistency_proof,
    generate_signer,
    leaf_hash,
    sign_checkpoint,
    tree_root,
    verify_cosignature,
)
from resguardo.ledger.witnesses import Answer, add_checkpoint_body, load_witnesses, post_checkpoint
from witness_world import WitnessProcess

ORIGIN = "resguardo.example/log"


class Log:
    """A tiny log: leaves, its tree, and checkpoints signed by its key."""

    def __init__(self, leaves: int, seed: str = "a") -> None:
        self.signer = generate_signer(ORIGIN)
        self.seed = seed
        self.store = MemoryNodeStore()
        self.size = 0
        self.grow(leaves)

    def grow(self, n: int) -> None:
        nodes = append_leaves(self.store, self.size, [
            leaf_hash(f"{self.seed}{i}".encode()) for i in range(self.size, self.size + n)])
        self.store.put_many(nodes)
        self.size += n

    def checkpoint(self, size: int | None = None) -> tuple[str, str]:
        size = self.size if size is None else size
        body = Checkpoint(ORIGIN, size, tree_root(self.store, size)).format()
        return body, sign_checkpoint(Checkpoint.parse(body), self.signer)

    def request(self, old: int, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        proof = [] if old in (0, size) else consistency_proof(self.store, old, size)
        return add_checkpoint_body(old, proof, self.checkpoint(size)[1])


@pytest.fixture
def log() -> Log:
    return Log(10)


@pytest.fixture
def witness(log, tmp_path):  # type: ignore[no-untyped-def]
    w = WitnessProcess(tmp_path / "w", "testigo.example.mx/w1", log.signer.vkey()).start()
    yield w
    w.stop()


def post(witness: WitnessProcess, body: bytes) -> Answer:
    return post_checkpoint(witness.url, body)


def test_a_first_checkpoint_is_cosigned_from_size_zero(witness, log):
    answer = post(witness, log.request(0))
    assert answer.status == 200
    body, _ = log.checkpoint()
    assert verify_cosignature(body, answer.body, witness.signer.verifier()) > 0


def test_a_stale_old_size_gets_409_with_the_witness_size(witness, log):
    assert post(witness, log.request(0)).status == 200
    log.grow(5)
    answer = post(witness, log.request(0))
    assert (answer.status, answer.content_type, answer.body) == (409, "text/x.tlog.size", "10\n")
    assert answer.conflict_size() == 10
    assert post(witness, log.request(10)).status == 200
    assert witness.evidence(ORIGIN) == []  # an honest resync is not evidence


def test_a_checkpoint_that_does_not_extend_the_cosigned_one_is_refused_and_kept(witness, log):
    assert post(witness, log.request(0)).status == 200
    fork = Log(0, seed="b")
    fork.signer = log.signer  # the insider holds the key
    fork.grow(15)
    answer = post(witness, fork.request(10))
    assert answer.status == 422
    assert "does not extend" in answer.body
    # same size, another root: a fork too
    same = Log(0, seed="c")
    same.signer = log.signer
    same.grow(10)
    assert post(witness, same.request(10)).status == 422
    kept = witness.evidence(ORIGIN)
    assert len(kept) == 2 and all(p.read_text().startswith("status 422") for p in kept)
    assert witness.held_checkpoint(ORIGIN) == log.checkpoint()[1]


def test_a_smaller_checkpoint_than_the_cosigned_one_is_a_rollback_kept_as_evidence(witness, log):
    log.grow(10)
    assert post(witness, log.request(0)).status == 200
    answer = post(witness, log.request(0, size=12))
    assert answer.conflict_size() == 20
    old_too_large = add_checkpoint_body(20, [], log.checkpoint(12)[1])
    assert post(witness, old_too_large).status == 400
    assert len(witness.evidence(ORIGIN)) == 2


def test_unknown_origin_bad_signature_and_malformed_requests(witness, log):
    other = generate_signer("otro.example/log")
    body = Checkpoint("otro.example/log", 1, leaf_hash(b"x")).format()
    assert post(witness, add_checkpoint_body(0, [], sign_checkpoint(
        Checkpoint.parse(body), other))).status == 404
    impostor = generate_signer(ORIGIN)  # same origin, another key
    _, note = log.checkpoint()
    forged = sign_checkpoint(Checkpoint.parse(log.checkpoint()[0]), impostor)
    assert post(witness, add_checkpoint_body(0, [], forged)).status == 403
    assert post(witness, b"old x\n\n" + note.encode()).status == 400
    assert post(witness, b"old 0\nnot-base64\n\n" + note.encode()).status == 400
    assert post(witness, note.encode()).status == 400
    assert post(witness, log.request(0)).status == 200  # none of it changed the state


def test_the_witness_keeps_its_state_across_a_restart(witness, log):
    assert post(witness, log.request(0)).status == 200
    port = witness.port
    witness.stop()
    witness.start(port)
    log.grow(1)
    assert post(witness, log.request(0)).conflict_size() == 10
    assert post(witness, log.request(10)).status == 200
    state = witness.state / hashlib.sha256(ORIGIN.encode()).hexdigest()
    assert (state / "origin").read_text() == ORIGIN + "\n"


def test_a_witness_file_lists_url_key_and_organization(tmp_path):
    w1 = generate_signer("zm15.example.mx/testigo", SIG_TYPE_COSIGNATURE)
    w2 = generate_signer("auditoria.example.mx/testigo", SIG_TYPE_COSIGNATURE)
    listed = load_witnesses(f"# testigos\nhttps://zm15.example.mx/w {w1.vkey()} ZM15\n\n"
                            f"http://10.0.0.5:7380/ {w2.vkey()}  # auditoría\n")
    assert [(w.url, w.name, w.organization) for w in listed.witnesses] == [
        ("https://zm15.example.mx/w", w1.name, "ZM15"), ("http://10.0.0.5:7380", w2.name, None)]
    assert listed.quorum == 2  # a majority by default
    assert load_witnesses(f"http://a {w1.vkey()}\n", 1).quorum == 1
    log_key = generate_signer(ORIGIN)
    for text, quorum, error in [
        (f"ftp://a {w1.vkey()}", None, "line 1: the URL"),
        (f"http://a {log_key.vkey()}", None, "line 1: the witness key must be a cosignature"),
        (f"http://a {w1.vkey()}\nhttp://b {w1.vkey()}", None, "line 2: witness .* twice"),
        (f"http://a {w1.vkey()}", 2, "quorum must be between 1 and 1"),
        ("http://a", None, "line 1: expected 'URL VKEY"),
    ]:
        with pytest.raises(ValueError, match=error):
            load_witnesses(text, quorum)
