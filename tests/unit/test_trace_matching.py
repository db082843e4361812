"""Trace matching: the weighted serial distance and the index that must agree with a full scan."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resguardo.domain.errors import Conflict, NotFound, ValidationFailed
from resguardo.domain.serial_index import SerialIndex
from resguardo.domain.serials import is_lookalike, make_key, serial_key
from resguardo.domain.trace import (
    Candidate,
    Differences,
    differences,
    parse_query,
    trace_distance,
    trace_ways,
)

REGISTRY = [
    (1, "PX12345", "Beretta"),
    (2, "BKRT123", "Glock"),
    (3, "LE123456", "Colt"),
    (4, "58A123456", "SIG Sauer"),
    (5, "24-123456", "HK"),
    (6, "DVS1234", "Smith & Wesson"),
    (7, "1234-56789", "Ruger"),
    (8, "V1234567", "Mossberg"),
]


@pytest.fixture()
def index() -> SerialIndex:
    return SerialIndex(REGISTRY)


def ids(candidates: list[Candidate]) -> list[object]:
    return [c.id for c in candidates]


def test_a_fully_read_serial_is_found_at_distance_zero(index: SerialIndex) -> None:
    assert index.search("px-12345")[0] == Candidate(1, "PX12345", 0.0)


def test_a_look_alike_misreading_costs_half_a_point(index: SerialIndex) -> None:
    found = index.search("PXI2345")  # I read for 1
    assert found[0] == Candidate(1, "PX12345", 0.5)


def test_two_look_alike_misreadings_cost_one_point(index: SerialIndex) -> None:
    assert index.search("8KRTI23")[0] == Candidate(2, "BKRT123", 1.0)


def test_an_unreadable_character_matches_anything_at_a_tenth(index: SerialIndex) -> None:
    assert index.search("PX12?45")[0] == Candidate(1, "PX12345", 0.1)


def test_several_unreadable_characters_in_any_position_are_matched(index: SerialIndex) -> None:
    assert index.search("?E1?34?6")[0] == Candidate(3, "LE123456", 0.3)
    assert index.search("???123456")[0].id == 4


def test_a_missing_character_costs_one_point(index: SerialIndex) -> None:
    assert index.search("DVS124")[0] == Candidate(6, "DVS1234", 1.0)


def test_an_extra_character_costs_one_point(index: SerialIndex) -> None:
    assert index.search("V12345677")[0] == Candidate(8, "V1234567", 1.0)


def test_a_known_prefix_alone_finds_the_serial(index: SerialIndex) -> None:
    assert index.search("58A1*", max_distance=0)[0] == Candidate(4, "58A123456", 0.0)


def test_a_known_suffix_alone_finds_the_serial(index: SerialIndex) -> None:
    found = index.search("*56789", max_distance=0)
    assert found == [Candidate(7, "123456789", 0.0)]


def test_a_known_middle_piece_finds_the_serial(index: SerialIndex) -> None:
    assert ids(index.search("*KRT1*", max_distance=0)) == [2]


def test_a_damaged_suffix_still_finds_the_serial(index: SerialIndex) -> None:
    assert index.search("*5G7B9", max_distance=1.0)[0] == Candidate(7, "123456789", 1.0)


def test_exact_matches_rank_before_look_alikes_and_look_alikes_before_other_substitutions() -> None:
    index = SerialIndex(
        [(1, "PX1A345", "Beretta"), (2, "PX1Z345", "Beretta"), (3, "PX12345", "Beretta")]
    )
    assert index.search("PX12345") == [
        Candidate(3, "PX12345", 0.0),
        Candidate(2, "PX1Z345", 0.5),
        Candidate(1, "PX1A345", 1.0),
    ]


def test_only_a_fully_read_serial_gets_distance_zero() -> None:
    index = SerialIndex([(1, "AB1235", "X"), (2, "AB1234", "X")])
    assert [c.distance for c in index.search("AB123?")] == [0.1, 0.1]
    assert index.search("AB1234") == [Candidate(2, "AB1234", 0.0), Candidate(1, "AB1235", 1.0)]


def test_equal_distances_are_ordered_by_serial_key() -> None:
    index = SerialIndex([(1, "AB1239", "X"), (2, "AB1231", "X"), (3, "AB1235", "X")])
    assert ids(index.search("AB123?")) == [2, 3, 1]


def test_at_equal_distance_the_serial_reached_in_more_ways_ranks_first() -> None:
    # LW690153 is two edits from each: LW604153 either by two misread digits or by
    # a lost 4 and an extra 9, the others only by two misread digits.
    index = SerialIndex([(1, "LW090152", "Colt"), (2, "LW600353", "Colt"), (3, "LW604153", "Colt")])
    assert index.search("LW690153") == [
        Candidate(3, "LW604153", 2.0),
        Candidate(1, "LW090152", 2.0),
        Candidate(2, "LW600353", 2.0),
    ]
    assert ids(index.search("LW690153", limit=1)) == [3]


def test_more_ways_never_lift_a_serial_above_a_nearer_one() -> None:
    index = SerialIndex([(1, "LW604153", "Colt"), (2, "LW690152", "Colt")])
    assert index.search("LW690153") == [
        Candidate(2, "LW690152", 1.0),
        Candidate(1, "LW604153", 2.0),
    ]


def test_the_ways_count_each_cheapest_damage_that_turns_the_serial_into_the_reading() -> None:
    assert trace_ways("LW690153", "LW604153") == 2  # 0->9 and 4->0, or 9 extra and 4 missing
    assert trace_ways("LW690153", "LW090152") == 1  # 6->0 and 3->2 only
    assert trace_ways("PX1234", "PX12344") == 2  # either 4 was lost
    assert trace_ways("PX12345", "PX12345") == 1
    assert trace_ways("PX1?345", "PX12345") == 1
    assert trace_ways("XYZ999", "PX12345") == 0  # beyond the maximum distance
    assert trace_ways("PX1*", "PX12345") == 1


def test_serials_beyond_the_maximum_distance_are_left_out(index: SerialIndex) -> None:
    assert index.search("PX1XX4Y", max_distance=2.0) == []
    assert ids(index.search("PX1XX45", max_distance=2.0)) == [1]


def test_the_make_filter_keeps_only_that_make() -> None:
    index = SerialIndex([(1, "ABC123", "Glock"), (2, "ABC123", "Taurus")])
    assert ids(index.search("ABC123", limit=None)) == [1, 2]
    assert ids(index.search("ABC123", make=" glock ")) == [1]
    assert ids(index.search("*C123", make="TAURUS")) == [2]
    assert index.search("ABC123", make="Beretta") == []


def test_a_removed_serial_is_no_longer_found_and_its_correction_is(index: SerialIndex) -> None:
    index.remove(2)
    assert 2 not in ids(index.search("BKRT123"))
    index.add(2, "BKRT128", "Glock")
    assert index.search("BKRT128")[0] == Candidate(2, "BKRT128", 0.0)
    assert len(index) == len(REGISTRY)


def test_removing_an_unknown_firearm_is_refused(index: SerialIndex) -> None:
    with pytest.raises(NotFound):
        index.remove(99)


def test_adding_a_firearm_twice_is_refused(index: SerialIndex) -> None:
    with pytest.raises(Conflict):
        index.add(1, "PX99999", "Beretta")


def test_a_star_in_the_middle_of_a_query_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        parse_query("AB*12")


def test_a_query_with_nothing_readable_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        parse_query("*??*")


def test_a_negative_maximum_distance_is_refused(index: SerialIndex) -> None:
    with pytest.raises(ValidationFailed):
        index.search("PX12345", max_distance=-1)


def test_queries_are_normalized_like_serial_keys_but_keep_their_marks() -> None:
    query = parse_query(" *ab-1?2 ")
    assert (query.text, query.body, query.known_start, query.known_end) == (
        "*AB1?2",
        "AB1?2",
        False,
        True,
    )


def test_the_distance_function_follows_the_documented_costs() -> None:
    assert trace_distance("ABC123", "ABC123") == 0.0
    assert trace_distance("AB?123", "ABC123") == 0.1
    assert trace_distance("ABO123", "AB0123") == 0.5
    assert trace_distance("ABX123", "ABC123") == 1.0
    assert trace_distance("AB123", "ABC123") == 1.0
    assert trace_distance("ABCC123", "ABC123") == 1.0
    assert trace_distance("ABC*", "ABC123") == 0.0
    assert trace_distance("*123", "ABC123") == 0.0
    assert trace_distance("XYZ999", "ABC123") is None
    assert trace_distance("XYZ999", "ABC123", max_distance=10) == 6.0


def test_additions_after_a_search_and_merges_are_found() -> None:
    index = SerialIndex(merge_after=2)
    index.add(1, "AAA111", "X")
    assert ids(index.search("AAA111")) == [1]
    for n in range(2, 8):
        index.add(n, f"AAA11{n}", "X")
        assert index.search(f"AAA11{n}")[0].id == n
    for n in range(2, 7):
        index.remove(n)
    assert ids(index.search("AAA11?", limit=None)) == [1, 7]
    index.compact()
    assert ids(index.search("AAA11?", limit=None)) == [1, 7]


def test_a_pickled_index_answers_alike_in_a_process_with_another_hash_seed(
    tmp_path: Path,
) -> None:
    packed = SerialIndex(REGISTRY)
    packed.compact()
    fresh = SerialIndex(REGISTRY)
    fresh.search("PX12345")
    script = (
        "import pickle, sys\n"
        "for path in sys.argv[1:]:\n"
        "    index = pickle.loads(open(path, 'rb').read())\n"
        "    print([(c.id, c.distance) for c in index.search('PXI2345')])\n"
    )
    paths = []
    for name, index in (("packed", packed), ("fresh", fresh)):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(pickle.dumps(index))
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-c", script, *map(str, paths)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        assert run.stdout.split("\n")[:2] == ["[(1, 0.5)]", "[(1, 0.5)]"]


# --- the index never misses what a full scan with the same distance finds ---

ALPHABET = "O0DQI1LTS5B8Z2G6AXK9"
serials = st.text(alphabet=ALPHABET, min_size=1, max_size=8)
makes = st.sampled_from(["Glock", "Beretta", "Colt"])


def brute_force(
    query: str, registry: dict[int, tuple[str, str]], max_distance: float, make: str | None
) -> list[Candidate]:
    hits = []
    for firearm_id, (serial, firearm_make) in registry.items():
        if make is not None and make_key(make) != make_key(firearm_make):
            continue
        distance = trace_distance(query, serial, max_distance=max_distance)
        if distance is not None:
            ways = trace_ways(query, serial, max_distance=max_distance)
            hits.append(
                (
                    distance,
                    -ways,
                    serial_key(serial),
                    make_key(firearm_make),
                    repr(firearm_id),
                    firearm_id,
                )
            )
    hits.sort()
    return [Candidate(fid, key, d) for d, _, key, _, _, fid in hits]


@st.composite
def damaged(draw: st.DrawFn, serial: str) -> str:
    """A serial damaged as a recovered weapon's might be: look-alikes, ?, edits, cut ends."""
    chars = list(serial)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["lookalike", "unreadable", "sub", "drop", "extra"]))
        pos = draw(st.integers(0, max(0, len(chars) - 1)))
        if kind == "extra" or not chars:
            chars.insert(pos, draw(st.sampled_from(ALPHABET)))
        elif kind == "drop" and len(chars) > 1:
            del chars[pos]
        elif kind == "unreadable":
            chars[pos] = "?"
        else:
            chars[pos] = draw(st.sampled_from(ALPHABET))
    text = "".join(chars)
    cut = draw(st.sampled_from(["none", "none", "prefix", "suffix", "middle"]))
    keep = draw(st.integers(1, max(1, len(text))))
    if cut == "prefix":
        text = text[:keep] + "*"
    elif cut == "suffix":
        text = "*" + text[-keep:]
    elif cut == "middle":
        start = draw(st.integers(0, len(text) - keep))
        text = "*" + text[start : start + keep] + "*"
    if not text.strip("*").replace("?", ""):
        text = serial
    return text


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[list[tuple[str, int, str, str]], str, float, str | None, int | None, int]:
    registered = draw(st.lists(st.tuples(serials, makes), min_size=1, max_size=40))
    ops: list[tuple[str, int, str, str]] = [
        ("add", n, serial, make) for n, (serial, make) in enumerate(registered)
    ]
    for n in draw(st.lists(st.integers(0, len(registered) - 1), max_size=5, unique=True)):
        ops.append(("remove", n, "", ""))
        if draw(st.booleans()):
            ops.append(("add", n, draw(serials), draw(makes)))
    source = draw(st.sampled_from(registered))[0]
    query = draw(damaged(source))
    max_distance = draw(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 2.0, 2.0, 2.5, 3.0]))
    make = draw(st.one_of(st.none(), makes))
    limit = draw(st.one_of(st.none(), st.integers(1, 5)))
    split = draw(st.integers(0, len(ops)))
    return ops, query, max_distance, make, limit, split


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from([1, 3, 20_000]))
def test_the_index_finds_exactly_what_a_full_scan_finds(
    scenario: tuple[list[tuple[str, int, str, str]], str, float, str | None, int | None, int],
    merge_after: int,
) -> None:
    ops, query, max_distance, make, limit, split = scenario
    index = SerialIndex(merge_after=merge_after)
    registry: dict[int, tuple[str, str]] = {}
    for step, (op, firearm_id, serial, firearm_make) in enumerate(ops):
        if step == split:
            index.search(query, max_distance=max_distance)  # index what came so far
        if op == "add":
            index.add(firearm_id, serial, firearm_make)
            registry[firearm_id] = (serial, firearm_make)
        else:
            index.remove(firearm_id)
            del registry[firearm_id]
    expected = brute_force(query, registry, max_distance, make)
    if limit is not None:
        expected = expected[:limit]
    assert index.search(query, max_distance=max_distance, make=make, limit=limit) == expected


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.text(alphabet=ALPHABET, min_size=5, max_size=9), makes),
        min_size=20,
        max_size=120,
    ),
    st.data(),
)
def test_unreadable_and_look_alike_damage_within_the_default_distance_is_never_missed(
    registered: list[tuple[str, str]], data: st.DataObject
) -> None:
    registry = dict(enumerate(registered))
    index = SerialIndex((n, serial, make) for n, (serial, make) in registry.items())
    chars = list(data.draw(st.sampled_from(registered))[0])
    for pos in data.draw(st.lists(st.integers(0, len(chars) - 1), max_size=3, unique=True)):
        chars[pos] = data.draw(st.sampled_from("?" + ALPHABET))
    query = "".join(chars)
    if not query.replace("?", ""):
        query = registered[0][0]
    expected = brute_force(query, registry, 2.0, None)
    assert index.search(query, limit=None) == expected


