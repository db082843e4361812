"""`resguardo ledger verify`: recompute the ledger from the event rows and hold it against
the stored tree, every stored checkpoint, the checkpoints overseers kept, and the
projection; name the first index that disagrees and why.

What is checked, in one pass over the log in aligned chunks of 2**14 entries:

- every position from 0 to the end of the log has an event row (a deleted event is a
  `gap`), and none lies beyond the size the log head records (`beyond_head`);
- every row's leaf (its canonical JSON, hashed) equals the stored leaf hash
  (`leaf_mismatch`, `leaf_missing`, `bad_row`); the tree holds no leaf past the log's
  end (`extra_leaves`: entries were removed from the end);
- every interior node recomputed from those leaves equals the stored one
  (`node_mismatch`, `node_missing`; not repeated above a leaf already reported);
- every stored checkpoint is signed by the log's key for the log's origin
  (`checkpoint_signature`, `checkpoint_origin`), its size and root columns say what its
  note says (`checkpoint_mismatch`), and its root equals the recomputed root of its size
  (`checkpoint_root`; `checkpoint_beyond_log` when the log is now shorter);
- every checkpoint an overseer supplies likewise (`supplied_*`), and a consistency proof
  from it to the latest good stored checkpoint verifies (`supplied_inconsistent`);
- the projection replayed from the log equals the live one (`projection`).

A finding names the first index it implicates. Row and tree findings are exact. A
checkpoint finding, where nothing else shows the damage (a log truncated and regrown
through the application recomputes its own tree), gives the narrowest range the
evidence allows: from the size of the last checkpoint that still verifies below it to
the bad checkpoint's size minus one. A projection finding implicates no log index; it
names the entry that last wrote the row.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from resguardo.domain.policy import Action, authorize
from resguardo.ledger import (
    EMPTY_ROOT,
    Checkpoint,
    LedgerError,
    NodeKey,
    Verifier,
    consistency_proof,
    parse_note,
    tree_root,
    verify_checkpoint,
    verify_consistency,
)
from resguardo.services.ledger import b64
from resguardo.storage import ledger_store, rebuild
from resguardo.storage.ledger_store import DbNodeStore
from resguardo.storage.uow import UnitOfWork

CHUNK_LEVEL = 14
CHUNK = 1 << CHUNK_LEVEL
LISTED = 20
"""Findings listed per kind; the rest are counted in `omitted`."""
RECHECKS_PER_CHUNK = 256
"""Leaves per chunk whose fast text is re-derived with Event.leaf() before being reported."""

Progress = Callable[[str, int, int], None]

_sha256 = hashlib.sha256

#: Finding kinds whose range says where the log's entries first disagree.
RANGE_KINDS = frozenset({"checkpoint_root", "checkpoint_beyond_log", "supplied_root",
                         "supplied_beyond_log", "supplied_inconsistent"})


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
class VerifyReport:
    """What `verify` checked and what disagreed."""

    size: int = 0
    events: int = 0
    leaves: int = 0
    nodes: int = 0
    checkpoints: int = 0
    latest: dict[str, Any] | None = None
    supplied: list[dict[str, Any]] = field(default_factory=list)
    projection: bool = False
    findings: list[Finding] = field(default_factory=list)
    omitted: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.omitted

    def add(self, finding: Finding) -> None:
        if sum(1 for f in self.findings if f.kind == finding.kind) >= LISTED:
            self.omitted[finding.kind] += 1
        else:
            self.findings.append(finding)

    @property
    def first_bad_index(self) -> int | None:
        """The lowest index a row or tree finding names exactly."""
        exact = [f.first for f in self.findings if f.exact and f.first is not None]
        return min(exact) if exact else None

    @property
    def first_bad_range(self) -> tuple[int, int] | None:
        """The narrowest range checkpoints pin the first disagreement of entries to."""
        ranges = [(f.last, f.first) for f in self.findings
                  if f.kind in RANGE_KINDS and f.first is not None and f.last is not None]
        if not ranges:
            return None
        last, first = min(ranges, key=lambda r: (r[0], r[0] - r[1]))
        return first, last

    def as_dict(self) -> dict[str, Any]:
        bad_range = self.first_bad_range
        return {
            "ok": self.ok, "size": self.size, "events": self.events, "leaves": self.leaves,
            "nodes": self.nodes, "checkpoints": self.checkpoints, "latest": self.latest,
            "supplied": self.supplied, "projection": self.projection,
            "first_bad_index": self.first_bad_index,
            "first_bad_range": list(bad_range) if bad_range else None,
            "findings": [f.as_dict() for f in self.findings], "omitted": dict(self.omitted),
            "notes": self.notes,
        }


@dataclass
class _Claim:
    """A signed statement of (size, root) to hold the log to: stored or supplied."""

    label: str
    source: str  # "checkpoint" or "supplied"
    size: int
    root: bytes | None
    signed: bool
    problem: str | None = None
    checkpoint_id: int | None = None
    good: bool = False


class _Recomputed:
    """NodeReader over the recomputed tree: the current chunk's levels and the nodes above."""

    def __init__(self, levels: list[list[bytes | None]], lo: int,
                 upper: dict[NodeKey, bytes | None]) -> None:
        self.levels, self.lo, self.upper = levels, lo, upper

    def get_many(self, keys: Any) -> dict[NodeKey, bytes]:
        found: dict[NodeKey, bytes] = {}
        for level, idx in keys:
            value: bytes | None
            if level <= CHUNK_LEVEL and idx << level >= self.lo:
                row = self.levels[level]
                j = idx - (self.lo >> level)
                value = row[j] if 0 <= j < len(row) else None
            else:
                value = self.upper.get((level, idx))
            if value is not None:
                found[(level, idx)] = value
        return found


