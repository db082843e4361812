"""`resguardo ledger verify`: recompute the ledger from the event rows and hold it against
the stored tree, every stored checkpoint, the checkpoints overseers kept, and the
projection; name the first index that disagrees and why.

What is checked, in one pass over the log in aligned chunks of 2**14 entries
(`ledger_scan`, in parallel processes for large logs):

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
- the projection replayed from the log equals the live one (`projection`);
- with a `freshness` policy (`ledger_freshness`): no entry stays unsigned longer than
  allowed (`unsigned_tail`), the newest checkpoint has its witnesses' quorum in time
  (`cosignature_quorum`), every kept cosignature of a configured witness verifies
  (`cosignature_invalid`), and no witness's newest answer was a refusal
  (`witness_refused`).

A finding names the first index it implicates. Row and tree findings are exact. A
checkpoint finding, where nothing else shows the damage (a log truncated and regrown
through the application recomputes its own tree), gives the narrowest range the
evidence allows: from the size of the last good checkpoint the bad one extended (for
the log's own, a smaller one signed before it, since the log refuses to sign a
checkpoint that does not extend the last; for an overseer's, a smaller copy it also
supplied) to the bad checkpoint's size minus one. A projection finding implicates no
log index; it names the entry that last wrote the row.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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
    root_node_keys,
    tree_root,
    verify_checkpoint,
    verify_consistency,
)
from resguardo.services import ledger_freshness, ledger_scan, ledger_state
from resguardo.services.ledger import b64
from resguardo.services.ledger_scan import LISTED, Finding
from resguardo.storage import ledger_store, rebuild
from resguardo.storage.ledger_store import DbNodeStore
from resguardo.storage.uow import UnitOfWork

Progress = Callable[[str, int, int], None]

#: Finding kinds whose range says where the log's entries first disagree.
RANGE_KINDS = frozenset({"checkpoint_root", "checkpoint_beyond_log", "supplied_root",
                         "supplied_beyond_log", "supplied_inconsistent"})


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
    mode: str = "full"
    """"full" (from entry 0) or "incremental" (from an auditor's verified state)."""
    from_size: int = 0
    """The size the verify went on from: 0, or the state's verified size."""
    state: dict[str, Any] | None = None
    """The auditor's state after the verify (`ledger_state`), when one was kept."""
    state_updated: bool = False
    pending: dict[str, Any] | None = field(default=None, repr=False)
    """What the new state is made of, written only if the verify passes."""

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
            "notes": self.notes, "mode": self.mode, "from_size": self.from_size,
            "state": self.state, "state_updated": self.state_updated,
        }


@dataclass(slots=True)
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


class _Nodes:
    """NodeReader over recomputed nodes (absent or None: unknown)."""

    def __init__(self, *layers: dict[NodeKey, bytes | None]) -> None:
        self.layers = layers

    def get_many(self, keys: Any) -> dict[NodeKey, bytes]:
        found: dict[NodeKey, bytes] = {}
        for key in keys:
            for layer in self.layers:
                value = layer.get(key)
                if value is not None:
                    found[key] = value
                    break
        return found


