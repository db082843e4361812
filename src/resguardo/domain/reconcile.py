"""Reconciliation: a physical count of weapons (scans) against the registry.

Every registry weapon lands in exactly one of matched, missing, explained,
status_conflict, mislocated or custody_mismatch, or in none when it is
recorded lost, stolen or decommissioned and was not seen (the table in
FORMATS.md). Every scan either accounts for a registry weapon or is
``unregistered`` (or ``foreign``, when it is another agency's weapon).

Matching is by serial key and, when the scan gives a make, by make too.
One scan accounts for at most one weapon. When several registry weapons
share the scanned serial key and the scan does not tell them apart (it gives
no make, or the registry repeats a make), the scan goes to the weapon the
count agrees with best: the inspected agency's own before another's, then the
one whose recorded place matches the scan, then one not yet seen, then the
first in registry order. The others stay unseen, so a weapon counted once
can never clear two entries of the books; a missing one among them carries
that scan as its ``suggested_match`` at distance 0.

Places (locations, badges, agencies) are compared without regard to case,
accents or spacing. A weapon is classified by its first scan (lowest
``order``); a scan at another place is a ``duplicate_scan``, reported once
per weapon; a scan with no location agrees with any location, but "no
holder" and "held by C" are different places.

Suggestions pair unregistered scans with missing weapons whose serial keys
are within one edit (insertion, deletion or substitution) of each other, or
equal under different makes (distance 0). Look-alike substitutions (O/0,
I/1, S/5, ...) rank before other edits. The search indexes the smaller side
by its one-deletion and one-wildcard neighbourhoods, so it is linear in the
number of scans and weapons, never quadratic.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from resguardo.domain.codes import GONE_STATUSES, FirearmKind, FirearmStatus
from resguardo.domain.serials import is_lookalike, make_key, serial_key
from resguardo.domain.vocabulary import fold_text


class FindingKind(StrEnum):
    """Stable codes of reconciliation findings (the order is the report order)."""

    MISSING = "missing"
    UNREGISTERED = "unregistered"
    FOREIGN = "foreign"
    STATUS_CONFLICT = "status_conflict"
    MISLOCATED = "mislocated"
    CUSTODY_MISMATCH = "custody_mismatch"
    DUPLICATE_SCAN = "duplicate_scan"
    EXPLAINED = "explained"


#: Keys of ``Reconciliation.summary``, in the order FORMATS.md shows them.
SUMMARY_KEYS: tuple[str, ...] = ("registry", "scans", "matched", *(k.value for k in FindingKind))

#: The finding kinds that classify a registry weapon (at most one each).
WEAPON_CLASSES: frozenset[FindingKind] = frozenset(
    {
        FindingKind.MISSING,
        FindingKind.EXPLAINED,
        FindingKind.STATUS_CONFLICT,
        FindingKind.MISLOCATED,
        FindingKind.CUSTODY_MISMATCH,
    }
)


@dataclass(slots=True)
class RegistryEntry:
    """One firearm as the books record it. Treated as immutable once built."""

    serial: str
    make: str
    status: FirearmStatus = FirearmStatus.IN_STORAGE
    location: str | None = None
    custodian: str | None = None
    agency: str | None = None
    model: str | None = None
    calibre: str | None = None
    kind: FirearmKind | None = None


@dataclass(slots=True)
class Scan:
    """One observation during a count. ``order`` ranks scans in time (sheet line, sequence)."""

    serial: str
    location: str | None = None
    holder: str | None = None
    make: str | None = None
    observed_at: datetime | date | time | None = None
    note: str | None = None
    order: int = 0

    def as_dict(self) -> dict[str, Any]:
        at = self.observed_at
        return {
            "serial": self.serial,
            "make": self.make,
            "location": self.location,
            "holder": self.holder,
            "observed_at": at.isoformat() if at is not None else None,
            "note": self.note,
            "order": self.order,
        }


@dataclass(frozen=True, slots=True)
class SuggestedMatch:
    """A likely misread: the serial on the other side and its edit distance (0 or 1)."""

    serial: str
    distance: int
    lookalike: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """One discrepancy. ``serial`` is as registered, except for ``unregistered`` (as scanned)."""

    kind: FindingKind
    serial: str
    make: str | None
    registry: RegistryEntry | None
    observed: Scan | None
    suggested_match: SuggestedMatch | None = None

    def as_dict(self) -> dict[str, Any]:
        reg = self.registry
        sug = self.suggested_match
        return {
            "kind": self.kind.value,
            "serial": self.serial,
            "make": self.make,
            "registry": None
            if reg is None
            else {"location": reg.location, "custodian": reg.custodian, "status": reg.status.value},
            "observed": None if self.observed is None else self.observed.as_dict(),
            "suggested_match": None
            if sug is None
            else {"serial": sug.serial, "distance": sug.distance},
        }


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Counts of every kind (zero or not) and the findings in report order."""

    summary: Mapping[str, int]
    findings: tuple[Finding, ...]

    def count(self, kind: FindingKind | str) -> int:
        return self.summary[str(kind)]

    def of_kind(self, kind: FindingKind) -> Iterator[Finding]:
        return (f for f in self.findings if f.kind is kind)

    def as_dict(self) -> dict[str, Any]:
        return {
            "summary": {k: self.summary[k] for k in SUMMARY_KEYS},
            "findings": [f.as_dict() for f in self.findings],
        }


