"""An append-only Merkle tree kept as complete-subtree hashes in a NodeStore (RFC 9162 §2.1).

Appending leaf n writes node (0, n) and, while the new node is a right child, its parent:
amortized two writes, at most log2(n) + 1. A root or a proof reads O(log n) complete
subtrees; the incomplete right edge of a tree is hashed on the fly from them. Every
function first computes which node keys it needs (the `*_node_keys` functions, public so
a database can fetch them in one query) and then reads them with one `get_many` call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .errors import MissingNodeError
from .hashing import EMPTY_ROOT, HASH_SIZE, node_hash
from .store import MemoryNodeStore, Node, NodeKey, NodeReader, NodeStore

Range = tuple[int, int]


def _split(n: int) -> int:
    """Largest power of two strictly below n (n > 1): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_keys(lo: int, hi: int) -> list[NodeKey]:
    """Complete subtrees that make up the tree node over leaves [lo, hi), largest first."""
    keys: list[NodeKey] = []
    while lo < hi:
        width = 1 << ((hi - lo).bit_length() - 1)
        if lo:
            width = min(width, lo & -lo)
        level = width.bit_length() - 1
        keys.append((level, lo >> level))
        lo += width
    return keys


def _fold(keys: Sequence[NodeKey], nodes: Mapping[NodeKey, bytes]) -> bytes:
    """Hash of the tree node made of these complete subtrees (right edge folded right to left)."""
    acc = nodes[keys[-1]]
    for key in reversed(keys[:-1]):
        acc = node_hash(nodes[key], acc)
    return acc


def _inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges of the RFC 9162 inclusion proof PATH(index, D[size]), bottom-up."""
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def _consistency_ranges(size1: int, size2: int) -> list[Range]:
    """Leaf ranges of the RFC 9162 consistency proof PROOF(size1, D[size2]), bottom-up."""
    if size1 == 0 or size1 == size2:
        return []
    ranges: list[Range] = []
    lo, hi, whole = 0, size2, True
    while True:
        if size1 == hi:
            # SUBPROOF(m, D[m], b): the old subtree itself, unless it is the old root.
            if not whole:
                ranges.append((lo, hi))
            break
        k = _split(hi - lo)
        if size1 <= lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            whole = False
    ranges.reverse()
    return ranges


def _keys_for(ranges: Iterable[Range]) -> list[NodeKey]:
    return list(dict.fromkeys(key for lo, hi in ranges for key in _subtree_keys(lo, hi)))


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"tree size must not be negative, got {size}")


def _check_index(index: int, size: int) -> None:
    _check_size(size)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")


def _check_sizes(size1: int, size2: int) -> None:
    _check_size(size1)
    if size2 < size1:
        raise ValueError(f"size2 {size2} is smaller than size1 {size1}")


def root_node_keys(size: int) -> list[NodeKey]:
    """Node keys the root of a tree of `size` needs (also the nodes appending leaf `size` reads)."""
    _check_size(size)
    return _subtree_keys(0, size)


def inclusion_proof_node_keys(index: int, size: int) -> list[NodeKey]:
    """Node keys the inclusion proof of leaf `index` in a tree of `size` needs."""
    _check_index(index, size)
    return _keys_for(_inclusion_ranges(index, size))


def consistency_proof_node_keys(size1: int, size2: int) -> list[NodeKey]:
    """Node keys the consistency proof from `size1` to `size2` needs."""
    _check_sizes(size1, size2)
    return _keys_for(_consistency_ranges(size1, size2))


def _fetch(store: NodeReader, keys: list[NodeKey]) -> Mapping[NodeKey, bytes]:
    if not keys:
        return {}
    nodes = store.get_many(keys)
    missing = [key for key in keys if key not in nodes]
    if missing:
        raise MissingNodeError(f"node store lacks nodes {missing[:5]} (of {len(missing)})")
    return nodes


def tree_root(store: NodeReader, size: int) -> bytes:
    """Root hash of the first `size` leaves, from O(log size) stored nodes."""
    keys = root_node_keys(size)
    if not keys:
        return EMPTY_ROOT
    return _fold(keys, _fetch(store, keys))


def inclusion_proof(store: NodeReader, index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf `index` in the tree of `size`, bottom-up."""
    _check_index(index, size)
    ranges = _inclusion_ranges(index, size)
    nodes = _fetch(store, _keys_for(ranges))
    return [_fold(_subtree_keys(lo, hi), nodes) for lo, hi in ranges]


def consistency_proof(store: NodeReader, size1: int, size2: int) -> list[bytes]:
    """RFC 9162 consistency proof from the tree of `size1` to the tree of `size2`.

    Empty when size1 == size2 or size1 == 0 (nothing to prove; `verify_consistency`
    refuses a proof from size 0, so treat the empty tree as trivially extended).
    """
    _check_sizes(size1, size2)
    ranges = _consistency_ranges(size1, size2)
    nodes = _fetch(store, _keys_for(ranges))
    return [_fold(_subtree_keys(lo, hi), nodes) for lo, hi in ranges]


def append_leaves(store: NodeReader, size: int, leaf_hashes: Iterable[bytes]) -> list[Node]:
    """Nodes to write when appending `leaf_hashes` to the tree of `size`; writes nothing.

    Reads only the current right frontier (`root_node_keys(size)`) in one `get_many`, so a
    database can append a batch and write the returned nodes in its own transaction.
    """
    return extend_frontier(_fetch(store, root_node_keys(size)), size, leaf_hashes)[0]


