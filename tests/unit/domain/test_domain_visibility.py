"""The kinds of entries closed to each role: ``hidden_kinds`` (which ``storage.scoped.entries``
turns into SQL) says exactly what ``kind_visible_to`` says for one entry."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from resguardo.domain.codes import Role
from resguardo.domain.events import Event
from resguardo.domain.visibility import OWN_RECORDS, hidden_kinds, kind_hidden, kind_visible_to

KINDS = ("firearm.registered", "custody.issued", "inspection.planned", "inspection.scanned",
         "access.trace", "access.trace_request", "access.inspection_read", "auth.signed_in", "auth.pin_set", "auth.pin_failed", "auth.pin_unlocked",
         "token.issued", "user.added", "entry.corrected", "officer.registered",
         "ammunition.received", "licence.firearm_attached", "import.started")


def _entry(kind: str) -> Event:
    return Event(position=1, type=kind, at="2025-03-03T10:00:00.000000Z", actor_id=7,
                 actor="x", org_id=3, subject_type=None, subject_id=None, corrects=None,
                 reason=None, request_id=None, payload={})


@given(st.sampled_from(list(Role)), st.sampled_from(KINDS))
def test_hidden_kinds_are_the_kinds_closed_to_the_role(role, kind):
    assert kind_hidden(role, kind) == (not kind_visible_to(role, True, _entry(kind)))


def test_agency_staff_read_no_revista_or_access_entry_and_investigators_own_traces_only():
    for role in (Role.ARMORER, Role.CHIEF):
        assert {"inspection.", "access.", "auth."} <= {p for p, _ in hidden_kinds(role)}
        # an officer's desk PIN history stays on the officer's page for the desk's staff
        assert not kind_hidden(role, "auth.pin_set") and kind_hidden(role, "auth.login")
    assert kind_hidden(Role.INVESTIGATOR, "access.trace_request")
    assert kind_hidden(Role.INVESTIGATOR, "auth.pin_set")
    assert "access.trace_request".startswith(OWN_RECORDS)
    assert hidden_kinds(Role.AUDITOR) == ()
