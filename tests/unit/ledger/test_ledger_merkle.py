"""Merkle hashing, proofs and the incremental node store, against a naive RFC 9162 reading."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.ledger import (
    EMPTY_ROOT,
    MemoryNodeStore,
    MerkleTree,
    MissingNodeError,
    NodeKey,
    ProofError,
    append_leaf,
    append_leaves,
    consistency_proof,
    consistency_proof_from_leaves,
    consistency_proof_node_keys,
    extend_frontier,
    inclusion_proof,
    inclusion_proof_from_leaves,
    inclusion_proof_node_keys,
    leaf_hash,
    node_hash,
    root_hash,
    root_node_keys,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# --- A naive, recursive transcription of RFC 9162 §2.1, written independently ------------


def naive_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return naive_path(m, leaves[:k]) + [naive_mth(leaves[k:])]
    return naive_path(m - k, leaves[k:]) + [naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [naive_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return naive_subproof(m, leaves[:k], whole) + [naive_mth(leaves[k:])]
    return naive_subproof(m - k, leaves[k:], False) + [naive_mth(leaves[:k])]


def naive_consistency(m: int, leaves: list[bytes]) -> list[bytes]:
    return naive_subproof(m, leaves, True) if 0 < m < len(leaves) else []


def make_leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def flip_bit(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[element])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:element], bytes(changed), *proof[element + 1 :]]


class CountingStore(MemoryNodeStore):
    """A MemoryNodeStore that records every batched read."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[list[NodeKey]] = []

    def get_many(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        keys = list(keys)
        self.requests.append(keys)
        return super().get_many(keys)


def build(n: int) -> tuple[list[bytes], MerkleTree]:
    leaves = make_leaves(n)
    tree = MerkleTree()
    tree.extend(leaves)
    return leaves, tree


sizes = st.integers(min_value=1, max_value=300)

# --- Hashing ------------------------------------------------------------------------------


def test_leaf_and_node_hashes_carry_the_rfc_9162_domain_prefixes() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert (
        node_hash(b"l" * 32, b"r" * 32) == hashlib.sha256(b"\x01" + b"l" * 32 + b"r" * 32).digest()
    )


def test_the_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_hash([]) == EMPTY_ROOT
    assert tree_root(MemoryNodeStore(), 0) == EMPTY_ROOT


def test_a_one_leaf_tree_has_its_leaf_hash_as_root_and_an_empty_inclusion_proof() -> None:
    leaf = leaf_hash(b"only")
    assert root_hash([leaf]) == leaf
    assert inclusion_proof_from_leaves(0, [leaf]) == []
    verify_inclusion(0, 1, leaf, [], leaf)


# --- List proofs against the naive reading --------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.data(), sizes)
def test_roots_and_proofs_from_a_leaf_list_equal_the_naive_ones(
    data: st.DataObject, n: int
) -> None:
    leaves = make_leaves(n)
    assert root_hash(leaves) == naive_mth(leaves)
    index = data.draw(st.integers(0, n - 1), label="index")
    size1 = data.draw(st.integers(0, n), label="size1")
    assert inclusion_proof_from_leaves(index, leaves) == naive_path(index, leaves)
    assert consistency_proof_from_leaves(size1, leaves) == naive_consistency(size1, leaves)


@settings(max_examples=60, deadline=None)
@given(st.data(), sizes)
def test_every_generated_proof_verifies_and_a_flipped_bit_is_rejected(
    data: st.DataObject, n: int
) -> None:
    leaves, tree = build(n)
    index = data.draw(st.integers(0, n - 1), label="index")
    size1 = data.draw(st.integers(1, n), label="size1")
    root = tree.root()

    proof = tree.inclusion_proof(index)
    verify_inclusion(index, n, leaves[index], proof, root)
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        with pytest.raises(ProofError):
            verify_inclusion(index, n, leaves[index], flip_bit(proof, element, bit), root)

    cproof = tree.consistency_proof(size1)
    verify_consistency(size1, n, cproof, tree.root(size1), root)
    if cproof:
        element = data.draw(st.integers(0, len(cproof) - 1), label="celement")
        bit = data.draw(st.integers(0, 255), label="cbit")
        with pytest.raises(ProofError):
            verify_consistency(size1, n, flip_bit(cproof, element, bit), tree.root(size1), root)


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(2, 300))
def test_proofs_are_rejected_with_a_wrong_index_size_or_length(data: st.DataObject, n: int) -> None:
    leaves, tree = build(n)
    index = data.draw(st.integers(0, n - 1), label="index")
    proof, root = tree.inclusion_proof(index), tree.root()
    other = data.draw(st.integers(0, n - 1).filter(lambda i: i != index), label="other")
    with pytest.raises(ProofError):
        verify_inclusion(other, n, leaves[index], proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(index, n, leaves[index], [*proof, root], root)
    if proof:
        with pytest.raises(ProofError):
            verify_inclusion(index, n, leaves[index], proof[:-1], root)
    size1 = data.draw(st.integers(1, n - 1), label="size1")
    cproof = tree.consistency_proof(size1)
    with pytest.raises(ProofError):
        verify_consistency(size1, n, cproof[:-1], tree.root(size1), root)
    with pytest.raises(ProofError):
        verify_consistency(size1, n, [*cproof, root], tree.root(size1), root)
    with pytest.raises(ProofError):
        verify_consistency(size1, n, cproof, tree.root(size1), tree.root(n - 1))


def test_a_flipped_bit_in_an_inclusion_proof_is_rejected() -> None:
    leaves, tree = build(11)
    proof = tree.inclusion_proof(6)
    verify_inclusion(6, 11, leaves[6], proof, tree.root())
    with pytest.raises(ProofError):
        verify_inclusion(6, 11, leaves[6], flip_bit(proof, 1, 3), tree.root())


def test_an_index_at_or_beyond_the_tree_size_is_rejected() -> None:
    leaves, tree = build(4)
    with pytest.raises(ProofError):
        verify_inclusion(4, 4, leaves[3], tree.inclusion_proof(3), tree.root())
    with pytest.raises(ProofError):
        verify_inclusion(0, 0, leaves[0], [], EMPTY_ROOT)


def test_a_hash_of_the_wrong_length_is_rejected() -> None:
    leaves, tree = build(4)
    with pytest.raises(ProofError):
        verify_inclusion(0, 4, leaves[0][:31], tree.inclusion_proof(0), tree.root())
    proof = tree.inclusion_proof(0)
    with pytest.raises(ProofError):
        verify_inclusion(0, 4, leaves[0], [proof[0] + b"\x00", *proof[1:]], tree.root())


def test_equal_sizes_need_an_empty_proof_and_equal_roots() -> None:
    _, tree = build(5)
    verify_consistency(5, 5, [], tree.root(), tree.root())
    with pytest.raises(ProofError):
        verify_consistency(5, 5, [tree.root()], tree.root(), tree.root())
    with pytest.raises(ProofError):
        verify_consistency(5, 5, [], tree.root(), tree.root(4))


def test_two_empty_trees_are_consistent_only_with_the_empty_root() -> None:
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(ProofError):
        verify_consistency(0, 0, [], b"x" * 32, b"x" * 32)


def test_a_consistency_proof_from_size_zero_is_refused_and_generated_empty() -> None:
    # The transparency-dev vectors reject 0 -> n; the generator has nothing to prove.
    _, tree = build(3)
    assert tree.consistency_proof(0) == []
    with pytest.raises(ProofError):
        verify_consistency(0, 3, [], EMPTY_ROOT, tree.root())


def test_a_smaller_second_tree_is_never_consistent() -> None:
    _, tree = build(6)
    with pytest.raises(ProofError):
        verify_consistency(6, 5, [], tree.root(), tree.root(5))


# --- The node store --------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(sizes)
def test_the_node_store_root_equals_the_naive_root_at_every_size(n: int) -> None:
    leaves, tree = build(n)
    for size in range(n + 1):
        assert tree.root(size) == naive_mth(leaves[:size])


@settings(max_examples=40, deadline=None)
@given(st.data(), sizes)
def test_node_store_proofs_at_older_sizes_equal_the_naive_ones(data: st.DataObject, n: int) -> None:
    leaves, tree = build(n)
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    size1 = data.draw(st.integers(0, size), label="size1")
    assert inclusion_proof(tree.store, index, size) == naive_path(index, leaves[:size])
    assert consistency_proof(tree.store, size1, size) == naive_consistency(size1, leaves[:size])


@settings(max_examples=40, deadline=None)
@given(st.data(), sizes)
def test_roots_and_proofs_read_the_store_once_and_only_log_n_nodes(
    data: st.DataObject, n: int
) -> None:
    store = CountingStore()
    tree = MerkleTree(store)
    tree.extend(make_leaves(n))
    bound = 2 * math.ceil(math.log2(n + 1)) + 1
    index = data.draw(st.integers(0, n - 1), label="index")
    size1 = data.draw(st.integers(1, n), label="size1")
    for run in (
        lambda: tree_root(store, n),
        lambda: inclusion_proof(store, index, n),
        lambda: consistency_proof(store, size1, n),
    ):
        store.requests.clear()
        run()
        assert len(store.requests) <= 1
        assert sum(len(keys) for keys in store.requests) <= bound


@settings(max_examples=25, deadline=None)
@given(sizes)
def test_appending_writes_at_most_log_n_nodes_and_two_on_average(n: int) -> None:
    store = MemoryNodeStore()
    writes = []
    for size, leaf in enumerate(make_leaves(n)):
        nodes = append_leaf(store, size, leaf)
        assert len(nodes) <= size.bit_length() + 1
        store.put_many(nodes)
        writes.append(len(nodes))
    assert sum(writes) < 2 * n
    assert len(store) == sum(writes)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 150), st.integers(0, 150))
