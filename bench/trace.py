"""Trace benchmark: SerialIndex against a rapidfuzz full scan on damaged serials.

Generates registered serials in the formats of several makes (fixed seed),
builds the index, then runs queries made by damaging known serials with up to
two look-alikes, unreadable characters, missing, extra or substituted
characters, each step on a character no earlier step touched (so no step
undoes another) and never giving back the serial itself. Prints build time,
index memory, queries per second, recall (the true firearm among the 3
candidates returned, per damage mix, why each miss happened, and again with
the make given; ``--all-mixes`` adds every pair of damage kinds) and the
speed-up over the anchor: rapidfuzz ``process.extract`` with Levenshtein
distance against every serial, timed on a sample of the same queries and
scaled to all of them.

    .venv/bin/python bench/trace.py                      # 1,000,000 serials, 10,000 queries
    .venv/bin/python bench/trace.py --serials 50000 --queries 1000 --misses 20
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import resource
import string
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from resguardo.domain.serial_index import SerialIndex
from resguardo.domain.serials import lookalikes, serial_key
from resguardo.domain.trace import Candidate, trace_distance, trace_ways

LETTERS = string.ascii_uppercase
DIGITS = string.digits


def letters(rng: random.Random, k: int) -> str:
    return "".join(rng.choices(LETTERS, k=k))


def digits(rng: random.Random, k: int) -> str:
    return "".join(rng.choices(DIGITS, k=k))


#: (make, example, generator): serial shapes as stamped by each maker.
FORMATS: list[tuple[str, str, Callable[[random.Random], str]]] = [
    ("Glock", "BKR123", lambda r: letters(r, 3) + digits(r, 3)),
    ("Glock", "BKRT123", lambda r: letters(r, 4) + digits(r, 3)),
    ("Glock", "AAB123US", lambda r: letters(r, 3) + digits(r, 3) + "US"),
    ("Beretta", "PX12345", lambda r: letters(r, 2) + digits(r, 5)),
    ("Beretta", "BER123456Z", lambda r: "BER" + digits(r, 6) + letters(r, 1)),
    ("Colt", "LE123456", lambda r: r.choice(["LE", "LW", "CV", "FX"]) + digits(r, 6)),
    ("SIG Sauer", "58A123456", lambda r: digits(r, 2) + letters(r, 1) + digits(r, 6)),
    ("SIG Sauer", "EAK123456", lambda r: "E" + letters(r, 2) + digits(r, 6)),
    ("Heckler & Koch", "24-123456", lambda r: digits(r, 2) + "-" + digits(r, 6)),
    ("FN Herstal", "386123456", lambda r: digits(r, 9)),
    ("Smith & Wesson", "DVS1234", lambda r: letters(r, 3) + digits(r, 4)),
    ("Taurus", "ABC123456", lambda r: letters(r, 3) + digits(r, 6)),
    ("Remington", "RA12345A", lambda r: "R" + letters(r, 1) + digits(r, 5) + letters(r, 1)),
    ("Ruger", "1234-56789", lambda r: digits(r, 4) + "-" + digits(r, 5)),
    ("Mossberg", "V1234567", lambda r: letters(r, 1) + digits(r, 7)),
]


def registry(count: int, seed: int) -> list[tuple[int, str, str]]:
    """``count`` firearms (id, serial, make) with distinct serial keys."""
    rng = random.Random(seed)
    seen: set[str] = set()
    rows: list[tuple[int, str, str]] = []
    while len(rows) < count:
        make, _, shape = rng.choice(FORMATS)
        serial = shape(rng)
        key = serial_key(serial)
        if key in seen:
            continue
        seen.add(key)
        rows.append((len(rows), serial, make))
    return rows


ALPHABET = LETTERS + DIGITS


class Reading:
    """A serial being damaged: its characters, and which ones a damage step already touched.

    Each step acts on a character no earlier step touched (an extra character
    counts as touched), so a second look-alike never undoes the first and an
    unreadable mark never hides a look-alike: a query carries the damage its
    mix names, not less.
    """

    def __init__(self, key: str) -> None:
        self.chars = list(key)
        self.touched = [False] * len(key)

    def spots(self, fits: Callable[[str], bool] = lambda ch: True) -> list[int]:
        return [i for i, ch in enumerate(self.chars) if not self.touched[i] and fits(ch)]

    def put(self, pos: int, ch: str) -> None:
        self.chars[pos] = ch
        self.touched[pos] = True

    def text(self) -> str:
        return "".join(self.chars)


def _lookalike(rng: random.Random, reading: Reading) -> bool:
    spots = reading.spots(lambda ch: bool(lookalikes(ch)))
    if not spots:
        return False
    pos = rng.choice(spots)
    reading.put(pos, rng.choice(sorted(lookalikes(reading.chars[pos]))))
    return True


def _unreadable(rng: random.Random, reading: Reading) -> bool:
    spots = reading.spots()
    if not spots:
        return False
    reading.put(rng.choice(spots), "?")
    return True


def _missing(rng: random.Random, reading: Reading) -> bool:
    spots = reading.spots()
    if len(reading.chars) < 2 or not spots:
        return False
    pos = rng.choice(spots)
    del reading.chars[pos], reading.touched[pos]
    return True


def _extra(rng: random.Random, reading: Reading) -> bool:
    pos = rng.randrange(len(reading.chars) + 1)
    reading.chars.insert(pos, rng.choice(ALPHABET))
    reading.touched.insert(pos, True)
    return True


def _substitution(rng: random.Random, reading: Reading) -> bool:
    spots = reading.spots()
    if not spots:
        return False
    pos = rng.choice(spots)
    ch = reading.chars[pos]
    reading.put(pos, rng.choice([c for c in ALPHABET if c != ch and c not in lookalikes(ch)]))
    return True


DAMAGE = {
    "lookalike": _lookalike,
    "unreadable": _unreadable,
    "missing": _missing,
    "extra": _extra,
    "substitution": _substitution,
}

#: Damage mixes, each at most two edits, look-alikes or unreadable characters.
KINDS: list[tuple[str, ...]] = [
    ("lookalike",),
    ("lookalike", "lookalike"),
    ("unreadable",),
    ("unreadable", "unreadable"),
    ("missing",),
    ("extra",),
    ("substitution",),
    ("lookalike", "unreadable"),
    ("lookalike", "missing"),
    ("unreadable", "extra"),
    ("substitution", "lookalike"),
    ("missing", "extra"),
]


#: Every damage kind alone and every pair of them (``--all-mixes``): harder than the issue's
#: mixes, since it adds two substitutions, two missing or two extra characters and so on.
ALL_MIXES: list[tuple[str, ...]] = [(kind,) for kind in DAMAGE] + list(
    itertools.combinations_with_replacement(DAMAGE, 2)
)

Query = tuple[str, int, str]


def queries(
    rows: list[tuple[int, str, str]], count: int, seed: int, mixes: list[tuple[str, ...]] = KINDS
) -> list[Query]:
    """``count`` (query, true firearm id, damage kind) made from registered serials."""
    rng = random.Random(seed)
    made: list[Query] = []
    while len(made) < count:
        firearm_id, serial, _ = rng.choice(rows)
        kind = rng.choice(mixes)
        key = serial_key(serial)
        reading = Reading(key)
        if not all(DAMAGE[step](rng, reading) for step in kind):
            continue
        text = reading.text()
        # An extra character put back where one went missing can give the serial itself.
        if text != key and text.strip("?"):
            made.append((text, firearm_id, "+".join(kind)))
    return made


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def describe(query: str, row: tuple[int, str, str]) -> str:
    """A serial with its make, its distance to the query and its ways to it (the tie-break)."""
    _, serial, make = row
    return (
        f"{serial_key(serial)} ({make}) distance {trace_distance(query, serial, max_distance=10)}"
        f" ways {trace_ways(query, serial, max_distance=10)}"
    )


def report_recall(
    rows: list[tuple[int, str, str]],
    work: list[Query],
    found: list[list[Candidate]],
    title: str,
    *,
    per_mix: bool = True,
) -> list[Query]:
    """Print top-3 recall (per damage mix, why each miss happened); returns the misses.

    A hit is the true firearm among the three candidates the index returned:
    a serial tied with others at the cut counts only when it was returned.
    """
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    misses: list[Query] = []
    why: Counter[str] = Counter()
    for (query, firearm_id, kind), candidates in zip(work, found, strict=True):
        totals[kind] += 1
        if any(c.id == firearm_id for c in candidates):
            hits[kind] += 1
            continue
        misses.append((query, firearm_id, kind))
        # Ambiguity (three other serials as close or closer) or damage beyond the maximum
        # distance; the index itself returns what a full scan would.
        true = trace_distance(query, rows[firearm_id][1])
        if true is None:
            why["damage beyond max distance"] += 1
        elif candidates and candidates[-1].distance == true:
            why["tied with other serials at the same distance"] += 1
        else:
            why["other serials strictly closer"] += 1
    print(f"{title}: {sum(hits.values()) / len(work):.2%}")
    if per_mix:
        for kind in sorted(totals):
            print(f"  {kind:<26} {hits[kind] / totals[kind]:7.2%}  of {totals[kind]:,}")
    for reason, count in why.most_common():
        print(f"  missed: {reason}: {count}")
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serials", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--anchor-sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20240607)
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also measure the build with tracemalloc (slow)"
    )
    parser.add_argument(
        "--misses",
        type=int,
        default=0,
        metavar="N",
        help="print the first N misses: query, true serial and the top 3 with distances",
    )
    parser.add_argument(
        "--all-mixes",
        action="store_true",
        help="also report recall over every damage kind and every pair of kinds",
    )
    args = parser.parse_args(argv)

    rows = registry(args.serials, args.seed)
    work = queries(rows, args.queries, args.seed + 1)
    print(
        f"serials: {len(rows):,} in {len(FORMATS)} formats of {len({m for _, _, m in rows})} makes"
    )
    print(f"queries: {len(work):,} in {len(KINDS)} damage mixes")

    gc.collect()
    rss_before = rss_bytes()
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    index = SerialIndex(rows)
    index.compact()
    build = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory() if args.tracemalloc else None
    if args.tracemalloc:
        tracemalloc.stop()
    gc.collect()
    held = rss_bytes() - rss_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    print(f"build: {build:.1f} s")
    print(f"index memory (RSS delta after build): {held / 2**20:,.0f} MiB")
    print(f"peak RSS delta during build (upper bound): {max(peak, held) / 2**20:,.0f} MiB")
    if traced is not None:
        print(
            f"tracemalloc: current {traced[0] / 2**20:,.0f} MiB, peak {traced[1] / 2**20:,.0f} MiB"
        )

    # The anchor's sample queries run between slices of the index's queries, so that both
    # see the same load on a shared machine.
    keys = [serial_key(serial) for _, serial, _ in rows]
    sample = work[: args.anchor_sample]
    step = -(-len(work) // len(sample))
    found: list[list[Candidate]] = []
    elapsed = anchor_elapsed = 0.0
    anchor_hits = 0
    for number, (query, firearm_id, _) in enumerate(sample):
        started = time.perf_counter()
        best = process.extract(query, keys, scorer=Levenshtein.distance, limit=3)
        anchor_elapsed += time.perf_counter() - started
        anchor_hits += any(position == firearm_id for _, _, position in best)
        started = time.perf_counter()
        found += [index.search(q, limit=3) for q, _, _ in work[number * step : (number + 1) * step]]
        elapsed += time.perf_counter() - started
    started = time.perf_counter()
    found += [index.search(q, limit=3) for q, _, _ in work[len(sample) * step :]]
    elapsed += time.perf_counter() - started
    print(f"index: {elapsed:.2f} s for {len(work):,} queries, {len(work) / elapsed:,.0f} q/s")
    misses = report_recall(rows, work, found, "recall (true firearm in top 3)")
    for query, firearm_id, kind in misses[: args.misses]:
        print(f"  miss {kind}: {query} from {describe(query, rows[firearm_id])}; returned:")
        for candidate in found[work.index((query, firearm_id, kind))]:
            assert isinstance(candidate.id, int)  # the benchmark's ids are row numbers
            print(f"      {describe(query, rows[candidate.id])}")
    with_make = [index.search(q, limit=3, make=rows[fid][2]) for q, fid, _ in work]
    report_recall(
        rows, work, with_make, "recall with the make given (an optional trace input)", per_mix=False
    )
    if args.all_mixes:
        every = queries(rows, args.queries, args.seed + 2, ALL_MIXES)
        report_recall(
            rows,
            every,
            [index.search(q, limit=3) for q, _, _ in every],
            f"recall over every damage kind and pair of kinds ({len(ALL_MIXES)} mixes)",
        )

    anchor = anchor_elapsed / len(sample) * len(work)
    print(
        f"anchor (rapidfuzz process.extract, Levenshtein, every serial): "
        f"{anchor / len(work) * 1000:.1f} ms/query on {len(sample)} queries, "
        f"{anchor:,.0f} s scaled to {len(work):,}; its top-3 recall on the sample "
        f"{anchor_hits / len(sample):.0%}"
    )
    print(f"speed-up (anchor time / index time): {anchor / elapsed:,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
