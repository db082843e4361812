"""The ledger's tables, migration and database-backed tree, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Index, Table, text

from resguardo.domain.events import Event
from resguardo.ledger import (
    canonical_json,
    consistency_proof_from_leaves,
    inclusion_proof_from_leaves,
    leaf_hash,
    root_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from resguardo.ledger import consistency_proof as db_consistency_proof
from resguardo.ledger import inclusion_proof as db_inclusion_proof
from resguardo.storage import ledger_store, schema
from resguardo.storage.database import make_engine
from resguardo.storage.ledger_tables import LEDGER_TABLES
from resguardo.storage.tables import metadata

LEDGER_NAMES = {table.name for table in LEDGER_TABLES}


def _tables_named(diff: Any) -> set[str]:
    """Names of the tables an Alembic autogenerate difference is about."""
    if isinstance(diff, list):
        return set().union(*(_tables_named(d) for d in diff))
    names = set()
    for part in diff:
        if isinstance(part, Table):
            names.add(part.name)
        elif isinstance(part, Index | Column) and part.table is not None:
            names.add(part.table.name)
        elif isinstance(part, str) and part in LEDGER_NAMES:
            names.add(part)
    return names


def test_the_migrated_ledger_tables_equal_the_metadata(db_url):
    engine = make_engine(db_url)
    schema.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
    assert [d for d in diffs if _tables_named(d) & LEDGER_NAMES] == []
    assert set(metadata.tables) >= LEDGER_NAMES
    engine.dispose()


def _document(position: int, **fields: Any) -> dict[str, Any]:
    doc = {"position": position, "type": "firearm.registered", "at": "2025-01-01T00:00:00.000000Z",
           "actor_id": None, "actor": "system", "org_id": None, "subject_type": "firearm",
           "subject_id": position, "corrects": None, "reason": None, "request_id": None,
           "payload": {"serial": f"S{position}", "n": position}}
    doc.update(fields)
    return doc


def test_upgrading_a_log_from_before_the_ledger_builds_its_tree(db_url):
    engine = make_engine(db_url)
    cfg = schema.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO log_head (id, size) VALUES (1, 7)"))
        for i in range(7):
            doc = _document(i, reason="línea\nnueva" if i == 3 else None)
            conn.execute(text(
                "INSERT INTO events (position, type, at, actor_id, actor, org_id, subject_type, "
                "subject_id, corrects, reason, request_id, payload) VALUES (:position, :type, "
                ":at, :actor_id, :actor, :org_id, :subject_type, :subject_id, :corrects, "
                ":reason, :request_id, :payload)"),
                {**doc, "payload": canonical_json(doc["payload"]).decode()})
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    leaves = [leaf_hash(canonical_json(_document(i, reason="línea\nnueva" if i == 3 else None)))
              for i in range(7)]
    with engine.connect() as conn:
        assert tree_root(ledger_store.DbNodeStore(conn), 7) == root_hash(leaves)
        assert tree_root(ledger_store.DbNodeStore(conn), 4) == root_hash(leaves[:4])
    engine.dispose()


@pytest.fixture
def tree(db_url):  # type: ignore[no-untyped-def]
    """A database holding a tree of 70 leaves, and the leaves."""
    engine = make_engine(db_url)
    schema.upgrade(engine)
    leaves = [hashlib.sha256(b"\x00leaf %d" % i).digest() for i in range(70)]
    with engine.begin() as conn:
        for i in range(0, 70, 9):
            ledger_store.append_leaf_hashes(conn, i, leaves[i:i + 9])
    conn = engine.connect()
    yield ledger_store.DbNodeStore(conn), leaves
    conn.close()
    engine.dispose()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_proofs_from_the_database_verify_for_random_sizes(tree, data):
    store, leaves = tree
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")
    root = root_hash(leaves[:size])
    assert tree_root(store, size) == root
    proof = db_inclusion_proof(store, index, size)
    assert proof == inclusion_proof_from_leaves(index, leaves[:size])
    verify_inclusion(index, size, leaves[index], proof, root)
    consistency = db_consistency_proof(store, old, size)
    assert consistency == consistency_proof_from_leaves(old, leaves[:size])
    verify_consistency(old, size, consistency, root_hash(leaves[:old]), root)


# Text as people and imports write it, and as a hostile one would: controls, quotes,
# backslashes, accents, emoji, line and paragraph separators (NUL excepted: no database
# stores it in text).
hostile = st.text(alphabet=st.characters(blacklist_characters="\x00",
                                         blacklist_categories=("Cs",)), max_size=12)
maybe_int = st.none() | st.integers(0, 2**53 - 1)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_leaf_text_the_database_builds_is_the_canonical_leaf(engine, data):
    ev = Event(position=data.draw(st.integers(0, 2**40)), type=data.draw(hostile.filter(bool)),
               at=data.draw(hostile), actor_id=data.draw(st.none() | st.integers(0, 2**31 - 1)),
               actor=data.draw(hostile), org_id=data.draw(maybe_int),
               subject_type=data.draw(st.none() | hostile), subject_id=data.draw(maybe_int),
               corrects=data.draw(maybe_int), reason=data.draw(st.none() | hostile),
               request_id=data.draw(st.none() | hostile),
               payload=data.draw(st.dictionaries(hostile, hostile | st.integers(-5, 5),
                                                 max_size=3)),
               secret=data.draw(st.none() | hostile))  # None: an entry from before 0009
    with engine.connect() as conn, conn.begin():
        conn.execute(text(
            "INSERT INTO events (position, type, at, actor_id, actor, org_id, subject_type, "
            "subject_id, corrects, reason, request_id, payload, secret) VALUES (:position, "
            ":type, :at, :actor_id, :actor, :org_id, :subject_type, :subject_id, :corrects, "
            ":reason, :request_id, :payload, :secret)"),
            {**ev.document(), "secret": ev.secret,
             "payload": canonical_json(ev.payload).decode()})
        ((_, built),) = ledger_store.leaf_texts(conn, ev.position, ev.position + 1)
        hashed = ledger_store.leaf_hashes(conn, ev.position, ev.position + 1)
        conn.rollback()
    assert built.encode("utf-8") == ev.leaf()
    assert hashed == [hashlib.sha256(b"\x00" + ev.leaf()).digest()]
