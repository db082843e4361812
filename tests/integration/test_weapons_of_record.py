"""Weapons of record (arma de cargo) and the credential's signed QR, on SQLite and PostgreSQL.

The attacks come first: a chief of one agency reaching another's weapon, a weapon gone
or held as evidence put on a credential, an armorer handing one officer's weapon of
record to another, an assignment slipped in during a revista.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from resguardo.domain.errors import (
    InvalidTransition,
    Lockdown,
    NotFound,
    OfficerHoldsWeapons,
    PermissionDenied,
    ValidationFailed,
)
from resguardo.services import credential, custody, inspections, registry, trace
from resguardo.services.credential import CredentialKey

from world import do, look

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "verify_credential.py"
LOSS = {"occurred_on": date(2025, 3, 1), "place": "Patrulla 12", "on_duty": True,
        "complaint_number": "FGE/1/2025", "complaint_authority": "FGE Jalisco"}


@pytest.fixture
def app(world):  # type: ignore[no-untyped-def]
    key = CredentialKey.of(world.settings)
    if not key.exists():
        key.create()
    for badge, folio in (("P1", "CRED-JAL-0001"), ("P2", "CRED-JAL-0002")):
        do(world, "jefe1", registry.renew_officer, "MUN1", badge, credential_folio=folio)
    return world


def firearm(app, serial, user="armero1"):  # type: ignore[no-untyped-def]
    return look(app, user, lambda uow: uow.repo.firearm(serial))


def officer_id(app, badge, agency="MUN1"):  # type: ignore[no-untyped-def]
    return look(app, "jefe1" if agency == "MUN1" else "jefe2",
                lambda uow: uow.repo.officer(uow.repo.org(agency).id, badge).id)


def sign(app, badge="P1", user="jefe1"):  # type: ignore[no-untyped-def]
    return do(app, user, credential.credential, CredentialKey.of(app.settings), badge)


def _load_script():  # type: ignore[no-untyped-def]
    import importlib.util
    spec = importlib.util.spec_from_file_location("verify_credential_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def verify(payload: str, vkey: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), payload, "--vkey", vkey,
                           "--on", "2025-03-03", *extra],
                          capture_output=True, text=True, timeout=60, check=False)


# --- the attacks --------------------------------------------------------------------


def test_an_armorer_cannot_assign_a_weapon_of_record(app):
    with pytest.raises(PermissionDenied):
        do(app, "armero1", credential.assign, "P1", "GLK-A100")


def test_a_chief_cannot_assign_another_agencys_weapon_nor_to_another_agencys_officer(app):
    with pytest.raises(NotFound):
        do(app, "jefe1", credential.assign, "P1", "BER-B100")
    with pytest.raises(NotFound):
        do(app, "jefe1", credential.assign, "Q1", "GLK-A100")
    assert firearm(app, "GLK-A100").record_officer_id is None


@pytest.mark.parametrize("gone", ["lost", "stolen", "evidence", "decommissioned"])
def test_a_weapon_gone_or_held_as_evidence_cannot_be_a_weapon_of_record(app, gone):
    if gone in ("lost", "stolen", "evidence"):
        do(app, "armero1", custody.report_missing, "GLK-A100", stolen=gone == "stolen", **LOSS)
    if gone == "evidence":
        do(app, "armero1", custody.recover, "GLK-A100", "FGE Jalisco", "Asegurada")
    if gone == "decommissioned":
        do(app, "armero1", custody.request_decommission, "GLK-A100", "Cañón dañado")
        do(app, "jefe1", custody.approve_decommission, "GLK-A100")
    with pytest.raises(InvalidTransition, match="cannot be assigned as a weapon of record"):
        do(app, "jefe1", credential.assign, "P1", "GLK-A100")


def test_one_officers_weapon_of_record_is_never_issued_to_another(app):
    do(app, "jefe1", credential.assign, "P1", "GLK-A100")
    with pytest.raises(InvalidTransition, match="weapon of record of P1 Ana Ruiz; it is issued only"):
        do(app, "armero1", custody.issue, "GLK-A100", "P2")
    do(app, "armero1", custody.issue, "GLK-A100", "P1")
    assert firearm(app, "GLK-A100").custodian_id == officer_id(app, "P1")


def test_a_weapon_of_record_is_not_reassigned_without_withdrawing_it(app):
    do(app, "jefe1", credential.assign, "P1", "GLK-A100")
    with pytest.raises(ValidationFailed, match="weapon of record of P1 Ana Ruiz; withdraw"):
        do(app, "jefe1", credential.assign, "P2", "GLK-A100")
    with pytest.raises(ValidationFailed, match="needs a written reason"):
        do(app, "jefe1", credential.unassign, "P1", "GLK-A100", " ")
    with pytest.raises(ValidationFailed, match="not a weapon of record of P2"):
        do(app, "jefe1", credential.unassign, "P2", "GLK-A100", "Cambio de adscripción")
    do(app, "jefe1", credential.unassign, "P1", "GLK-A100", "Cambio de adscripción")
    do(app, "jefe1", credential.assign, "P2", "GLK-A100")
    assert firearm(app, "GLK-A100").record_officer_id == officer_id(app, "P2")


def test_an_officer_without_a_credential_folio_gets_no_weapon_of_record(app):
    with pytest.raises(ValidationFailed, match="no credential folio"):
        do(app, "jefe1", credential.assign, "P3", "GLK-A100")


def test_a_weapon_issued_to_someone_else_is_not_made_another_officers_weapon_of_record(app):
    do(app, "armero1", custody.issue, "GLK-A100", "P2")
    with pytest.raises(InvalidTransition, match="issued to another officer"):
        do(app, "jefe1", credential.assign, "P1", "GLK-A100")


def test_an_open_revista_freezes_weapons_of_record(app):
    revista = do(app, "inspector", inspections.plan, "MUN1", date(2025, 3, 4)).position
    do(app, "inspector", inspections.open_, revista)
    with pytest.raises(Lockdown):
        do(app, "jefe1", credential.assign, "P1", "GLK-A100")
    assert firearm(app, "GLK-A100").record_officer_id is None


def test_a_loss_ends_the_assignment_and_the_separation_waits_for_withdrawal(app):
    do(app, "jefe1", credential.assign, "P1", "GLK-A100")
    do(app, "jefe1", credential.assign, "P2", "GLK-A200")
    do(app, "armero1", custody.report_missing, "GLK-A100", stolen=True, **LOSS)
    assert firearm(app, "GLK-A100").record_officer_id is None
    with pytest.raises(OfficerHoldsWeapons, match="weapon\\(s\\) of record"):
        do(app, "jefe1", registry.separate_officer, "MUN1", "P2", "Baja voluntaria")
    do(app, "jefe1", credential.unassign, "P2", "GLK-A200", "Baja voluntaria")
    do(app, "jefe1", registry.separate_officer, "MUN1", "P2", "Baja voluntaria")


# --- the credential and its QR -------------------------------------------------------


def test_the_credential_qr_verifies_offline_and_fails_when_any_byte_changes(app):
    do(app, "jefe1", credential.assign, "P1", "GLK-A100")
    do(app, "jefe1", credential.assign, "P1", "GLK-A200")
    card = sign(app)
    ok = verify(card.payload, card.vkey)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.rstrip().endswith("OK")
    assert "P1 Ana Ruiz" in ok.stdout and "CRED-JAL-0001" in ok.stdout
    assert "GLK-A100" in ok.stdout and "GLK-A200" in ok.stdout and "2030-01-01" in ok.stdout
    assert "2025-03-03" in ok.stdout  # the statement's date

    prefix, body64, sig64 = card.payload.split(".")
    body = base64.urlsafe_b64decode(body64 + "=" * (-len(body64) % 4))
    assert json.loads(body)["w"][0]["s"] == "GLK-A100"

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    def changed(i: int, bit: int) -> str:
        altered = bytearray(body)
        altered[i] ^= bit
        return f"{prefix}.{b64(bytes(altered))}.{sig64}"

    # every byte of the signed statement, every bit changed, through the script's own
    # functions (loaded from its file, not from resguardo) ...
    script = _load_script()
    key = script.load_vkey(card.vkey)
    for i in range(len(body)):
        for bit in (1, 2, 4, 8, 16, 32, 64, 128):
            with pytest.raises(script.Failed):
                script.check(changed(i, bit), key, date(2025, 3, 3))
    # ... and the first, a middle and the last byte through the script as a command
    for i in (0, len(body) // 2, len(body) - 1):
        bad = verify(changed(i, 0x01), card.vkey)
        assert bad.returncode == 1 and bad.stdout.rstrip().endswith("FAIL"), (i, bad.stdout)
        assert "OK" not in bad.stdout
    # every character of the QR text itself, replaced by another base64url character
    for i in range(len(card.payload)):
        if card.payload[i] == ".":
            continue
        other_char = "B" if card.payload[i] != "B" else "C"
        with pytest.raises(script.Failed):
            script.check(card.payload[:i] + other_char + card.payload[i + 1:], key,
                         date(2025, 3, 3))
    # and a character of the QR text's signature, and the key of another deployment
    flipped = sig64[:-2] + ("A" if sig64[-2] != "A" else "B") + sig64[-1]
    assert verify(f"{prefix}.{body64}.{flipped}", card.vkey).returncode == 1
    other = CredentialKey(app.settings.credential_key_path.with_suffix(".other"),
                          "otra.example/log/credential").create()
    assert verify(card.payload, other.vkey()).returncode == 1


def test_the_script_refuses_an_expired_credential_and_reads_standard_input(app):
    do(app, "jefe1", credential.assign, "P1", "GLK-A100")
    card = sign(app)
    late = verify(card.payload, card.vkey, "--on", "2030-01-02")
    assert late.returncode == 1 and "not valid on 2030-01-02" in late.stdout
    piped = subprocess.run([sys.executable, str(SCRIPT), "-", "--vkey", card.vkey,
                            "--on", "2025-03-03"], input=card.payload + "\n",
                           capture_output=True, text=True, timeout=60, check=False)
    assert piped.returncode == 0, piped.stdout


def test_signing_a_credential_is_a_chiefs_act_in_scope_and_is_recorded(app):
    with pytest.raises(PermissionDenied):
        sign(app, user="armero1")
    with pytest.raises(NotFound):
        do(app, "jefe2", credential.credential, CredentialKey.of(app.settings), "P1",
           agency_code="MUN1")
    card = sign(app)
    assert card.weapons == [] and card.statement["w"] == []
    recorded = look(app, None, lambda uow: [e for e in uow.repo.iter_events()
                                            if e.type == "export.credential"])
    assert recorded and recorded[-1].payload["officer_id"] == officer_id(app, "P1")


def test_trace_names_the_officer_of_record_beside_the_holder(app):
    do(app, "jefe1", credential.assign, "P1", "GLK-A100")
    do(app, "armero1", custody.issue, "GLK-A100", "P1")
    found = do(app, "investigador", trace.trace,
               trace.TraceInput(serial="GLK-A100"), reason="Carpeta FGE/9/2025")
    hit = found["candidates"][0]
    assert hit["officer_of_record_on_date"] == {"badge": "P1", "name": "Ana Ruiz"}
    assert hit["custodian_on_date"] == {"badge": "P1", "name": "Ana Ruiz"}
    assert any(c["event"] == "firearm.assigned_of_record" and c["officer"] == "P1 Ana Ruiz"
               for c in hit["custody"])


def test_the_statement_is_dated_on_the_agencys_calendar_not_utcs(app, clock):
    """Signed at 21:30 in Guadalajara on 3 March (03:30 UTC on the 4th): the paper printed
    that evening says the 3rd, and so must its QR; in Hermosillo, an hour behind, 23:30 of
    the 3rd is still the 3rd when Mexico City is already on the 4th."""
    do(app, "jefe1", credential.assign, "P1", "GLK-A100")
    clock.now = datetime(2025, 3, 4, 3, 30, tzinfo=UTC)
    assert sign(app).statement["d"] == "2025-03-03"
    do(app, "admin", registry.set_place, "MUN1", time_zone="America/Hermosillo")
    clock.now = datetime(2025, 3, 4, 6, 30, tzinfo=UTC)
    assert sign(app).statement["d"] == "2025-03-03"
    clock.now = datetime(2025, 3, 4, 7, 30, tzinfo=UTC)
    assert sign(app).statement["d"] == "2025-03-04"
