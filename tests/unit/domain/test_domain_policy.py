"""Who may do what, where (``domain.policy``, ``Actor.in_scope``): the role's actions,
the agency scope (a weapon outside it does not exist for the caller), oversight, and the
splits an insider would need to join: request and approval, override and issue."""

from __future__ import annotations

import pytest
from domain_facts import MUN1, MUN2, MUN40, NATIONAL, STATE, STATE20, ZONE
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.domain.codes import OrgKind, Role
from resguardo.domain.entities import Actor, Organization
from resguardo.domain.errors import NotFound, PermissionDenied
from resguardo.domain.policy import AGENCY_ROLES, PERMISSIONS, Action, authorize, may

A = Action


def actor(role: Role, scope: Organization, overseen: tuple[Organization, ...] = (),
          kind: str = "person") -> Actor:
    return Actor(9, "usuario", role, scope, overseen, kind)


#: Both halves of each two-person rule.
TWO_PERSON = [(A.DECOMMISSION_REQUEST, A.DECOMMISSION_APPROVE),
              (A.TRANSFER_REQUEST, A.TRANSFER_APPROVE),
              (A.CORRECT, A.CORRECTION_APPROVE)]


@pytest.mark.parametrize("role", list(Role))
def test_no_role_holds_both_halves_of_a_two_person_rule(role):
    for asks, approves in TWO_PERSON:
        assert not (asks in PERMISSIONS[role] and approves in PERMISSIONS[role]), (
            f"{role.value} may both {asks.value} and {approves.value}")


@pytest.mark.parametrize("role", list(Role))
def test_whoever_grants_an_override_cannot_issue_under_it(role):
    """The chief who allows a weapon to an ineligible officer does not hand it over;
    the armorer who hands it over cannot allow it."""
    assert not {A.OVERRIDE_GRANT, A.CUSTODY_ISSUE} <= PERMISSIONS[role]


def test_a_chief_approves_but_moves_no_weapon_and_an_armorer_moves_but_approves_nothing():
    chief, armorer = PERMISSIONS[Role.CHIEF], PERMISSIONS[Role.ARMORER]
    moves = {A.CUSTODY_ISSUE, A.CUSTODY_RETURN, A.FIREARM_MOVE, A.FIREARM_REPAIR,
             A.FIREARM_REGISTER, A.TRANSFER_REQUEST, A.DECOMMISSION_REQUEST}
    approvals = {A.DECOMMISSION_APPROVE, A.TRANSFER_APPROVE, A.CORRECTION_APPROVE,
                 A.OVERRIDE_GRANT, A.FIREARM_RELEASE, A.NEGLIGENCE_DETERMINE, A.RECORD_ASSIGN}
    assert not chief & moves and approvals <= chief
    assert not armorer & approvals and moves <= armorer


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.INVESTIGATOR, Role.AUDITOR])
def test_the_roles_that_look_change_nothing_in_the_registry(role):
    registry_writes = {a for a in Action if a.value.split(".")[0] in (
        "custody", "firearm", "decommission", "transfer", "entry", "correction", "override",
        "officer", "ammunition")}
    assert not PERMISSIONS[role] & registry_writes


def test_the_administrator_manages_accounts_and_places_but_touches_no_weapon():
    admin = PERMISSIONS[Role.ADMIN]
    assert {A.USER_MANAGE, A.ORG_MANAGE} <= admin
    assert not admin & {A.CUSTODY_ISSUE, A.FIREARM_REGISTER, A.DECOMMISSION_APPROVE,
                        A.TRANSFER_APPROVE, A.OVERRIDE_GRANT, A.CORRECT}


def test_every_action_is_some_roles_and_every_role_reads():
    granted = set().union(*PERMISSIONS.values())
    assert granted == set(Action)
    assert all(A.READ in PERMISSIONS[role] for role in Role)
    assert {Role.ARMORER, Role.CHIEF} == AGENCY_ROLES


def test_out_of_scope_is_not_found_before_any_permission_is_judged():
    """An armorer guessing at another agency's weapon learns nothing, not even that his
    role could not have done it anyway."""
    armorer = actor(Role.ARMORER, MUN1)
    with pytest.raises(NotFound) as refused:
        authorize(armorer, A.OVERRIDE_GRANT, MUN2.path, "firearm")
    assert str(refused.value) == "firearm not found"
    with pytest.raises(PermissionDenied) as denied:
        authorize(armorer, A.OVERRIDE_GRANT, MUN1.path, "officer")
    assert denied.value.details == {"role": "armorer", "action": "override.grant"}
    authorize(armorer, A.CUSTODY_ISSUE, MUN1.path, "firearm")


def test_a_state_scope_does_not_reach_a_state_whose_id_starts_with_the_same_digits():
    """Scope is by path: /1/2/ must not reach /1/20/40/ (a string prefix would)."""
    supervisor = actor(Role.SUPERVISOR, STATE)
    assert supervisor.in_scope(MUN1.path) and supervisor.in_scope(MUN2.path)
    assert not supervisor.in_scope(STATE20.path) and not supervisor.in_scope(MUN40.path)
    with pytest.raises(NotFound):
        authorize(supervisor, A.TRANSFER_APPROVE, MUN40.path, "firearm")


def test_oversight_lets_a_zone_read_and_inspect_what_it_oversees_and_write_nothing():
    zone = actor(Role.INSPECTOR, ZONE, (MUN1,))
    authorize(zone, A.INSPECTION_CONDUCT, MUN1.path, "inspection")
    with pytest.raises(NotFound):
        authorize(zone, A.INSPECTION_CONDUCT, MUN2.path, "inspection")
    with pytest.raises(PermissionDenied):
        authorize(zone, A.CUSTODY_ISSUE, MUN1.path, "firearm")
    assert not zone.in_scope(STATE.path)  # the agency it oversees, not the state above it


def test_the_national_authority_reaches_every_organization():
    auditor = actor(Role.AUDITOR, NATIONAL)
    assert all(auditor.in_scope(o.path) for o in (STATE, ZONE, MUN1, MUN2, STATE20, MUN40))


def test_a_service_account_takes_no_half_of_a_two_person_rule_but_keeps_the_rest():
    chief = actor(Role.CHIEF, MUN1, kind="service")
    assert not may(chief, A.DECOMMISSION_APPROVE) and not may(chief, A.OVERRIDE_GRANT)
    with pytest.raises(PermissionDenied) as denied:
        authorize(chief, A.OVERRIDE_GRANT, MUN1.path)
    assert denied.value.details["account"] == "service"
    assert may(chief, A.ALERT_ACK)


paths = st.lists(st.integers(1, 30), min_size=1, max_size=4)


def _org(ids: list[int]) -> Organization:
    return Organization(ids[-1], f"O{ids[-1]}", "x", OrgKind.AGENCY, None,
                        "/" + "/".join(map(str, ids)) + "/")


@settings(max_examples=100, deadline=None)
@given(paths, paths, st.lists(paths, max_size=2))
def test_in_scope_is_exactly_the_subtree_of_the_scope_or_of_an_overseen_agency(
        scope, target, overseen):
    """Draw ids from a small range so that 2 and 20, 1 and 12 and the like meet often."""
    def below(top: list[int]) -> bool:
        return target[:len(top)] == top

    who = actor(Role.SUPERVISOR, _org(scope), tuple(_org(o) for o in overseen))
    assert who.in_scope(_org(target).path) == (below(scope) or any(below(o) for o in overseen))
