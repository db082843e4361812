"""Reconciliation: a physical count of weapons (scans) against the registry.

Every registry weapon lands in exactly one of matched, missing, explained,
status_conflict, mislocated or custody_mismatch, or in none when it is
recorded lost, stolen or decommissioned and was not seen (the table in
docs/formats.md). Every scan either accounts for a registry weapon or is
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

The types it works on (``RegistryEntry``, ``Scan``, ``Finding``,
``Reconciliation``, ``Tally``) and ``combine``, which turns tallies into
findings with their suggested matches, are in ``reconciliation.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from resguardo.domain.codes import GONE_STATUSES, FirearmStatus
from resguardo.domain.reconciliation import (
    FindingKind,
    Folded,
    Reconciliation,
    RegistryEntry,
    Scan,
    Tally,
    combine,
    fast_serial_key,
)
from resguardo.domain.serials import make_key
from resguardo.domain.vocabulary import fold_text

#: Away for a documented reason: not seen is explained, seen is matched (nothing compared).
_AWAY = frozenset({FirearmStatus.IN_REPAIR, FirearmStatus.IN_TRANSIT,
                   FirearmStatus.HELD_AS_EVIDENCE})


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
        self.place = Folded(fold_text)
        self.makes = Folded(make_key)
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
        return None  # in repair, in transit or held as evidence: nothing is compared

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
        return st in _AWAY

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
        if st in _AWAY:
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


def tally(
    registry: Iterable[RegistryEntry], scans: Iterable[Scan], *, agency: str | None = None
) -> Tally:
    """The classification of ``registry`` and ``scans`` before suggestions (see ``reconcile``)."""
    return _Reconciler(agency).tally(registry, scans)


__all__ = ["reconcile", "tally"]
