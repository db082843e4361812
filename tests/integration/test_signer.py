"""The key out of the server's reach: the signer process on a unix socket (its own state,
signs only checkpoints that extend the last one it signed) and a PKCS#11 token
(SoftHSM2), each producing checkpoints that the witness tool and an independent
verifier accept."""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger_world import build_ledger_world, custody_rounds, key, size, sql, truncate
from resguardo.domain.errors import Conflict
from resguardo.ledger import (
    Checkpoint,
    MemoryNodeStore,
    append_leaves,
    consistency_proof,
    generate_signer,
    leaf_hash,
    parse_note,
    tree_root,
    verify_checkpoint,
)
from resguardo.ledger.signer import ExtendingSigner, SignerRefused
from resguardo.services import custody, ledger, witnessing
from resguardo.services.ledger_verify import verify
from witness_world import WITNESS_TOOL, WitnessProcess, rebuild_tree_and_resign, use_witnesses

ORIGIN = "resguardo.example/log"
SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")


def rehashed(app) -> MemoryNodeStore:  # type: ignore[no-untyped-def]
    """The tree the log's rows hash to now."""
    with app.read(None) as uow:
        leaves = [leaf_hash(ev.leaf()) for ev in uow.repo.iter_events()]
    store = MemoryNodeStore()
    store.put_many(append_leaves(store, 0, leaves))
    return store


def tree(leaves: int, seed: str = "a") -> MemoryNodeStore:
    store = MemoryNodeStore()
    store.put_many(append_leaves(store, 0, [leaf_hash(f"{seed}{i}".encode())
                                            for i in range(leaves)]))
    return store


def body(store: MemoryNodeStore, n: int) -> str:
    return Checkpoint(ORIGIN, n, tree_root(store, n)).format()


def test_the_extending_signer_refuses_a_rewritten_or_rolled_back_history(tmp_path):
    signer = ExtendingSigner(generate_signer(ORIGIN), tmp_path / "state.json")
    honest = tree(20)
    first = signer.sign_checkpoint(Checkpoint.parse(body(honest, 8)),
                                   lambda old: consistency_proof(honest, old, 8))
    verify_checkpoint(first, signer.verifier())
    signer.sign_checkpoint(Checkpoint.parse(body(honest, 20)),
                           lambda old: consistency_proof(honest, old, 20))
    assert signer.last() == (20, tree_root(honest, 20))
    # an application that controls the database rewrites entry 3 and asks again
    rewritten = tree(24, seed="b")
    with pytest.raises(SignerRefused, match="does not extend the size 20"):
        signer.sign_checkpoint(Checkpoint.parse(body(rewritten, 24)),
                               lambda old: consistency_proof(rewritten, old, 24))
    with pytest.raises(SignerRefused, match="does not extend"):  # same size, other root
        signer.sign_checkpoint(Checkpoint.parse(body(rewritten, 20)), lambda old: [])
    with pytest.raises(SignerRefused, match="rolled back"):
        signer.sign_checkpoint(Checkpoint.parse(body(honest, 12)),
                               lambda old: consistency_proof(honest, 12, old))
    with pytest.raises(SignerRefused, match="signs for"):
        signer.sign_checkpoint(Checkpoint("otro.example/log", 20, tree_root(honest, 20)),
                               lambda old: [])
    assert signer.last() == (20, tree_root(honest, 20))  # nothing changed its state


