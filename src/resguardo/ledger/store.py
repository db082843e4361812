"""Where the tree's complete-subtree hashes live: the NodeStore protocol and an in-memory store.

Node (level, index) is the hash of the complete subtree over leaves
[index * 2**level, (index + 1) * 2**level); level 0 holds the leaf hashes. Complete
subtrees never change once written, so a store is append-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, TypeAlias

from .errors import MissingNodeError

NodeKey: TypeAlias = tuple[int, int]
"""(level, index) of a complete subtree."""

Node: TypeAlias = tuple[int, int, bytes]
"""(level, index, hash) of a complete subtree, as returned for writing by `append_leaf`."""


class NodeReader(Protocol):
    """Read side of a node store: all the tree algorithms need."""

    def get_many(self, keys: Iterable[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the hashes of those `keys` that are stored (one round trip for a database)."""
        ...


class NodeStore(NodeReader, Protocol):
    """A store of complete-subtree hashes keyed by (level, index)."""

    def get(self, level: int, index: int) -> bytes:
        """Return the hash of node (level, index); raise MissingNodeError if absent."""
        ...

    def put(self, level: int, index: int, node: bytes) -> None:
        """Store the hash of node (level, index)."""
        ...


class MemoryNodeStore:
    """A NodeStore in a dict, for tests, tools and small trees."""

    def __init__(self, nodes: Mapping[NodeKey, bytes] | None = None) -> None:
        self._nodes: dict[NodeKey, bytes] = dict(nodes or {})

    def __len__(self) -> int:
        return len(self._nodes)

    def get(self, level: int, index: int) -> bytes:
        """Return the hash of node (level, index); raise MissingNodeError if absent."""
        try:
            return self._nodes[(level, index)]
        except KeyError:
            raise MissingNodeError(f"node ({level}, {index}) is not stored") from None

    def get_many(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """Return the hashes of those `keys` that are stored."""
        return {key: self._nodes[key] for key in keys if key in self._nodes}

    def put(self, level: int, index: int, node: bytes) -> None:
        """Store node (level, index); rewriting it with a different hash is refused."""
        old = self._nodes.get((level, index))
        if old is not None and old != node:
            raise ValueError(f"node ({level}, {index}) is already stored with another hash")
        self._nodes[(level, index)] = node

    def put_many(self, nodes: Iterable[Node]) -> None:
        """Store several (level, index, hash) nodes, e.g. the result of `append_leaf`."""
        for level, index, node in nodes:
            self.put(level, index, node)
