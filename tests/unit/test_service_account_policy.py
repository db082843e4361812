"""A service account is nobody: whatever its role, it takes no half of a two-person rule
and manages no account (the domain policy, without a database)."""

from __future__ import annotations

import pytest

from resguardo.domain.codes import OrgKind, Role
from resguardo.domain.entities import Actor, Organization
from resguardo.domain.errors import PermissionDenied
from resguardo.domain.policy import PEOPLE_ONLY, PERMISSIONS, Action, authorize, may

AGENCY = Organization(id=5, code="MUN1", name="Policía", kind=OrgKind.AGENCY, parent_id=1,
                      path="/1/5/")


def _actor(role: Role, kind: str) -> Actor:
    return Actor(user_id=9, username="x", role=role, scope=AGENCY, kind=kind)


@pytest.mark.parametrize("role", [Role.ARMORER, Role.CHIEF, Role.ADMIN, Role.SUPERVISOR])
def test_a_service_account_may_not_take_any_half_of_a_two_person_rule(role):
    person, service = _actor(role, "person"), _actor(role, "service")
    for action in PEOPLE_ONLY & PERMISSIONS[role]:
        assert may(person, action) and not may(service, action)
        authorize(person, action, AGENCY.path)
        with pytest.raises(PermissionDenied) as refused:
            authorize(service, action, AGENCY.path)
        assert refused.value.details["account"] == "service"


def test_a_service_account_keeps_the_rest_of_its_role():
    locker = _actor(Role.ARMORER, "service")
    for action in (Action.CUSTODY_ISSUE, Action.CUSTODY_RETURN, Action.READ):
        assert may(locker, action)
        authorize(locker, action, AGENCY.path)


def test_both_halves_of_every_two_person_rule_are_people_only():
    halves = {Action.DECOMMISSION_REQUEST, Action.DECOMMISSION_APPROVE,
              Action.TRANSFER_REQUEST, Action.TRANSFER_APPROVE, Action.FIREARM_REPORT_LOSS,
              Action.CORRECT}
    assert halves <= PEOPLE_ONLY and Action.USER_MANAGE in PEOPLE_ONLY
