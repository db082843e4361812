"""On SQLite the verify's replay makes the rows of runs of registrations in SQL
(`projector.registered_select`, `json_extract` over the event rows); they must be the rows
the projector makes from the same events in Python, value for value and type for type,
whatever text the weapons' fields hold."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.domain.events import Event, canonical
from resguardo.storage import rebuild
from resguardo.storage.database import driver_connection

_COLUMNS = ("position, type, at, actor_id, actor, org_id, subject_type, subject_id, "
            "corrects, reason, request_id, payload, secret")
_HOSTILE = st.sampled_from(["\x00", "\\", '"', "'", "\u2028", "é", "😀", "\x1f", "\x7f",
                            "$", " ", "\ufeff"])
# pieces of text, joined: single characters (any but lone surrogates) and words that mean
# something to JSON or to SQLite's JSON paths
TEXT = st.lists(st.one_of(_HOSTILE, st.characters(blacklist_categories=("Cs",)),
                          st.sampled_from(["\\u0000", "\\n", "$.serial", "null", "1e3"])),
                max_size=8).map("".join)
NUMBER = st.integers(-(2 ** 53), 2 ** 53)
OPTIONAL = st.none() | TEXT


REGISTRATION = st.fixed_dictionaries({
    "serial": TEXT, "serial_key": TEXT, "make": TEXT, "make_key": TEXT, "calibre": TEXT,
    "kind": TEXT, "model": OPTIONAL, "folio": OPTIONAL, "barrel_serial": OPTIONAL,
    "ballistic_id": OPTIONAL, "acquired_on": OPTIONAL, "supplier": OPTIONAL,
    "purchase_ref": OPTIONAL, "status": TEXT, "agency_id": NUMBER,
    "location_id": st.none() | NUMBER, "licence_id": st.none() | NUMBER,
}, optional={"import_entry": st.none() | NUMBER, "serial_as_typed": TEXT,
             "notes": st.dictionaries(st.sampled_from(["serial", "model", "x"]), TEXT)})


ENTRIES = st.lists(st.one_of(
    REGISTRATION.map(lambda p: ("firearm.registered", p)),
    st.just(("location.created", {"agency_id": 1, "code": "A", "kind": "armory",
                                  "name": "x"}))), min_size=1, max_size=12)


def _rows(entries: list[tuple[str, dict[str, Any]]]) -> list[tuple[Any, ...]]:
    return [(n, kind, f"2026-01-01T00:00:{n:02d}.000000Z", 1, "armero", 1,
             "firearm" if kind == "firearm.registered" else "location", n, None, None, None,
             canonical(payload), None)
            for n, (kind, payload) in enumerate(entries)]


def _table(conn: Any, name: str) -> list[tuple[Any, ...]]:
    db = driver_connection(conn)
    columns = [row[1] for row in db.execute(f"PRAGMA main.table_info({name})")]
    values = ", ".join(f"{c}, typeof({c})" for c in columns)
    return db.execute(f"SELECT {values} FROM main.{name} ORDER BY 1").fetchall()


@settings(max_examples=50, deadline=None)
@given(entries=ENTRIES, page=st.integers(1, 5), run=st.integers(1, 4))
def test_sql_rows_of_registrations_are_the_projectors_rows(entries, page, run):  # type: ignore[no-untyped-def]
    rows = _rows(entries)
    slow = rebuild.replay(Event(*row[:11], json.loads(row[11]), row[12]) for row in rows)
    fast, apply = rebuild._scratch()
    try:
        with fast.begin():
            rebuild._SCRATCH.create_all(fast)
        db = driver_connection(fast)
        db.execute("ATTACH DATABASE ':memory:' AS live")
        db.execute("CREATE TABLE live.events (position INTEGER PRIMARY KEY, type TEXT, "
                   "at TEXT, actor_id INTEGER, actor TEXT, org_id INTEGER, subject_type TEXT, "
                   "subject_id INTEGER, corrects INTEGER, reason TEXT, request_id TEXT, "
                   "payload TEXT, secret TEXT)")
        db.executemany(f"INSERT INTO live.events ({_COLUMNS}) VALUES "
                       f"({', '.join('?' * 13)})", rows)
        saved, rebuild.REGISTERED_RUN = rebuild.REGISTERED_RUN, run
        try:
            rebuild._replay_attached(db, apply, None, page)
        finally:
            rebuild.REGISTERED_RUN = saved
        for name in ("firearms", "locations"):
            assert _table(fast, name) == _table(slow, name), name
        assert len(_table(fast, "firearms")) == sum(kind == "firearm.registered"
                                                    for kind, _ in entries)
    finally:
        fast.close()
        slow.close()