class _Folded:
    """Memoized ``fold`` of the few distinct strings a count repeats (places, makes, badges)."""

    __slots__ = ("_cache", "_fold")

    def __init__(self, fold: Any) -> None:
        self._cache: dict[str, str] = {}
        self._fold = fold

    def __call__(self, text: str) -> str:
        folded = self._cache.get(text)
        if folded is None:
            folded = self._cache[text] = self._fold(text)
        return folded

    def same(self, a: str, b: str) -> bool:
        return a == b or self(a) == self(b)


def _key(serial: str) -> str:
    # serial_key is a regex substitution; almost every serial is plain alphanumeric.
    return serial.upper() if serial.isalnum() else serial_key(serial)


_REPAIR_OR_TRANSIT = frozenset({FirearmStatus.IN_REPAIR, FirearmStatus.IN_TRANSIT})


def reconcile(
    registry: Iterable[RegistryEntry],
    scans: Iterable[Scan],
    *,
    agency: str | None = None,
) -> Reconciliation:
    """Classify every registry weapon and every scan (see the module docstring).

    ``agency``: the inspected agency. Weapons recorded under another agency are
    out of scope unless scanned, when they are ``foreign``; a weapon with no
    agency belongs to the inspected one. Without ``agency`` every weapon is in
    scope. Scans are consumed as a stream; only the registry is held.
    """
    return _Reconciler(agency).run(registry, scans)


