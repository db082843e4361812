"""Verification of RFC 9162 inclusion and consistency proofs (§2.1.3.2 and §2.1.4.2)."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ProofError
from .hashing import EMPTY_ROOT, HASH_SIZE, node_hash


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `leaf_index` of the tree of `tree_size` with `root`.

    Raises ProofError if the proof does not verify, including when `leaf_index >= tree_size`,
    when the proof has the wrong length, or when a hash is not 32 bytes.
    """
    if leaf_index < 0 or tree_size < 0:
        raise ProofError("leaf index and tree size must not be negative")
    if leaf_index >= tree_size:
        raise ProofError(f"leaf index {leaf_index} is not below tree size {tree_size}")
    _check_hash(leaf_hash, "leaf hash")
    _check_proof(proof)
    fn, sn = leaf_index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    if r != root:
        raise ProofError("inclusion proof does not lead to the given root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of `size2` with `root2` extends the tree of `size1` with `root1`.

    Raises ProofError if the proof does not verify. Edge cases follow the transparency-dev
    conformance vectors: equal sizes need an empty proof and equal roots (and, for size 0,
    the empty-tree root); a proof from size 0 to a larger size is refused, since it would
    prove nothing (an empty tree is a prefix of every tree, the caller can decide that alone).
    """
    if size1 < 0 or size2 < 0:
        raise ProofError("tree sizes must not be negative")
    if size2 < size1:
        raise ProofError(f"size2 {size2} is smaller than size1 {size1}")
    if size1 == size2:
        if proof:
            raise ProofError("equal tree sizes need an empty proof")
        if root1 != root2:
            raise ProofError("equal tree sizes but different roots")
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise ProofError("the root of the empty tree must be SHA-256 of nothing")
        return
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if not proof:
        raise ProofError("empty consistency proof for different tree sizes")
    _check_proof(proof)

    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not lead to root1")
    if sr != root2:
        raise ProofError("consistency proof does not lead to root2")


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} must be {HASH_SIZE} bytes")


def _check_proof(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
