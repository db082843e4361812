"""A chief's override, as an insider would try to stretch it: used twice, used for
another officer, used after it expired, used by a separated officer, used twice inside
one import before the first issue is recorded. ``override_to_use`` picks the override
from what storage found; ``covering_override`` (through ``custody.issue`` and
``ammunition.issue``) says whether it covers the officer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from domain_facts import ANA, ARM1, CHIEF_ID, GUN, LUIS, NOW
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.domain import ammunition, custody
from resguardo.domain.codes import OfficerStatus
from resguardo.domain.entities import Override
from resguardo.domain.errors import OfficerNotEligible, ValidationFailed

SUSPENDED = replace(ANA, status=OfficerStatus.SUSPENDED)
HOURS = timedelta(hours=1)


def granted(id_: int, officer_id: int = ANA.id, *, hours: float = 12, used: bool = False
            ) -> Override:
    return Override(id_, officer_id, CHIEF_ID, "Operativo especial autorizado",
                    NOW + hours * HOURS, used)


def test_an_override_lets_one_weapon_go_to_a_suspended_officer_and_names_itself():
    chosen = custody.override_to_use(SUSPENDED, NOW, [granted(7)])
    assert chosen is not None and chosen.id == 7
    assert custody.issue(GUN, SUSPENDED, NOW, chosen, today=NOW.date()).payload["override_id"] == 7


def test_a_used_override_covers_no_second_weapon():
    used = granted(7, used=True)  # the projection marks it once its issue is recorded
    assert custody.override_to_use(SUSPENDED, NOW, [used]) is None
    with pytest.raises(OfficerNotEligible, match="suspended"):
        custody.issue(GUN, SUSPENDED, NOW, used, today=NOW.date())  # even when handed over directly


def test_an_override_spent_earlier_in_the_same_import_covers_no_second_row():
    """An import decides many rows before any of them is projected: the override its
    first row used is still unused in storage, and ``spent`` is what says otherwise."""
    first = custody.override_to_use(SUSPENDED, NOW, [granted(7)], spent=set())
    assert first is not None
    assert custody.override_to_use(SUSPENDED, NOW, [granted(7)], spent={first.id}) is None


def test_with_two_overrides_each_covers_one_issue_the_latest_first():
    both = [granted(7), granted(9)]
    first = custody.override_to_use(SUSPENDED, NOW, both)
    assert first is not None and first.id == 9
    second = custody.override_to_use(SUSPENDED, NOW, both, spent={9})
    assert second is not None and second.id == 7
    assert custody.override_to_use(SUSPENDED, NOW, both, spent={7, 9}) is None


def test_an_override_for_one_officer_never_covers_another():
    luis = replace(LUIS, status=OfficerStatus.SUSPENDED)
    anas = granted(7, officer_id=ANA.id)
    assert custody.override_to_use(luis, NOW, [anas]) is None
    with pytest.raises(OfficerNotEligible) as refused:
        custody.issue(GUN, luis, NOW, anas, today=NOW.date())
    assert refused.value.details["badge"] == "P2"
    with pytest.raises(OfficerNotEligible):
        ammunition.issue(ARM1, luis, "9x19mm", "L-1", 30, 100, NOW, anas, today=NOW.date())


def test_an_override_covers_up_to_its_expiry_and_not_a_moment_later():
    override = granted(7, hours=2)
    at_expiry, after = NOW + 2 * HOURS, NOW + 2 * HOURS + timedelta(seconds=1)
    assert custody.override_to_use(SUSPENDED, at_expiry, [override]) == override
    assert custody.override_to_use(SUSPENDED, after, [override]) is None
    with pytest.raises(OfficerNotEligible):
        custody.issue(GUN, SUSPENDED, after, override, today=after.date())


def test_a_separated_officer_is_never_covered():
    separated = replace(ANA, status=OfficerStatus.SEPARATED)
    override = granted(7)
    with pytest.raises(OfficerNotEligible, match="separated"):
        custody.issue(GUN, separated, NOW, override, today=NOW.date())
    with pytest.raises(OfficerNotEligible):
        custody.grant_override(separated, "Operativo especial autorizado", NOW, NOW + HOURS)


def test_an_eligible_officer_takes_a_weapon_without_spending_the_chiefs_override():
    issued = custody.issue(GUN, ANA, NOW, granted(7), today=NOW.date())
    assert "override_id" not in issued.payload


def test_an_officer_with_an_expired_qualification_is_covered_like_a_suspended_one():
    stale = replace(ANA, qualification_expiry=date(2025, 1, 1))
    assert custody.issue(GUN, stale, NOW, granted(7), today=NOW.date()).payload["override_id"] == 7


def test_rounds_go_out_under_an_override_a_weapon_already_used():
    used = granted(7, used=True)
    chosen = custody.override_to_use(SUSPENDED, NOW, [used], single_use=False)
    assert chosen == used
    rounds = ammunition.issue(ARM1, SUSPENDED, "9x19mm", "L-1", 30, 100, NOW, chosen, today=NOW.date())
    assert rounds.payload["override_id"] == 7


def test_an_override_is_granted_with_a_reason_and_a_future_expiry():
    with pytest.raises(ValidationFailed) as short:
        custody.grant_override(SUSPENDED, "porque sí", NOW, NOW + HOURS)
    assert short.value.details["field"] == "reason"
    with pytest.raises(ValidationFailed) as past:
        custody.grant_override(SUSPENDED, "Operativo especial autorizado", NOW, NOW)
    assert past.value.details["field"] == "expires_at"


overrides = st.lists(st.builds(
    Override, id=st.integers(1, 40), officer_id=st.sampled_from([ANA.id, LUIS.id]),
    granted_by=st.just(CHIEF_ID), reason=st.just("Operativo especial autorizado"),
    expires_at=st.integers(-3, 3).map(lambda h: NOW + h * HOURS), used=st.booleans()),
    max_size=6, unique_by=lambda o: o.id)


@settings(max_examples=100, deadline=None)
@given(overrides, st.sets(st.integers(1, 40), max_size=4), st.booleans())
def test_the_override_picked_is_the_newest_one_the_issue_accepts(found, spent, single_use):
    """Whatever storage hands over: the pick is one that the issue's own rule accepts for
    this officer (with ``spent`` counted as used), and no newer one would be; when none
    is picked, none would be accepted."""
    def accepted(o: Override) -> bool:
        o = replace(o, used=o.used or o.id in spent)
        try:
            return custody.covering_override(SUSPENDED, NOW, o, "GLK-A100",
                                             single_use=single_use, today=NOW.date()) == o.id
        except OfficerNotEligible:
            return False

    pick = custody.override_to_use(SUSPENDED, NOW, found, single_use=single_use, spent=spent)
    covering = [o.id for o in found if accepted(o)]
    assert (pick.id if pick else None) == max(covering, default=None)
