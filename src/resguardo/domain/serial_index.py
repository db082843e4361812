"""Serial index: answer trace queries without scanning every registered serial.

:class:`SerialIndex` holds (firearm id, serial key, make key) in memory and
ranks them against a trace query by the distance of :mod:`~resguardo.domain.trace`.
Each character is first folded to its look-alike group, which turns every
look-alike substitution into an equality; ``?`` and any other edit cost at
least 0.1 and 1, so a serial within distance *d* is within ``floor(d)``
whole edits of the query in folded form. Two filters find those serials and
the exact weighted distance is then computed for each candidate only:

* :mod:`~resguardo.domain.trace_deletions`: every folded serial with up to
  two characters deleted, in sorted packed int arrays; a query looks up its
  own deletion variants (each ``?`` deleted, or spelled out over the alphabet
  when that is cheap) and skips serials whose implied alignment needs too
  many edits - used for queries with both ends known;
* :mod:`~resguardo.domain.trace_columns`: bit-parallel edit distance over
  every serial of one length at once - used for prefix, suffix and middle
  queries, three or more ``?`` and maximum distances of 3 or more.

A search never reads every serial key: the first filter touches a few
hundred packed entries, the second only whole-int operations.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Hashable, Iterable

from resguardo.domain.errors import Conflict, NotFound, ValidationFailed
from resguardo.domain.serials import make_key, serial_key
from resguardo.domain.trace import (
    C_INDEL,
    C_UNREADABLE,
    DEFAULT_LIMIT,
    DEFAULT_MAX_DISTANCE,
    TENTHS,
    UNREADABLE,
    Candidate,
    Matcher,
    TraceQuery,
    max_tenths_of,
    parse_query,
)
from resguardo.domain.trace_columns import LengthGroup, set_bits
from resguardo.domain.trace_deletions import LOOKUP_CAP, DeletionIndex, deletion_plan, fold

_NO_ROW = 0xFFFFFFFF


class SerialIndex:
    """In-memory trace index of (firearm id, serial key, make key).

    Additions wait in a pending list and are indexed on the next search (or
    :meth:`compact`); up to ``merge_after`` of them live in a small hash
    table, beyond that they are merged into the packed sorted array. Removed
    serials are dropped from results at once and from memory when removals
    pass a quarter of the index (or on :meth:`compact`).
    """

    def __init__(
        self, entries: Iterable[tuple[Hashable, str, str]] = (), *, merge_after: int = 20_000
    ) -> None:
        self._merge_after = max(1, merge_after)
        self._reset()
        for firearm_id, serial, make in entries:
            self.add(firearm_id, serial, make)

    def _reset(self) -> None:
        self._ids: list[Hashable | None] = []
        self._keys: list[str | None] = []
        self._makes = array("I")
        self._rows = array("I")
        self._slot_of: dict[Hashable, int] = {}
        self._make_codes: dict[str, int] = {}
        self._make_names: list[str] = []
        self._deletions = DeletionIndex(UNREADABLE)
        self._delta_slots: list[int] = []
        self._pending: list[int] = []
        self._groups: dict[int, LengthGroup] = {}
        self._dead = 0

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, firearm_id: object) -> bool:
        return firearm_id in self._slot_of

    def add(self, firearm_id: Hashable, serial: str, make: str = "") -> None:
        """Index a firearm's serial; refused when the id is already indexed or the serial is empty."""
        if firearm_id in self._slot_of:
            raise Conflict("firearm is already in the trace index", firearm_id=firearm_id)
        key = serial_key(serial)
        if not key:
            raise ValidationFailed("serial is empty", field="serial", firearm_id=firearm_id)
        mkey = make_key(make)
        code = self._make_codes.get(mkey)
        if code is None:
            code = self._make_codes[mkey] = len(self._make_names)
            self._make_names.append(mkey)
        slot = len(self._keys)
        self._ids.append(firearm_id)
        self._keys.append(key)
        self._makes.append(code)
        self._rows.append(_NO_ROW)
        self._slot_of[firearm_id] = slot
        self._deletions.note(fold(key))
        self._pending.append(slot)

    def remove(self, firearm_id: Hashable) -> None:
        """Drop a firearm's serial (before re-adding a corrected one)."""
        slot = self._slot_of.pop(firearm_id, None)
        if slot is None:
            raise NotFound("firearm is not in the trace index", firearm_id=firearm_id)
        key = self._keys[slot]
        row = self._rows[slot]
        if key is not None and row != _NO_ROW:
            group = self._groups[len(key)]
            group.alive &= ~(1 << row)
        self._keys[slot] = None
        self._ids[slot] = None
        self._dead += 1

    def compact(self) -> None:
        """Index every pending addition in the packed array now and drop removed serials."""
        if self._dead:
            self._rebuild()
        self._refresh(merge=True)

    def _rebuild(self) -> None:
        live = [
            (firearm_id, key, self._make_names[self._makes[slot]])
            for slot, (firearm_id, key) in enumerate(zip(self._ids, self._keys, strict=True))
            if key is not None
        ]
        self._reset()
        for firearm_id, key, make in live:
            self.add(firearm_id, key, make)
        self._refresh(merge=True)

    def _refresh(self, *, merge: bool = False) -> None:
        if self._dead > max(self._merge_after, len(self._slot_of) // 4):
            self._rebuild()
            return
        keys = self._keys
        pending = [slot for slot in self._pending if keys[slot] is not None]
        self._pending = []
        self._index_rows(pending)
        if merge or len(pending) + len(self._delta_slots) > self._merge_after:
            slots = self._delta_slots + pending
            self._delta_slots = []
            self._deletions.merge([(slot, fold(key)) for slot in slots if (key := keys[slot])])
        else:
            self._deletions.stage([(slot, fold(keys[slot] or "")) for slot in pending])
            self._delta_slots.extend(pending)

    def _index_rows(self, slots: list[int]) -> None:
        by_length: dict[int, list[tuple[int, str, int]]] = {}
        for slot in slots:
            key = self._keys[slot] or ""
            by_length.setdefault(len(key), []).append((slot, fold(key), self._makes[slot]))
        for length, entries in by_length.items():
            group = self._groups.get(length)
            if group is None:
                group = self._groups[length] = LengthGroup(length)
            base = group.extend(entries)
            for offset, (slot, _, _) in enumerate(entries):
                self._rows[slot] = base + offset

    def search(
        self,
        query: str | TraceQuery,
        *,
        max_distance: float = DEFAULT_MAX_DISTANCE,
        make: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[Candidate]:
        """Serials within ``max_distance`` of ``query``, nearest first (``limit=None``: all)."""
        parsed = query if isinstance(query, TraceQuery) else parse_query(query)
        max_tenths = max_tenths_of(max_distance)
        if limit is not None and limit < 1:
            raise ValidationFailed("limit must be at least 1", field="limit", value=limit)
        self._refresh()
        make_code = None
        if make is not None:
            make_code = self._make_codes.get(make_key(make))
            if make_code is None:
                return []
        matcher = Matcher(parsed, max_tenths)
        hard = max_tenths // C_INDEL
        plan = None
        if parsed.known_start and parsed.known_end:
            plan = deletion_plan(
                parsed.unreadable,
                max_tenths,
                unreadable_cost=C_UNREADABLE,
                indel_cost=C_INDEL,
            )
        pattern = fold(parsed.body)
        if plan is not None and self._deletions.lookups(pattern, plan) <= LOOKUP_CAP:
            levels: list[list[int]] = [[] for _ in range(hard + 1)]
            for slot, edits in self._deletions.candidates(pattern, plan, hard).items():
                levels[edits].append(slot)
        else:
            levels = self._bit_candidates(parsed, hard, make_code)
        # A serial at level k needs k whole edits, so its distance is at least k: once
        # ``limit`` serials are closer than the next level, the rest cannot displace them.
        found: list[tuple[int, int]] = []
        for level, slots in enumerate(levels):
            found += self._verify(slots, matcher, make_code)
            closer = sum(1 for tenths, _ in found if tenths < (level + 1) * C_INDEL)
            if limit is not None and closer >= limit:
                break
        return self._rank(found, matcher, limit)

    def _rank(
        self, found: list[tuple[int, int]], matcher: Matcher, limit: int | None
    ) -> list[Candidate]:
        """Nearest first; among equal distances, the serial with more ways to the reading first.

        The ways are counted only for serials that share their distance with
        another one and can still make the cut, which is a handful per search.
        """
        keys, ids, makes, names = self._keys, self._ids, self._makes, self._make_names
        found.sort()
        cut = found[limit - 1][0] if limit is not None and len(found) >= limit else None
        shared = Counter(tenths for tenths, _ in found)
        ranked = []
        for tenths, slot in found:
            if cut is not None and tenths > cut:
                break
            key = keys[slot] or ""
            ways = matcher.ways(key, tenths) if shared[tenths] > 1 else 1
            ranked.append((tenths, -ways, key, names[makes[slot]], repr(ids[slot]), slot))
        ranked.sort()
        if limit is not None:
            del ranked[limit:]
        return [
            Candidate(ids[slot], key, tenths / TENTHS) for tenths, _, key, _, _, slot in ranked
        ]

    def _verify(
        self, slots: Iterable[int], matcher: Matcher, make_code: int | None
    ) -> list[tuple[int, int]]:
        keys, makes, tenths_of = self._keys, self._makes, matcher.tenths
        found = []
        for slot in slots:
            key = keys[slot]
            if key is None or (make_code is not None and makes[slot] != make_code):
                continue
            tenths = tenths_of(key)
            if tenths is not None:
                found.append((tenths, slot))
        return found

    def _bit_candidates(
        self, query: TraceQuery, hard: int, make_code: int | None
    ) -> list[list[int]]:
        """Slots by folded unit edit distance 0..hard (a lower bound of the weighted one)."""
        pattern = fold(query.body)
        size = len(pattern)
        both = query.known_start and query.known_end
        levels: list[list[int]] = [[] for _ in range(hard + 1)]
        for length in sorted(self._groups):
            if length < size - hard or (both and length > size + hard):
                continue
            group = self._groups[length]
            everyone = group.alive
            if make_code is not None:
                everyone &= group.makes.get(make_code, 0)
            if not everyone:
                continue
            planes = group.distances(
                pattern,
                wildcard=UNREADABLE,
                known_start=query.known_start,
                known_end=query.known_end,
                everyone=everyone,
                hard=hard,
            )
            if planes is None:
                continue
            below = everyone
            for level in range(hard + 1):
                exact = below & ~planes[level]
                below = planes[level]
                levels[level].extend(group.rows[row] for row in set_bits(exact))
        return levels
