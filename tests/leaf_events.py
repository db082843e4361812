"""Events of any content, for the tests that every leaf writer writes `Event.leaf()`
(tests/unit/ledger/test_leaf_layout.py, tests/integration/test_leaf_paths.py)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from resguardo.domain.events import Event
from resguardo.ledger.jcs import canonical_json
from resguardo.ledger.leaf import LEAF

# Text as people, imports and attackers write it: controls (NUL aside, which no database
# text column stores), quotes, backslashes, accents, emoji, line and paragraph separators.
HOSTILE = st.text(alphabet=st.characters(blacklist_characters="\x00",
                                         blacklist_categories=("Cs",)), max_size=12)
SAFE = 2**53 - 1
#: Integers a payload may hold: any safe one, and big ones a double holds exactly (RFC 8785
#: writes those in ECMAScript's form, e.g. 2**60 as 1152921504606847000).
PAYLOAD_INT = st.integers(-SAFE, SAFE) | st.integers(-2**10, 2**10).map(lambda k: k * 2**60)
SCALAR = (st.none() | st.booleans() | PAYLOAD_INT | HOSTILE
          | st.floats(allow_nan=False, allow_infinity=False))
PAYLOAD = st.dictionaries(HOSTILE, st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE, inner,
                                                                        max_size=3),
    max_leaves=8), max_size=4)
#: Ids and positions: what the columns hold (actor_id is a 32-bit column on PostgreSQL).
ID = st.integers(-SAFE, SAFE)


@st.composite
def events(draw: Any) -> Event:
    maybe_id = st.none() | ID
    return Event(position=draw(st.integers(0, SAFE)), type=draw(HOSTILE.filter(bool)),
                 at=draw(HOSTILE), actor_id=draw(st.none() | st.integers(-2**31, 2**31 - 1)),
                 actor=draw(HOSTILE), org_id=draw(maybe_id),
                 subject_type=draw(st.none() | HOSTILE), subject_id=draw(maybe_id),
                 corrects=draw(maybe_id), reason=draw(st.none() | HOSTILE),
                 request_id=draw(st.none() | HOSTILE), payload=draw(PAYLOAD),
                 secret=draw(st.none() | HOSTILE))  # None: an entry from before secrets


def columns(ev: Event) -> dict[str, Any]:
    """The event as stored: every member, the payload as its canonical text."""
    return {**{name: getattr(ev, name) for name in LEAF.names},
            "payload": canonical_json(ev.payload).decode()}
