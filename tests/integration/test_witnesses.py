"""Two witnesses run as separate processes on loopback (tools/witness.py serve): the
deployment pushes its checkpoints to them by the C2SP tlog-witness protocol and keeps
their cosignatures; an insider's full rewrite with the key file, a rollback to an older
copy of the database and a rewrite of the unsigned tail are each refused by the
witnesses, and show up as alerts and as a failing `ledger verify`."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from ledger_world import build_ledger_world, checkpoints, custody_rounds, key, size, sql
from resguardo.cli import context
from resguardo.cli.main import app as cli_app
from resguardo.domain.errors import ValidationFailed
from resguardo.ledger import (
    SIG_TYPE_COSIGNATURE,
    Checkpoint,
    add_signatures,
    generate_signer,
    parse_note,
    verify_cosignatures,
)
from resguardo.ledger.witnesses import Answer, Witness, WitnessList
from resguardo.services import alerts, witnessing
from resguardo.services.ledger_freshness import FreshnessPolicy
from resguardo.services.ledger_verify import VerifyReport, verify
from resguardo.storage import ledger_store
from witness_world import (
    WitnessProcess,
    rebuild_tree_and_resign,
    rewrite_with_the_key_file,
    use_witnesses,
)

from world import do

runner = CliRunner()


@pytest.fixture
def app(sqlite_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    return build_ledger_world(sqlite_url, clock, tmp_path, monkeypatch)


@pytest.fixture
def any_db_app(db_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The deployment on SQLite and on PostgreSQL."""
    return build_ledger_world(db_url, clock, tmp_path, monkeypatch)


@pytest.fixture
def witnesses(request, tmp_path):  # type: ignore[no-untyped-def]
    app = request.getfixturevalue("any_db_app" if "any_db_app" in request.fixturenames
                                  else "app")
    vkey = key(app).verifier().vkey()
    started = [WitnessProcess(tmp_path / "w1", "zm15.example.mx/testigo", vkey, "ZM15").start(),
               WitnessProcess(tmp_path / "w2", "auditoria.example.mx/testigo", vkey).start()]
    use_witnesses(app, started, quorum=2)
    yield started
    for w in started:
        w.stop()


def full_verify(app, clock) -> VerifyReport:  # type: ignore[no-untyped-def]  # noqa: ARG001
    with app.read("auditor") as uow:
        return verify(uow, verifier=key(app).verifier(), origin=app.settings.log_origin,
                      projection=False, freshness=FreshnessPolicy.of(app.settings))


def kinds(report: VerifyReport) -> set[str]:
    return {f.kind for f in report.findings}