class _Verifier:
    def __init__(self, uow: UnitOfWork, progress: Progress | None, workers: int | None,
                 chunk_level: int, verified: int = 0) -> None:
        self.verified = verified
        self.frontiers: dict[int, dict[NodeKey, bytes]] = {0: {}}
        self.keep_frontiers: set[int] = set()
        self.uow = uow
        self.conn = uow.conn
        self.report = VerifyReport()
        self.progress = progress
        self.workers = workers
        self.chunk_level = chunk_level
        self.bad_leaves: list[int] = []  # ascending: leaves with a row or tree finding
        self.head = 0
        self.end = 0

    def explained(self, lo: int, hi: int) -> bool:
        """True if a leaf in [lo, hi) was already reported, or the range passes the head."""
        if hi > self.head:
            return True
        i = bisect.bisect_left(self.bad_leaves, lo)
        return i < len(self.bad_leaves) and self.bad_leaves[i] < hi

    def scan(self, sizes: Sequence[int], meanwhile: Callable[[], None] | None = None
             ) -> dict[int, bytes | None]:
        """Check rows and tree; return the recomputed root at each of `sizes` (None: unknown).

        `meanwhile` runs once the first chunk is back: with worker processes, they go on
        hashing the rest of the log while it runs here."""
        wanted = sorted(s for s in set(sizes) if 0 < s <= self.end)
        roots: dict[int, bytes | None] = {0: EMPTY_ROOT}
        upper: dict[NodeKey, bytes | None] = {}
        report, top_level = self.report, self.chunk_level
        for chunk in ledger_scan.scan(self.conn, head=self.head, end=self.end, sizes=wanted,
                                      workers=self.workers, chunk_level=top_level,
                                      verified=self.verified):
            report.events += chunk.events
            report.leaves += chunk.events
            report.nodes += chunk.nodes
            for finding in chunk.findings:
                report.add(finding)
            report.omitted.update(chunk.omitted)
            self.bad_leaves.extend(chunk.bad_leaves)
            if chunk.top is not None:
                level, idx = top_level, chunk.lo >> top_level
                upper[(level, idx)] = chunk.top
                while idx & 1:
                    upper[(level + 1, idx >> 1)] = ledger_scan.parent(upper[(level, idx - 1)],
                                                                      upper[(level, idx)])
                    level, idx = level + 1, idx >> 1
            for size in (s for s in wanted if chunk.lo < s <= chunk.hi):
                nodes = _Nodes(chunk.subtrees, upper)
                try:
                    roots[size] = tree_root(nodes, size)
                except LedgerError:
                    roots[size] = None  # a leaf is gone from both the log and the tree
                if size in self.keep_frontiers:
                    self.frontiers[size] = nodes.get_many(root_node_keys(size))
            if self.progress is not None:
                self.progress("leaves", chunk.hi, self.end)
            if meanwhile is not None:
                meanwhile()
                meanwhile = None
        if meanwhile is not None:  # an empty log
            meanwhile()
        stored_upper = ledger_store.nodes_above(self.conn, top_level)
        for (level, idx), value in sorted(upper.items()):
            if level > top_level and (idx + 1) << level > self.verified:
                report.nodes += 1
                bad = ledger_scan.node_finding(level, idx, value, stored_upper.get((level, idx)))
                if bad is not None and not self.explained(idx << level, (idx + 1) << level):
                    report.add(bad)
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
           progress: Progress | None = None, workers: int | None = None,
           chunk_level: int = ledger_scan.CHUNK_LEVEL,
           freshness: ledger_freshness.FreshnessPolicy | None = None,
           base: ledger_state.VerifiedState | None = None,
           snapshot: Path | None = None) -> VerifyReport:
    """Check the whole ledger (auditor, admin).

    `supplied` is (name, note text) of checkpoints an overseer kept; `verifier` the log's
    public key (None: unknown); `freshness` the limits on unsigned entries and witness
    cosignatures (None: not checked); `workers` the processes that hash the log (default: one
    per CPU, up to 4, once the log has a few chunks; 1: this process only).

    With `snapshot` (a file path in an auditor's state directory: `verify_with_state`) the
    projection replayed up to the newest stored checkpoint is left in that file and what
    the new state is made of in ``report.pending``. With `base` (the state a previous
    verify left, its checks passed, and `snapshot` a copy of its projection snapshot) the
    verify is incremental: every leaf is still rehashed and held against its stored leaf,
    the recomputed tree must still produce the state's root at its size (the log extends
    what the auditor verified), but only the stored nodes and checkpoints after that size
    are checked, and the projection is replayed from the snapshot.
    """
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_VERIFY)
    verified = base.size if base is not None else 0
    v = _Verifier(uow, progress, workers, chunk_level, verified)
    report = v.report
    report.mode, report.from_size = ("incremental", verified) if base else ("full", 0)
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

    # From a state, the checkpoints it covers were checked by the verify that wrote it.
    kept = ledger_store.all_checkpoints(conn, verified)
    newest_kept = kept[-1] if kept else None
    if base is not None:
        newest_kept = ledger_store.latest_checkpoint(conn)
        skipped = ledger_store.checkpoint_count(conn) - len(kept)
    stored = [v.claim(f"checkpoint {cp.id}", "checkpoint", cp.note, verifier, origin, cp.id)
              for cp in kept]
    for cp, claim in zip(kept, stored, strict=True):
        if claim.size >= 0 and (cp.size, cp.root) != (claim.size, claim.root):
            report.add(Finding("checkpoint_mismatch", f"checkpoint {cp.id}: its size and root "
                               "columns do not say what its signed note says (edited)",
                               None, None, False, {"checkpoint_id": cp.id}))
    # The notes are not needed past their claims: a log keeps a checkpoint every 1,000
    # entries, and a checkpoint's row is most of what a verify holds per checkpoint.
    del kept
    given = [v.claim(name, "supplied", text, verifier, origin) for name, text in supplied]
    anchor = _anchor(report, base, newest_kept) if snapshot is not None else None
    anchor_size = anchor.size if anchor is not None else verified
    v.keep_frontiers = {verified, anchor_size}
    # The replay runs while worker processes hash the log; its findings join the report
    # at the end, as they always have.
    replayed = VerifyReport()
    roots = v.scan([c.size for c in stored + given if c.size >= 0] + [verified, anchor_size],
                   meanwhile=(lambda: _projection(uow, replayed, progress, verified,
                                                  anchor_size, snapshot)) if projection
                   else None)
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
    elif report.size and newest_kept is None:
        report.notes.append("no checkpoint has been signed: nothing vouches for the log yet")
    if base is not None:
        _extends_state(v, base, roots, latest_good)
        if skipped:
            report.notes.append(f"{skipped} checkpoint(s) of sizes up to {verified} were "
                                "checked by the verify that wrote the state")
    v.consistency(given, latest_good)
    if freshness is not None:
        for finding in ledger_freshness.check(uow, freshness, report.size, newest_kept):
            report.add(finding)
    if projection:
        report.projection = True
        for finding in replayed.findings:
            report.add(finding)
        report.omitted.update(replayed.omitted)
    if snapshot is not None and anchor_size in v.frontiers and roots.get(anchor_size):
        report.pending = {"size": anchor_size, "root": roots[anchor_size],
                          "frontier": v.frontiers[anchor_size],
                          "checkpoint_id": anchor.checkpoint_id if anchor else None,
                          "checkpoint": anchor.note if anchor else None}
    # Entries in log order, then what implicates no single entry.
    report.findings.sort(key=lambda f: (f.first is None, f.first or 0, f.kind))
    return report


