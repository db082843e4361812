"""Trace: rank registered serials against a serial read from a recovered weapon.

A trace query is a serial as read off the steel, normalized like
:func:`~resguardo.domain.serials.serial_key` but keeping two marks:

* ``?`` stands for exactly one unreadable character, in any position, as
  many times as needed (``PX1??45``);
* ``*`` at the start or the end says the rest is unknown: ``ABC*`` knows only
  the beginning of the serial, ``*1234`` only the end, ``*123*`` only a piece
  of the middle.

The distance between a query and a serial key is the cheapest alignment under
these costs (:func:`trace_distance`):

=====================================================  ======
operation                                              cost
=====================================================  ======
same character                                         0
``?`` read as any one character                        0.1
look-alike substitution (O/0/D/Q, I/1/L/T, S/5, B/8,   0.5
Z/2, G/6)
any other substitution                                 1
missing character (in the serial, not in the query)    1
extra character (in the query, not in the serial;      1
also a ``?`` that stands for nothing)
unknown part behind a ``*``                            0
=====================================================  ======

``?`` costs 0.1 rather than 0 so that a serial read completely ranks above
one that only fits the unreadable marks. Costs are counted in integer tenths,
so equal alignments give exactly equal distances.

Candidates are ranked by distance, so exact matches come first. Among equal
distances, the serial with more cheapest alignments to the query ranks first
(:func:`trace_ways`): each alignment is one way of damaging that serial into
the reading, so a serial the reading could have come from in more ways is the
likelier source (``LW690153`` is two edits from ``LW604153`` either as two
misread digits or as a lost ``4`` and an extra ``9``, from ``LW090152`` only
as two misread digits). The distance itself is the cheapest alignment alone
and never changes. Remaining ties go by serial key, make and id, so the
order never depends on insertion order.

:class:`SerialIndex` answers trace queries without scanning every serial. Each
character is first folded to its look-alike group, which turns every
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

import math
from array import array
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from resguardo.domain.errors import Conflict, NotFound, ValidationFailed
from resguardo.domain.serials import lookalikes, make_key, serial_key
from resguardo.domain.trace_columns import LengthGroup, set_bits
from resguardo.domain.trace_deletions import LOOKUP_CAP, DeletionIndex, deletion_plan, fold

UNREADABLE = "?"
REST_UNKNOWN = "*"

UNREADABLE_COST = 0.1
LOOKALIKE_COST = 0.5
SUBSTITUTION_COST = 1.0
INDEL_COST = 1.0
DEFAULT_MAX_DISTANCE = 2.0
#: Largest accepted ``max_distance``; beyond it nearly every serial would match.
MAX_MAX_DISTANCE = 10.0
DEFAULT_LIMIT = 20

# Costs in integer tenths of a distance unit.
_TENTHS = 10
_C_UNREADABLE = 1
_C_LOOKALIKE = 5
_C_OTHER = 10
_C_INDEL = 10

_NO_ROW = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """A parsed trace query: ``body`` holds the read characters and ``?`` marks."""

    text: str
    body: str
    known_start: bool
    known_end: bool

    @property
    def unreadable(self) -> int:
        """How many characters are marked unreadable."""
        return self.body.count(UNREADABLE)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A registered firearm whose serial is within the trace distance of the query."""

    id: Hashable
    serial_key: str
    distance: float


def parse_query(raw: str) -> TraceQuery:
    """Normalize a serial as read (case and separators folded) keeping ``?`` and ``*``."""
    text = serial_key(raw)
    known_start = not text.startswith(REST_UNKNOWN)
    known_end = not text.endswith(REST_UNKNOWN)
    body = text.strip(REST_UNKNOWN)
    if REST_UNKNOWN in body:
        raise ValidationFailed(
            "'*' may only stand at the start or the end of a trace query", field="query", query=raw
        )
    if not body.replace(UNREADABLE, ""):
        raise ValidationFailed(
            "a trace query needs at least one readable character", field="query", query=raw
        )
    marked = ("" if known_start else REST_UNKNOWN) + body + ("" if known_end else REST_UNKNOWN)
    return TraceQuery(text=marked, body=body, known_start=known_start, known_end=known_end)


def _max_tenths(max_distance: float) -> int:
    if not 0.0 <= max_distance <= MAX_MAX_DISTANCE:
        raise ValidationFailed(
            f"max_distance must be between 0 and {MAX_MAX_DISTANCE:g}",
            field="max_distance",
            value=max_distance,
        )
    return math.floor(max_distance * _TENTHS + 1e-9)