def _parent(left: bytes | None, right: bytes | None) -> bytes | None:
    if left is None or right is None:
        return None
    return _sha256(b"\x01" + left + right).digest()


class _Verifier:
    def __init__(self, uow: UnitOfWork, progress: Progress | None) -> None:
        self.uow = uow
        self.conn = uow.conn
        self.report = VerifyReport()
        self.progress = progress
        self.bad_leaves: list[int] = []  # ascending: leaves with a row or tree finding
        self.head = 0
        self.end = 0

    # --- findings ---

    def leaf_finding(self, kind: str, index: int, message: str, **detail: Any) -> None:
        bisect.insort(self.bad_leaves, index)
        self.report.add(Finding(kind, message, index, index, True, detail))

    def explained(self, lo: int, hi: int) -> bool:
        """True if a leaf in [lo, hi) was already reported, or the range passes the head."""
        if hi > self.head:
            return True
        i = bisect.bisect_left(self.bad_leaves, lo)
        return i < len(self.bad_leaves) and self.bad_leaves[i] < hi

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
                out[position] = _sha256(b"\x00" + ledger_store.event_of_row(row).leaf()).digest()
            except (ValueError, TypeError) as exc:
                out[position] = str(exc)
        return out

    def chunk_leaves(self, lo: int, hi: int) -> list[bytes | None]:
        rows = ledger_store.leaf_texts(self.conn, lo, hi)
        stored = ledger_store.node_hashes(self.conn, 0, lo, hi)
        n = hi - lo
        self.report.events += len(rows)
        self.report.leaves += len(rows)
        if len(rows) == n and len(stored) == n and rows[0][0] == lo and rows[-1][0] == hi - 1:
            leaves: list[bytes | None] = [
                _sha256(b"\x00" + (text or "").encode("utf-8")).digest() for _, text in rows]
            if leaves == stored:
                return leaves
            self.compare_leaves(lo, leaves, dict(enumerate(stored, lo)),
                                {lo + i for i in range(n)})
            return leaves
        present = {int(p): text for p, text in rows}
        stored_map = ledger_store.node_rows(self.conn, 0, lo, hi)
        leaves = []
        for position in range(lo, hi):
            text = present.get(position)
            if text is None and position not in present:
                leaves.append(stored_map.get(position))  # nothing to recompute it from
                self.leaf_finding("gap", position, f"entry {position} is missing: no event row "
                                  "holds this position (deleted behind the application's back)")
            else:
                leaves.append(_sha256(b"\x00" + (text or "").encode("utf-8")).digest())
        self.compare_leaves(lo, leaves, stored_map, set(present))
        return leaves

    def compare_leaves(self, lo: int, leaves: list[bytes | None], stored: dict[int, bytes],
                       present: set[int]) -> None:
        """Report rows whose leaf is not the stored one, re-deriving suspects with Event.leaf()."""
        suspects = []
        for i, leaf in enumerate(leaves):
            position = lo + i
            if position not in present:
                continue
            held = stored.get(position)
            if held is None:
                if position < self.head:
                    self.leaf_finding("leaf_missing", position, f"entry {position} has an event "
                                      "row but the tree holds no leaf for it")
                else:
                    bisect.insort(self.bad_leaves, position)
            elif leaf != held:
                suspects.append(position)
        rechecked = self.recheck(suspects[:RECHECKS_PER_CHUNK])
        for position in suspects:
            result = rechecked.get(position)
            if isinstance(result, bytes) and result == stored[position]:
                leaves[position - lo] = result  # stored text not canonical, same event
            elif isinstance(result, str) and result != "no event row":
                self.leaf_finding("bad_row", position, f"entry {position} is not a readable "
                                  f"event: {result}")
            else:
                self.leaf_finding("leaf_mismatch", position, f"entry {position} does not hash "
                                  "to the leaf recorded when it was appended: its row was "
                                  "edited, replaced, moved or forged")

    # --- interior nodes ---

    def compare_level(self, level: int, lo_idx: int, computed: list[bytes | None]) -> None:
        hi_idx = lo_idx + len(computed)
        self.report.nodes += len(computed)
        stored = ledger_store.node_hashes(self.conn, level, lo_idx, hi_idx)
        if stored == computed:
            return
        rows = ledger_store.node_rows(self.conn, level, lo_idx, hi_idx)
        for i, value in enumerate(computed):
            idx = lo_idx + i
            self.compare_node(level, idx, value, rows.get(idx))

    def compare_node(self, level: int, idx: int, value: bytes | None, held: bytes | None) -> None:
        first, last = idx << level, ((idx + 1) << level) - 1
        if value is None or held == value or self.explained(first, last + 1):
            return
        what = "is missing" if held is None else "differs from the hash of the leaves below it"
        kind = "node_missing" if held is None else "node_mismatch"
        self.report.add(Finding(kind, f"tree node ({level}, {idx}) over entries {first}..{last} "
                                f"{what}: proofs through it would not verify", first, last,
                                False, {"level": level, "idx": idx}))

    # --- the scan ---

    def scan(self, sizes: Sequence[int]) -> dict[int, bytes | None]:
        """Check rows and tree; return the recomputed root at each of `sizes` (None: unknown)."""
        wanted = sorted(s for s in set(sizes) if 0 < s <= self.end)
        roots: dict[int, bytes | None] = {0: EMPTY_ROOT}
        upper: dict[NodeKey, bytes | None] = {}
        w = 0
        for lo in range(0, self.end, CHUNK):
            hi = min(self.end, lo + CHUNK)
            levels: list[list[bytes | None]] = [self.chunk_leaves(lo, hi)]
            for level in range(1, CHUNK_LEVEL + 1):
                below = levels[-1]
                if None in below:
                    row = [_parent(a, b) for a, b in zip(below[0::2], below[1::2], strict=False)]
                else:
                    row = [_sha256(b"\x01" + a + b).digest()  # type: ignore[operator]
                           for a, b in zip(below[0::2], below[1::2], strict=False)]
                levels.append(row)
                self.compare_level(level, lo >> level, row)
            if hi - lo == CHUNK:
                level, idx = CHUNK_LEVEL, lo >> CHUNK_LEVEL
                upper[(level, idx)] = levels[CHUNK_LEVEL][0]
                while idx & 1:
                    upper[(level + 1, idx >> 1)] = _parent(upper[(level, idx - 1)],
                                                           upper[(level, idx)])
                    level, idx = level + 1, idx >> 1
            reader = _Recomputed(levels, lo, upper)
            while w < len(wanted) and wanted[w] <= hi:
                try:
                    roots[wanted[w]] = tree_root(reader, wanted[w])
                except LedgerError:
                    roots[wanted[w]] = None  # a leaf is gone from both the log and the tree
                w += 1
            if self.progress is not None:
                self.progress("leaves", hi, self.end)
        stored_upper = ledger_store.nodes_above(self.conn, CHUNK_LEVEL)
        for (level, idx), value in sorted(upper.items()):
            if level > CHUNK_LEVEL:
                self.report.nodes += 1
                self.compare_node(level, idx, value, stored_upper.get((level, idx)))
        return roots

    # --- checkpoints ---

    def claim(self, label: str, source: str, note: str, verifier: Verifier | None,
              origin: str, checkpoint_id: int | None = None) -> _Claim:
        try:
            body, _ = parse_note(note)
            parsed = Checkpoint.parse(body)
        except LedgerError as exc:
            return _Claim(label, source, -1, None, False, f"is not a signed checkpoint: {exc}",
                          checkpoint_id)
        claim = _Claim(label, source, parsed.size, parsed.root, False, None, checkpoint_id)
        if verifier is None:
            claim.problem = "cannot be checked: the log's public key is not available"
            return claim
        try:
            verify_checkpoint(note, verifier)
        except LedgerError as exc:
            claim.problem = f"is not signed by the log's key {verifier.name}+" \
                            f"{verifier.key_hash:08x} ({exc})"
            return claim
        claim.signed = True
        if parsed.origin != origin:
            claim.problem = f"is for origin {parsed.origin!r}, not this log's {origin!r}"
        return claim

    def judge(self, claims: list[_Claim], roots: dict[int, bytes | None]) -> None:
        for claim in claims:
            claim.good = (claim.signed and claim.problem is None and 0 <= claim.size <= self.end
                          and roots.get(claim.size) is not None
                          and roots[claim.size] == claim.root)
        for n, claim in enumerate(claims):
            if claim.good:
                continue
            # Only a checkpoint the bad one extended narrows the range: for the log's own,
            # one signed before it (the log refuses to sign a checkpoint that does not
            # extend the last); for an overseer's, a smaller copy from the same overseer.
            before = claims if claim.source == "supplied" else claims[:n]
            lo = max((c.size for c in before if c.good and c.source == claim.source
                      and c.size < claim.size), default=0)
            hi = claim.size - 1 if claim.size > 0 else None
            where = f"entries {lo}..{hi}" if hi is not None and hi >= lo else "no entries"
            detail = {"checkpoint_id": claim.checkpoint_id, "size": claim.size,
                      "source": claim.label}
            prefix = "checkpoint" if claim.source == "checkpoint" else "supplied"
            if claim.problem is not None:
                kind = f"{prefix}_origin" if claim.signed else f"{prefix}_signature"
                self.report.add(Finding(kind, f"{claim.label} {claim.problem}; {where} are not "
                                        "vouched for by a valid checkpoint", lo, hi, False,
                                        detail))
            elif claim.size > self.end:
                self.report.add(Finding(
                    f"{prefix}_beyond_log", f"{claim.label} signed {claim.size} entries but the "
                    f"log now has {self.end}: entries were removed; the first disagreement lies "
                    f"in {where}", lo, hi, False, detail))
            elif roots.get(claim.size) is None:
                self.report.notes.append(f"{claim.label} could not be checked: an entry below "
                                         f"{claim.size} is gone from both the log and the tree")
            else:
                self.report.add(Finding(
                    f"{prefix}_root", f"{claim.label} signed a root for size {claim.size} that "
                    f"the log no longer produces: the first disagreement lies in {where}",
                    lo, hi, False, detail))

    def consistency(self, claims: list[_Claim], latest: _Claim | None) -> None:
        """Each good supplied checkpoint must be extended by the latest good stored one."""
        for claim in claims:
            entry = {"source": claim.label, "size": claim.size, "ok": claim.good}
            self.report.supplied.append(entry)
            if not claim.good or latest is None or latest.size < claim.size:
                continue
            assert claim.root is not None and latest.root is not None
            try:
                if claim.size == 0:
                    if claim.root != EMPTY_ROOT:
                        raise LedgerError("an empty tree's root is SHA-256 of nothing")
                elif claim.size < latest.size:
                    proof = consistency_proof(DbNodeStore(self.conn), claim.size, latest.size)
                    verify_consistency(claim.size, latest.size, proof, claim.root, latest.root)
                elif claim.root != latest.root:
                    raise LedgerError("same size, different roots")
                entry["consistent_with"] = latest.label
            except LedgerError as exc:
                entry["ok"] = False
                self.report.add(Finding(
                    "supplied_inconsistent", f"{claim.label}: no consistency proof from it to "
                    f"{latest.label} verifies ({exc})", 0, claim.size - 1, False,
                    {"source": claim.label, "size": claim.size}))