@dataclass(frozen=True)
class _Anchor:
    checkpoint_id: int | None
    size: int
    note: str | None


def _anchor(report: VerifyReport, base: ledger_state.VerifiedState | None,
            newest: ledger_store.StoredCheckpoint | None) -> _Anchor | None:
    """The checkpoint a new state will stand on: the newest stored one (checked with the
    rest; the state is written only if everything verifies)."""
    if base is None:
        return None if newest is None else _Anchor(newest.id, newest.size, newest.note)
    if newest is None or newest.size < base.size:
        what = "no checkpoint" if newest is None else \
            f"its newest checkpoint {newest.id} is of size {newest.size}"
        report.add(Finding(
            "state_checkpoints_removed", f"the log keeps {what}, but this auditor verified "
            f"checkpoint {base.checkpoint_id} of size {base.size}: checkpoints were removed "
            "(the log never signs one that does not extend the last)", None, None, False,
            {"state_size": base.size, "state_checkpoint_id": base.checkpoint_id}))
        return None
    return _Anchor(newest.id, newest.size, newest.note)


def _extends_state(v: _Verifier, base: ledger_state.VerifiedState,
                   roots: dict[int, bytes | None], latest: _Claim | None) -> None:
    """The log must still produce the root this auditor verified at the state's size, and
    its stored tree must prove the newest good checkpoint extends it."""
    report, size = v.report, base.size
    detail = {"state_size": size, "state_checkpoint_id": base.checkpoint_id,
              "state_verified_at": base.verified_at}
    if v.end < size:
        report.add(Finding(
            "state_beyond_log", f"the log now has {v.end} entries, but this auditor verified "
            f"{size} (checkpoint {base.checkpoint_id}, {base.verified_at}): entries were "
            f"removed; the first disagreement lies in entries {v.end}..{size - 1} or before",
            0, size - 1, False, detail))
        return
    if roots.get(size) != base.root:
        lo, hi = 0, size - 1
        found = v.frontiers.get(size, {})
        for level, idx in root_node_keys(size):  # left to right: the first subtree that differs
            if found.get((level, idx)) != base.frontier[(level, idx)]:
                lo, hi = idx << level, ((idx + 1) << level) - 1
                break
        report.add(Finding(
            "state_fork", f"the log no longer extends the tree this auditor verified at size "
            f"{size} (checkpoint {base.checkpoint_id}, {base.verified_at}): its first {size} "
            f"entries no longer hash to the verified root; the history was rewritten in "
            f"entries {lo}..{hi}", lo, hi, False, detail))
        return
    if latest is None or latest.size <= size:
        return
    assert latest.root is not None
    try:
        proof = consistency_proof(DbNodeStore(v.conn), size, latest.size)
        verify_consistency(size, latest.size, proof, base.root, latest.root)
    except LedgerError as exc:
        report.add(Finding(
            "state_inconsistent", f"the stored tree gives no consistency proof from the "
            f"verified size {size} to {latest.label} (size {latest.size}) that verifies "
            f"({exc}): its nodes were changed", size, latest.size - 1, False, detail))


