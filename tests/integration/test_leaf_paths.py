"""The database's leaf paths write `Event.leaf()`: on SQLite the row writer over the
columns, on PostgreSQL the SQL expression, both generated from `ledger.leaf.LEAF`.

An event of any content is stored as the application stores it (payload as its canonical
text) and read back by verify's two reads: `leaf_texts` (the text, for the report) and
`leaf_hashes` (the fast pass, hashed with the RFC 9162 prefix). Both must be exactly the
leaf `Event.leaf()` defines, else an existing log would not verify.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from sqlalchemy import text

from resguardo.domain.events import Event
from resguardo.ledger import leaf_hash
from resguardo.ledger.leaf import LEAF
from resguardo.storage import ledger_store

from leaf_events import columns, events

_INSERT = text(f"INSERT INTO events ({', '.join(LEAF.names)}) "
               f"VALUES ({', '.join(':' + name for name in LEAF.names)})")


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=events())
def test_the_databases_leaf_is_event_leaf(engine: Any, ev: Event) -> None:
    with engine.connect() as conn, conn.begin():
        conn.execute(_INSERT, columns(ev))
        texts = ledger_store.leaf_texts(conn, ev.position, ev.position + 1)
        hashes = ledger_store.leaf_hashes(conn, ev.position, ev.position + 1)
        conn.rollback()
    assert texts == [(ev.position, ev.leaf().decode())]
    assert hashes == [leaf_hash(ev.leaf())]