def verify(uow: UnitOfWork, *, verifier: Verifier | None, origin: str,
           supplied: Sequence[tuple[str, str]] = (), projection: bool = True,
           progress: Progress | None = None) -> VerifyReport:
    """Check the whole ledger (auditor, admin). `supplied` is (name, note text) of
    checkpoints an overseer kept; `verifier` the log's public key (None: unknown)."""
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_VERIFY)
    v = _Verifier(uow, progress)
    report = v.report
    conn = uow.conn
    bounds = ledger_store.log_bounds(conn)
    v.head = report.size = bounds.head
    v.end = max(bounds.head, bounds.events_end)
    if bounds.events_end > bounds.head:
        first = ledger_store.first_position_from(conn, bounds.head)
        report.add(Finding("beyond_head", f"event rows exist from entry {first} on, beyond the "
                           f"log's recorded size {bounds.head}: inserted behind the "
                           "application's back", first, bounds.events_end - 1, True))
    if bounds.leaves_end > v.end:
        report.add(Finding("extra_leaves", f"the tree holds leaves {v.end}..{bounds.leaves_end - 1}"
                           f" but the log ends at {v.end}: entries were removed from the end",
                           v.end, bounds.leaves_end - 1, True))
    if verifier is None:
        report.add(Finding("no_key", "the log's public key is not available (no key file; give "
                           "--vkey): checkpoint signatures cannot be checked"))

    kept = ledger_store.all_checkpoints(conn)
    stored = [v.claim(f"checkpoint {cp.id}", "checkpoint", cp.note, verifier, origin, cp.id)
              for cp in kept]
    for cp, claim in zip(kept, stored, strict=True):
        if claim.size >= 0 and (cp.size, cp.root) != (claim.size, claim.root):
            report.add(Finding("checkpoint_mismatch", f"checkpoint {cp.id}: its size and root "
                               "columns do not say what its signed note says (edited)",
                               None, None, False, {"checkpoint_id": cp.id}))
    given = [v.claim(name, "supplied", text, verifier, origin) for name, text in supplied]
    roots = v.scan([c.size for c in stored + given if c.size >= 0])
    v.judge(stored + given, roots)
    report.checkpoints = len(stored)
    good_stored = [c for c in stored if c.good]
    latest_good = max(good_stored, key=lambda c: (c.size, c.checkpoint_id or 0), default=None)
    if stored:
        newest = stored[-1]
        report.latest = {"id": newest.checkpoint_id, "size": newest.size, "ok": newest.good,
                         "root": b64(newest.root) if newest.root else None}
        if newest.good and newest.size < report.size:
            report.notes.append(f"entries {newest.size}..{report.size - 1} are not covered by a "
                                "checkpoint yet")
    elif report.size:
        report.notes.append("no checkpoint has been signed: nothing vouches for the log yet")
    v.consistency(given, latest_good)
    if projection:
        _projection(uow, report, progress)
    return report