def test_appending_a_batch_writes_the_same_nodes_as_appending_one_by_one(a: int, b: int) -> None:
    leaves = make_leaves(a + b)
    one_by_one = MerkleTree()
    one_by_one.extend(leaves[:a])
    batched = MemoryNodeStore()
    batched.put_many(append_leaves(batched, 0, leaves[:a]))
    nodes = append_leaves(batched, a, leaves[a:])
    for leaf in leaves[a:]:
        one_by_one.append(leaf)
    batched.put_many(nodes)
    keys = _all_keys(a + b)
    assert batched.get_many(keys) == one_by_one.store.get_many(keys)
    assert tree_root(batched, a + b) == one_by_one.root() == naive_mth(leaves)
    assert len(batched) == len(one_by_one.store.get_many(keys))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 70), min_size=1, max_size=5))
def test_extending_the_frontier_batch_after_batch_writes_the_tree_and_keeps_its_edge(
        batches: list[int]) -> None:
    """The bulk import keeps only the right frontier between batches (``extend_frontier``):
    the nodes it writes are the one-by-one tree's, and the frontier it hands on is the
    tree's own right edge, whatever the batch sizes."""
    leaves = make_leaves(sum(batches))
    one_by_one = MerkleTree()
    written = MemoryNodeStore()
    frontier: dict[NodeKey, bytes] = {}
    size = 0
    for count in batches:
        nodes, frontier = extend_frontier(frontier, size, leaves[size:size + count])
        written.put_many(nodes)
        one_by_one.extend(leaves[size:size + count])
        size += count
        keys = root_node_keys(size)
        assert frontier == one_by_one.store.get_many(keys) and len(frontier) == len(keys)
    keys = _all_keys(size)
    assert written.get_many(keys) == one_by_one.store.get_many(keys)
    assert len(written) == len(keys)
    assert tree_root(written, size) == naive_mth(leaves)


