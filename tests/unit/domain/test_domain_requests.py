"""Requests a second person decides, and the once-only facts of a loss report: one
request of a kind waits at a time, a rejection closes it with a reason, and the
military authority's notification is recorded once. Each as an insider would try
to get round it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from domain_facts import ARMORER_ID, CHIEF_ID, GUN, MUN2, NOW, OTHER_CHIEF_ID, S

from resguardo.domain import custody, requests
from resguardo.domain.errors import SeparationOfDuties, ValidationFailed


@pytest.mark.parametrize("ask", [
    lambda pending: custody.request_decommission(GUN, "Corredera fracturada", pending=pending),
    lambda pending: custody.request_transfer(GUN, MUN2, "Reasignación", pending=pending),
    lambda pending: requests.refuse_if_pending("correction", GUN.serial, pending),
], ids=["decommission", "transfer", "correction"])
def test_a_second_request_while_one_waits_is_refused_naming_the_weapon(ask):
    ask(False)
    with pytest.raises(ValidationFailed) as refused:
        ask(True)
    assert refused.value.details == {"field": "serial", "serial": GUN.serial}
    assert GUN.serial in str(refused.value) and "already awaiting approval" in str(refused.value)


def test_the_pending_request_is_refused_before_anything_else_is_judged():
    """A twin request is the insider's move, so it is named even when the rest of the
    request is also wrong (no reason given)."""
    with pytest.raises(ValidationFailed, match="already awaiting approval"):
        custody.request_decommission(GUN, "", pending=True)
    with pytest.raises(ValidationFailed, match="written reason"):
        custody.request_decommission(GUN, "", pending=False)


def test_a_request_resubmitted_after_its_rejection_is_a_new_request_with_its_own_two_people():
    """The armorer's decommission (the weapon would leave the books) is rejected by the
    chief; he asks again at once. The new request is accepted (a rejection is not a ban),
    but it is a request like the first: he cannot approve it himself, and while it waits
    no twin request can be slipped in for another approver to sign."""
    asked = custody.request_decommission(GUN, "Corredera fracturada", pending=False)
    assert asked.type == "firearm.decommission_requested"
    rejected = requests.reject(41, GUN, "decommission", "No hay dictamen técnico")
    assert (rejected.type, rejected.payload) == (
        "request.rejected", {"request_id": 41, "firearm_id": GUN.id, "kind": "decommission"})
    again = custody.request_decommission(GUN, "Corredera fracturada", pending=False)
    assert again.type == "firearm.decommission_requested"
    with pytest.raises(SeparationOfDuties):
        custody.decommission(GUN, 43, ARMORER_ID, ARMORER_ID)
    with pytest.raises(ValidationFailed, match="already awaiting approval"):
        custody.request_decommission(GUN, "Otra vez", pending=True)
    approved = custody.decommission(GUN, 43, ARMORER_ID, OTHER_CHIEF_ID)
    assert approved.payload["request_id"] == 43  # the new request, not the rejected one


def test_a_rejection_says_why_and_belongs_to_the_weapons_agency():
    for blank in ("", "   "):
        with pytest.raises(ValidationFailed) as refused:
            requests.reject(41, GUN, "transfer", blank)
        assert refused.value.details == {"field": "reason"}
    rejected = requests.reject(41, GUN, "transfer", "  Sin oficio de la zona  ")
    assert rejected.reason == "Sin oficio de la zona"
    assert (rejected.org_id, rejected.subject_type, rejected.subject_id) == (
        GUN.agency_id, "firearm", GUN.id)


def test_the_kinds_of_request_are_the_three_a_second_person_decides():
    assert requests.KINDS == ("decommission", "transfer", "correction")


# --- the military authority's notification of a loss ---------------------------------

LOST = replace(GUN, status=S.LOST, location_id=None)


def test_the_military_authority_is_notified_once_per_report():
    first = custody.record_notification(3, LOST, NOW - timedelta(hours=1), NOW, "Oficio 7",
                                        notified_before=None)
    assert first.payload["report_id"] == 3 and first.payload["reference"] == "Oficio 7"
    with pytest.raises(ValidationFailed) as again:
        custody.record_notification(3, LOST, NOW, NOW, "Oficio 8",
                                    notified_before="2025-03-03T07:00:00Z")
    assert again.value.details == {"field": "notified_at", "when": "2025-03-03T07:00:00Z"}
    assert "2025-03-03T07:00:00Z" in str(again.value)  # the time already on record


def test_a_notification_cannot_be_dated_in_the_future():
    with pytest.raises(ValidationFailed) as refused:
        custody.record_notification(3, LOST, NOW + timedelta(minutes=1), NOW, None,
                                    notified_before=None)
    assert refused.value.details == {"field": "notified_at"}


def test_negligence_is_determined_once_and_never_by_whoever_reported_the_loss():
    with pytest.raises(SeparationOfDuties):
        custody.determine_negligence(3, CHIEF_ID, LOST, True, False, CHIEF_ID, "Descuido")
    with pytest.raises(ValidationFailed) as twice:
        custody.determine_negligence(3, ARMORER_ID, LOST, False, True, CHIEF_ID, "Revisión")
    assert twice.value.details == {"field": "negligent"}
    decided = custody.determine_negligence(3, ARMORER_ID, LOST, True, False, CHIEF_ID,
                                           "Dejó el arma en el vehículo")
    assert decided.payload == {"report_id": 3, "firearm_id": GUN.id, "negligent": True}