def extend_frontier(frontier: Mapping[NodeKey, bytes], size: int, leaf_hashes: Iterable[bytes]
                    ) -> tuple[list[Node], dict[NodeKey, bytes]]:
    """`append_leaves` given the tree's right frontier (the nodes of `root_node_keys(size)`):
    the nodes to write, and the frontier of the tree they make (a bulk writer keeps it in
    memory from one batch to the next)."""
    # The frontier has one node per level at most: the last one of its level, whose
    # index is even (a left child still without its sibling). Appending a leaf pairs the
    # last node of each level whose new node has an odd index with it.
    keys = root_node_keys(size)
    missing = [key for key in keys if key not in frontier]
    if missing:
        raise MissingNodeError(f"the frontier lacks nodes {missing[:5]} (of {len(missing)})")
    edge = {level: frontier[(level, index)] for level, index in keys}
    written: list[Node] = []
    n = size
    for leaf in leaf_hashes:
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes; hash the leaf with leaf_hash()")
        level, index, acc = 0, n, leaf
        written.append((0, n, leaf))
        while index & 1:
            acc = node_hash(edge[level], acc)
            level, index = level + 1, index >> 1
            written.append((level, index, acc))
        edge[level] = acc
        n += 1
    return written, {(level, index): edge[level] for level, index in root_node_keys(n)}


def append_leaf(store: NodeReader, size: int, leaf_hash: bytes) -> list[Node]:
    """Nodes to write when appending one leaf hash as leaf number `size`; writes nothing."""
    return append_leaves(store, size, [leaf_hash])


class _LeafList:
    """NodeReader computing complete-subtree hashes from a plain list of leaf hashes."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._leaves = leaf_hashes

    def get_many(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        return {
            (level, index): root_hash(self._leaves[index << level : (index + 1) << level])
            for level, index in keys
            if (index + 1) << level <= len(self._leaves)
        }


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 Merkle tree hash (MTH) over already hashed leaves, in O(n) time."""
    stack: list[bytes] = []
    for count, leaf in enumerate(leaf_hashes, start=1):
        acc = leaf
        # Each trailing zero bit of the new count closes one complete subtree.
        c = count
        while not c & 1:
            acc = node_hash(stack.pop(), acc)
            c >>= 1
        stack.append(acc)
    if not stack:
        return EMPTY_ROOT
    acc = stack.pop()
    while stack:
        acc = node_hash(stack.pop(), acc)
    return acc


def inclusion_proof_from_leaves(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Inclusion proof of leaf `index` in the tree of all `leaf_hashes` (O(n) time)."""
    return inclusion_proof(_LeafList(leaf_hashes), index, len(leaf_hashes))


def consistency_proof_from_leaves(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Consistency proof from the first `size1` leaves to all `leaf_hashes` (O(n) time)."""
    return consistency_proof(_LeafList(leaf_hashes), size1, len(leaf_hashes))


class MerkleTree:
    """A growing tree over a NodeStore: appends write through, proofs read O(log n) nodes."""

    def __init__(self, store: NodeStore | None = None, size: int = 0) -> None:
        _check_size(size)
        self.store: NodeStore = store if store is not None else MemoryNodeStore()
        self._size = size

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._size

    def append(self, leaf_hash: bytes) -> int:
        """Append a leaf hash and return its index."""
        return self.extend([leaf_hash])

    def extend(self, leaf_hashes: Iterable[bytes]) -> int:
        """Append leaf hashes and return the index of the first one."""
        first = self._size
        nodes = append_leaves(self.store, self._size, leaf_hashes)
        for level, index, node in nodes:
            self.store.put(level, index, node)
        self._size += sum(1 for level, _, _ in nodes if level == 0)
        return first

    def root(self, size: int | None = None) -> bytes:
        """Root hash at `size` (default: the current size)."""
        return tree_root(self.store, self._size if size is None else self._bounded(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of leaf `index` at `size` (default: the current size)."""
        return inclusion_proof(
            self.store, index, self._size if size is None else self._bounded(size)
        )

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Consistency proof from `size1` to `size2` (default: the current size)."""
        return consistency_proof(
            self.store, size1, self._size if size2 is None else self._bounded(size2)
        )

    def _bounded(self, size: int) -> int:
        if size > self._size:
            raise ValueError(f"size {size} is beyond the tree's {self._size} leaves")
        return size


# --- the frontier: what an auditor keeps to go on from a verified tree ---


def frontier(store: NodeReader, size: int) -> dict[NodeKey, bytes]:
    """The complete subtrees that make up the tree of `size` (`root_node_keys`: at most
    log2(size) + 1 hashes): all an auditor needs to keep to fold later leaves into a tree
    they verified, and to compute every later root, without the leaves before `size`."""
    return dict(_fetch(store, root_node_keys(size)))


def frontier_root(nodes: Mapping[NodeKey, bytes], size: int) -> bytes:
    """Root of the tree of `size` from its frontier (raises MissingNodeError if a node is
    missing)."""
    keys = root_node_keys(size)
    if not keys:
        return EMPTY_ROOT
    missing = [key for key in keys if key not in nodes]
    if missing:
        raise MissingNodeError(f"the frontier of size {size} lacks nodes {missing[:5]}")
    return _fold(keys, nodes)
