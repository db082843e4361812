"""A batch's tree nodes go to SQLite as runs of concatenated hashes: nothing lost or moved."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.ledger import append_leaves, root_node_keys
from resguardo.storage.bulk import _NODE_RUNS, node_runs


class Memory:
    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}

    def get_many(self, keys):  # type: ignore[no-untyped-def]
        return {k: self.nodes[k] for k in keys if k in self.nodes}


def expand(runs: dict) -> list[tuple[int, int, bytes]]:
    """What SQLite writes for the runs (the statement the import runs, on a scratch table)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE merkle_nodes (level INTEGER, idx INTEGER, hash BLOB, "
               "PRIMARY KEY (level, idx)) WITHOUT ROWID")
    db.execute(_NODE_RUNS, runs)
    return db.execute("SELECT level, idx, hash FROM merkle_nodes ORDER BY level, idx").fetchall()


@settings(max_examples=60, deadline=None)
@given(size=st.integers(0, 3000), batches=st.lists(st.integers(1, 700), min_size=1,
                                                    max_size=4))
def test_the_runs_of_each_batch_write_exactly_its_nodes(size: int, batches: list[int]) -> None:
    store = Memory()
    leaves = [hashlib.sha256(str(n).encode()).digest() for n in range(size)]
    for node in append_leaves(store, 0, leaves):
        store.nodes[node[:2]] = node[2]
    for count in batches:
        new = [hashlib.sha256(f"b{size}-{n}".encode()).digest() for n in range(count)]
        nodes = append_leaves(store, size, new)
        runs = node_runs(nodes)
        assert expand(runs) == sorted(nodes)
        # consecutive at each level: one run per level
        assert len(json.loads(runs["runs"])) == len({level for level, _, _ in nodes})
        for node in nodes:
            store.nodes[node[:2]] = node[2]
        size += count
        assert set(root_node_keys(size)) <= set(store.nodes)


def test_scattered_nodes_make_several_runs_and_a_short_hash_is_refused() -> None:
    nodes = [(0, 4, b"a" * 32), (0, 5, b"b" * 32), (0, 9, b"c" * 32), (2, 1, b"d" * 32)]
    runs = node_runs(nodes)
    assert json.loads(runs["runs"]) == [[0, 4, 2, 0], [0, 9, 1, 64], [2, 1, 1, 96]]
    assert expand(runs) == nodes
    with pytest.raises(ValueError, match="32 bytes"):
        node_runs([(0, 1, b"short")])


def test_the_switch_interval_is_shortened_only_while_a_writer_runs() -> None:
    import sys

    from resguardo.storage.bulk import _SwitchInterval

    before = sys.getswitchinterval()
    switch = _SwitchInterval()
    switch.enter()
    switch.enter()  # two imports at once
    assert sys.getswitchinterval() == min(before, _SwitchInterval.WHILE_WRITING)
    switch.leave()
    assert sys.getswitchinterval() == min(before, _SwitchInterval.WHILE_WRITING)
    switch.leave()
    assert sys.getswitchinterval() == before
