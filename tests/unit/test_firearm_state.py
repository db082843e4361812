"""The one fold of an entry into a weapon's state (``domain.firearm_state``) and the fast
paths that do not call it but are generated from it or checked against it here: the
bulk import's registration row in SQL (``storage.bulk``), the row of a weapon issued or
sent to repair in its import's batch (``storage.import_batch``), and the projector's
handlers (every rule has one)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resguardo.domain import credential, custody, firearm_state, licences
from resguardo.domain.codes import FirearmStatus
from resguardo.domain.firearm_state import (
    ACTIONS,
    AT,
    POSITION,
    RULES,
    TRANSITIONS,
    Field,
    WeaponState,
    actions_for,
    changes,
    fold,
)
from resguardo.storage import bulk, import_batch, projector

S = FirearmStatus
AT_TEXT = "2025-03-04T09:00:00.000000Z"

ids = st.one_of(st.none(), st.integers(1, 2**40))
#: what a registration may hold (its checks refuse control characters)
printable = st.characters(blacklist_categories=("Cs", "Cc"))
texts = st.one_of(st.none(), st.text(printable, max_size=12))


def payload_for(rule: firearm_state.Rule, values: st.DrawFn) -> dict:
    return {source.name: values(ids) for source in rule.sets.values()
            if isinstance(source, Field)}


@given(st.sampled_from(sorted(RULES)), st.data(), st.integers(0, 2**40))
def test_folding_an_entry_sets_exactly_its_rules_columns(event_type, data, position):
    """The row after an entry is the row before it with the rule's columns replaced: a
    payload field, the instant, the position or a constant; nothing else moves."""
    rule = RULES[event_type]
    payload = {**payload_for(rule, data.draw), "firearm_id": 7}
    before = WeaponState("in_storage", 1, 2, None, 3, "2024-01-01T00:00:00.000000Z", 4,
                         "2024-01-01T00:00:00.000000Z", 1)
    after = fold(before, event_type, payload, AT_TEXT, position)
    for column in firearm_state.COLUMNS:
        source = rule.sets.get(column, getattr(before, column))
        if column not in rule.sets:
            expected = getattr(before, column)
        elif isinstance(source, Field):
            expected = payload[source.name]
        elif source is AT:
            expected = AT_TEXT
        elif source is POSITION:
            expected = position
        else:
            expected = source
        assert getattr(after, column) == expected, column
    assert changes(event_type, payload, AT_TEXT, position) == {
        c: getattr(after, c) for c in rule.columns}


def test_the_state_machine_and_its_readers_are_read_from_the_rules():
    assert custody.TRANSITIONS is TRANSITIONS
    assert TRANSITIONS["custody.issued"] == (frozenset({S.IN_STORAGE}), S.ISSUED)
    assert TRANSITIONS["firearm.moved"] == (frozenset({S.IN_STORAGE}), None)
    assert TRANSITIONS["firearm.transfer_requested"] == (frozenset({S.IN_STORAGE}), None)
    assert "firearm.assigned_of_record" not in TRANSITIONS  # a designation, not a movement
    assert {S.IN_STORAGE, S.ISSUED, S.IN_REPAIR} == credential.ASSIGNABLE
    assert {
        "firearm.unassigned_of_record", "firearm.reported_lost", "firearm.reported_stolen",
        "firearm.decommissioned", "firearm.transfer_sent"} == credential.ENDS_RECORD
    assert {S.DECOMMISSIONED, S.IN_TRANSIT} == licences._FINAL


def test_a_recovery_recorded_before_evidence_holding_returns_the_weapon_to_storage():
    lost = WeaponState("lost", 1, None, None)
    held = fold(lost, "firearm.recovered", {"firearm_id": 7}, AT_TEXT, 9)
    assert (held.status, held.location_id, held.custodian_id) == ("held_as_evidence", None,
                                                                  None)
    old = fold(lost, "firearm.recovered", {"firearm_id": 7, "location_id": 4}, AT_TEXT, 9)
    assert (old.status, old.location_id) == ("in_storage", 4)


def test_an_entry_that_is_not_custody_leaves_the_weapon_as_it_was():
    state = WeaponState("issued", 1, None, 5)
    assert fold(state, "firearm.loss_notified", {"firearm_id": 7}, AT_TEXT, 9) is state
    assert fold(state, "firearm.transfer_requested", {"firearm_id": 7}, AT_TEXT, 9) is state


@pytest.mark.parametrize("status", list(S))
def test_the_page_offers_what_the_state_machine_allows_in_each_status(status):
    offered = actions_for(status)
    for action, event_type in ACTIONS.items():
        assert (action in offered) == (status in firearm_state.ALLOWED_FROM[event_type])
    if status != S.DECOMMISSIONED:
        assert offered, f"a weapon {status} could never leave it from its page"


def test_every_status_is_reached_by_some_entry():
    reached = {rule.to for rule in RULES.values()} | {
        rule.legacy[1].to for rule in RULES.values() if rule.legacy}
    assert set(S) - reached == {S.IN_STORAGE} - reached  # registration: the payload's


def test_the_projector_applies_every_rule():
    """A new entry type in the rules is projected without a line of storage code."""
    for event_type, rule in RULES.items():
        assert event_type in projector.HANDLERS, event_type
        if rule.sets and event_type not in (
                "firearm.registered", "custody.issued", "firearm.transfer_sent",
                "firearm.decommissioned", "firearm.reported_lost", "firearm.reported_stolen",
                "firearm.recovered"):
            assert projector.HANDLERS[event_type] is projector._firearm, event_type


# --- the bulk import's registration row, in SQL -----------------------------------------

registrations = st.fixed_dictionaries({
    "serial": st.text(printable, min_size=1, max_size=10),
    "serial_key": st.text(printable, max_size=10),
    "make": st.text(printable, min_size=1, max_size=8), "make_key": st.text(printable, max_size=8),
    "model": texts, "calibre": st.text(printable, max_size=8), "kind": st.sampled_from(["pistol", "rifle"]),
    "folio": texts, "barrel_serial": texts, "ballistic_id": texts, "licence_id": ids,
    "acquired_on": st.one_of(st.none(), st.just("2024-05-06")), "supplier": texts,
    "purchase_ref": texts, "agency_id": st.integers(1, 2**40),
    "status": st.sampled_from([s.value for s in S]), "location_id": ids,
    "import_entry": ids,
})


@given(registrations, st.integers(0, 2**40))
def test_the_bulk_registration_row_in_sql_is_the_registration_fold(payload, position):
    """``storage.bulk`` derives a staged registration's row in SQLite from the rule of
    ``firearm.registered``: it equals the projector's row (the identity columns from the
    payload, the rest the fold of the registration)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE s (position, payload)")
    db.execute("CREATE TABLE c (at)")
    db.execute("INSERT INTO s VALUES (?, ?)", (position, json.dumps(payload)))
    db.execute("INSERT INTO c VALUES (?)", (AT_TEXT,))
    row = db.execute(f"SELECT {bulk._FIREARM_SELECT} FROM s, c").fetchone()
    got = dict(zip(bulk.FIREARM_COLUMNS, row, strict=True))
    state = fold(WeaponState(), "firearm.registered", payload, AT_TEXT, position)
    expected = {"id": position, "import_id": payload["import_entry"]}
    for name in bulk.FIREARM_COLUMNS:
        if name in firearm_state.COLUMNS:
            expected[name] = getattr(state, name)
        elif name not in expected:
            expected[name] = payload[name]
    assert got == expected
    # what the row leaves out, the fold leaves empty (the column's default)
    assert all(getattr(state, c) is None for c in firearm_state.COLUMNS
               if c not in bulk.FIREARM_COLUMNS)


def test_a_registration_rule_setting_a_column_the_bulk_row_lacks_is_refused():
    rule = RULES["firearm.registered"]
    bad = replace(rule, sets={**rule.sets, "record_since": AT})
    with pytest.raises(ValueError, match="record_since"):
        bulk.firearm_select(bad)


# --- the row of a weapon moved on in its import's batch --------------------------------

@pytest.mark.parametrize("event_type", sorted(RULES))
def test_the_import_folds_a_following_entry_only_when_the_row_can_carry_it(event_type):
    rule = RULES[event_type]
    payload = {**{s.name: 1 for s in rule.sets.values() if isinstance(s, Field)},
               "firearm_id": 7}
    folded = import_batch._folded(event_type, payload)
    carries = (bool(rule.columns) and projector.row_only(event_type, payload)
               and set(rule.columns) <= import_batch._FOLDABLE)
    assert (folded is rule) == carries
    if event_type in ("custody.issued", "firearm.repair_sent"):
        assert folded is rule  # the import's own fast path: its rows carry these
    if event_type == "custody.issued":  # an override used is written by the projector
        assert import_batch._folded(event_type, {**payload, "override_id": 3}) is None