class _Reconciler:
    def __init__(self, agency: str | None) -> None:
        self.own = fold_text(agency) if agency else None
        self.place = _Folded(fold_text)
        self.makes = _Folded(make_key)
        self.entries: list[RegistryEntry] = []
        self.index: dict[str, int] = {}
        self.shared: dict[str, list[int]] = {}
        self.theirs: set[int] = set()
        self.first: list[Scan | None] = []
        self.moved: dict[int, Scan] = {}
        self.location_seen: dict[int, str] = {}
        self.unregistered: dict[tuple[str, str], Scan] = {}
        self.unregistered_moved: dict[tuple[str, str], Scan] = {}
        self.unregistered_location: dict[tuple[str, str], str] = {}
        self.ambiguous: dict[str, Scan] = {}

    # -- the registry -------------------------------------------------------------------

    def load(self, registry: Iterable[RegistryEntry]) -> None:
        entries = self.entries
        append = entries.append
        setdefault = self.index.setdefault
        shared = self.shared
        own = self.own
        ours_by_agency: dict[str, bool] = {}
        i = 0
        for e in registry:
            append(e)
            s = e.serial
            k = s.upper() if s.isalnum() else serial_key(s)
            j = setdefault(k, i)
            if j != i:
                if k in shared:
                    shared[k].append(i)
                else:
                    shared[k] = [j, i]
            if own is not None and e.agency is not None:
                ours = ours_by_agency.get(e.agency)
                if ours is None:
                    ours = ours_by_agency[e.agency] = fold_text(e.agency) in ("", own)
                if not ours:
                    self.theirs.add(i)
            i += 1
        self.first = [None] * i

    # -- the count ----------------------------------------------------------------------

    def count(self, scans: Iterable[Scan]) -> int:
        entries = self.entries
        index_get = self.index.get
        shared = self.shared
        first = self.first
        same_make = self.makes.same
        n = 0
        for s in scans:
            n += 1
            raw = s.serial
            k = raw.upper() if raw.isalnum() else serial_key(raw)
            i = index_get(k)
            if i is not None:
                if k in shared:
                    i = self._pick(k, s)
                elif s.make is not None and not same_make(s.make, entries[i].make):
                    i = None
            if i is None:
                self._unregistered(k, s)
                continue
            f = first[i]
            if f is None:
                first[i] = s
            else:
                self._again(i, f, s)
        return n

    def _pick(self, k: str, s: Scan) -> int | None:
        entries = self.entries
        candidates = self.shared[k]
        if s.make is not None:
            candidates = [c for c in candidates if self.makes.same(s.make, entries[c].make)]
            if not candidates:
                return None
        if len(candidates) == 1:
            return candidates[0]
        self.ambiguous.setdefault(k, s)
        theirs, first = self.theirs, self.first
        return min(
            candidates,
            key=lambda c: (c in theirs, not self._agrees(entries[c], s), first[c] is not None, c),
        )

    def _agrees(self, e: RegistryEntry, s: Scan) -> bool:
        st = e.status
        if st is FirearmStatus.IN_STORAGE:
            return s.holder is None and self._same_location(e.location, s.location)
        if st is FirearmStatus.ISSUED:
            return self._holds(e.custodian, s.holder)
        return st in _REPAIR_OR_TRANSIT

    def _same_location(self, recorded: str | None, seen: str | None) -> bool:
        return recorded is None or seen is None or self.place.same(recorded, seen)

    def _holds(self, custodian: str | None, holder: str | None) -> bool:
        if holder is None:
            return False
        return custodian is None or self.place.same(custodian, holder)

    def _moved(self, f: Scan, s: Scan, reference: str | None) -> tuple[bool, str | None]:
        """Whether ``s`` is at another place than ``f``; and the reference location after it."""
        if f.holder != s.holder and (
            f.holder is None or s.holder is None or not self.place.same(f.holder, s.holder)
        ):
            return True, reference
        if s.location is None:
            return False, reference
        if reference is None:
            return False, s.location
        return not self.place.same(reference, s.location), reference

    def _again(self, i: int, f: Scan, s: Scan) -> None:
        reference = f.location if f.location is not None else self.location_seen.get(i)
        if i not in self.moved:
            moved, new_reference = self._moved(f, s, reference)
            if moved:
                self.moved[i] = s
            elif new_reference is not reference and new_reference is not None:
                self.location_seen[i] = new_reference
        if s.order < f.order:
            self.first[i] = s
            if s.location is None and reference is not None:
                self.location_seen.setdefault(i, reference)

    def _unregistered(self, k: str, s: Scan) -> None:
        ident = (k, "" if s.make is None else self.makes(s.make))
        f = self.unregistered.get(ident)
        if f is None:
            self.unregistered[ident] = s
            return
        if ident not in self.unregistered_moved:
            reference = f.location or self.unregistered_location.get(ident)
            moved, new_reference = self._moved(f, s, reference)
            if moved:
                self.unregistered_moved[ident] = s
            elif new_reference is not reference and new_reference is not None:
                self.unregistered_location[ident] = new_reference
        if s.order < f.order:
            self.unregistered[ident] = s

    # -- classification -----------------------------------------------------------------

    def run(self, registry: Iterable[RegistryEntry], scans: Iterable[Scan]) -> Reconciliation:
        self.load(registry)
        n_scans = self.count(scans)
        entries, first, theirs = self.entries, self.first, self.theirs
        place_same = self.place.same
        in_storage, issued = FirearmStatus.IN_STORAGE, FirearmStatus.ISSUED
        weapon_kinds: list[tuple[FindingKind, int]] = []
        missing: list[int] = []
        explained: list[int] = []
        matched = 0
        for i, e in enumerate(entries):
            s = first[i]
            st = e.status
            if s is None:
                if theirs and i in theirs:
                    continue
                if st is in_storage or st is issued:
                    missing.append(i)
                elif st in _REPAIR_OR_TRANSIT:
                    explained.append(i)
                continue
            if theirs and i in theirs:
                weapon_kinds.append((FindingKind.FOREIGN, i))
            elif st is in_storage:
                if s.holder is not None:
                    weapon_kinds.append((FindingKind.CUSTODY_MISMATCH, i))
                elif s.location is None or e.location is None or place_same(e.location, s.location):
                    matched += 1
                else:
                    weapon_kinds.append((FindingKind.MISLOCATED, i))
            elif st is issued:
                if self._holds(e.custodian, s.holder):
                    matched += 1
                else:
                    weapon_kinds.append((FindingKind.CUSTODY_MISMATCH, i))
            elif st in GONE_STATUSES:
                weapon_kinds.append((FindingKind.STATUS_CONFLICT, i))
            else:
                matched += 1

        unregistered = sorted(self.unregistered.items(), key=lambda item: item[1].order)
        to_scan, to_weapon = self._suggestions(missing, unregistered)

        findings: dict[FindingKind, list[Finding]] = {kind: [] for kind in FindingKind}
        for i in missing:
            e = entries[i]
            findings[FindingKind.MISSING].append(
                Finding(FindingKind.MISSING, e.serial, e.make, e, None, to_scan.get(i))
            )
        for i in explained:
            e = entries[i]
            findings[FindingKind.EXPLAINED].append(
                Finding(FindingKind.EXPLAINED, e.serial, e.make, e, None)
            )
        for kind, i in weapon_kinds:
            e = entries[i]
            findings[kind].append(Finding(kind, e.serial, e.make, e, first[i]))
        for pos, (_, s) in enumerate(unregistered):
            findings[FindingKind.UNREGISTERED].append(
                Finding(FindingKind.UNREGISTERED, s.serial, s.make, None, s, to_weapon.get(pos))
            )
        duplicates = findings[FindingKind.DUPLICATE_SCAN]
        for i in sorted(self.moved):
            e = entries[i]
            duplicates.append(
                Finding(FindingKind.DUPLICATE_SCAN, e.serial, e.make, e, self.moved[i])
            )
        for ident, first_scan in unregistered:
            witness = self.unregistered_moved.get(ident)
            if witness is not None:
                duplicates.append(
                    Finding(
                        FindingKind.DUPLICATE_SCAN,
                        first_scan.serial,
                        first_scan.make,
                        None,
                        witness,
                    )
                )

        in_scope = len(entries) - len(theirs)
        summary: dict[str, int] = {"registry": in_scope, "scans": n_scans, "matched": matched}
        for kind in FindingKind:
            summary[kind.value] = len(findings[kind])
        ordered = tuple(f for kind in FindingKind for f in findings[kind])
        return Reconciliation(summary, ordered)

    # -- suggestions --------------------------------------------------------------------

    def _suggestions(
        self, missing: list[int], unregistered: list[tuple[tuple[str, str], Scan]]
    ) -> tuple[dict[int, SuggestedMatch], dict[int, SuggestedMatch]]:
        """Best unregistered scan for each missing weapon, and the reverse."""
        entries = self.entries
        to_scan: dict[int, SuggestedMatch] = {}
        to_weapon: dict[int, SuggestedMatch] = {}
        if missing and unregistered:
            weapon_keys = [_key(entries[i].serial) for i in missing]
            scan_keys = [ident[0] for ident, _ in unregistered]
            best_for_weapon: dict[int, tuple[int, int, int]] = {}
            best_for_scan: dict[int, tuple[int, int, int]] = {}
            for w, u, distance in neighbours(weapon_keys, scan_keys):
                weapon = entries[missing[w]]
                scan = unregistered[u][1]
                if (
                    distance
                    and scan.make is not None
                    and not self.makes.same(scan.make, weapon.make)
                ):
                    continue
                lookalike = distance == 1 and _lookalike_pair(weapon_keys[w], scan_keys[u])
                rank = (distance, 0 if lookalike else 1)
                if (*rank, u) < best_for_weapon.get(w, (9, 9, 0)):
                    best_for_weapon[w] = (*rank, u)
                if (*rank, w) < best_for_scan.get(u, (9, 9, 0)):
                    best_for_scan[u] = (*rank, w)
            for w, (distance, kind, u) in best_for_weapon.items():
                to_scan[missing[w]] = SuggestedMatch(unregistered[u][1].serial, distance, kind == 0)
            for u, (distance, kind, w) in best_for_scan.items():
                to_weapon[u] = SuggestedMatch(entries[missing[w]].serial, distance, kind == 0)
        if self.ambiguous:
            for i in missing:
                if i not in to_scan:
                    e = entries[i]
                    scan = self.ambiguous.get(_key(e.serial))
                    if scan is not None and (
                        scan.make is None or self.makes.same(scan.make, e.make)
                    ):
                        to_scan[i] = SuggestedMatch(scan.serial, 0)
        return to_scan, to_weapon


