"""tools/witness.py, run as an overseer would run it: a separate process, no resguardo import."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from resguardo.ledger import (
    SIG_TYPE_COSIGNATURE,
    Checkpoint,
    MerkleTree,
    Signer,
    Verifier,
    add_signatures,
    generate_signer,
    leaf_hash,
    sign_checkpoint,
    verify_cosignatures,
)

TOOL = Path(__file__).resolve().parents[3] / "tools" / "witness.py"


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # -I: isolated mode, so the tool cannot pick up resguardo from the working directory.
    return subprocess.run(
        [sys.executable, "-I", str(TOOL), *map(str, args)],
        capture_output=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=60,
    )


class Log:
    """A log with a signing key, writing checkpoints and proofs to files."""

    def __init__(self, directory: Path, key: Signer | None = None) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = key or generate_signer("resguardo.example/log")
        self.tree = MerkleTree()
        self.vkey_file = directory / "log.vkey"
        self.vkey_file.write_text(self.key.vkey() + "\n", encoding="utf-8")

    def grow(self, n: int) -> None:
        start = self.tree.size
        self.tree.extend(leaf_hash(f"event {i}".encode()) for i in range(start, start + n))

    def checkpoint(self, name: str, size: int | None = None, key: Signer | None = None) -> Path:
        size = self.tree.size if size is None else size
        checkpoint = Checkpoint(self.key.name, size, self.tree.root(size))
        path = self.dir / name
        path.write_text(sign_checkpoint(checkpoint, key or self.key), encoding="utf-8")
        return path

    def proof(self, name: str, size1: int, size2: int, proof: list[bytes] | None = None) -> Path:
        hashes = self.tree.consistency_proof(size1, size2) if proof is None else proof
        path = self.dir / name
        path.write_text(
            json.dumps(
                {
                    "from": size1,
                    "to": size2,
                    "proof": [base64.b64encode(h).decode() for h in hashes],
                }
            )
        )
        return path


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return Log(tmp_path)


def test_every_command_has_help_with_an_example(tmp_path: Path) -> None:
    top = run("--help", cwd=tmp_path)
    assert top.returncode == 0 and "examples:" in top.stdout
    for command in ("keygen", "save", "check", "cosign"):
        result = run(command, "--help", cwd=tmp_path)
        assert result.returncode == 0
        assert f"tools/witness.py {command}" in result.stdout


def test_keygen_writes_a_private_key_file_and_prints_the_verifier_key(tmp_path: Path) -> None:
    result = run("keygen", "witness.example/w1", "--out", "w.key", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    signer = Signer.from_key_string((tmp_path / "w.key").read_text(encoding="utf-8"))
    assert signer.sig_type == SIG_TYPE_COSIGNATURE
    assert Verifier.from_vkey(result.stdout.strip()) == signer.verifier()
    assert (tmp_path / "w.key").stat().st_mode & 0o077 == 0
    again = run("keygen", "witness.example/w1", "--out", "w.key", cwd=tmp_path)
    assert again.returncode == 2


def test_save_keeps_a_verified_copy_named_by_tree_size(log: Log) -> None:
    log.grow(5)
    result = run(
        "save", log.checkpoint("cp.txt"), "--vkey", log.vkey_file, "--dir", "copies", cwd=log.dir
    )
    assert result.returncode == 0, result.stderr
    assert (log.dir / "copies" / "5.checkpoint").read_text(encoding="utf-8") == (
        log.dir / "cp.txt"
    ).read_text(encoding="utf-8")
    inline = run("save", "cp.txt", "--vkey", log.key.vkey(), "--dir", "copies", cwd=log.dir)
    assert inline.returncode == 0 and "already held" in inline.stdout


def test_save_refuses_a_checkpoint_the_log_did_not_sign(log: Log) -> None:
    log.grow(3)
    forged = log.checkpoint("forged.txt", key=generate_signer(log.key.name))
    result = run("save", forged, "--vkey", log.vkey_file, "--dir", "copies", cwd=log.dir)
    assert result.returncode == 1
    assert not (log.dir / "copies" / "3.checkpoint").exists()


def test_save_reports_a_fork_when_a_held_size_comes_back_with_another_root(log: Log) -> None:
    log.grow(4)
    assert (
        run(
            "save", log.checkpoint("a.txt"), "--vkey", log.vkey_file, "--dir", "c", cwd=log.dir
        ).returncode
        == 0
    )
    other = Checkpoint(log.key.name, 4, leaf_hash(b"rewritten history"))
    (log.dir / "b.txt").write_text(sign_checkpoint(other, log.key), encoding="utf-8")
    result = run("save", "b.txt", "--vkey", log.vkey_file, "--dir", "c", cwd=log.dir)
    assert result.returncode == 1 and "forked" in result.stderr


def test_check_accepts_a_checkpoint_that_extends_the_one_held(log: Log) -> None:
    log.grow(6)
    old = log.checkpoint("old.txt")
    log.grow(7)
    new = log.checkpoint("new.txt")
    proof = log.proof("proof.json", 6, 13)
    result = run("check", old, new, "--proof", proof, "--vkey", log.vkey_file, cwd=log.dir)
    assert result.returncode == 0, result.stderr
    assert "extends" in result.stdout


@pytest.mark.slow
def test_check_agrees_with_the_library_for_many_size_pairs(log: Log) -> None:
    log.grow(40)
    for size1, size2 in [(1, 2), (1, 40), (2, 3), (7, 8), (8, 40), (31, 33), (40, 40)]:
        old, new = log.checkpoint("o.txt", size1), log.checkpoint("n.txt", size2)
        proof = log.proof("p.json", size1, size2)
        result = run("check", old, new, "--proof", proof, "--vkey", log.vkey_file, cwd=log.dir)
        assert result.returncode == 0, (size1, size2, result.stderr)


def test_check_rejects_a_rewritten_history(log: Log) -> None:
    log.grow(6)
    old = log.checkpoint("old.txt")
    rewritten = Log(log.dir / "rewritten", key=log.key)
    rewritten.tree.extend(leaf_hash(f"other {i}".encode()) for i in range(13))
    new = rewritten.checkpoint("new.txt")
    proof = rewritten.proof("proof.json", 6, 13)
    result = run("check", old, new, "--proof", proof, "--vkey", log.vkey_file, cwd=log.dir)
    assert result.returncode == 1
    assert "FAILED" in result.stderr


def test_check_rejects_a_proof_with_a_flipped_bit_or_for_other_sizes(log: Log) -> None:
    log.grow(10)
    old, new = log.checkpoint("old.txt", 3), log.checkpoint("new.txt", 10)
    good = log.tree.consistency_proof(3, 10)
    flipped = [bytes([good[0][0] ^ 1]) + good[0][1:], *good[1:]]
    for proof in (log.proof("p1.json", 3, 10, flipped), log.proof("p2.json", 4, 10)):
        result = run("check", old, new, "--proof", proof, "--vkey", log.vkey_file, cwd=log.dir)
        assert result.returncode == 1


def test_check_treats_an_empty_checkpoint_as_extended_by_any_tree(log: Log) -> None:
    empty = log.checkpoint("empty.txt", 0)
    log.grow(3)
    new = log.checkpoint("new.txt")
    proof = log.proof("p.json", 0, 3)
    assert (
        run("check", empty, new, "--proof", proof, "--vkey", log.vkey_file, cwd=log.dir).returncode
        == 0
    )


def test_check_reports_unreadable_input_with_status_2(log: Log) -> None:
    log.grow(2)
    cp = log.checkpoint("cp.txt")
    (log.dir / "bad.json").write_text("{not json", encoding="utf-8")
    result = run("check", cp, cp, "--proof", "bad.json", "--vkey", log.vkey_file, cwd=log.dir)
    assert result.returncode == 2
    assert (
        run(
            "check", cp, "missing.txt", "--proof", "bad.json", "--vkey", log.vkey_file, cwd=log.dir
        ).returncode
        == 2
    )


def test_cosign_prints_a_line_the_library_verifies(log: Log) -> None:
    log.grow(8)
    cp = log.checkpoint("cp.txt")
    assert run("keygen", "witness.example/w1", "--out", "w.key", cwd=log.dir).returncode == 0
    witness = Signer.from_key_string((log.dir / "w.key").read_text(encoding="utf-8"))
    result = run(
        "cosign", cp, "--key", "w.key", "--vkey", log.vkey_file, "--time", "1700000000", cwd=log.dir
    )
    assert result.returncode == 0, result.stderr
    cosigned = add_signatures(cp.read_text(encoding="utf-8"), [result.stdout])
    assert verify_cosignatures(cosigned, [witness.verifier()]) == {witness.name: 1700000000}


def test_cosign_refuses_a_checkpoint_the_log_did_not_sign(log: Log) -> None:
    log.grow(2)
    forged = log.checkpoint("forged.txt", key=generate_signer(log.key.name))
    assert run("keygen", "w", "--out", "w.key", cwd=log.dir).returncode == 0
    result = run("cosign", forged, "--key", "w.key", "--vkey", log.vkey_file, cwd=log.dir)
    assert result.returncode == 1 and result.stdout == ""
