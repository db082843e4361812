"""The ledger leaf's layout, defined once, and the writers built from it.

A ledger leaf is the RFC 8785 canonical JSON text of an event's document: the members
`LEAF` lists, the payload as an object, ``secret`` only when the entry has one. This
module owns that layout: the members, their kinds, which may be null and which are left
out when absent. Everything that writes a leaf takes it from here:

- ``domain.events.Event.document()`` is `LEAF.document`, and ``Event.leaf()`` its
  canonical JSON by ``ledger.jcs``: the definition every other path is checked against;
- ``Layout.writer``: a Python function writing the text from the values, the payload
  already canonical text (the bulk import's leaves, one call per event), and
  ``Layout.bound_writer``, a factory binding the members a whole batch shares, whose
  text it writes once;
- ``Layout.rows_writer``: a generator writing the text of each row of a query
  (``storage.ledger_store``'s pass over SQLite rows when the log is verified), checking
  the type of each column, since SQLite keeps any value in any column;
- ``Layout.postgresql``: a PostgreSQL expression writing the text from an ``events`` row
  (verify on PostgreSQL).

The writers are generated from the layout (Python source compiled when the layout is
built, as ``dataclasses`` does) so that each is one f-string per row, as fast as one
written by hand, yet the member order (RFC 8785: by UTF-16 code units), the separators
and the escaping are written here only. The generated source holds only member names
(checked to be identifiers) and the names of the helpers below, never a value: values
are arguments or closure cells.

Escaping: text goes through the C JSON string encoder (``json.encoder.
encode_basestring``, what ``ledger.jcs`` uses for strings), on PostgreSQL through
``pg_catalog.to_json``; both escape exactly as RFC 8785 does (tested on hostile text).
Integers are written as digits: the canonical form for every integer within
+/-(2**53 - 1), which positions and ids are. A JSON member (the payload) is spliced in as
the canonical text it already is. The RFC 9162 prefix a leaf is hashed after is
``ledger.hashing.LEAF_PREFIX``.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from operator import attrgetter
from typing import Any, Final

INT: Final = "int"
"""An integer (written as digits)."""
TEXT: Final = "text"
"""A string (written with RFC 8785's escapes)."""
JSON: Final = "json"
"""A JSON value: an object in the document, its canonical text in the fast writers."""

NOT_CANONICAL: Final = "\x00"
"""What a checking writer writes for a value of the wrong type: a character canonical
JSON never holds unescaped, so the text can equal no leaf (the caller then recomputes
the leaf with ``Event.leaf()``)."""


@dataclass(frozen=True, slots=True)
class Member:
    """One member of a canonical JSON object with a fixed layout."""

    name: str
    kind: str
    nullable: bool = False
    """None is written as ``null``."""
    optional: bool = False
    """None leaves the member out of the object."""

    def __post_init__(self) -> None:
        if (not self.name.isidentifier() or keyword.iskeyword(self.name)
                or self.name.startswith("_") or self.kind not in (INT, TEXT, JSON)
                or (self.nullable and self.optional)):
            raise ValueError(f"not a layout member: {self!r}")


def _utf16_key(name: str) -> bytes:
    """RFC 8785 §3.2.3: members are ordered by the UTF-16 code units of their names."""
    return name.encode("utf-16-be", "surrogatepass")


class Layout:
    """A canonical JSON object whose members are known: its writers (see the module)."""

    def __init__(self, members: Sequence[Member]) -> None:
        self.members: tuple[Member, ...] = tuple(members)
        self.names: tuple[str, ...] = tuple(m.name for m in self.members)
        if len(set(self.names)) != len(self.names):
            raise ValueError("a member is named twice")
        self.ordered: tuple[Member, ...] = tuple(sorted(self.members,
                                                        key=lambda m: _utf16_key(m.name)))
        """The members in the order the text has them."""
        if self.ordered[0].optional:
            raise ValueError("the first member of the text may not be optional")
        self._get = attrgetter(*self.names)
        self._optional = tuple(m.name for m in self.members if m.optional)
        self._by_name = {m.name: m for m in self.members}
        # The helpers the writers call, and the keys of the optional members (written per
        # row), bound as defaults: local names, the fastest to look up.
        self._fast = ", ".join(f"{n}={n}" for n in ("_e", "_I", "_S", "_X", *(
            f"_k_{name}" for name in self._optional)))
        # The text before each member's value: "{" or ",", the name, ":" (the one place
        # the separators are written); in the generated source as constants ``_k_<name>``.
        self._keys = {m.name: ("{" if i == 0 else ",") + f'"{m.name}":'
                      for i, m in enumerate(self.ordered)}

    def document(self, source: Any) -> dict[str, Any]:
        """The object (a dict, in declaration order) of the attributes of ``source`` named
        as the members; an optional member only when it is not None."""
        doc = dict(zip(self.names, self._get(source), strict=True))
        for name in self._optional:
            if doc[name] is None:
                del doc[name]
        return doc

    # -- Python writers -------------------------------------------------------------------

    def writer(self, params: Sequence[str] | None = None) -> Callable[..., str]:
        """A function of the members (``params``: their order; by default all, as
        declared) returning the object's text, JSON members given as canonical text.
        Values are not checked: the callers write what they built themselves."""
        params = self.names if params is None else tuple(params)
        self._check_params(params, ())
        source = (f"def write({', '.join((*params, self._fast))}):\n"
                  f"    return {self._fstring(checked=False)}\n")
        return self._compile(source, "write")

    def bound_writer(self, fixed: Sequence[str], params: Sequence[str]
                     ) -> Callable[..., Callable[..., str]]:
        """A factory: called with the ``fixed`` members (as keywords), it returns a function
        of the ``params`` members writing the object's text, the text of the fixed members
        written once (for a batch of events that share them)."""
        fixed, params = tuple(fixed), tuple(params)
        self._check_params(params, fixed)
        runs: list[str] = []  # the text around the free members, as str expressions
        holes: list[str] = []
        current: list[str] = []
        for m in self.ordered:
            key = f"_k_{m.name}"
            if m.name in fixed:
                current.append(self._concat(m, key, checked=False))
                continue
            if m.optional:  # written whole (key and value, or nothing) by `write`
                hole = self._concat(m, key, checked=False)
            else:
                current.append(key)
                hole = self._hole(m, m.name, checked=False)
            runs.append(" + ".join(current) or '""')
            holes.append(hole)
            current = []
        current.append("_close")
        runs.append(" + ".join(current))
        lines = [f"def bind({'*, ' if fixed else ''}{', '.join(fixed)}):"]
        lines += [f"    _r{i} = {run}" for i, run in enumerate(runs)]
        body = "".join(f"{{_r{i}}}{{{hole}}}" for i, hole in enumerate(holes))
        lines.append(f"    def write({', '.join((*params, self._fast))}):")
        lines.append(f"        return f'{body}{{_r{len(holes)}}}'")
        lines.append("    return write")
        return self._compile("\n".join(lines) + "\n", "bind")

    def rows_writer(self, columns: Sequence[str]) -> Callable[..., Iterator[str]]:
        """A generator function ``(rows, lead="")`` yielding ``lead`` and the text of each
        row, a tuple of the members in ``columns`` order (JSON members as text), checking
        each value's type: an integer must be an int (else `NOT_CANONICAL` is written in
        its place), text a str (else TypeError), JSON text a str (else `NOT_CANONICAL`)."""
        columns = tuple(columns)
        self._check_params(columns, ())
        source = (f"def texts(_rows, _lead='', {self._fast}):\n"
                  f"    for {', '.join(columns)}, in _rows:\n"
                  + f"        yield {self._fstring(checked=True, lead=True)}\n")
        return self._compile(source, "texts")

    # -- PostgreSQL -----------------------------------------------------------------------

    def postgresql(self) -> str:
        """A PostgreSQL expression writing the text from a row whose columns are named as
        the members (JSON members hold canonical text). ``to_json`` quotes exactly as
        RFC 8785 does; every function is schema-qualified so that a search_path cannot
        redirect it."""
        parts: list[str] = []
        for m in self.ordered:
            key = _sql_literal(self._keys[m.name])
            value = m.name if m.kind == JSON else f"pg_catalog.to_json({m.name})"
            if m.optional:
                parts.append(f"CASE WHEN {m.name} IS NULL THEN '' ELSE pg_catalog.concat("
                             f"{key}, {value}) END")
                continue
            parts.append(key)
            if m.kind != JSON:
                parts.append(f"coalesce({value}, 'null'::pg_catalog.json)")
            else:
                parts.append(f"coalesce({value}, 'null')" if m.nullable else value)
        parts.append(_sql_literal("}"))
        return f"pg_catalog.concat({', '.join(parts)})"

    # -- generation -----------------------------------------------------------------------

    def _check_params(self, params: tuple[str, ...], fixed: tuple[str, ...]) -> None:
        if sorted(params + fixed) != sorted(self.names):
            raise ValueError(f"the writer must take each member once: {params + fixed}")

    @staticmethod
    def _hole(m: Member, v: str, *, checked: bool) -> str:
        """An expression formatting (in an f-string) as the value's text (not optional)."""
        if m.kind == TEXT:
            value = f"_e({v})"
        elif not checked:
            value = v
        elif m.kind == INT:
            value = f"{v} if {v}.__class__ is _I else _X"
        else:
            value = f"{v} if {v}.__class__ is _S else _X"
        return f'"null" if {v} is None else {value}' if m.nullable else value

    def _concat(self, m: Member, key: str, *, checked: bool) -> str:
        """A str expression: the key and the value's text (nothing for an absent optional)."""
        value = f"({self._hole(m, m.name, checked=checked)})"
        if m.kind == INT or m.nullable:
            value = f"_str{value}"
        if m.optional:
            return f'("" if {m.name} is None else {key} + {value})'
        return f"{key} + {value}"

    def _fstring(self, *, checked: bool, lead: bool = False) -> str:
        """One f-string writing the whole object from the members' local names."""
        body = "{_lead}" if lead else ""
        for m in self.ordered:
            if m.optional:
                body += "{" + self._concat(m, f"_k_{m.name}", checked=checked) + "}"
                continue
            body += self._keys[m.name].replace("{", "{{")  # a name holds no quote nor brace
            body += "{" + self._hole(m, m.name, checked=checked) + "}"
        return f"f'{body}}}}}'"

    def _compile(self, source: str, name: str) -> Any:
        namespace: dict[str, Any] = {
            "_e": encode_basestring, "_I": int, "_S": str, "_X": NOT_CANONICAL,
            "_close": "}", "_str": str,
            **{f"_k_{name}": key for name, key in self._keys.items()}}
        code = compile(source, f"<resguardo.ledger.leaf {name}>", "exec")
        exec(code, namespace)  # the source holds member names and helper names only
        function = namespace[name]
        function.__source__ = source  # what was compiled, for a reader tracing a leaf
        return function


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


LEAF: Final = Layout((
    Member("position", INT),
    Member("type", TEXT),
    Member("at", TEXT),
    Member("actor_id", INT, nullable=True),
    Member("actor", TEXT),
    Member("org_id", INT, nullable=True),
    Member("subject_type", TEXT, nullable=True),
    Member("subject_id", INT, nullable=True),
    Member("corrects", INT, nullable=True),
    Member("reason", TEXT, nullable=True),
    Member("request_id", TEXT, nullable=True),
    Member("payload", JSON),
    # Random, >= 128 bits, committed in the leaf so that the leaf hash says nothing of an
    # entry one may not read; absent (not null) for entries written before secrets existed.
    Member("secret", TEXT, optional=True),
))
"""The ledger leaf: every stored column of an event, the payload as an object."""
