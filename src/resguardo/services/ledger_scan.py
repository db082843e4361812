"""The part of `ledger verify` that reads the whole log: every event row rehashed and held
against the stored leaf, every interior node recomputed and held against the stored one.

The log is cut into aligned chunks of 2**14 entries. A chunk is checked on its own (its
rows, its leaves and the nodes of levels 0..14 inside it), so chunks can be checked in
separate processes, each on its own connection, when the log is large; the caller folds
the chunks' results in order (the nodes above level 14, the roots at checkpoint sizes).
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from resguardo.ledger import NodeKey, leaf_hash
from resguardo.ledger.tree import root_node_keys
from resguardo.storage import ledger_store

CHUNK_LEVEL = 14
LISTED = 20
"""Findings listed per kind; the rest are counted."""
RECHECKS_PER_CHUNK = 256
"""Leaves per chunk whose fast text is re-derived with Event.leaf() before being reported."""
PARALLEL_MIN_CHUNKS = 4
MAX_WORKERS = 4

_sha256 = hashlib.sha256


@dataclass(frozen=True)
class Finding:
    """One disagreement: what, where (first and last index implicated) and why."""

    kind: str
    message: str
    first: int | None = None
    last: int | None = None
    exact: bool = True
    """True when `first` is the disagreeing index itself, False for a range holding it."""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "first_index": self.first,
                "last_index": self.last, "exact": self.exact, **self.detail}

    def __str__(self) -> str:
        return self.message


@dataclass
class ChunkResult:
    """What one chunk [lo, hi) showed."""

    lo: int
    hi: int
    events: int = 0
    nodes: int = 0
    findings: list[Finding] = field(default_factory=list)
    omitted: Counter[str] = field(default_factory=Counter)
    bad_leaves: list[int] = field(default_factory=list)
    top: bytes | None = None
    """The chunk's own subtree hash, when the chunk is complete."""
    subtrees: dict[NodeKey, bytes | None] = field(default_factory=dict)
    """The chunk's nodes that the roots at the requested sizes are made of."""


def parent(left: bytes | None, right: bytes | None) -> bytes | None:
    """RFC 9162 interior node, or None when a child is unknown."""
    if left is None or right is None:
        return None
    return _sha256(b"\x01" + left + right).digest()


