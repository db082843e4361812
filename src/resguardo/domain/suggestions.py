"""Suggested matches: which unregistered scans are likely misreads of which missing weapons.

Pairs a missing weapon with an unregistered scan when their serial keys are
within one edit (insertion, deletion or substitution) of each other, or equal
under different makes (distance 0). Look-alike substitutions (O/0, I/1, S/5,
...) rank before other edits. The search indexes the smaller side by its
one-deletion and one-wildcard neighbourhoods, so it is linear in the number of
scans and weapons, never quadratic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from resguardo.domain.serials import is_lookalike


@dataclass(frozen=True, slots=True)
class SuggestedMatch:
    """A likely misread: the serial on the other side and its edit distance (0 or 1)."""

    serial: str
    distance: int
    lookalike: bool = False


def suggest(
    missing: Sequence[tuple[str, str]],
    unregistered: Sequence[tuple[str, str | None]],
    key: Callable[[str], str],
    same_make: Callable[[str, str], bool],
) -> tuple[dict[int, SuggestedMatch], dict[int, SuggestedMatch]]:
    """Best unregistered scan for each missing weapon, and the reverse, by position.

    ``missing``: (serial, make) of each weapon; ``unregistered``: (serial, make
    or None) of each scan; ``key``: the serial key; ``same_make``: whether two
    makes are one. A scan that names another make than the weapon's is no
    misread of it. Ties go to the earlier position.
    """
    to_scan: dict[int, SuggestedMatch] = {}
    to_weapon: dict[int, SuggestedMatch] = {}
    if not missing or not unregistered:
        return to_scan, to_weapon
    weapon_keys = [key(serial) for serial, _ in missing]
    scan_keys = [key(serial) for serial, _ in unregistered]
    best_for_weapon: dict[int, tuple[int, int, int]] = {}
    best_for_scan: dict[int, tuple[int, int, int]] = {}
    for w, u, distance in neighbours(weapon_keys, scan_keys):
        make = unregistered[u][1]
        if distance and make is not None and not same_make(make, missing[w][1]):
            continue  # a misread serial, but of another make: not this weapon
        lookalike = distance == 1 and lookalike_pair(weapon_keys[w], scan_keys[u])
        rank = (distance, 0 if lookalike else 1)
        if (*rank, u) < best_for_weapon.get(w, (9, 9, 0)):
            best_for_weapon[w] = (*rank, u)
        if (*rank, w) < best_for_scan.get(u, (9, 9, 0)):
            best_for_scan[u] = (*rank, w)
    for w, (distance, kind, u) in best_for_weapon.items():
        to_scan[w] = SuggestedMatch(unregistered[u][0], distance, kind == 0)
    for u, (distance, kind, w) in best_for_scan.items():
        to_weapon[u] = SuggestedMatch(missing[w][0], distance, kind == 0)
    return to_scan, to_weapon


def lookalike_pair(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ in exactly one position by look-alike characters."""
    if len(a) != len(b):
        return False
    diffs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(diffs) == 1 and is_lookalike(*diffs[0])


_WILDCARD = "\x00"
#: Keys indexed at once. Each costs about 2L+1 dictionary entries (L its length):
#: 100,000 keys of 10 characters hold roughly 200 MB while the index lives.
_CHUNK = 100_000


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


def _add(index: dict[str, int | list[int]], key: str, a: int) -> None:
    # Most variants belong to one key: an int, and a list only on a collision.
    found = index.setdefault(key, a)
    if found is not a:
        if type(found) is list:
            found.append(a)
        else:
            index[key] = [found, a]  # type: ignore[list-item]


def _ids(found: int | list[int] | None) -> tuple[int, ...] | list[int]:
    if found is None:
        return ()
    return found if type(found) is list else (found,)  # type: ignore[return-value]


def _neighbours(small: list[str], large: list[str]) -> Iterator[tuple[int, int, int]]:
    wildcard = _WILDCARD
    for start in range(0, len(small), _CHUNK):
        exact: dict[str, int | list[int]] = {}
        deleted: dict[str, int | list[int]] = {}
        wild: dict[str, int | list[int]] = {}
        for a in range(start, min(start + _CHUNK, len(small))):
            key = small[a]
            _add(exact, key, a)
            previous = None
            for p in range(len(key)):
                head, tail = key[:p], key[p + 1 :]
                shorter = head + tail
                if shorter != previous:  # deleting either of two equal neighbours: one variant
                    _add(deleted, shorter, a)
                    previous = shorter
                _add(wild, head + wildcard + tail, a)
        exact_get, deleted_get, wild_get = exact.get, deleted.get, wild.get
        for b, key in enumerate(large):
            found: dict[int, int] = {}
            hit = exact_get(key)
            if hit is not None:
                for a in _ids(hit):
                    found[a] = 0
            hit = deleted_get(key)
            if hit is not None:
                for a in _ids(hit):
                    found.setdefault(a, 1)
            previous = None
            for p in range(len(key)):
                head, tail = key[:p], key[p + 1 :]
                shorter = head + tail
                if shorter != previous:
                    previous = shorter
                    hit = exact_get(shorter)
                    if hit is not None:
                        for a in _ids(hit):
                            found.setdefault(a, 1)
                hit = wild_get(head + wildcard + tail)
                if hit is not None:
                    for a in _ids(hit):
                        found.setdefault(a, 1)
            for a, distance in found.items():
                yield a, b, distance