class SignerProcess:
    def __init__(self, directory: Path, args: list[str]) -> None:
        self.socket = directory / "signer.sock"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "resguardo.ledger.signer", "--socket", str(self.socket),
             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8",
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert "listening on" in line, line + self.process.stderr.read()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def app(sqlite_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    return build_ledger_world(sqlite_url, clock, tmp_path, monkeypatch)


@pytest.fixture
def signed_by_process(app, tmp_path):  # type: ignore[no-untyped-def]
    """The key file moved to the signer's own directory; the application keeps none."""
    own = tmp_path / "signer"
    own.mkdir(mode=0o700)
    latest = own / "latest.checkpoint"
    with app.read(None) as uow:
        latest.write_text(ledger.latest(uow).note, encoding="utf-8")
    key_file = own / "log.key"
    shutil.move(key(app).path, key_file)
    process = SignerProcess(own, ["--key", str(key_file), "--state", str(own / "state.json"),
                                  "--init", str(latest)])
    app.settings = dataclasses.replace(app.settings, signer=f"unix:{process.socket}")
    ledger.attach(app)  # what the append path signs with: nothing, the signer is remote
    yield process
    process.stop()


def test_the_signer_process_signs_what_extends_and_refuses_a_rewrite(app, signed_by_process,
                                                                       clock):
    assert not key(app).path.exists()
    vkey = key(app).verifier()  # asked from the signer
    custody_rounds(app, 2)
    published = witnessing.publish(app)
    assert published.checkpoint.size == size(app)
    verify_checkpoint(published.checkpoint.note, vkey, ORIGIN)
    with app.read("auditor") as uow:
        assert verify(uow, verifier=vkey, origin=ORIGIN, projection=False).ok
    # the insider holds the database but not the key: a rewrite cannot be signed
    sql(app, "UPDATE events SET reason = 'nada pasó' WHERE position = 4")
    rebuild_tree_and_resign(app, drop_checkpoints_from=-1, resign=False)
    custody_rounds(app, 1)
    with app.work("auditor") as uow, pytest.raises(Conflict, match="signer refused"):
        ledger.checkpoint(uow, key(app))
    state = (signed_by_process.socket.parent / "state.json").read_text()
    assert f'"size": {published.checkpoint.size}' in state


def test_the_application_cannot_sign_entries_it_has_not_committed(app, signed_by_process):
    with app.work(None) as uow:
        custody.issue(uow, "GLK-A100", "P1")
        with pytest.raises(Conflict, match="commit the entries"):
            ledger.checkpoint(uow, key(app))


# --- PKCS#11 (SoftHSM2) ---------------------------------------------------------------


@pytest.fixture
def token(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    if not SOFTHSM.exists() or shutil.which("softhsm2-util") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("softhsm2 is not installed (.ci/run installs it)")
        pytest.skip("softhsm2 is not installed")
    pkcs11 = pytest.importorskip("pkcs11")
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_named_curve_parameters

    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\n"
                    "objectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "resguardo",
                    "--so-pin", "1234", "--pin", "5678"], check=True, capture_output=True)
    lib = pkcs11.lib(str(SOFTHSM))
    with lib.get_token(token_label="resguardo").open(user_pin="5678", rw=True) as session:
        params = session.create_domain_parameters(KeyType.EC_EDWARDS, {
            Attribute.EC_PARAMS: encode_named_curve_parameters("1.3.101.112")}, local=True)
        params.generate_keypair(store=True, label="checkpoints")
    pin = tmp_path / "token.pin"
    pin.write_text("5678\n")
    return (f"pkcs11:module-path={SOFTHSM};token=resguardo;object=checkpoints;"
            f"pin-source={pin};state={tmp_path / 'token-state.json'}")


def test_a_pkcs11_token_signs_checkpoints_the_witness_tool_and_others_accept(
        sqlite_url, clock, tmp_path, monkeypatch, token):
    monkeypatch.setenv("RESGUARDO_SIGNER", token)
    app = build_ledger_world(sqlite_url, clock, tmp_path, monkeypatch, rounds=1)
    assert app.settings.signer == token
    assert not key(app).path.exists()  # init made no key file: the token holds the key
    vkey = key(app).verifier()
    custody_rounds(app, 2)
    witness = WitnessProcess(tmp_path / "w", "zm15.example.mx/testigo", vkey.vkey()).start()
    try:
        use_witnesses(app, [witness], quorum=1)
        published = witnessing.publish(app)
        assert published.quorum_met  # the witness verified the token's signature
    finally:
        witness.stop()
    note = published.checkpoint.note
    # an independent verifier: the raw Ed25519 signature over the note's text
    text, sigs = parse_note(note)
    raw = base64.b64decode(sigs[0].line.split(" ")[2])[4:]
    Ed25519PublicKey.from_public_bytes(vkey.public_key).verify(raw, text.encode())
    # the overseer's tool saves it with the log's verifier key
    (tmp_path / "cp.txt").write_text(note, encoding="utf-8")
    saved = subprocess.run([sys.executable, "-I", str(WITNESS_TOOL), "save", str(tmp_path /
                            "cp.txt"), "--vkey", vkey.vkey(), "--dir", str(tmp_path / "copies")],
                           capture_output=True, encoding="utf-8", timeout=60)
    assert saved.returncode == 0, saved.stderr
    # and the token signs only what extends what it signed: a rewrite is refused
    sql(app, "UPDATE events SET reason = 'otra cosa' WHERE position = 2")
    store = rehashed(app)
    forged = Checkpoint(ORIGIN, size(app), tree_root(store, size(app)))
    signer = key(app).checkpoint_signer()
    with pytest.raises(SignerRefused, match="does not extend"):
        signer.sign_checkpoint(forged, lambda old: consistency_proof(store, old, forged.size))


def test_the_signer_process_refuses_to_sign_a_rolled_back_log(app, signed_by_process):
    custody_rounds(app, 2)
    signed = witnessing.publish(app).checkpoint
    # the database goes back to an older state and grows again, fewer entries than signed
    truncate(app, signed.size - 6, drop_checkpoints=True)
    custody_rounds(app, 1, serial="GLK-A400", badge="P3")
    assert size(app) < signed.size
    with app.work(None) as uow, pytest.raises(Conflict, match="rolled back"):
        ledger.checkpoint(uow, key(app))
    # ... or as many entries as before, or more: still not an extension
    custody_rounds(app, 3, serial="GLK-A400", badge="P3")
    assert size(app) > signed.size
    with app.work(None) as uow, pytest.raises(Conflict, match="does not extend"):
        ledger.checkpoint(uow, key(app))