def _projection(uow: UnitOfWork, report: VerifyReport, progress: Progress | None) -> None:
    report.projection = True
    size = max(report.size, 1)
    try:
        scratch = rebuild.replay(
            uow.repo.iter_events(),
            progress=None if progress is None else (lambda n: progress("projection", n, size)))
    except Exception as exc:  # noqa: BLE001 - a tampered log may break the replay: a finding
        report.add(Finding("projection", f"the log cannot be replayed into a projection: {exc}"))
        return
    try:
        diffs = rebuild.compare(uow.conn, scratch, limit=LISTED * 5)
    finally:
        scratch.close()
    last_events = ledger_store.firearm_last_events(
        uow.conn, [int(d.key) for d in diffs if d.table == "firearms" and d.key.isdigit()])
    for diff in diffs:
        entry: int | None = None
        if diff.table == "firearms" and diff.key.isdigit():
            entry = last_events.get(int(diff.key), int(diff.key))
        elif diff.key.isdigit():
            entry = int(diff.key)  # entity ids are the position of the creating entry
        written = f" (row last written by entry {entry})" if entry is not None else ""
        report.add(Finding("projection", f"projection row {diff}{written}: it disagrees with "
                           "the replayed log", None, None, False,
                           {**diff.as_dict(), "entry": entry}))
    if progress is not None:
        progress("projection", size, size)
