"""Weapons of record in the pure core: who may be assigned what, the one rule the
projector and trace share, and the signed statement against the offline script."""

from __future__ import annotations

import base64
import importlib.util
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resguardo.domain import credential as rules
from resguardo.domain.codes import FirearmKind, FirearmStatus, OfficerStatus
from resguardo.domain.entities import Firearm, Officer
from resguardo.domain.errors import InvalidTransition, ValidationFailed
from resguardo.domain.trace_custody import CustodyState, step
from resguardo.ledger import canonical_json
from resguardo.ledger.keys import generate_signer

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "verify_credential.py"
TODAY = date(2025, 3, 3)


def officer(oid: int = 7, **kw) -> Officer:  # type: ignore[no-untyped-def]
    base = {"id": oid, "agency_id": 1, "badge": f"P{oid}", "name": "Ana Ruiz",
            "credential_folio": "CRED-1", "credential_expiry": date(2027, 1, 1)}
    return Officer(**{**base, **kw})


def firearm(**kw) -> Firearm:  # type: ignore[no-untyped-def]
    base = {"id": 3, "serial": "GLK-1", "serial_key": "GLK1", "make": "Glock",
            "calibre": "9x19mm", "kind": FirearmKind.PISTOL, "agency_id": 1,
            "status": FirearmStatus.IN_STORAGE}
    return Firearm(**{**base, **kw})


@given(st.sampled_from(list(FirearmStatus)))
def test_only_a_weapon_in_storage_repair_or_with_its_officer_becomes_a_weapon_of_record(status):
    f = firearm(status=status, custodian_id=7 if status == FirearmStatus.ISSUED else None)
    if status in rules.ASSIGNABLE:
        assert rules.assign(f, officer(), TODAY, None).type == "firearm.assigned_of_record"
    else:
        with pytest.raises(InvalidTransition):
            rules.assign(f, officer(), TODAY, None)


def test_an_officer_not_active_or_without_a_current_credential_gets_none():
    for bad in (officer(status=OfficerStatus.SUSPENDED), officer(credential_folio=None),
                officer(credential_expiry=date(2025, 3, 2)),
                officer(agency_id=2)):
        with pytest.raises(ValidationFailed):
            rules.assign(firearm(), bad, TODAY, None)


EVENTS = st.lists(st.tuples(
    st.sampled_from(["firearm.assigned_of_record", "firearm.unassigned_of_record",
                     "custody.issued", "custody.returned", "firearm.reported_lost",
                     "firearm.reported_stolen", "firearm.recovered", "firearm.released",
                     "firearm.decommissioned", "firearm.transfer_sent",
                     "firearm.transfer_received", "firearm.moved"]),
    st.integers(1, 5)), max_size=30)


@given(EVENTS)
def test_trace_replays_the_officer_of_record_as_the_last_assignment_not_ended(events):
    state = CustodyState(status="in_storage", agency_id=1)
    expected = None
    for event_type, officer_id in events:
        state = step(state, event_type, {"officer_id": officer_id, "firearm_id": 3,
                                         "location_id": 1, "to_agency_id": 2})
        if event_type == "firearm.assigned_of_record":
            expected = officer_id
        elif event_type in rules.ENDS_RECORD:
            expected = None
        assert state.record_officer_id == expected


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("verify_credential_unit", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


VERIFY = _script()
SIGNER = generate_signer("test.example/log/credential")
STATEMENT = rules.statement(issuer=SIGNER.name, agency_code="MUN1", agency_name="Policía",
                            officer=officer(), weapons=[firearm(), firearm(id=4, serial="B-2")],
                            at=datetime(2025, 3, 3, 12, tzinfo=UTC))
BODY = canonical_json(STATEMENT)
SIGNATURE = SIGNER.sign(rules.CONTEXT + BODY)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@given(st.integers(0, len(BODY) - 1), st.integers(1, 255))
def test_any_changed_byte_of_the_statement_fails_the_offline_check(index, xor):
    script = VERIFY
    key = script.load_vkey(SIGNER.vkey())
    assert script.check(f"RGC1.{b64(BODY)}.{b64(SIGNATURE)}", key, TODAY)[-1].startswith(
        "Firmada por")
    changed = bytearray(BODY)
    changed[index] ^= xor
    with pytest.raises(script.Failed):
        script.check(f"RGC1.{b64(bytes(changed))}.{b64(SIGNATURE)}", key, TODAY)