def _lookalike_pair(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ in exactly one position by look-alike characters."""
    if len(a) != len(b):
        return False
    diffs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(diffs) == 1 and is_lookalike(*diffs[0])


_WILDCARD = "\x00"
_CHUNK = 50_000


def neighbours(left: list[str], right: list[str]) -> Iterator[tuple[int, int, int]]:
    """Pairs ``(l, r, distance)`` of keys within one edit (``distance`` 0 or 1).

    Indexes the shorter list, in chunks to bound memory, by each key, its
    one-deletion variants and its one-wildcard variants; each key of the other
    list then costs a few dictionary lookups per character. Each pair is
    yielded once, with its smallest distance.
    """
    if len(left) <= len(right):
        yield from _neighbours(left, right)
    else:
        for r, l_, distance in _neighbours(right, left):
            yield l_, r, distance


def _neighbours(small: list[str], large: list[str]) -> Iterator[tuple[int, int, int]]:
    for start in range(0, len(small), _CHUNK):
        exact: dict[str, list[int]] = {}
        deleted: dict[str, list[int]] = {}
        wild: dict[str, list[int]] = {}
        for a in range(start, min(start + _CHUNK, len(small))):
            key = small[a]
            exact.setdefault(key, []).append(a)
            variants_d = {key[:p] + key[p + 1 :] for p in range(len(key))}
            for v in variants_d:
                deleted.setdefault(v, []).append(a)
            for p in range(len(key)):
                wild.setdefault(key[:p] + _WILDCARD + key[p + 1 :], []).append(a)
        for b, key in enumerate(large):
            found: dict[int, int] = {}
            for a in exact.get(key, ()):
                found[a] = 0
            for a in deleted.get(key, ()):
                found.setdefault(a, 1)
            seen_d: set[str] = set()
            for p in range(len(key)):
                shorter = key[:p] + key[p + 1 :]
                if shorter not in seen_d:
                    seen_d.add(shorter)
                    for a in exact.get(shorter, ()):
                        found.setdefault(a, 1)
                for a in wild.get(key[:p] + _WILDCARD + key[p + 1 :], ()):
                    found.setdefault(a, 1)
            for a, distance in found.items():
                yield a, b, distance