def verify_with_state(uow: UnitOfWork, directory: Path, *, verifier: Verifier | None,
                      origin: str, database: str, **options: Any) -> VerifyReport:
    """`verify` kept going from an auditor's state directory (`ledger_state`).

    The first time (no state in `directory`) the whole log is verified and the state
    written. Afterwards the state is checked first (its checkpoint's signature with the
    state's own key, its frontier against its root, its projection snapshot against the
    recorded SHA-256: `StateError`, and no verify, when any fails), the verify runs from
    it, and only a verify that passes advances the state to the newest checkpoint."""
    if not options.get("projection", True):
        raise ledger_state.StateError("a state keeps the replayed projection: it cannot be "
                                      "kept by a verify that does not replay it")
    with ledger_state.locked(directory):
        ledger_state.cleanup(directory)
        base = ledger_state.load(directory)
        if base is not None:
            if verifier is None:  # the auditor's own copy of the key
                verifier = Verifier.from_vkey(base.vkey)
            ledger_state.check(base, verifier, origin)
        snapshot = ledger_state.temporary(directory, "projection.sqlite")
        try:
            if base is not None:
                progress = options.get("progress")
                if progress is not None:
                    progress("snapshot", 0, 1)
                ledger_state.copy_snapshot(directory, base, snapshot)
                if progress is not None:
                    progress("snapshot", 1, 1)
            report = verify(uow, verifier=verifier, origin=origin, base=base,
                            snapshot=snapshot, **options)
            pending = report.pending
            if report.ok and pending is not None and verifier is not None:
                state = ledger_state.save(
                    directory, origin=origin, vkey=verifier.vkey(), snapshot=snapshot,
                    database=database, mode=report.mode, previous=base, **pending)
                report.state, report.state_updated = state.summary(), True
            elif base is not None:
                report.state = base.summary()
            return report
        finally:
            snapshot.unlink(missing_ok=True)


def _projection(uow: UnitOfWork, report: VerifyReport, progress: Progress | None,
                start: int = 0, cut: int = 0, snapshot: Path | None = None) -> None:
    """Replay the log into a scratch projection and compare it with the live one.

    With `snapshot` (a file holding the projection replayed up to `start`, or a new file
    when `start` is 0) the entries [start, cut) are replayed into that file, which is
    then the projection snapshot at `cut`, and the rest into a scratch copy of it."""
    report.projection = True
    size = max(report.size, 1)
    tell = None if progress is None else (lambda n: progress("projection", min(n, size), size))
    try:
        if snapshot is None:
            scratch = rebuild.replay_log(uow.conn, progress=tell)
        else:
            kept = rebuild.open_scratch(str(snapshot))
            try:
                rebuild.replay_range(uow.conn, kept, start, cut, progress=tell)
            finally:
                kept.close()
            scratch = rebuild.open_scratch(copy_of=str(snapshot))
            rebuild.replay_range(uow.conn, scratch, cut, None, progress=tell, keep_attached=True)
    except Exception as exc:  # noqa: BLE001 - a tampered log may break the replay: a finding
        report.add(Finding("projection", f"the log cannot be replayed into a projection: {exc}"))
        return
    if progress is not None:
        progress("projection", size, size)
    try:
        diffs = rebuild.compare(
            uow.conn, scratch, limit=LISTED * 5,
            progress=None if progress is None else (lambda n, of: progress("compare", n, of)))
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
