"""`resguardo ledger ...` as an auditor, an overseer and a script use it, together with
tools/witness.py run as a separate program."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger_world import build_ledger_world, custody_rounds, key, size, sql, truncate
from resguardo.cli import context
from resguardo.cli.main import app as cli_app
from resguardo.ledger import (
    SIG_TYPE_COSIGNATURE,
    Verifier,
    generate_signer,
    leaf_hash,
    root_hash,
    verify_checkpoint,
    verify_cosignatures,
    verify_inclusion,
)

runner = CliRunner()
WITNESS = Path(__file__).resolve().parents[2] / "tools" / "witness.py"


@pytest.fixture
def app(sqlite_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    return build_ledger_world(sqlite_url, clock, tmp_path, monkeypatch)


@pytest.fixture
def cli(app, monkeypatch):  # type: ignore[no-untyped-def]
    context.set_deployment(app)
    monkeypatch.delenv("RESGUARDO_USER", raising=False)

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli_app, ["ledger", *args])
    yield invoke
    context.set_deployment(None)


def witness_tool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", str(WITNESS), *map(str, args)],
                          capture_output=True, encoding="utf-8", cwd=cwd, timeout=60)


def test_key_prints_the_verifier_key(cli, app):
    result = cli("key")
    assert result.exit_code == 0
    assert result.stdout.strip() == key(app).verifier().vkey()
    data = json.loads(cli("key", "--json").stdout)
    assert data["name"] == data["origin"] == app.settings.log_origin


def test_checkpoint_signs_and_prints_a_note_overseers_can_check(cli, app):
    result = cli("checkpoint", "--as", "auditor")
    assert result.exit_code == 0, result.output
    checkpoint = verify_checkpoint(result.stdout, key(app).verifier(), app.settings.log_origin)
    assert checkpoint.size == size(app)
    data = json.loads(cli("checkpoint", "--latest", "--as", "inspector", "--json").stdout)
    assert data["size"] == checkpoint.size and data["note"] == result.stdout


def test_checkpoint_is_refused_to_an_armorer(cli):
    result = cli("checkpoint", "--as", "armero1")
    assert result.exit_code == 1 and "may not" in result.stderr


def test_verify_reports_a_clean_ledger(cli):
    result = cli("verify", "--as", "auditor")
    assert result.exit_code == 0, result.output
    assert "OK: the ledger verifies." in result.stdout and "projection replayed" in result.stdout
    data = json.loads(cli("verify", "--as", "auditor", "--json").stdout)
    assert data["ok"] and data["findings"] == [] and data["size"] == data["leaves"]


def test_verify_exits_one_and_names_the_first_bad_index(cli, app):
    sql(app, "UPDATE events SET at = '2020-01-01T00:00:00.000000Z' WHERE position = 9")
    result = cli("verify", "--as", "auditor")
    assert result.exit_code == 1
    assert "First bad index: 9" in result.stdout and "[leaf_mismatch] entry 9" in result.stdout
    data = json.loads(cli("verify", "--as", "auditor", "--json").stdout)
    assert data["ok"] is False and data["first_bad_index"] == 9


def test_verify_is_refused_to_an_armorer(cli):
    assert cli("verify", "--as", "armero1").exit_code == 1


def test_verify_against_an_overseers_copy_catches_a_rollback(cli, app, tmp_path):
    held = tmp_path / "held.checkpoint"
    held.write_text(cli("checkpoint", "--as", "auditor").stdout, encoding="utf-8")
    n = size(app)
    truncate(app, n - 6, drop_checkpoints=True)
    sql(app, "DELETE FROM checkpoints WHERE size > :k", k=n - 6)
    custody_rounds(app, 3, serial="GLK-A300", badge="P3")
    assert size(app) == n
    assert cli("verify", "--as", "auditor", "--no-projection").exit_code == 0
    result = cli("verify", "--as", "auditor", "--no-projection", "--checkpoint", str(held))
    assert result.exit_code == 1
    assert "[supplied_root]" in result.stdout and "does NOT hold" in result.stdout
    missing = cli("verify", "--as", "auditor", "--checkpoint", str(tmp_path / "nope"))
    assert missing.exit_code == 2


def test_verify_with_another_public_key_rejects_every_checkpoint(cli, tmp_path):
    other = tmp_path / "other.vkey"
    other.write_text(generate_signer("resguardo.example/log").vkey() + "\n")
    data = json.loads(cli("verify", "--as", "auditor", "--vkey", str(other), "--json").stdout)
    assert data["ok"] is False
    assert {f["kind"] for f in data["findings"]} == {"checkpoint_signature"}


def test_prove_a_serial_and_an_index(cli, app):
    cli("checkpoint", "--as", "auditor")
    proof = json.loads(cli("prove", "GLK-A100", "--as", "armero1", "--json").stdout)
    hashes = [base64.b64decode(p) for p in proof["proof"]]
    leaf = proof["leaf"].encode("utf-8")
    assert base64.b64decode(proof["leaf_hash"]) == leaf_hash(leaf)
    verify_inclusion(proof["index"], proof["size"], leaf_hash(leaf), hashes,
                     base64.b64decode(proof["root"]))
    assert proof["event"]["payload"]["serial"] == "GLK-A100"
    text = cli("prove", "4", "--as", "auditor")
    assert text.exit_code == 0 and "Entry 4" in text.stdout and "proof (" in text.stdout
    assert cli("prove", "GLK-A100", "--as", "armero2").exit_code == 1


def test_an_overseer_saves_checks_and_cosigns_with_the_witness_tool(cli, app, tmp_path):
    vkey = tmp_path / "log.vkey"
    vkey.write_text(cli("key").stdout)
    old = tmp_path / "old.txt"
    old.write_text(cli("checkpoint", "--as", "auditor").stdout)
    saved = witness_tool("save", old, "--vkey", vkey, "--dir", tmp_path / "copies", cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr
    old_size = verify_checkpoint(old.read_text(), key(app).verifier()).size

    custody_rounds(app, 2)
    new = tmp_path / "new.txt"
    new.write_text(cli("checkpoint", "--as", "auditor").stdout)
    proof = tmp_path / "proof.json"
    proof.write_text(cli("consistency", str(old_size), "--as", "inspector", "--json").stdout)
    checked = witness_tool("check", tmp_path / "copies" / f"{old_size}.checkpoint", new,
                           "--proof", proof, "--vkey", vkey, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr

    made = witness_tool("keygen", "witness.example.org/w1", "--out", tmp_path / "w.key",
                        cwd=tmp_path)
    wvkey = made.stdout.strip()
    line = witness_tool("cosign", new, "--key", tmp_path / "w.key", "--vkey", vkey,
                        cwd=tmp_path).stdout
    new_id = json.loads(cli("checkpoint", "--latest", "--as", "auditor", "--json").stdout)["id"]
    kept = cli("cosign", str(new_id), "--line", line, "--witness-vkey", wvkey, "--as", "auditor")
    assert kept.exit_code == 0, kept.output
    served = cli("cosignatures", "--as", "inspector").stdout
    assert set(verify_cosignatures(served, [Verifier.from_vkey(wvkey)])) == {
        "witness.example.org/w1"}
    listed = json.loads(cli("cosignatures", str(new_id), "--as", "auditor", "--json").stdout)
    assert [c["witness"] for c in listed["cosignatures"]] == ["witness.example.org/w1"]


def test_a_bad_cosignature_is_refused(cli, app):
    cli("checkpoint", "--as", "auditor")
    w = generate_signer("w", SIG_TYPE_COSIGNATURE)
    result = cli("cosign", "1", "--line", "— w AAAA", "--witness-vkey", w.vkey(), "--as",
                 "auditor")
    assert result.exit_code == 1 and "does not verify" in result.stderr


def test_events_export_rehashes_to_the_checkpoint(cli, app):
    stored = json.loads(cli("checkpoint", "--as", "auditor", "--json").stdout)
    result = cli("events", "--from", "0", "--to", str(stored["size"]), "--as", "auditor",
                 "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["from"], data["to"]) == (0, stored["size"])
    leaves = [leaf_hash(item["leaf"].encode("utf-8")) for item in data["events"]]
    assert root_hash(leaves) == base64.b64decode(stored["root"])
    table = cli("events", "--from", "0", "--to", "3", "--as", "auditor")
    assert table.exit_code == 0 and "Entries 0..2" in table.stdout
    assert cli("events", "--from", "5", "--to", "2", "--as", "auditor").exit_code == 1


def test_consistency_text_and_refusal(cli, app):
    result = cli("consistency", "2", "10", "--as", "auditor")
    assert result.exit_code == 0 and "Size 2 -> 10" in result.stdout
    assert cli("consistency", "10", "2", "--as", "auditor").exit_code == 1


def test_the_rebuild_check_still_runs(cli):
    result = cli("rebuild", "--check", "--as", "auditor")
    assert result.exit_code == 0 and "matches the log" in result.stdout


def test_verify_with_a_state_goes_on_from_it_and_refuses_a_tampered_one(cli, app, tmp_path):
    state = tmp_path / "estado"
    first = cli("verify", "--as", "auditor", "--state", str(state), "--json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert (data["mode"], data["from_size"], data["state_updated"]) == ("full", 0, True)
    custody_rounds(app, 5)
    second = cli("verify", "--as", "auditor", "--state", str(state))
    assert second.exit_code == 0, second.output
    assert f"went on from the state's verified size {data['state']['size']}" in second.stdout
    assert "State advanced to size" in second.stdout
    kept = json.loads((state / "state.json").read_text(encoding="utf-8"))
    (state / kept["projection"]["file"]).write_bytes(b"SQLite format 3\x00 forged")
    refused = cli("verify", "--as", "auditor", "--state", str(state))
    assert refused.exit_code == 1
    assert "REFUSED" in refused.stderr and "does not hash to the SHA-256" in refused.stderr
    as_json = json.loads(cli("verify", "--as", "auditor", "--state", str(state), "--json").stdout)
    assert as_json["ok"] is False and "SHA-256" in as_json["state_refused"]


def test_verify_with_a_state_needs_the_projection(cli, tmp_path):
    result = cli("verify", "--as", "auditor", "--state", str(tmp_path / "s"), "--no-projection")
    assert result.exit_code == 2 and "--no-projection" in result.output
    assert "--state" in cli("verify", "--help").stdout