def test_extending_a_frontier_that_lacks_a_node_is_refused() -> None:
    leaves = make_leaves(3)
    _, frontier = extend_frontier({}, 0, leaves)
    with pytest.raises(MissingNodeError):
        extend_frontier({}, 3, make_leaves(1))
    del frontier[(0, 2)]
    with pytest.raises(MissingNodeError):
        extend_frontier(frontier, 3, make_leaves(1))


def _all_keys(n: int) -> list[NodeKey]:
    return [(level, i) for level in range(n.bit_length()) for i in range(n >> level)]


def test_the_node_keys_helpers_name_exactly_the_nodes_a_proof_reads() -> None:
    store = CountingStore()
    tree = MerkleTree(store)
    tree.extend(make_leaves(13))
    for keys, run in (
        (root_node_keys(13), lambda: tree_root(store, 13)),
        (inclusion_proof_node_keys(5, 13), lambda: inclusion_proof(store, 5, 13)),
        (consistency_proof_node_keys(6, 13), lambda: consistency_proof(store, 6, 13)),
    ):
        store.requests.clear()
        run()
        assert store.requests == [keys]
    assert root_node_keys(13) == [(3, 0), (2, 2), (0, 12)]


def test_a_store_missing_a_node_raises_missing_node_error() -> None:
    _, tree = build(8)
    partial = MemoryNodeStore(tree.store.get_many(k for k in _all_keys(8) if k != (3, 0)))
    with pytest.raises(MissingNodeError):
        tree_root(partial, 8)
    with pytest.raises(MissingNodeError):
        partial.get(3, 0)
    assert tree_root(partial, 7) == tree.root(7)


def test_a_stored_node_cannot_be_rewritten_with_another_hash() -> None:
    store = MemoryNodeStore()
    store.put(0, 0, leaf_hash(b"a"))
    store.put(0, 0, leaf_hash(b"a"))
    with pytest.raises(ValueError):
        store.put(0, 0, leaf_hash(b"b"))


def test_proofs_for_impossible_sizes_are_refused() -> None:
    _, tree = build(4)
    with pytest.raises(ValueError):
        inclusion_proof(tree.store, 4, 4)
    with pytest.raises(ValueError):
        consistency_proof(tree.store, 3, 2)
    with pytest.raises(ValueError):
        tree.root(5)
    with pytest.raises(ValueError):
        tree_root(tree.store, -1)


def test_a_tree_reopened_over_its_store_continues_where_it_stopped() -> None:
    leaves, tree = build(7)
    reopened = MerkleTree(tree.store, size=7)
    reopened.append(leaf_hash(b"eighth"))
    assert reopened.root() == naive_mth([*leaves, leaf_hash(b"eighth")])


def test_appending_something_that_is_not_a_leaf_hash_is_refused() -> None:
    with pytest.raises(ValueError):
        MerkleTree().append(b"raw event bytes")
