"""Reconciliation rules: the classification table of FORMATS.md, row by row, and its invariants."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.domain import suggestions as suggestions_module
from resguardo.domain.codes import FirearmStatus
from resguardo.domain.reconcile import reconcile, tally
from resguardo.domain.reconciliation import (
    SUMMARY_KEYS,
    WEAPON_CLASSES,
    FindingKind,
    RegistryEntry,
    Scan,
    combine,
    fast_serial_key,
)
from resguardo.domain.serials import serial_key
from resguardo.domain.suggestions import neighbours
from resguardo.domain.vocabulary import fold_text, parse_kind, parse_status

S = FirearmStatus
K = FindingKind


def weapon(serial: str = "ABC123", status: S = S.IN_STORAGE, **kw: object) -> RegistryEntry:
    kw.setdefault("make", "Glock")
    kw.setdefault("location", "Armería 1" if status is S.IN_STORAGE else None)
    if status is S.ISSUED:
        kw.setdefault("custodian", "P-0142")
    return RegistryEntry(serial, status=status, **kw)  # type: ignore[arg-type]


def kinds(result: object) -> list[str]:
    return [f.kind.value for f in result.findings]  # type: ignore[attr-defined]


def only(result: object, kind: FindingKind):  # type: ignore[no-untyped-def]
    found = list(result.of_kind(kind))  # type: ignore[attr-defined]
    assert len(found) == 1, found
    return found[0]


# -- the classification table, row by row ------------------------------------------------


@pytest.mark.parametrize("status", [S.LOST, S.STOLEN, S.DECOMMISSIONED])
def test_a_lost_stolen_or_decommissioned_weapon_that_is_scanned_is_a_status_conflict(status):
    result = reconcile([weapon(status=status)], [Scan("ABC123", "Armería 1")])
    assert kinds(result) == ["status_conflict"]
    assert result.summary["matched"] == 0


@pytest.mark.parametrize("status", [S.LOST, S.STOLEN, S.DECOMMISSIONED])
def test_a_lost_stolen_or_decommissioned_weapon_not_seen_is_no_finding(status):
    result = reconcile([weapon(status=status)], [])
    assert result.findings == ()
    assert result.summary["registry"] == 1
    assert result.summary["matched"] == 0


def test_a_weapon_in_storage_seen_at_its_location_without_holder_is_matched():
    result = reconcile([weapon()], [Scan("ABC123", "Armería 1")])
    assert result.findings == ()
    assert result.summary["matched"] == 1


def test_a_weapon_in_storage_seen_at_another_location_is_mislocated():
    result = reconcile([weapon()], [Scan("ABC123", "Armería 2")])
    finding = only(result, K.MISLOCATED)
    assert finding.observed.location == "Armería 2"
    assert finding.registry.location == "Armería 1"


def test_a_weapon_in_storage_seen_with_a_holder_is_a_custody_mismatch():
    result = reconcile([weapon()], [Scan("ABC123", "Armería 1", holder="P-7")])
    assert kinds(result) == ["custody_mismatch"]


def test_an_issued_weapon_held_by_its_custodian_is_matched_wherever_it_is():
    result = reconcile([weapon(status=S.ISSUED)], [Scan("ABC123", "Patrulla 12", holder="P-0142")])
    assert result.findings == ()
    assert result.summary["matched"] == 1


def test_an_issued_weapon_held_by_another_badge_is_a_custody_mismatch():
    result = reconcile([weapon(status=S.ISSUED)], [Scan("ABC123", holder="P-9999")])
    assert kinds(result) == ["custody_mismatch"]


def test_an_issued_weapon_seen_with_no_holder_is_a_custody_mismatch():
    result = reconcile([weapon(status=S.ISSUED)], [Scan("ABC123", "Armería 1")])
    assert kinds(result) == ["custody_mismatch"]


@pytest.mark.parametrize("status", [S.IN_REPAIR, S.IN_TRANSIT, S.HELD_AS_EVIDENCE])
def test_a_weapon_in_repair_in_transit_or_held_as_evidence_not_seen_is_explained(status):
    result = reconcile([weapon(status=status)], [])
    assert kinds(result) == ["explained"]


@pytest.mark.parametrize("status", [S.IN_REPAIR, S.IN_TRANSIT, S.HELD_AS_EVIDENCE])
def test_a_weapon_away_for_a_documented_reason_seen_anywhere_with_anyone_is_matched(status):
    result = reconcile([weapon(status=status)], [Scan("ABC123", "Taller", holder="P-1")])
    assert result.findings == ()
    assert result.summary["matched"] == 1


@pytest.mark.parametrize("status", [S.IN_STORAGE, S.ISSUED])
def test_a_weapon_in_storage_or_issued_not_seen_is_missing(status):
    result = reconcile([weapon(status=status)], [])
    finding = only(result, K.MISSING)
    assert finding.observed is None
    assert finding.serial == "ABC123"


# -- scans ------------------------------------------------------------------------------


def test_a_scan_whose_serial_is_in_no_registry_is_unregistered_with_the_serial_as_scanned():
    result = reconcile([weapon()], [Scan("ABC123", "Armería 1"), Scan("zz-9", "Armería 1")])
    finding = only(result, K.UNREGISTERED)
    assert finding.serial == "zz-9"
    assert finding.registry is None


def test_a_scan_without_location_does_not_compare_location():
    result = reconcile([weapon()], [Scan("ABC123")])
    assert result.summary["matched"] == 1


def test_a_registry_weapon_without_location_matches_a_scan_at_any_location():
    result = reconcile([weapon(location=None)], [Scan("ABC123", "Bodega")])
    assert result.summary["matched"] == 1


def test_places_and_badges_are_compared_without_case_accents_or_spacing():
    registry = [weapon("A1"), weapon("B2", S.ISSUED, custodian="Ana  Pérez")]
    scans = [Scan("A1", "  ARMERIA 1"), Scan("B2", holder="ana perez")]
    assert reconcile(registry, scans).summary["matched"] == 2


def test_serials_match_without_regard_to_case_or_separators():
    registry = [weapon("ab-12.3/4 5")]
    assert reconcile(registry, [Scan("AB12345", "Armería 1")]).summary["matched"] == 1


def test_look_alike_characters_are_not_matched_exactly():
    result = reconcile([weapon("AB0")], [Scan("ABO", "Armería 1")])
    assert sorted(kinds(result)) == ["missing", "unregistered"]


def test_a_scan_giving_the_make_matches_it_without_regard_to_case_or_spacing():
    registry = [weapon(make="Smith  &  Wesson")]
    result = reconcile(registry, [Scan("ABC123", "Armería 1", make="SMITH & WESSON")])
    assert result.summary["matched"] == 1


def test_a_scan_giving_another_make_is_unregistered_and_suggested_at_distance_zero():
    result = reconcile([weapon(make="Glock")], [Scan("ABC123", "Armería 1", make="Beretta")])
    missing = only(result, K.MISSING)
    unregistered = only(result, K.UNREGISTERED)
    assert missing.suggested_match.serial == "ABC123"
    assert missing.suggested_match.distance == 0
    assert unregistered.suggested_match.distance == 0


def test_a_scan_of_another_agencys_weapon_is_foreign_when_the_agency_is_given():
    registry = [weapon("A1", agency="Municipal"), weapon("B2", agency="Estatal")]
    result = reconcile(
        registry, [Scan("A1", "Armería 1"), Scan("B2", "Armería 1")], agency="municipal"
    )
    finding = only(result, K.FOREIGN)
    assert finding.serial == "B2"
    assert finding.registry.agency == "Estatal"
    assert result.summary["registry"] == 1
    assert result.summary["matched"] == 1


def test_another_agencys_weapons_not_seen_are_out_of_scope():
    registry = [weapon("A1", agency="Municipal"), weapon("B2", agency="Estatal")]
    result = reconcile(registry, [Scan("A1", "Armería 1")], agency="Municipal")
    assert result.findings == ()
    assert result.summary["registry"] == 1


def test_a_weapon_without_agency_belongs_to_the_inspected_agency():
    result = reconcile([weapon("A1", agency=None)], [], agency="Municipal")
    assert kinds(result) == ["missing"]


def test_without_an_agency_every_weapon_is_in_scope_and_nothing_is_foreign():
    registry = [weapon("A1", agency="Municipal"), weapon("B2", agency="Estatal")]
    result = reconcile(registry, [Scan("B2", "Armería 1")])
    assert result.summary["foreign"] == 0
    assert result.summary["registry"] == 2


# -- duplicates and the first scan --------------------------------------------------------


def test_a_weapon_seen_at_two_locations_is_classified_by_its_first_scan_and_reported_once():
    scans = [
        Scan("ABC123", "Armería 1", order=1),
        Scan("ABC123", "Armería 2", order=2),
        Scan("ABC123", "Armería 3", order=3),
    ]
    result = reconcile([weapon()], scans)
    assert kinds(result) == ["duplicate_scan"]
    assert result.summary["matched"] == 1
    assert only(result, K.DUPLICATE_SCAN).observed.location == "Armería 2"


def test_a_weapon_seen_with_two_holders_is_a_duplicate_scan():
    scans = [Scan("ABC123", holder="P-0142", order=1), Scan("ABC123", holder="P-7", order=2)]
    result = reconcile([weapon(status=S.ISSUED)], scans)
    assert sorted(kinds(result)) == ["duplicate_scan"]


def test_a_weapon_seen_held_and_then_on_the_rack_is_a_duplicate_scan():
    scans = [Scan("ABC123", "Armería 1", order=1), Scan("ABC123", "Armería 1", "P-1", order=2)]
    assert "duplicate_scan" in kinds(reconcile([weapon()], scans))


def test_a_repeated_scan_at_the_same_place_is_not_a_finding():
    scans = [Scan("ABC123", "Armería 1", order=1), Scan("abc-123", "ARMERÍA 1", order=2)]
    result = reconcile([weapon()], scans)
    assert result.findings == ()
    assert result.summary["scans"] == 2


def test_a_scan_without_location_is_not_at_another_place():
    scans = [Scan("ABC123", "Armería 1", order=1), Scan("ABC123", None, order=2)]
    assert reconcile([weapon()], scans).findings == ()


def test_scans_without_location_on_either_side_of_two_locations_still_make_a_duplicate():
    scans = [
        Scan("ABC123", None, order=1),
        Scan("ABC123", "Armería 1", order=2),
        Scan("ABC123", None, order=3),
        Scan("ABC123", "Armería 2", order=4),
    ]
    assert kinds(reconcile([weapon()], scans)) == ["duplicate_scan"]


def test_the_first_scan_is_the_lowest_order_even_when_it_comes_later():
    scans = [Scan("ABC123", "Armería 2", order=9), Scan("ABC123", "Armería 1", order=3)]
    result = reconcile([weapon()], scans)
    assert kinds(result) == ["duplicate_scan"]
    assert result.summary["matched"] == 1


def test_an_unregistered_serial_seen_twice_at_one_place_is_one_finding():
    scans = [Scan("ZZ1", "Armería 1", order=1), Scan("zz1", "Armería 1", order=2)]
    assert kinds(reconcile([], scans)) == ["unregistered"]


def test_an_unregistered_serial_seen_at_two_places_is_also_a_duplicate_scan():
    scans = [Scan("ZZ1", "Armería 1", order=1), Scan("ZZ1", "Armería 2", order=2)]
    assert kinds(reconcile([], scans)) == ["unregistered", "duplicate_scan"]


# -- one serial key, several weapons -------------------------------------------------------


def test_a_scan_without_make_accounts_for_only_one_of_two_weapons_sharing_a_serial():
    registry = [weapon("A1", make="Glock"), weapon("A-1", make="Colt")]
    result = reconcile(registry, [Scan("A1", "Armería 1")])
    assert result.summary["matched"] == 1
    missing = only(result, K.MISSING)
    assert missing.make == "Colt"
    assert missing.suggested_match.serial == "A1"
    assert missing.suggested_match.distance == 0


def test_a_scan_without_make_goes_to_the_weapon_whose_recorded_place_agrees():
    registry = [
        weapon("A1", make="Glock", location="Armería 1"),
        weapon("A1", make="Colt", location="Armería 2"),
    ]
    result = reconcile(registry, [Scan("A1", "Armería 2")])
    assert only(result, K.MISSING).make == "Glock"
    assert result.summary["matched"] == 1


def test_two_scans_without_make_account_for_two_weapons_sharing_a_serial():
    registry = [weapon("A1", make="Glock"), weapon("A1", make="Colt")]
    result = reconcile(
        registry, [Scan("A1", "Armería 1", order=1), Scan("A1", "Armería 1", order=2)]
    )
    assert result.findings == ()
    assert result.summary["matched"] == 2


def test_a_scan_with_make_picks_that_weapon_among_those_sharing_a_serial():
    registry = [weapon("A1", make="Glock"), weapon("A1", make="Colt")]
    result = reconcile(registry, [Scan("A1", "Armería 1", make="colt")])
    assert only(result, K.MISSING).make == "Glock"


def test_the_inspected_agencys_weapon_is_preferred_over_another_agencys_with_the_same_serial():
    registry = [weapon("A1", agency="Estatal"), weapon("A1", make="Colt", agency="Municipal")]
    result = reconcile(registry, [Scan("A1", "Armería 1")], agency="Municipal")
    assert result.findings == ()
    assert result.summary["matched"] == 1


# -- suggested matches ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registered", "scanned"),
    [
        ("AB1O5", "AB105"),  # look-alike substitution
        ("AB105", "AB1O5"),  # the other way
        ("AB105", "AB1055"),  # insertion
        ("AB105", "AB15"),  # deletion
        ("AB105", "AX105"),  # plain substitution
    ],
)
def test_an_unregistered_scan_one_edit_from_a_missing_weapon_is_suggested_both_ways(
    registered, scanned
):
    result = reconcile([weapon(registered)], [Scan(scanned, "Armería 1")])
    missing, unregistered = only(result, K.MISSING), only(result, K.UNREGISTERED)
    assert missing.suggested_match.serial == scanned
    assert missing.suggested_match.distance == 1
    assert unregistered.suggested_match.serial == registered
    assert unregistered.suggested_match.distance == 1


def test_a_scan_two_edits_away_is_not_suggested():
    result = reconcile([weapon("AB105")], [Scan("AX10S", "Armería 1")])
    assert all(f.suggested_match is None for f in result.findings)


def test_a_suggestion_never_changes_a_kind():
    result = reconcile([weapon("AB105")], [Scan("AB1O5", "Armería 1")])
    assert result.summary["missing"] == 1
    assert result.summary["unregistered"] == 1
    assert result.summary["matched"] == 0


def test_a_look_alike_misread_ranks_before_another_edit():
    registry = [weapon("AB10X"), weapon("AB105")]
    result = reconcile(registry, [Scan("AB1O5", "Armería 1")])
    assert only(result, K.UNREGISTERED).suggested_match.serial == "AB105"


def test_a_misread_serial_of_another_make_is_not_suggested():
    result = reconcile([weapon("AB105", make="Glock")], [Scan("AB1O5", make="Colt")])
    assert all(f.suggested_match is None for f in result.findings)


def test_weapons_that_are_not_missing_get_no_suggestion():
    registry = [weapon("AB105", status=S.IN_REPAIR)]
    result = reconcile(registry, [Scan("AB1O5", "Armería 1")])
    assert all(f.suggested_match is None for f in result.findings)


def _levenshtein_at_most_one(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


keys = st.text(alphabet="AB01O", min_size=0, max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.lists(keys, max_size=12), st.lists(keys, max_size=12), st.integers(1, 4))
def test_neighbours_finds_exactly_the_pairs_within_one_edit(left, right, chunk):
    original = suggestions_module._CHUNK
    suggestions_module._CHUNK = chunk  # exercise the chunked index too
    try:
        found = {(a, b): d for a, b, d in neighbours(left, right)}
    finally:
        suggestions_module._CHUNK = original
    expected = {
        (a, b): 0 if left[a] == right[b] else 1
        for a in range(len(left))
        for b in range(len(right))
        if _levenshtein_at_most_one(left[a], right[b])
    }
    assert found == expected


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
def test_the_fast_serial_key_equals_serial_key(serial):
    assert fast_serial_key(serial) == serial_key(serial)


@given(st.text(alphabet="aB1-. _/\\\t", max_size=10))
def test_the_fast_serial_key_equals_serial_key_on_separators(serial):
    assert fast_serial_key(serial) == serial_key(serial)


# -- output shape ---------------------------------------------------------------------------


def test_the_summary_lists_every_kind_zero_or_not_in_the_documented_order():
    result = reconcile([], [])
    assert list(result.as_dict()["summary"]) == list(SUMMARY_KEYS)
    assert list(SUMMARY_KEYS) == [
        "registry",
        "scans",
        "matched",
        "missing",
        "unregistered",
        "foreign",
        "status_conflict",
        "mislocated",
        "custody_mismatch",
        "duplicate_scan",
        "explained",
    ]


def test_a_finding_serializes_to_the_documented_json_shape():
    result = reconcile([weapon("AB105", status=S.ISSUED)], [Scan("AB1O5", "Armería 1", order=4)])
    data = json.loads(json.dumps(result.as_dict()))
    missing = data["findings"][0]
    assert missing == {
        "kind": "missing",
        "serial": "AB105",
        "make": "Glock",
        "registry": {"location": None, "custodian": "P-0142", "status": "issued"},
        "observed": None,
        "suggested_match": {"serial": "AB1O5", "distance": 1},
    }
    unregistered = data["findings"][1]
    assert unregistered["registry"] is None
    assert unregistered["observed"]["location"] == "Armería 1"
    assert unregistered["observed"]["order"] == 4


# -- vocabulary -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("En armería", S.IN_STORAGE),
        ("EN RESGUARDO DE ARMERIA", S.IN_STORAGE),
        ("almacenada", S.IN_STORAGE),
        ("in_storage", S.IN_STORAGE),
        ("Asignada", S.ISSUED),
        ("en resguardo de elemento", S.ISSUED),
        ("en reparacion", S.IN_REPAIR),
        ("En Tránsito", S.IN_TRANSIT),
        ("extraviada", S.LOST),
        ("Robada", S.STOLEN),
        ("BAJA", S.DECOMMISSIONED),
        ("decommissioned", S.DECOMMISSIONED),
    ],
)
def test_status_words_are_read_in_spanish_or_english_without_case_or_accents(text, code):
    assert parse_status(text) is code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Pistola", "pistol"),
        ("revolver", "revolver"),
        ("Revólver", "revolver"),
        ("FUSIL", "rifle"),
        ("carabina", "carbine"),
        ("shotgun", "shotgun"),
        ("Subametralladora", "submachine_gun"),
        ("submachine gun", "submachine_gun"),
        ("otra", "other"),
    ],
)
def test_kind_words_are_read_in_spanish_or_english(text, code):
    assert parse_kind(text).value == code


def test_an_unknown_status_is_refused_with_the_accepted_words():
    with pytest.raises(Exception, match="unknown status 'perdida'.*extraviada"):
        parse_status("perdida")


def test_fold_text_ignores_case_accents_and_spacing():
    assert fold_text("  Armería   CENTRAL ") == fold_text("armeria central")


# -- invariants -----------------------------------------------------------------------------

statuses = st.sampled_from(list(FirearmStatus))
places = st.sampled_from(["Armería 1", "ARMERIA 1", "Armería 2", None])
holders = st.sampled_from(["P-1", "p-1", "P-2", None])
serials = st.sampled_from(["A1", "A-1", "AO", "A0", "B7", "B77", "C3", "c3"])
makes = st.sampled_from(["Glock", "GLOCK", "Colt", None])


@st.composite
def registries_and_counts(draw):  # type: ignore[no-untyped-def]
    registry = draw(
        st.lists(
            st.builds(
                RegistryEntry,
                serial=serials,
                make=st.sampled_from(["Glock", "Colt"]),
                status=statuses,
                location=places,
                custodian=holders,
                agency=st.sampled_from(["Municipal", "Estatal", None]),
            ),
            max_size=8,
        )
    )
    scans = draw(
        st.lists(
            st.builds(Scan, serial=serials, location=places, holder=holders, make=makes),
            max_size=10,
        )
    )
    for n, scan in enumerate(scans):
        scan.order = draw(st.integers(0, 20)) if n % 2 else n
    agency = draw(st.sampled_from([None, "Municipal"]))
    return registry, scans, agency


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(registries_and_counts())
def test_every_weapon_lands_in_at_most_one_class_and_the_summary_counts_the_findings(case):
    registry, scans, agency = case
    result = reconcile(registry, scans, agency=agency)

    counted = Counter(f.kind.value for f in result.findings)
    for kind in FindingKind:
        assert result.summary[kind.value] == counted[kind.value]

    classes = Counter(id(f.registry) for f in result.findings if f.kind in WEAPON_CLASSES)
    assert all(n == 1 for n in classes.values())

    def ours(e: RegistryEntry) -> bool:
        return agency is None or e.agency in (None, agency)

    in_scope = [e for e in registry if ours(e)]
    assert result.summary["registry"] == len(in_scope)
    classified = sum(1 for e in in_scope if id(e) in classes)
    unseen_gone = result.summary["registry"] - result.summary["matched"] - classified
    # Only weapons recorded as gone and never seen may be left out of every class.
    gone = [e for e in in_scope if e.status in (S.LOST, S.STOLEN, S.DECOMMISSIONED)]
    assert 0 <= unseen_gone <= len(gone)
    assert result.summary["scans"] == len(scans)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(registries_and_counts())
def test_scans_of_registered_weapons_never_become_unregistered(case):
    registry, scans, agency = case
    result = reconcile(registry, scans, agency=agency)
    registered = {(serial_key(e.serial), e.make.upper()) for e in registry}
    registered_keys = {serial_key(e.serial) for e in registry}
    for finding in result.of_kind(FindingKind.UNREGISTERED):
        scan = finding.observed
        key = serial_key(scan.serial)
        if scan.make is None:
            assert key not in registered_keys
        else:
            assert (key, scan.make.upper()) not in registered


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(registries_and_counts())
def test_a_weapon_seen_once_or_at_one_place_is_never_a_duplicate_scan(case):
    registry, scans, agency = case
    result = reconcile(registry, scans, agency=agency)
    places_by_key: dict[str, set[tuple[str | None, str | None]]] = {}
    for scan in scans:
        place = (
            None if scan.location is None else fold_text(scan.location),
            None if scan.holder is None else fold_text(scan.holder),
        )
        places_by_key.setdefault(serial_key(scan.serial), set()).add(place)
    for finding in result.of_kind(FindingKind.DUPLICATE_SCAN):
        seen = places_by_key[serial_key(finding.observed.serial)]
        assert len(seen) > 1


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(registries_and_counts(), st.integers(2, 3))
def test_tallies_of_disjoint_serial_key_shards_combine_into_the_whole(case, shards):
    registry, scans, agency = case

    def shard(serial: str) -> int:
        return sum(map(ord, serial_key(serial))) % shards

    parts = [
        tally(
            [e for e in registry if shard(e.serial) == n],
            [s for s in scans if shard(s.serial) == n],
            agency=agency,
        )
        for n in range(shards)
    ]
    assert combine(parts).as_dict() == reconcile(registry, scans, agency=agency).as_dict()
