"""The kinds of entries closed to each role: ``hidden_kinds`` (which ``storage.scoped.entries``
turns into SQL) says exactly what ``kind_visible_to`` says for one entry."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from resguardo.domain.codes import Role
from resguardo.domain.events import Event
from resguardo.domain.visibility import OWN_RECORDS, hidden_kinds, kind_visible_to

KINDS = ("firearm.registered", "custody.issued", "inspection.planned", "inspection.scanned",
         "access.trace", "access.trace_request", "access.inspection_read", "auth.signed_in",
         "token.issued", "user.added", "entry.corrected", "officer.registered",
         "ammunition.received", "licence.firearm_attached", "import.started")


def _entry(kind: str) -> Event:
    return Event(position=1, type=kind, at="2025-03-03T10:00:00.000000Z", actor_id=7,
                 actor="x", org_id=3, subject_type=None, subject_id=None, corrects=None,
                 reason=None, request_id=None, payload={})


@given(st.sampled_from(list(Role)), st.sampled_from(KINDS))
def test_hidden_kinds_are_the_kinds_closed_to_the_role(role, kind):
    assert kind.startswith(hidden_kinds(role)) == (not kind_visible_to(role, True, _entry(kind)))


def test_agency_staff_read_no_revista_or_access_entry_and_investigators_own_traces_only():
    for role in (Role.ARMORER, Role.CHIEF):
        assert {"inspection.", "access.", "auth."} <= set(hidden_kinds(role))
    assert "access." in hidden_kinds(Role.INVESTIGATOR)
    assert "access.trace_request".startswith(OWN_RECORDS)
    assert hidden_kinds(Role.AUDITOR) == ()
