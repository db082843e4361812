"""Cross-agency checks of the registry: the same weapon registered twice, and likely typing errors.

The registry refuses a second (make, serial) with the same normalized keys,
but the same weapon still gets in twice when its make is spelled another way
(``SIG-Sauer`` and ``Sig Sauer``, ``Smith & Wesson`` and ``Smith and Wesson``)
or when one agency typed a look-alike (``GLK-A1O0`` for ``GLK-A100``). This
check compares every firearm in the caller's scope under a looser make key
(letters and digits only, ``&`` read as ``AND``) and reports:

``two_agencies``
    the same serial and make registered under two agencies;
``registered_twice``
    the same serial and make registered twice under one agency;
``lookalike``
    two serials of the same make, of the same length, that differ in exactly
    one character, and that character is a look-alike pair (O/0/D/Q,
    I/1/L/T, S/5, B/8, Z/2, G/6): one of them is probably mistyped;
``former_serial``
    a weapon registered under the serial and make another weapon was recorded
    under before a correction of its serial or make (``second`` is that weapon,
    with ``former_serial``): one serial may have been corrected onto the
    other, or the same weapon registered again under its old serial.

Only firearms in the caller's scope are compared, so a finding never names a
weapon the caller may not see. Findings are pairs, sorted by kind, make and
serial.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from typing import Any

from resguardo.domain.policy import Action, authorize
from resguardo.domain.trace_deletions import fold
from resguardo.storage import trace_queries as q
from resguardo.storage.uow import UnitOfWork

KINDS = ("two_agencies", "registered_twice", "lookalike", "former_serial")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


def loose_make(make_key: str) -> str:
    """A make compared without punctuation or spacing; ``&`` reads as ``AND``."""
    return _NOT_ALNUM.sub("", make_key.upper().replace("&", "AND"))


def _one_lookalike_apart(a: str, b: str) -> bool:
    """Equal length, one differing position (the folds are equal, so it is a look-alike)."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


# A firearm as the check keeps it (a tuple: a million of them must fit in memory).
_Row = tuple[int, str, str, str, str]  # id, serial, make, agency, status


def _side(row: _Row) -> dict[str, Any]:
    return {"serial": row[1], "make": row[2], "agency": row[3], "status": row[4]}


def check_duplicates(uow: UnitOfWork) -> dict[str, Any]:
    """Duplicate and look-alike registrations among the firearms in the caller's scope."""
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)
    same: dict[tuple[str, str], list[_Row]] = defaultdict(list)
    near: dict[tuple[str, str], set[str]] = defaultdict(set)
    count = 0
    for row in q.registry_in_scope(uow.repo):
        count += 1
        make = loose_make(row["make_key"])
        key = row["serial_key"]
        same[(make, key)].append((row["id"], row["serial"], row["make"], row["agency"],
                                  row["status"]))
        near[(make, fold(key))].add(key)
    findings: list[dict[str, Any]] = []
    for rows in same.values():
        if len(rows) < 2:
            continue
        for a, b in itertools.combinations(sorted(rows), 2):
            kind = "registered_twice" if a[3] == b[3] else "two_agencies"
            findings.append({"kind": kind, "make": a[2], "first": _side(a),
                             "second": _side(b)})
    findings += _former_serials(uow, same)
    for (make, _), keys in near.items():
        if len(keys) < 2:
            continue
        for ka, kb in itertools.combinations(sorted(keys), 2):
            if not _one_lookalike_apart(ka, kb):
                continue
            for a in same[(make, ka)]:
                for b in same[(make, kb)]:
                    findings.append({"kind": "lookalike", "make": a[2], "first": _side(a),
                                     "second": _side(b)})
    findings.sort(key=lambda f: (KINDS.index(f["kind"]), loose_make(f["make"]),
                                 f["first"]["serial"], f["second"]["serial"],
                                 f["first"]["agency"], f["second"]["agency"]))
    summary = {"firearms": count, **{kind: 0 for kind in KINDS}}
    for finding in findings:
        summary[finding["kind"]] += 1
    return {"summary": summary, "findings": findings}


def _former_serials(uow: UnitOfWork, same: dict[tuple[str, str], list[_Row]]
                    ) -> list[dict[str, Any]]:
    """Firearms in scope registered under a serial another one in scope was once recorded
    under (the duplicate check compares every serial a weapon ever carried)."""
    rows = {row[0]: row for group in same.values() for row in group}
    corrected = {i for i in q.identity_corrected_unscoped(uow.conn, uow.repo.log_size()) if i in rows}
    findings = []
    for firearm_id, former in sorted(q.former_identities_unscoped(uow.conn, corrected).items()):
        seen: set[tuple[str, str]] = set()
        for serial, key, _make, mkey in former:
            group = (loose_make(mkey), key)
            if group in seen:
                continue
            seen.add(group)
            for current in same.get(group, []):
                if current[0] != firearm_id:
                    findings.append({"kind": "former_serial", "make": current[2],
                                     "first": _side(current),
                                     "second": {**_side(rows[firearm_id]),
                                                "former_serial": serial}})
    return findings


CSV_COLUMNS = ("kind", "make", "serial", "agency", "status", "other_serial", "other_make",
               "other_agency", "other_status", "other_former_serial")


def csv_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """One row per finding, in :data:`CSV_COLUMNS` order."""
    rows = []
    for f in result["findings"]:
        a, b = f["first"], f["second"]
        rows.append((f["kind"], a["make"], a["serial"], a["agency"], a["status"], b["serial"],
                     b["make"], b["agency"], b["status"], b.get("former_serial") or ""))
    return rows
