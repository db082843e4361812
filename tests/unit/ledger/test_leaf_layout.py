"""The leaf's one layout (`ledger.leaf`): every writer built from it writes `Event.leaf()`.

`Event.leaf()` is RFC 8785 (`ledger.jcs`) of the event's document; the fast writers are
generated from the same layout. Whatever the event (hostile text, control characters,
unicode beyond the BMP, big integers and nested values in the payload, no actor id, no
secret), each writer must give exactly its bytes, else an existing log would no longer
verify or an import would write leaves that verify rejects. The database paths (the
SQLite row writer and the PostgreSQL expression) are tested in
tests/integration/test_leaf_paths.py.
"""

from __future__ import annotations

import dataclasses
import json
import keyword
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.domain.events import Event
from resguardo.ledger.jcs import canonical_json
from resguardo.ledger.leaf import INT, JSON, LEAF, NOT_CANONICAL, TEXT, Layout, Member
from resguardo.storage import import_batch, ledger_store

from leaf_events import HOSTILE, PAYLOAD, SAFE, columns, events


def test_the_leaf_layout_is_the_events_every_field() -> None:
    """A field added to Event and not to the layout (or the reverse) is caught here."""
    assert LEAF.names == tuple(f.name for f in dataclasses.fields(Event))
    assert [m.name for m in LEAF.ordered] == sorted(LEAF.names)  # ASCII: code point order


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(ev=events())
def test_every_python_leaf_writer_writes_event_leaf(ev: Event) -> None:
    leaf = ev.leaf()
    stored = columns(ev)
    # the import's writer of any event (a custody event after a registration)
    assert import_batch.leaf_text(*stored.values()).encode() == leaf
    # the import's writer of its registrations, the batch's shared members bound once
    fixed = ("actor", "actor_id", "at", "corrects", "reason", "request_id", "subject_type",
             "type")
    bound = import_batch._registration_leaf(**{k: stored[k] for k in fixed})  # noqa: SLF001
    assert bound(stored["org_id"], stored["payload"], stored["position"], stored["secret"],
                 stored["subject_id"]).encode() == leaf
    # verify's pass over SQLite rows (the columns as a tuple), with and without the prefix
    row = tuple(stored[name] for name in ledger_store._COLUMNS)  # noqa: SLF001
    assert ledger_store._sqlite_leaf_texts([row]) == [(ev.position, leaf.decode())]  # noqa: SLF001
    assert ledger_store._leaf_hashes_of([row]) == [  # noqa: SLF001
        ledger_store.leaf_hash(leaf)]
    # the document the leaf is made of
    assert json.loads(leaf) == {**ev.document(), "payload": json.loads(stored["payload"])}
    assert ("secret" in ev.document()) == (ev.secret is not None)


@pytest.mark.parametrize("column, value", [
    ("actor_id", "7"), ("position", 1.0), ("corrects", b"1"), ("payload", b"{}"),
    ("org_id", 1.5),
])
def test_a_column_of_another_type_never_passes_for_a_leaf(column: str, value: Any) -> None:
    """SQLite keeps any value in any column: the row writer writes a character canonical
    JSON never holds where an integer column holds something else."""
    ev = Event(position=3, type="custody.issued", at="2026-01-01T00:00:00Z", actor_id=2,
               actor="armero", org_id=5, subject_type="firearm", subject_id=9, corrects=None,
               reason=None, request_id=None, payload={"a": 1}, secret="ab" * 16)
    stored = {**columns(ev), column: value}
    row = tuple(stored[name] for name in ledger_store._COLUMNS)  # noqa: SLF001
    ((_, text),) = ledger_store._sqlite_leaf_texts([row])  # noqa: SLF001
    assert NOT_CANONICAL in text
    assert text.encode() != ev.leaf()


def test_a_text_column_of_another_type_takes_the_slow_path() -> None:
    writer = LEAF.rows_writer(LEAF.names)
    ev = Event(position=3, type="t", at="a", actor_id=None, actor="x", org_id=None,
               subject_type=None, subject_id=None, corrects=None, reason=None,
               request_id=None, payload={})
    row = tuple({**columns(ev), "reason": 5}[name] for name in LEAF.names)
    with pytest.raises(TypeError):
        list(writer([row]))


NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(
    lambda n: not n.startswith("_") and n.isidentifier() and not keyword.iskeyword(n))


@st.composite
def layouts(draw: Any) -> tuple[Layout, dict[str, Any]]:
    """Any layout of members and values for it: the writers depend on nothing LEAF has."""
    names = draw(st.lists(NAME, min_size=1, max_size=6, unique=True))
    members, values = [], {}
    first = min(names)
    for name in names:
        kind = draw(st.sampled_from([INT, TEXT, JSON]))
        mode = draw(st.sampled_from(["plain", "nullable", "optional"] if name != first
                                    else ["plain", "nullable"]))
        members.append(Member(name, kind, nullable=mode == "nullable",
                              optional=mode == "optional"))
        value = (draw(st.integers(-SAFE, SAFE)) if kind == INT else draw(HOSTILE)
                 if kind == TEXT else draw(PAYLOAD))
        values[name] = None if mode != "plain" and draw(st.booleans()) else value
    return Layout(members), values


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(layout_values=layouts(), data=st.data())
def test_any_layout_is_written_as_rfc_8785(layout_values: Any, data: Any) -> None:
    """Change the leaf's members, kinds or order and every writer still writes JCS."""
    layout, values = layout_values
    expected = canonical_json({k: v for k, v in values.items()
                               if v is not None or not layout._by_name[k].optional})  # noqa: SLF001
    texts = {k: (canonical_json(v).decode() if layout._by_name[k].kind == JSON  # noqa: SLF001
                 and v is not None else v) for k, v in values.items()}
    params = data.draw(st.permutations(layout.names))
    assert layout.writer(params)(*(texts[n] for n in params)).encode() == expected
    fixed = data.draw(st.lists(st.sampled_from(layout.names), unique=True))
    free = [n for n in params if n not in fixed]
    bound = layout.bound_writer(fixed, free)(**{n: texts[n] for n in fixed})
    assert bound(*(texts[n] for n in free)).encode() == expected
    (text,) = layout.rows_writer(params)([tuple(texts[n] for n in params)], "\x00")
    assert text.encode() == b"\x00" + expected


@pytest.mark.parametrize("member", [
    dict(name="class", kind=INT), dict(name="_x", kind=INT), dict(name="a b", kind=INT),
    dict(name="a'", kind=TEXT), dict(name="a", kind="float"),
    dict(name="a", kind=INT, nullable=True, optional=True),
])
def test_a_member_that_could_not_be_written_safely_is_refused(member: Any) -> None:
    """Member names are written into the generated source: only identifiers pass."""
    with pytest.raises(ValueError):
        Member(**member)


def test_a_layout_needs_each_member_once_per_writer() -> None:
    layout = Layout([Member("a", INT), Member("b", TEXT)])
    with pytest.raises(ValueError):
        layout.writer(("a",))
    with pytest.raises(ValueError):
        layout.bound_writer(("a",), ("a", "b"))
    with pytest.raises(ValueError):
        Layout([Member("a", INT), Member("a", TEXT)])
    with pytest.raises(ValueError):
        Layout([Member("a", INT, optional=True), Member("b", TEXT)])