def reference_tenths(query: str, serial: str) -> int:
    """The documented distance by the plain full table, trying every place the serial may end."""
    parsed, key = parse_query(query), serial_key(serial)
    if parsed.known_start and parsed.known_end:
        pieces = [key]
    elif parsed.known_start:
        pieces = [key[:j] for j in range(len(key) + 1)]
    elif parsed.known_end:
        pieces = [key[j:] for j in range(len(key) + 1)]
    else:
        pieces = [key[i:j] for i in range(len(key) + 1) for j in range(i, len(key) + 1)]

    def cost(a: str, b: str) -> int:
        if a == b:
            return 0
        if a == "?":
            return 1
        return 5 if is_lookalike(a, b) else 10

    def table(q: str, t: str) -> int:
        row = [10 * j for j in range(len(t) + 1)]
        for i, a in enumerate(q, 1):
            new = [10 * i]
            for j, b in enumerate(t, 1):
                new.append(min(row[j - 1] + cost(a, b), row[j] + 10, new[j - 1] + 10))
            row = new
        return row[-1]

    return min(table(parsed.body, piece) for piece in pieces)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(serials, st.data(), st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 4.5]))
def test_the_banded_distance_equals_the_full_table_for_every_kind_of_query(
    serial: str, data: st.DataObject, max_distance: float
) -> None:
    query = data.draw(damaged(serial))
    full = reference_tenths(query, serial)
    expected = full / 10 if full <= round(max_distance * 10) else None
    assert trace_distance(query, serial, max_distance=max_distance) == expected


