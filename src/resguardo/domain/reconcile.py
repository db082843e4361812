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
are within one edit of each other (``suggestions``), or equal but ambiguous
(a scan that could not tell apart the weapons sharing its key, distance 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from resguardo.domain.codes import GONE_STATUSES, FirearmKind, FirearmStatus
from resguardo.domain.serials import make_key, serial_key
from resguardo.domain.suggestions import SuggestedMatch, neighbours, suggest
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


def fast_serial_key(serial: str) -> str:
    """``serial_key``, without its regular expression for the usual shapes of serial."""
    if serial.isalnum():
        return serial.upper()
    # Alphanumeric once hyphens and spaces are gone: no other separator is left to remove.
    bare = serial.replace("-", "").replace(" ", "")
    if bare.isalnum():
        return bare.upper()
    return serial_key(serial)


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
    scope. Scans are consumed as a stream: the registry is held, and of the
    scans only those that end up as a finding's evidence.
    """
    return combine([_Reconciler(agency).tally(registry, scans)])


#: A weapon's count so far: the weapon, its class (None: matched), and the order, holder
#: and location of its first scan; the scan itself only when it is a finding's evidence.
_Seen = tuple[RegistryEntry, FindingKind | None, int, str | None, str | None, Scan | None]


class _Reconciler:
    """One reconciliation run.

    The serial-key index holds, per key, the unseen ``RegistryEntry``; once
    scanned, a ``_Seen`` tuple classified on the spot; or, for a key several
    weapons share, the list of them (their ``_Seen`` live in ``shared_seen``).
    Keeping the state in the index slot the lookup just found, classifying
    while the scan is at hand, and letting go of the scans of matched weapons
    keep memory traffic low: at a million rows the cost is cache misses and
    allocation far more than instructions.
    """

    def __init__(self, agency: str | None) -> None:
        self.own = fold_text(agency) if agency else None
        self.place = _Folded(fold_text)
        self.makes = _Folded(make_key)
        self.index: dict[str, RegistryEntry | _Seen | list[RegistryEntry]] = {}
        self.shared_seen: dict[int, _Seen] = {}
        self.their_agencies: set[str] = set()
        self.in_scope = 0
        self.moved: dict[int, tuple[RegistryEntry, Scan]] = {}
        self.location_seen: dict[int, str] = {}
        self.unregistered: dict[tuple[str, str], Scan] = {}
        self.unregistered_moved: dict[tuple[str, str], Scan] = {}
        self.unregistered_location: dict[tuple[str, str], str] = {}
        self.ambiguous: dict[str, Scan] = {}

    # -- the registry -------------------------------------------------------------------

    def load(self, registry: Iterable[RegistryEntry]) -> None:
        index = self.index
        setdefault = index.setdefault
        own = self.own
        agencies: dict[str | None, bool] = {None: True}
        n = theirs = 0
        for e in registry:
            n += 1
            s = e.serial
            if s.isalnum():
                k = s.upper()
            else:  # fast_serial_key inlined for the common hyphenated serial
                k = s.replace("-", "")
                k = k.upper() if k.isalnum() else fast_serial_key(s)
            v = setdefault(k, e)
            if v is not e:
                if type(v) is list:
                    v.append(e)
                else:
                    index[k] = [v, e]  # type: ignore[list-item]
            if own is not None:
                ours = agencies.get(e.agency)
                if ours is None:
                    ours = agencies[e.agency] = fold_text(e.agency) in ("", own)  # type: ignore[arg-type]
                    if not ours:
                        self.their_agencies.add(e.agency)  # type: ignore[arg-type]
                if not ours:
                    theirs += 1
        self.in_scope = n - theirs

    # -- the count ----------------------------------------------------------------------

    def count(self, scans: Iterable[Scan]) -> int:
        index = self.index
        index_get = index.get
        same_make = self.makes.same
        place_same = self.place.same
        their_agencies = self.their_agencies
        in_storage, issued = FirearmStatus.IN_STORAGE, FirearmStatus.ISSUED
        entry_type = RegistryEntry
        n = 0
        for s in scans:
            n += 1
            raw = s.serial
            if raw.isalnum():
                k = raw.upper()
            else:
                k = raw.replace("-", "")
                k = k.upper() if k.isalnum() else fast_serial_key(raw)
            v = index_get(k)
            if v is None:
                self._unregistered(k, s)
                continue
            if type(v) is not entry_type:
                if type(v) is tuple:
                    index[k] = self._observe(v[0], v, s)
                else:
                    self._shared(k, v, s)  # type: ignore[arg-type]
                continue
            # The first scan of a weapon whose key no other weapon has: the hot path.
            m = s.make
            if m is not None and m is not v.make and not same_make(m, v.make):
                self._unregistered(k, s)
                continue
            st = v.status
            if their_agencies and v.agency in their_agencies:
                kind: FindingKind | None = FindingKind.FOREIGN
            elif st is in_storage:
                if s.holder is not None:
                    kind = FindingKind.CUSTODY_MISMATCH
                else:
                    seen, recorded = s.location, v.location
                    kind = (
                        None
                        if seen is None
                        or recorded is None
                        or seen == recorded
                        or place_same(recorded, seen)
                        else FindingKind.MISLOCATED
                    )
            elif st is issued:
                holder, custodian = s.holder, v.custodian
                kind = (
                    None
                    if holder is not None
                    and (custodian is None or holder == custodian or place_same(custodian, holder))
                    else FindingKind.CUSTODY_MISMATCH
                )
            else:
                kind = self._classify(v, s)
            index[k] = (v, kind, s.order, s.holder, s.location, None if kind is None else s)
        return n

    def _classify(self, e: RegistryEntry, s: Scan) -> FindingKind | None:
        """The class of a seen weapon by the scan that counts for it (None: matched)."""
        if self.their_agencies and e.agency in self.their_agencies:
            return FindingKind.FOREIGN
        st = e.status
        if st is FirearmStatus.IN_STORAGE:
            if s.holder is not None:
                return FindingKind.CUSTODY_MISMATCH
            return None if self._same_location(e.location, s.location) else FindingKind.MISLOCATED
        if st is FirearmStatus.ISSUED:
            return None if self._holds(e.custodian, s.holder) else FindingKind.CUSTODY_MISMATCH
        if st in GONE_STATUSES:
            return FindingKind.STATUS_CONFLICT
        return None  # in repair or in transit: location and holder are not compared

    def _observe(self, e: RegistryEntry, seen: _Seen | None, s: Scan) -> _Seen:
        """The weapon's state after scan ``s``: duplicates noted, the first scan kept."""
        if seen is not None:
            _, _, order, holder, location, _ = seen
            ident = id(e)
            reference = location if location is not None else self.location_seen.get(ident)
            if ident not in self.moved:
                moved, new_reference = self._moved(holder, s, reference)
                if moved:
                    self.moved[ident] = (e, s)
                elif new_reference is not reference and new_reference is not None:
                    self.location_seen[ident] = new_reference
            if s.order >= order:
                return seen
            if s.location is None and reference is not None:
                self.location_seen.setdefault(ident, reference)
        kind = self._classify(e, s)
        return (e, kind, s.order, s.holder, s.location, None if kind is None else s)

    def _shared(self, k: str, weapons: list[RegistryEntry], s: Scan) -> None:
        e = self._pick(k, weapons, s)
        if e is None:
            self._unregistered(k, s)
            return
        ident = id(e)
        self.shared_seen[ident] = self._observe(e, self.shared_seen.get(ident), s)

    def _pick(self, k: str, weapons: list[RegistryEntry], s: Scan) -> RegistryEntry | None:
        candidates = weapons
        if s.make is not None:
            make = s.make
            candidates = [e for e in weapons if self.makes.same(make, e.make)]
            if not candidates:
                return None
        if len(candidates) == 1:
            return candidates[0]
        self.ambiguous.setdefault(k, s)
        theirs, seen = self.their_agencies, self.shared_seen
        order = {id(e): n for n, e in enumerate(candidates)}
        return min(
            candidates,
            key=lambda e: (
                e.agency in theirs,
                not self._agrees(e, s),
                id(e) in seen,
                order[id(e)],
            ),
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

    def _moved(self, holder: str | None, s: Scan, reference: str | None) -> tuple[bool, str | None]:
        """Whether ``s`` is at another place than the first scan (its ``holder`` and
        ``reference`` location); and the reference location after ``s``."""
        if holder != s.holder and (
            holder is None or s.holder is None or not self.place.same(holder, s.holder)
        ):
            return True, reference
        if s.location is None:
            return False, reference
        if reference is None:
            return False, s.location
        return not self.place.same(reference, s.location), reference

    def _unregistered(self, k: str, s: Scan) -> None:
        ident = (k, "" if s.make is None else self.makes(s.make))
        f = self.unregistered.get(ident)
        if f is None:
            self.unregistered[ident] = s
            return
        if ident not in self.unregistered_moved:
            reference = f.location or self.unregistered_location.get(ident)
            moved, new_reference = self._moved(f.holder, s, reference)
            if moved:
                self.unregistered_moved[ident] = s
            elif new_reference is not reference and new_reference is not None:
                self.unregistered_location[ident] = new_reference
        if s.order < f.order:
            self.unregistered[ident] = s

    # -- classification -----------------------------------------------------------------

    def _unseen(self, e: RegistryEntry) -> FindingKind | None:
        """The class of a weapon nobody scanned (None: expected absent, or not ours)."""
        if self.their_agencies and e.agency in self.their_agencies:
            return None
        st = e.status
        if st is FirearmStatus.IN_STORAGE or st is FirearmStatus.ISSUED:
            return FindingKind.MISSING
        if st in _REPAIR_OR_TRANSIT:
            return FindingKind.EXPLAINED
        return None

    def tally(self, registry: Iterable[RegistryEntry], scans: Iterable[Scan]) -> Tally:
        self.load(registry)
        result = Tally(registry=self.in_scope, scans=self.count(scans))
        weapons = result.weapons
        matched = 0
        entry_type = RegistryEntry
        for v in self.index.values():
            if type(v) is tuple:
                kind = v[1]
                if kind is None:
                    matched += 1
                else:
                    weapons.append((kind, v[0], v[5]))
                continue
            for e in (v,) if type(v) is entry_type else v:  # type: ignore[union-attr]
                seen = self.shared_seen.get(id(e)) if type(v) is not entry_type else None
                if seen is not None:
                    if seen[1] is None:
                        matched += 1
                    else:
                        weapons.append((seen[1], e, seen[5]))  # type: ignore[arg-type]
                    continue
                unseen = self._unseen(e)  # type: ignore[arg-type]
                if unseen is not None:
                    weapons.append((unseen, e, None))  # type: ignore[arg-type]
        result.matched = matched
        result.unregistered = [
            (first, self.unregistered_moved.get(ident))
            for ident, first in self.unregistered.items()
        ]
        result.moved = list(self.moved.values())
        result.ambiguous = self.ambiguous
        return result


@dataclass(slots=True)
class Tally:
    """A pass over a registry and a count, or over one shard of their serial keys.

    Tallies of disjoint shards add up to the tally of the whole; ``combine``
    adds them and pairs missing weapons with unregistered scans, which may lie
    in different shards (a misread serial hashes elsewhere).
    """

    registry: int = 0
    scans: int = 0
    matched: int = 0
    #: (class, weapon, the scan it was classified by; None when it was not seen)
    weapons: list[tuple[FindingKind, RegistryEntry, Scan | None]] = field(default_factory=list)
    #: (first scan of an unregistered weapon, a scan of it at another place or None)
    unregistered: list[tuple[Scan, Scan | None]] = field(default_factory=list)
    #: (weapon, a scan of it at another place than its first)
    moved: list[tuple[RegistryEntry, Scan]] = field(default_factory=list)
    #: serial key -> a scan that could not tell apart the weapons sharing that key
    ambiguous: dict[str, Scan] = field(default_factory=dict)


def tally(
    registry: Iterable[RegistryEntry], scans: Iterable[Scan], *, agency: str | None = None
) -> Tally:
    """The classification of ``registry`` and ``scans`` before suggestions (see ``reconcile``)."""
    return _Reconciler(agency).tally(registry, scans)


def combine(tallies: Iterable[Tally]) -> Reconciliation:
    """Add up tallies of disjoint shards of serial keys, suggest matches, order the findings.

    Findings come by kind; a kind's weapons by serial key and make, its scans
    by their order (then serial), so the result does not depend on how the
    work was split.
    """
    total = Tally()
    for part in tallies:
        total.registry += part.registry
        total.scans += part.scans
        total.matched += part.matched
        total.weapons.extend(part.weapons)
        total.unregistered.extend(part.unregistered)
        total.moved.extend(part.moved)
        total.ambiguous.update(part.ambiguous)
    makes = _Folded(make_key)

    by_kind: dict[FindingKind, list[tuple[FindingKind, RegistryEntry, Scan | None]]] = {
        kind: [] for kind in FindingKind
    }
    for item in sorted(
        total.weapons, key=lambda w: (fast_serial_key(w[1].serial), makes(w[1].make))
    ):
        by_kind[item[0]].append(item)
    missing = [e for _, e, _ in by_kind[FindingKind.MISSING]]

    def scan_order(s: Scan) -> tuple[int, str, str, str]:
        return (s.order, fast_serial_key(s.serial), makes(s.make or ""), s.serial)

    unregistered = sorted(total.unregistered, key=lambda u: scan_order(u[0]))
    to_scan, to_weapon = _suggestions(missing, [u[0] for u in unregistered], total.ambiguous, makes)

    findings: dict[FindingKind, list[Finding]] = {kind: [] for kind in FindingKind}
    for kind, items in by_kind.items():
        out = findings[kind]
        if kind is FindingKind.MISSING:
            for w, (_, e, _) in enumerate(items):
                out.append(Finding(kind, e.serial, e.make, e, None, to_scan.get(w)))
        else:
            out.extend(Finding(kind, e.serial, e.make, e, s) for _, e, s in items)
    for u, (s, _) in enumerate(unregistered):
        findings[FindingKind.UNREGISTERED].append(
            Finding(FindingKind.UNREGISTERED, s.serial, s.make, None, s, to_weapon.get(u))
        )
    duplicates: list[tuple[tuple[int, str, str, str], Finding]] = [
        (scan_order(second), Finding(FindingKind.DUPLICATE_SCAN, e.serial, e.make, e, second))
        for e, second in total.moved
    ]
    duplicates.extend(
        (scan_order(second), Finding(FindingKind.DUPLICATE_SCAN, s.serial, s.make, None, second))
        for s, second in unregistered
        if second is not None
    )
    duplicates.sort(key=lambda d: d[0])
    findings[FindingKind.DUPLICATE_SCAN] = [f for _, f in duplicates]

    summary: dict[str, int] = {
        "registry": total.registry,
        "scans": total.scans,
        "matched": total.matched,
    }
    for kind in FindingKind:
        summary[kind.value] = len(findings[kind])
    return Reconciliation(summary, tuple(f for kind in FindingKind for f in findings[kind]))


def _suggestions(
    missing: list[RegistryEntry],
    unregistered: list[Scan],
    ambiguous: Mapping[str, Scan],
    makes: _Folded,
) -> tuple[dict[int, SuggestedMatch], dict[int, SuggestedMatch]]:
    """Best unregistered scan for each missing weapon, and the reverse (by position)."""
    to_scan, to_weapon = suggest(
        [(e.serial, e.make) for e in missing],
        [(s.serial, s.make) for s in unregistered],
        fast_serial_key,
        makes.same,
    )
    if ambiguous:
        for w, e in enumerate(missing):
            if w not in to_scan:
                other = ambiguous.get(fast_serial_key(e.serial))
                if other is not None and (other.make is None or makes.same(other.make, e.make)):
                    to_scan[w] = SuggestedMatch(other.serial, 0)
    return to_scan, to_weapon


__all__ = [
    "SUMMARY_KEYS",
    "WEAPON_CLASSES",
    "Finding",
    "FindingKind",
    "Reconciliation",
    "RegistryEntry",
    "Scan",
    "SuggestedMatch",
    "Tally",
    "combine",
    "fast_serial_key",
    "neighbours",
    "reconcile",
    "tally",
]