def alert_kinds(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    s = app.settings
    with app.read("auditor") as uow:
        found = alerts.open_alerts(uow, loss_deadline=s.loss_notify_deadline,
                                   shift_length=s.shift_length)
    return {a.subject: a.kind.value for a in found if a.kind.value.startswith("witness")}


def outcomes(published: witnessing.Publication) -> list[str]:
    return [r.outcome for r in published.results]


def test_checkpoints_get_cosigned_by_both_witnesses_as_entries_arrive(any_db_app, witnesses,
                                                                      clock):
    app = any_db_app
    first = witnessing.publish(app)
    assert outcomes(first) == ["cosigned", "cosigned"] and first.quorum_met
    for _ in range(3):
        custody_rounds(app, 1)
        clock.now += timedelta(seconds=30)
        published = witnessing.publish(app)
        assert published.checkpoint.size == size(app)
        assert outcomes(published) == ["cosigned", "cosigned"]
        # each witness was asked from the size it had cosigned before
        assert {r.old_size for r in published.results} == {first.checkpoint.size}
        first = published
    with app.read(None) as uow:
        kept = ledger_store.cosignatures(uow.conn, first.checkpoint.id)
    note = first.checkpoint.note
    cosigned = add_signatures(note, [c.line for c in kept])
    assert set(verify_cosignatures(cosigned, [w.signer.verifier() for w in witnesses])) == {
        w.name for w in witnesses}
    # each witness holds exactly the checkpoint the log signed
    for w in witnesses:
        held = w.held_checkpoint(app.settings.log_origin)
        assert held == note
        assert w.evidence(app.settings.log_origin) == []
    # nothing new: nobody is asked again
    assert outcomes(witnessing.publish(app)) == ["already", "already"]
    clock.now += timedelta(hours=2)
    assert full_verify(app, clock).ok
    assert alert_kinds(app) == {}


def test_an_insiders_full_rewrite_with_the_key_file_is_refused_and_fails_verify(
        any_db_app, witnesses, clock):
    app = any_db_app
    before = witnessing.publish(app)
    assert before.quorum_met
    rewrite_with_the_key_file(app, 5, "registro corregido")
    # the database alone now tells a consistent story, signed with the log's key
    clock.now += timedelta(minutes=30)
    report = full_verify(app, clock)
    assert kinds(report) == {"cosignature_quorum"}
    # entries go on arriving; the next publication is refused by both witnesses
    custody_rounds(app, 1)
    published = witnessing.publish(app)
    assert outcomes(published) == ["refused", "refused"]
    assert all(r.status == 422 for r in published.results)
    assert not published.quorum_met
    for w in witnesses:
        assert w.held_checkpoint(app.settings.log_origin) == before.checkpoint.note
        evidence = w.evidence(app.settings.log_origin)
        assert len(evidence) == 1 and evidence[0].read_text().startswith("status 422")
    assert alert_kinds(app) == {f"witness {w.name}": "witness_refused" for w in witnesses}
    clock.now += timedelta(minutes=30)
    assert {"witness_refused", "cosignature_quorum"} <= kinds(full_verify(app, clock))


def test_a_rollback_to_an_older_copy_of_the_database_is_refused(app, witnesses, clock,
                                                                 tmp_path):
    db = app.settings.database_url.removeprefix("sqlite:///")
    assert witnessing.publish(app).quorum_met
    app.engine.dispose()
    shutil.copy(db, tmp_path / "copy.db")  # yesterday's backup
    custody_rounds(app, 3)
    clock.now += timedelta(minutes=1)
    later = witnessing.publish(app)
    assert later.quorum_met
    # the insider restores the copy: the losses reported since are gone
    app.engine.dispose()
    shutil.copy(tmp_path / "copy.db", db)
    custody_rounds(app, 1, serial="GLK-A400", badge="P3")
    clock.now += timedelta(minutes=1)
    assert size(app) < later.checkpoint.size
    published = witnessing.publish(app)
    assert outcomes(published) == ["refused", "refused"]
    assert all("rolled back" in r.detail for r in published.results)
    for w in witnesses:
        assert w.held_checkpoint(app.settings.log_origin) == later.checkpoint.note
        assert w.evidence(app.settings.log_origin)  # the smaller checkpoint, kept
    assert set(alert_kinds(app).values()) == {"witness_refused"}
    clock.now += timedelta(minutes=30)
    assert {"witness_refused", "cosignature_quorum"} <= kinds(full_verify(app, clock))


def test_a_rewrite_of_the_tail_the_insider_found_unsigned_is_refused(app, witnesses, clock):
    assert witnessing.publish(app).quorum_met
    covered = size(app)
    custody_rounds(app, 2)
    clock.now += timedelta(seconds=20)
    assert witnessing.publish(app).quorum_met  # the witnesses saw the new entries
    # the insider rewrites what follows the checkpoint it saw, and drops the newer ones
    sql(app, "UPDATE events SET reason = 'nunca salió' WHERE position = :p", p=covered + 1)
    rebuild_tree_and_resign(app, drop_checkpoints_from=covered)
    custody_rounds(app, 1)
    published = witnessing.publish(app)
    assert outcomes(published) == ["refused", "refused"]
    assert set(alert_kinds(app).values()) == {"witness_refused"}
    clock.now += timedelta(minutes=30)
    assert "witness_refused" in kinds(full_verify(app, clock))


def test_entries_left_unsigned_longer_than_the_limit_fail_verify(app, clock, monkeypatch):
    monkeypatch.setenv("RESGUARDO_CHECKPOINT_EVERY", "1000")
    custody_rounds(app, 1)
    covered = checkpoints(app)[-1].size
    assert covered < size(app)
    clock.now += timedelta(minutes=9)
    assert full_verify(app, clock).ok  # no witnesses configured: only the tail is checked
    clock.now += timedelta(minutes=2)
    report = full_verify(app, clock)
    assert kinds(report) == {"unsigned_tail"}
    assert (report.findings[0].first, report.findings[0].last) == (covered, size(app) - 1)


def test_a_silent_witness_is_an_alert_and_its_push_is_retried(app, witnesses, clock):
    assert witnessing.publish(app).quorum_met
    silent = witnesses[1]
    port = silent.port
    silent.stop()
    custody_rounds(app, 1)
    published = witnessing.publish(app)
    assert outcomes(published) == ["cosigned", "unreachable"]
    assert alert_kinds(app) == {f"witness {silent.name}": "witness_unreachable"}
    clock.now += timedelta(minutes=30)
    assert kinds(full_verify(app, clock)) == {"cosignature_quorum"}
    silent.start(port)
    retried = witnessing.publish(app)
    assert outcomes(retried) == ["already", "cosigned"] and retried.quorum_met
    assert alert_kinds(app) == {}
    assert full_verify(app, clock).ok


def test_a_cosignature_by_another_key_is_not_kept(app, witnesses, clock):
    impostor = witnesses[0]
    # the deployment expects another key under the same witness name
    other = generate_signer(impostor.name, SIG_TYPE_COSIGNATURE)
    listed = app.settings.witnesses
    app.settings = dataclasses.replace(app.settings, witnesses=WitnessList(
        (Witness(impostor.url, other.verifier()), *listed.witnesses[1:]), listed.quorum))
    published = witnessing.publish(app)
    assert outcomes(published) == ["invalid", "cosigned"]
    assert not published.quorum_met
    with app.read(None) as uow:
        kept = ledger_store.cosignatures(uow.conn, published.checkpoint.id)
    assert [c.witness for c in kept] == [witnesses[1].name]


def test_the_revista_is_cosigned_by_its_overseers_witness(app, witnesses, clock):
    entry = size(app) - 1
    found = witnessing.witness_revista(app, entry, "ZM15")
    assert found.cosigned and found.witness == witnesses[0].name
    assert found.size > entry
    held = witnesses[0].held_checkpoint(app.settings.log_origin)
    assert held is not None
    checkpoint = Checkpoint.parse(parse_note(held)[0])
    assert (checkpoint.size, checkpoint.root) == (found.size, base64.b64decode(found.root))
    # the other witness was not asked
    assert witnesses[1].held_checkpoint(app.settings.log_origin) is None
    # an authority without a witness: the acta still gets the checkpoint, marked uncosigned
    custody_rounds(app, 1)
    unwitnessed = witnessing.witness_revista(app, size(app) - 1, "SSP")
    assert not unwitnessed.cosigned and unwitnessed.witness == ""
    assert "no witness is listed for organization SSP" in unwitnessed.detail
    assert unwitnessed.size == size(app)
    with pytest.raises(ValidationFailed, match="entry 99999"):
        witnessing.witness_revista(app, 99999, "ZM15")


def test_the_command_line_shows_the_refusal_publish_and_verify_exit_1(app, witnesses, clock,
                                                                      monkeypatch):
    context.set_deployment(app)
    monkeypatch.delenv("RESGUARDO_USER", raising=False)
    try:
        published = runner.invoke(cli_app, ["ledger", "publish"])
        assert published.exit_code == 0, published.output
        assert "2 of 2 witness cosignature(s)" in published.stdout
        rewrite_with_the_key_file(app, 3, "alta corregida")
        custody_rounds(app, 1)
        refused = runner.invoke(cli_app, ["ledger", "publish", "--json"])
        assert refused.exit_code == 1
        data = json.loads(refused.stdout)
        assert not data["quorum_met"]
        assert [w["status"] for w in data["witnesses"]] == [422, 422]
        listed = json.loads(runner.invoke(cli_app, ["--as", "auditor", "alerts", "--json"]).stdout)
        assert sorted(a["kind"] for a in listed) == ["witness_refused", "witness_refused"]
        # an armorer is not shown the ledger's alerts
        mine = json.loads(runner.invoke(cli_app, ["--as", "armero1", "alerts", "--json"]).stdout)
        assert not [a for a in mine if a["kind"].startswith("witness")]
        clock.now += timedelta(minutes=30)
        verified = runner.invoke(cli_app, ["--as", "auditor", "ledger", "verify",
                                           "--no-projection"])
        assert verified.exit_code == 1
        assert "[witness_refused]" in verified.stdout
        assert "[cosignature_quorum]" in verified.stdout
    finally:
        context.set_deployment(None)


def test_the_servers_publisher_loop_pushes_until_stopped(app, witnesses):
    assert witnessing.Publisher.for_app(app) is not None
    asked = []

    def stop() -> bool:  # one round, then stop
        asked.append(1)
        return len(asked) > 1

    witnessing.run_forever(app, 1, stop)
    with app.read(None) as uow:
        latest = ledger_store.latest_checkpoint(uow.conn)
        assert latest is not None
        assert len(ledger_store.cosignatures(uow.conn, latest.id)) == 2


def test_the_server_signs_the_tail_even_without_witnesses_but_not_without_a_key(app):
    assert not app.settings.witnesses.witnesses
    assert witnessing.Publisher.for_app(app) is not None  # the key file signs the tail
    custody_rounds(app, 1)
    assert witnessing.publish(app).checkpoint.size == size(app)
    key(app).path.unlink()
    assert witnessing.Publisher.for_app(app) is None


def test_two_publishers_racing_for_one_answer_keep_one_cosignature(any_db_app, witnesses,
                                                                    monkeypatch):
    app = any_db_app
    published = witnessing.publish(app)
    with app.read(None) as uow:
        kept = ledger_store.cosignatures(uow.conn, published.checkpoint.id)[0]
    # the other publisher checked before this one wrote: it finds nothing, then collides
    monkeypatch.setattr(ledger_store, "cosignature_of", lambda *args: None)
    with app.work(None) as uow:
        assert ledger_store.keep_cosignature(uow.conn, kept) is False
        uow.commit()
    with app.read(None) as uow:
        assert len(ledger_store.cosignatures(uow.conn, published.checkpoint.id)) == 2


def test_auditors_list_the_witnesses_and_their_last_answers(app, witnesses, monkeypatch):
    published = witnessing.publish(app)
    context.set_deployment(app)
    monkeypatch.delenv("RESGUARDO_USER", raising=False)
    try:
        listed = runner.invoke(cli_app, ["--as", "auditor", "ledger", "witnesses", "--json"])
        assert listed.exit_code == 0, listed.output
        data = json.loads(listed.stdout)
        assert data["quorum"] == 2
        assert [(w["witness"], w["organization"], w["cosigned_size"], w["last"]["outcome"])
                for w in data["witnesses"]] == [
            (witnesses[0].name, "ZM15", published.checkpoint.size, "cosigned"),
            (witnesses[1].name, None, published.checkpoint.size, "cosigned")]
        table = runner.invoke(cli_app, ["--as", "auditor", "ledger", "witnesses"])
        assert "quorum 2" in table.stdout and witnesses[0].name in table.stdout
        refused = runner.invoke(cli_app, ["--as", "armero1", "ledger", "witnesses"])
        assert refused.exit_code == 1
    finally:
        context.set_deployment(None)


def test_a_witness_in_trouble_is_a_silence_not_a_refusal(app, clock):
    """A 503 from a proxy or 429 from a busy witness says nothing about the log: it is
    retried and alerted as unreachable, and does not make verify report a refusal."""
    w = generate_signer("testigo.example.mx/w", SIG_TYPE_COSIGNATURE)
    app.settings = dataclasses.replace(app.settings, witnesses=WitnessList(
        (Witness("http://w.invalid", w.verifier()),), 1))
    asked = []

    def busy(url: str, body: bytes) -> Answer:
        asked.append(url)
        return Answer(503 if len(asked) % 2 else 429, "text/plain", "try later\n")

    published = witnessing.publish(app, transport=busy)
    assert len(asked) == 2  # retried once at once, then left to the next run
    assert [(r.outcome, r.status) for r in published.results] == [("unreachable", 429)]
    assert alert_kinds(app) == {"witness testigo.example.mx/w": "witness_unreachable"}
    clock.now += timedelta(minutes=30)
    assert kinds(full_verify(app, clock)) == {"cosignature_quorum"}


def test_closing_a_revista_is_cosigned_by_the_zones_witness_and_the_acta_prints_the_log(
        app, witnesses, clock):
    """The zone's inspector closes a revista: the acta prints the log as the count left it,
    and the zone's witness cosigns a checkpoint that covers the closing entry (which holds
    the acta's SHA-256), so a paper copy can later be held against the log."""
    import io

    from pypdf import PdfReader

    from resguardo.ledger import verify_consistency
    from resguardo.services import inspections, ledger_proofs
    iid = do(app, "inspector_zm", inspections.plan, "MUN1", clock.now.date()).position
    do(app, "inspector_zm", inspections.open_, iid)
    do(app, "inspector_zm", inspections.scan, iid, "GLK-A100", location="ARM1")
    closed = do(app, "inspector_zm", inspections.close, iid)
    assert closed["log_size"] == closed["entry"]          # the closing comes right after
    seen = inspections.witness_closing(app, closed)
    assert seen["cosigned"] and seen["witness"] == witnesses[0].name
    assert seen["size"] > closed["entry"]
    pdf, digest = do(app, "inspector_zm", inspections.acta, iid)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert f"{closed['log_size']} asientos" in text
    # the root whole, in order: a root wider than its column goes on over two lines
    assert closed["log_root"] in "".join(text.split())
    # the paper's (size, root) is a prefix of the cosigned checkpoint
    with app.read("auditor") as uow:
        proof = ledger_proofs.consistency(uow, closed["log_size"], seen["size"])
    assert proof.root1 == base64.b64decode(closed["log_root"])
    verify_consistency(closed["log_size"], seen["size"], proof.proof,
                       base64.b64decode(closed["log_root"]), base64.b64decode(seen["root"]))
    # the revista says so to whoever reads it
    assert do(app, "inspector_zm", inspections.show, iid)["witnessed"]["cosigned"] is True
    assert do(app, "jefe1", inspections.show, iid)["witnessed"]["witness"] == witnesses[0].name
    assert digest == closed["acta_sha256"]