def reference_ways(query: str, serial: str) -> int:
    """Cheapest alignments by the plain full table, over every place the serial may start and end."""
    parsed, key = parse_query(query), serial_key(serial)
    starts = [0] if parsed.known_start else range(len(key) + 1)
    tenths = reference_tenths(query, serial)

    def cost(a: str, b: str) -> int:
        if a == b:
            return 0
        if a == "?":
            return 1
        return 5 if is_lookalike(a, b) else 10

    total = 0
    for start in starts:
        piece = key[start:]
        # (cost, paths) from the query's first i characters to the piece's first j.
        row = [(10 * j, 1) for j in range(len(piece) + 1)]
        for i, a in enumerate(parsed.body, 1):
            new = [(10 * i, 1)]
            for j, b in enumerate(piece, 1):
                steps = [
                    (row[j - 1][0] + cost(a, b), row[j - 1][1]),
                    (row[j][0] + 10, row[j][1]),
                    (new[j - 1][0] + 10, new[j - 1][1]),
                ]
                best = min(c for c, _ in steps)
                new.append((best, sum(n for c, n in steps if c == best)))
            row = new
        ends = row[-1:] if parsed.known_end else row
        total += sum(n for c, n in ends if c == tenths)
    return total


@settings(max_examples=400, deadline=None)
@given(serials, st.data())
def test_the_ways_equal_a_count_over_the_full_table_for_every_kind_of_query(
    serial: str, data: st.DataObject
) -> None:
    query = data.draw(damaged(serial))
    expected = reference_ways(query, serial) if reference_tenths(query, serial) <= 30 else 0
    assert trace_ways(query, serial, max_distance=3.0) == expected


def test_differences_count_the_characters_an_investigator_reads() -> None:
    assert differences("PX12345", "PX-12345").exact
    assert differences("PXI2?45", "PX12345") == Differences(unreadable=1, lookalike=1, other=0)
    assert differences("PX1245", "PX12345") == Differences(unreadable=0, lookalike=0, other=1)
    assert differences("*2345", "PX12345").exact


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(serials, st.data())
def test_the_differences_weigh_exactly_the_trace_distance(serial: str, data: st.DataObject) -> None:
    query = data.draw(damaged(serial))
    told = differences(query, serial)
    weighted = told.unreadable * 1 + told.lookalike * 5 + told.other * 10
    assert weighted == reference_tenths(query, serial)