_ROW_COSTS: dict[str, dict[str, int]] = {}


def _row_costs(ch: str) -> dict[str, int] | None:
    """Substitution costs of every serial character against query character ``ch``."""
    if ch == UNREADABLE:
        return None
    costs = _ROW_COSTS.get(ch)
    if costs is None:
        costs = {other: _C_LOOKALIKE for other in lookalikes(ch)}
        costs[ch] = 0
        _ROW_COSTS[ch] = costs
    return costs


class _Matcher:
    """The weighted distance of one query, computed by a banded table with early exit."""

    __slots__ = ("rows", "reverse", "free_start", "free_end", "limit", "band")

    def __init__(self, query: TraceQuery, max_tenths: int) -> None:
        body = query.body
        # A suffix-only query is a prefix-only query on reversed strings, which keeps the band.
        self.reverse = query.known_end and not query.known_start
        if self.reverse:
            body = body[::-1]
        self.rows = [_row_costs(ch) for ch in body]
        self.free_start = not query.known_start and not query.known_end
        self.free_end = not (query.known_start and query.known_end)
        self.limit = max_tenths
        self.band = max_tenths // _C_INDEL

    def tenths(self, target: str) -> int | None:
        """Distance to ``target`` in tenths, or None when it is over the maximum."""
        if self.free_end:
            return self._semi_global(target)
        return self._global(target)

    def _global(self, target: str) -> int | None:
        """Both ends known: only diagonals that can still end within the maximum are computed.

        A cell on diagonal d (serial index minus query index) costs at least
        ``|d|`` indels to reach and ``|m - n - d|`` more to leave, so the
        diagonals kept are those where their sum stays within ``band``.
        """
        rows, limit, band = self.rows, self.limit, self.band
        n, m = len(rows), len(target)
        delta = m - n
        if abs(delta) > band:
            return None
        spare = (band - abs(delta)) // 2
        low = min(0, delta) - spare
        width = abs(delta) + 2 * spare + 1
        over = limit + 1
        # One spare cell on the right stands for the band's edge (always over).
        prev = [d * _C_INDEL if 0 <= d <= m else over for d in range(low, low + width)] + [over]
        for i in range(1, n + 1):
            costs = rows[i - 1]
            cur = [over] * (width + 1)
            edge = -i - low  # the cell in column 0, if the band reaches it
            start = max(0, edge + 1)
            stop = min(width, m - i - low + 1)
            left = best = over
            if edge >= 0:
                left = best = cur[edge] = i * _C_INDEL if i <= band else over
            for k in range(start, stop):
                value = prev[k] + (
                    _C_UNREADABLE if costs is None else costs.get(target[i + low + k - 1], _C_OTHER)
                )
                step = prev[k + 1] + _C_INDEL
                if step < value:
                    value = step
                step = left + _C_INDEL
                if step < value:
                    value = step
                if value > over:
                    value = over
                cur[k] = left = value
                if value < best:
                    best = value
            if best > limit:
                return None
            prev = cur
        result = prev[delta - low]
        return result if result <= limit else None

    def ways(self, target: str, tenths: int) -> int:
        """How many cheapest alignments, each of ``tenths``, turn ``target`` into the query.

        Each alignment is one way the serial could have been damaged into the
        reading at the trace distance; counted over the same table as the
        distance, keeping with each cell the number of cheapest paths to it.
        Only cells within ``tenths`` are kept, since no cheapest path leaves them.
        """
        if tenths == 0 and not self.free_start:
            return 1  # every character matched in turn from the known start: one way only
        rows, n, m = self.rows, len(self.rows), len(target)
        if self.reverse:
            target = target[::-1]
        over = tenths + 1
        # The diagonals (serial index minus query index) a cheapest alignment may use, as in
        # _global: reaching diagonal d costs |d| indels, and with both ends known, leaving
        # it for the last cell costs |m - n - d| more.
        band = tenths // _C_INDEL
        if self.free_start:
            low, high = -n, m
        elif self.free_end:
            low, high = -band, band
        else:
            delta = m - n
            spare = (band - abs(delta)) // 2
            low, high = min(0, delta) - spare, max(0, delta) + spare
        if self.free_start:
            cost, count = [0] * (m + 1), [1] * (m + 1)
        else:
            cost = [j * _C_INDEL if j <= high else over for j in range(m + 1)]
            count = [1] * (m + 1)
        for i in range(1, n + 1):
            row = rows[i - 1]
            left = i * _C_INDEL if -i >= low else over
            left_ways = 1
            cur, ways = [left] + [over] * m, [1] + [0] * m
            lo, hi = max(1, i + low), min(m, i + high)
            if lo > 1:
                left = over
            for j in range(lo, hi + 1):
                diag = cost[j - 1] + (
                    _C_UNREADABLE if row is None else row.get(target[j - 1], _C_OTHER)
                )
                up = cost[j] + _C_INDEL
                side = left + _C_INDEL
                best = diag if diag < up else up
                if side < best:
                    best = side
                if best > tenths:
                    left = over
                    continue
                total = count[j - 1] if diag == best else 0
                if up == best:
                    total += count[j]
                if side == best:
                    total += left_ways
                cur[j] = left = best
                ways[j] = left_ways = total
            cost, count = cur, ways
        if self.free_end:
            return sum(c for value, c in zip(cost, count, strict=True) if value == tenths)
        return count[m] if cost[m] == tenths else 0

    def _semi_global(self, target: str) -> int | None:
        """An unknown rest at one or both ends: the best over where the serial may end."""
        rows, limit, band, free_start = self.rows, self.limit, self.band, self.free_start
        n, m = len(rows), len(target)
        if not free_start and m < n - band:
            return None
        if self.reverse:
            target = target[::-1]
        over = limit + 1
        if free_start:
            prev = [0] * (m + 1)
        else:
            prev = [j * _C_INDEL if j <= band else over for j in range(m + 1)]
        for i in range(1, n + 1):
            costs = rows[i - 1]
            lo, hi = (1, m) if free_start else (max(1, i - band), min(m, i + band))
            first = i * _C_INDEL if i <= band else over
            cur = [over] * (m + 1)
            cur[0] = best = first
            left = first if lo == 1 else over
            for j in range(lo, hi + 1):
                value = prev[j - 1] + (
                    _C_UNREADABLE if costs is None else costs.get(target[j - 1], _C_OTHER)
                )
                step = prev[j] + _C_INDEL
                if step < value:
                    value = step
                step = left + _C_INDEL
                if step < value:
                    value = step
                if value > over:
                    value = over
                cur[j] = left = value
                if value < best:
                    best = value
            if best > limit:
                return None
            prev = cur
        result = min(prev)
        return result if result <= limit else None


