"""The frontier an auditor keeps (`ledger verify --state`): the complete subtrees of a
verified tree, into which later leaves are folded. Its root and every grown root must be
the tree's own, for any size and any split, and for the RFC 6962 reference vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.ledger import (
    EMPTY_ROOT,
    MemoryNodeStore,
    MerkleTree,
    MissingNodeError,
    extend_frontier,
    frontier,
    frontier_root,
    leaf_hash,
    root_hash,
    root_node_keys,
)

# <repo>/../shared/testdata/rfc6962, and the leaves of the reference tree the vectors were
# generated from (transparency-dev/merkle), as in test_ledger_vectors.py.
TESTDATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "rfc6962"
REFERENCE_HASHES = [leaf_hash(bytes.fromhex(h)) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]


def _tree(leaves: list[bytes]) -> MerkleTree:
    tree = MerkleTree(MemoryNodeStore())
    tree.extend(leaves)
    return tree


def _grow(nodes, size, leaves):  # type: ignore[no-untyped-def]
    """The frontier of the tree grown by ``leaves``, and its size (the daily verify's fold:
    the same ``extend_frontier`` the bulk import appends with)."""
    _, grown = extend_frontier(nodes, size, leaves)
    return grown, size + len(leaves)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=300), st.data())
def test_a_frontier_folded_with_later_leaves_gives_the_trees_root(total: int, data) -> None:  # type: ignore[no-untyped-def]
    leaves = [leaf_hash(n.to_bytes(4, "big")) for n in range(total)]
    split = data.draw(st.integers(min_value=0, max_value=total), label="verified size")
    tree = _tree(leaves)
    kept = frontier(tree.store, split)
    assert len(kept) == len(root_node_keys(split)) <= split.bit_length()
    assert frontier_root(kept, split) == root_hash(leaves[:split]) == tree.root(split)
    # folded in several steps, as daily runs do: each frontier is the tree's at its size
    size, nodes = split, kept
    while size < total:
        step = data.draw(st.integers(min_value=1, max_value=total - size), label="step")
        nodes, size = _grow(nodes, size, leaves[size:size + step])
        assert nodes == frontier(tree.store, size)
        assert frontier_root(nodes, size) == tree.root(size)
    assert frontier_root(nodes, size) == root_hash(leaves)


def test_the_empty_frontier_is_the_empty_tree() -> None:
    assert frontier_root({}, 0) == EMPTY_ROOT
    nodes, size = _grow({}, 0, [])
    assert (nodes, size) == ({}, 0)


def test_an_incomplete_frontier_is_refused() -> None:
    tree = _tree([leaf_hash(bytes([n])) for n in range(7)])
    kept = frontier(tree.store, 7)
    kept.pop(min(kept))
    with pytest.raises(MissingNodeError):
        frontier_root(kept, 7)
    with pytest.raises(MissingNodeError):
        extend_frontier(kept, 7, [leaf_hash(b"x")])


def _consistency_vectors() -> list[Path]:
    if not TESTDATA.is_dir():
        return []
    return sorted((TESTDATA / "consistency").rglob("happy-path.json"))


@pytest.mark.parametrize("path", _consistency_vectors(), ids=lambda p: p.parent.name)
def test_the_reference_roots_come_from_frontiers(path: Path) -> None:
    v = json.loads(path.read_text(encoding="utf-8"))
    size1, size2 = v["size1"], v["size2"]
    old = frontier(_tree(REFERENCE_HASHES[:size1]).store, size1)
    assert frontier_root(old, size1) == base64.b64decode(v["root1"])
    grown, size = _grow(old, size1, REFERENCE_HASHES[size1:size2])
    assert size == size2
    assert frontier_root(grown, size2) == base64.b64decode(v["root2"])
