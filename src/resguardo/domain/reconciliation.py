"""A reconciliation's parts: the registry entries and scans a count compares,
the findings and summary it yields, and the tallies that add up to it.

``reconcile`` (in ``reconcile.py``) classifies; ``combine`` here adds up the
tallies of disjoint shards of serial keys into one ``Reconciliation``, its
findings in report order.

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

from resguardo.domain.codes import FirearmKind, FirearmStatus
from resguardo.domain.serials import make_key, serial_key
from resguardo.domain.suggestions import SuggestedMatch, suggest


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


#: Keys of ``Reconciliation.summary``, in the order docs/formats.md shows them.
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


class Folded:
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
    makes = Folded(make_key)

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
    makes: Folded,
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
    "Folded",
    "Reconciliation",
    "RegistryEntry",
    "Scan",
    "SuggestedMatch",
    "Tally",
    "combine",
    "fast_serial_key",
]