class _ChunkScan:
    def __init__(self, conn: Any, lo: int, hi: int, head: int, chunk_level: int,
                 verified: int = 0) -> None:
        self.conn, self.lo, self.hi, self.head, self.chunk_level = conn, lo, hi, head, chunk_level
        self.verified = verified
        self.result = ChunkResult(lo, hi)

    def add(self, finding: Finding) -> None:
        found = self.result.findings
        if sum(1 for f in found if f.kind == finding.kind) >= LISTED:
            self.result.omitted[finding.kind] += 1
        else:
            found.append(finding)

    def leaf_finding(self, kind: str, index: int, message: str) -> None:
        bisect.insort(self.result.bad_leaves, index)
        self.add(Finding(kind, message, index, index, True))

    def explained(self, lo: int, hi: int) -> bool:
        """True if a leaf in [lo, hi) was already reported, or the range passes the head."""
        if hi > self.head:
            return True
        bad = self.result.bad_leaves
        i = bisect.bisect_left(bad, lo)
        return i < len(bad) and bad[i] < hi

    # --- leaves ---

    def recheck(self, positions: Sequence[int]) -> dict[int, bytes | str]:
        """Leaf hash by Event.leaf() (or why the row cannot be read) at these positions."""
        rows = ledger_store.events_at(self.conn, positions)
        out: dict[int, bytes | str] = {}
        for position in positions:
            row = rows.get(position)
            if row is None:
                out[position] = "no event row"
                continue
            try:
                out[position] = leaf_hash(ledger_store.event_of_row(row).leaf())
            except (ValueError, TypeError) as exc:
                out[position] = str(exc)
        return out

    def leaves(self) -> list[bytes | None]:
        lo, hi = self.lo, self.hi
        n = hi - lo
        fast = ledger_store.leaf_hashes(self.conn, lo, hi)
        if fast is not None:  # one row per position: the usual case
            hashes = cast(list[bytes | None], fast)
            self.result.events = n
            stored = ledger_store.node_hashes(self.conn, 0, lo, hi)
            if hashes != stored:
                self.compare_leaves(hashes, dict(enumerate(stored, lo)) if len(stored) == n
                                    else ledger_store.node_rows(self.conn, 0, lo, hi),
                                    set(range(lo, hi)))
                self.stray_nodes(0, lo, hi)
            return hashes
        rows = ledger_store.leaf_texts(self.conn, lo, hi)
        self.result.events = len(rows)
        present: dict[int, str] = {}
        for p, row_text in rows:
            if type(p) is not int:  # SQLite keeps a fractional position: a forged row
                self.leaf_finding("bad_row", int(p), f"an event row sits at position {p!r}, "
                                  "which is not an entry index")
            else:
                present[p] = row_text
        stored_map = ledger_store.node_rows(self.conn, 0, lo, hi)
        leaves: list[bytes | None] = []
        for position in range(lo, hi):
            text = present.get(position)
            if text is None:
                leaves.append(stored_map.get(position))  # nothing to recompute it from
                self.leaf_finding("gap", position, f"entry {position} is missing: no event row "
                                  "holds this position (deleted behind the application's back)")
            else:
                leaves.append(leaf_hash(text.encode("utf-8")))
        self.compare_leaves(leaves, stored_map, set(present))
        self.stray_nodes(0, lo, hi)
        return leaves

    def compare_leaves(self, leaves: list[bytes | None], stored: dict[int, bytes],
                       present: set[int]) -> None:
        """Report rows whose leaf is not the stored one, re-deriving suspects with Event.leaf()."""
        suspects = []
        for i, leaf in enumerate(leaves):
            position = self.lo + i
            if position not in present:
                continue
            held = stored.get(position)
            if held is None:
                if position < self.head:
                    self.leaf_finding("leaf_missing", position, f"entry {position} has an event "
                                      "row but the tree holds no leaf for it")
                else:
                    bisect.insort(self.result.bad_leaves, position)
            elif leaf != held:
                suspects.append(position)
        rechecked = self.recheck(suspects[:RECHECKS_PER_CHUNK])
        for position in suspects:
            result = rechecked.get(position)
            if isinstance(result, bytes) and result == stored[position]:
                leaves[position - self.lo] = result  # stored text not canonical, same event
            elif isinstance(result, str) and result != "no event row":
                self.leaf_finding("bad_row", position, f"entry {position} is not a readable "
                                  f"event: {result}")
            else:
                self.leaf_finding("leaf_mismatch", position, f"entry {position} does not hash "
                                  "to the leaf recorded when it was appended: its row was "
                                  "edited, replaced, moved or forged")

    # --- interior nodes ---

    def compare_level(self, level: int, computed: list[bytes | None]) -> None:
        lo_idx = self.lo >> level
        hi_idx = lo_idx + len(computed)
        # Nodes wholly inside the size an auditor's state verified are held against the
        # state's frontier instead (their hashes are recomputed all the same).
        first = max(lo_idx, below(self.verified, level))
        if first >= hi_idx:
            return
        computed, lo_idx = computed[first - lo_idx:], first
        self.result.nodes += len(computed)
        stored = ledger_store.node_hashes(self.conn, level, lo_idx, hi_idx)
        if stored == computed:
            return
        rows = ledger_store.node_rows(self.conn, level, lo_idx, hi_idx)
        for i, value in enumerate(computed):
            self.compare_node(level, lo_idx + i, value, rows.get(lo_idx + i))
        self.stray_nodes(level, lo_idx, hi_idx)

    def stray_nodes(self, level: int, lo_idx: int, hi_idx: int) -> None:
        """Report tree rows whose index is not an integer (forged on SQLite)."""
        for idx in ledger_store.stray_nodes(self.conn, level, lo_idx, hi_idx):
            first = int(idx) << level
            self.add(Finding("node_stray", f"a tree row sits at ({level}, {idx!r}), which is "
                             "not a node index (written behind the application's back)",
                             first, first, False, {"level": level, "idx": str(idx)}))

    def compare_node(self, level: int, idx: int, value: bytes | None, held: bytes | None) -> None:
        finding = node_finding(level, idx, value, held)
        if finding is not None and not self.explained(idx << level, (idx + 1) << level):
            self.add(finding)

    def run(self, sizes: Sequence[int]) -> ChunkResult:
        levels = [self.leaves()]
        for level in range(1, self.chunk_level + 1):
            below = levels[-1]
            if None in below:
                row = [parent(a, b) for a, b in zip(below[0::2], below[1::2], strict=False)]
            else:
                pairs = iter(below)  # (0, 1), (2, 3), ...: an odd last node is left over
                row = [_sha256(b"\x01" + a + b).digest()  # type: ignore[operator]
                       for a, b in zip(pairs, pairs, strict=False)]
            levels.append(row)
            self.compare_level(level, row)
        if self.hi - self.lo == 1 << self.chunk_level:
            self.result.top = levels[self.chunk_level][0]
        for size in sizes:
            for level, idx in root_node_keys(size):
                if idx << level >= self.lo:
                    j = idx - (self.lo >> level)
                    row = levels[level]
                    self.result.subtrees[(level, idx)] = row[j] if 0 <= j < len(row) else None
        return self.result