def trace_distance(
    query: str | TraceQuery, serial: str, *, max_distance: float = DEFAULT_MAX_DISTANCE
) -> float | None:
    """The documented trace distance from ``query`` to ``serial``, or None above ``max_distance``."""
    parsed = query if isinstance(query, TraceQuery) else parse_query(query)
    tenths = _Matcher(parsed, _max_tenths(max_distance)).tenths(serial_key(serial))
    return None if tenths is None else tenths / _TENTHS


def trace_ways(
    query: str | TraceQuery, serial: str, *, max_distance: float = DEFAULT_MAX_DISTANCE
) -> int:
    """How many cheapest alignments turn ``serial`` into ``query`` (0 above ``max_distance``).

    The tie-break between serials at the same :func:`trace_distance`: each
    alignment is one way of damaging the serial into the reading, and a serial
    the reading could have come from in more ways is the likelier source.
    """
    parsed = query if isinstance(query, TraceQuery) else parse_query(query)
    matcher = _Matcher(parsed, _max_tenths(max_distance))
    key = serial_key(serial)
    tenths = matcher.tenths(key)
    return 0 if tenths is None else matcher.ways(key, tenths)


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
        max_tenths = _max_tenths(max_distance)
        if limit is not None and limit < 1:
            raise ValidationFailed("limit must be at least 1", field="limit", value=limit)
        self._refresh()
        make_code = None
        if make is not None:
            make_code = self._make_codes.get(make_key(make))
            if make_code is None:
                return []
        matcher = _Matcher(parsed, max_tenths)
        hard = max_tenths // _C_INDEL
        plan = None
        if parsed.known_start and parsed.known_end:
            plan = deletion_plan(
                parsed.unreadable,
                max_tenths,
                unreadable_cost=_C_UNREADABLE,
                indel_cost=_C_INDEL,
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
            closer = sum(1 for tenths, _ in found if tenths < (level + 1) * _C_INDEL)
            if limit is not None and closer >= limit:
                break
        return self._rank(found, matcher, limit)

    def _rank(
        self, found: list[tuple[int, int]], matcher: _Matcher, limit: int | None
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
            Candidate(ids[slot], key, tenths / _TENTHS) for tenths, _, key, _, _, slot in ranked
        ]

    def _verify(
        self, slots: Iterable[int], matcher: _Matcher, make_code: int | None
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
