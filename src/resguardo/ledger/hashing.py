"""RFC 9162 (RFC 6962) Merkle tree hashing with SHA-256."""

from __future__ import annotations

import hashlib
from typing import Final

HASH_SIZE: Final = 32
"""Length in bytes of every leaf, node and root hash."""

EMPTY_ROOT: Final = hashlib.sha256(b"").digest()
"""Root hash of the empty tree: SHA-256 of the empty string."""

LEAF_PREFIX: Final = b"\x00"
"""What a leaf's bytes follow when hashed (RFC 9162 §2.1.1); written here only."""
_NODE_PREFIX: Final = b"\x01"


def leaf_hash(leaf: bytes) -> bytes:
    """Hash a leaf: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()