def node_finding(level: int, idx: int, value: bytes | None, held: bytes | None
                 ) -> Finding | None:
    """The finding for a stored node that is not the recomputed one (None if it is)."""
    if value is None or held == value:
        return None
    first, last = idx << level, ((idx + 1) << level) - 1
    what = "is missing" if held is None else "differs from the hash of the leaves below it"
    kind = "node_missing" if held is None else "node_mismatch"
    return Finding(kind, f"tree node ({level}, {idx}) over entries {first}..{last} {what}: "
                   "proofs through it would not verify", first, last, False,
                   {"level": level, "idx": idx})


def below(verified: int, level: int) -> int:
    """The first node index of `level` not wholly inside the first `verified` leaves."""
    return verified >> level


def scan_chunk(conn: Any, lo: int, hi: int, head: int, sizes: Sequence[int],
               chunk_level: int = CHUNK_LEVEL, verified: int = 0) -> ChunkResult:
    """Check the rows, leaves and in-chunk nodes of entries [lo, hi) (lo aligned)."""
    # A chunk allocates tens of thousands of short-lived row tuples, none of them in a
    # cycle: the cyclic collector would only walk them over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _ChunkScan(conn, lo, hi, head, chunk_level, verified).run(sizes)
    finally:
        if collecting:
            gc.enable()


def _scan_in_worker(task: tuple[str, int, int, int, list[int], int, int]) -> ChunkResult:
    url, lo, hi, head, sizes, chunk_level, verified = task
    with ledger_store.reader(url) as conn:
        return scan_chunk(conn, lo, hi, head, sizes, chunk_level, verified)


def default_workers() -> int:
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def scan(conn: Any, *, head: int, end: int, sizes: Sequence[int], workers: int | None = None,
         chunk_level: int = CHUNK_LEVEL, verified: int = 0) -> Iterator[ChunkResult]:
    """Chunk results for entries [0, end), in order, checked in up to `workers` processes.

    `sizes` are the tree sizes whose roots the caller will fold (each chunk reports the
    nodes of its own that those roots need). A database only this process can open (an
    in-memory SQLite) is always checked here, on `conn`.

    `verified`: the size an auditor's state vouches for (`ledger_state`): every leaf is
    still rehashed and held against its stored leaf, and every node recomputed, but the
    stored interior nodes wholly inside the first `verified` leaves are not read (the
    caller holds the recomputed ones against the state's frontier).
    """
    chunk = 1 << chunk_level
    tasks = []
    for lo in range(0, end, chunk):
        hi = min(end, lo + chunk)
        tasks.append((lo, hi, [s for s in sizes if lo < s <= hi]))
    url = ledger_store.shareable_url(conn)
    count = default_workers() if workers is None else max(1, workers)
    if url is None or count == 1 or len(tasks) < min(PARALLEL_MIN_CHUNKS, 2 * count):
        for lo, hi, wanted in tasks:
            yield scan_chunk(conn, lo, hi, head, wanted, chunk_level, verified)
        return
    # fork: the workers start with everything imported. They open connections of their
    # own and never touch the ones they inherit, and leave with os._exit (no finalizers
    # run), so the parent's SQLite and PostgreSQL connections are safe.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=min(count, len(tasks)), mp_context=context) as pool:
        yield from pool.map(_scan_in_worker, [(url, lo, hi, head, wanted, chunk_level, verified)
                                              for lo, hi, wanted in tasks])
