"""The fast path of canonical_json writes exactly what the full RFC 8785 serializer writes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from resguardo.ledger import canonical_json
from resguardo.ledger.jcs import _serialize

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1),
                    st.text(st.characters(blacklist_categories=("Cs",))))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",)),
                                                    max_size=6), inner, max_size=4)),
    max_leaves=20)


def slow(obj: object) -> bytes:
    parts: list[str] = []
    _serialize(obj, parts)
    return "".join(parts).encode("utf-8")


@given(documents)
def test_the_fast_path_equals_the_full_serializer(obj):
    assert canonical_json(obj) == slow(obj)


def test_keys_beyond_the_surrogate_range_still_sort_by_utf16_units():
    obj = {"\ufb01": 1, "\U0001f600": 2}  # code point order and UTF-16 order disagree here
    assert canonical_json(obj) == slow(obj)
    assert canonical_json(obj).index("\U0001f600".encode()) < canonical_json(obj).index("\ufb01".encode())
