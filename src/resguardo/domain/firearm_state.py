"""How each entry changes a weapon: one table of rules and the one fold that applies it.

``RULES`` says, for every entry that concerns a weapon's custody, from which
statuses it may be recorded (the state machine) and what it does to the
weapon's row: which columns it sets, each to a constant, to a field of the
entry's payload (``Field``), to the entry's instant (``AT``) or to its
position (``POSITION``). Nothing else in the code restates these rules:

- ``custody.check_transition`` refuses what ``allowed_from`` does not allow
  (``TRANSITIONS`` is read from this table);
- ``storage.projector`` writes ``changes`` as one ``UPDATE`` per entry (it
  registers a handler for every type here; its own code adds only what
  touches other tables: a loss report, a request closed, an override used);
- ``trace_custody.step`` replays a weapon's entries with ``fold``;
- the bulk import derives a registration's row in SQL from the
  ``firearm.registered`` rule (``storage.bulk.firearm_select``), and the row of
  a weapon issued or sent to repair in the same batch with ``fold``;
- the web page asks ``actions_for`` which movements a status allows.

The rule depends on the entry only, never on the row it is applied to, so the
projector can write it without reading the row first; ``fold`` is "the row,
with these columns replaced".

A weapon of record (``record_officer_id``) is a designation, not a movement:
its entries leave the status and ``status_since`` as they were. Every
movement stamps ``status_since`` with its instant, even one that keeps the
status (a weapon moved between armories).

Adding a status: add it to ``codes.FirearmStatus`` and its words to
``vocabulary.STATUS_NAMES``, add the entries that lead to and from it here, and
the movements that record them to ``movements.MOVEMENTS`` (one line each: the
generic decision, service, page form and API route follow). The projector,
trace's replay, the import and the rebuild check follow from this table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from resguardo.domain.codes import FirearmStatus
from resguardo.domain.movements import MOVEMENTS

S = FirearmStatus


@dataclass(frozen=True, slots=True)
class Field:
    """A column set to a field of the entry's payload."""

    name: str


class _Stamp:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: A column set to the entry's instant / to its position in the log.
AT = _Stamp("AT")
POSITION = _Stamp("POSITION")

Source = Any
"""A constant (``None``, a status), a ``Field``, ``AT`` or ``POSITION``."""

#: The weapon's columns a rule may set (the ``firearms`` row's custody state).
COLUMNS = ("status", "agency_id", "location_id", "custodian_id", "record_officer_id",
           "record_since", "licence_id", "status_since", "last_event")

Values = Callable[[Mapping[str, Any], Any, Any], tuple[Any, ...]]


def _expression(source: Source) -> str:
    if isinstance(source, Field):
        return f"p[{source.name!r}]"
    if source is AT:
        return "at"
    if source is POSITION:
        return "position"
    if source is None or isinstance(source, (str, int)):
        return repr(source)
    raise ValueError(f"a rule may not set a column to {source!r}")


def _compile(sources: tuple[Source, ...]) -> Values:
    """One function that returns the values of a rule's columns: the projector runs it on
    every custody entry, and one call costs less than a call per column."""
    body = "".join(f"{_expression(source)}, " for source in sources)
    return eval(f"lambda p, at, position: ({body})")  # noqa: S307 (built from the rule above)


@dataclass(frozen=True)
class Rule:
    """What one entry type does to a weapon (see the module docstring).

    ``allowed_from`` is None for an entry the state machine does not decide
    (a registration, the end of a designation of record). ``legacy`` names a
    payload field and the rule that applies instead when the entry has it.
    """

    allowed_from: frozenset[FirearmStatus] | None
    sets: Mapping[str, Source]
    legacy: tuple[str, Rule] | None = None
    designation: bool = False
    """A weapon of record or a licence: not a movement; its own module refuses it."""
    columns: tuple[str, ...] = field(init=False)
    _values: Values = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name in self.sets:
            if name not in COLUMNS:
                raise ValueError(f"a rule may not set {name!r}")
        columns = tuple(sorted(self.sets))
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "_values", _compile(tuple(self.sets[c] for c in columns)))

    @property
    def to(self) -> FirearmStatus | None:
        """The status it leads to (None: the status stays)."""
        status = self.sets.get("status")
        return FirearmStatus(status) if isinstance(status, str) else None

    def values(self, payload: Mapping[str, Any], at: Any = None,
               position: Any = None) -> tuple[Any, ...]:
        """The values of ``columns`` for one entry."""
        return self._values(payload, at, position)


def _movement(allowed_from: set[FirearmStatus], to: FirearmStatus | None = None,
              **sets: Source) -> Rule:
    """An entry that moves the weapon: its status (when ``to``) and its time change."""
    if to is not None:
        sets["status"] = to.value  # plain text, as the drivers write it
    return Rule(frozenset(allowed_from), {**sets, "status_since": AT, "last_event": POSITION})


def _request(allowed_from: set[FirearmStatus]) -> Rule:
    """An entry that asks for a movement: the weapon's row waits for the approval."""
    return Rule(frozenset(allowed_from), {})


#: The weapon is nobody's weapon of record any more.
_ENDS_RECORD = {"record_officer_id": None, "record_since": None}
_NOWHERE = {"location_id": None, "custodian_id": None}
_ACTIVE = {S.IN_STORAGE, S.ISSUED, S.IN_REPAIR, S.IN_TRANSIT}

#: entry type -> what it does to the weapon (see the module docstring)
RULES: dict[str, Rule] = {
    "firearm.registered": Rule(None, {
        "status": Field("status"), "agency_id": Field("agency_id"),
        "location_id": Field("location_id"), "custodian_id": None, "record_officer_id": None,
        "record_since": None, "licence_id": Field("licence_id"), "status_since": AT,
        "last_event": POSITION}),
    "custody.issued": _movement({S.IN_STORAGE}, S.ISSUED, custodian_id=Field("officer_id"),
                                location_id=None),
    "custody.returned": _movement({S.ISSUED}, S.IN_STORAGE, custodian_id=None,
                                  location_id=Field("location_id")),
    "firearm.moved": _movement({S.IN_STORAGE}, location_id=Field("location_id")),
    "firearm.repair_sent": _movement({S.IN_STORAGE}, S.IN_REPAIR, location_id=None),
    "firearm.repair_returned": _movement({S.IN_REPAIR}, S.IN_STORAGE, custodian_id=None,
                                         location_id=Field("location_id")),
    "firearm.transfer_requested": _request({S.IN_STORAGE}),
    "firearm.transfer_sent": _movement({S.IN_STORAGE}, S.IN_TRANSIT, location_id=None,
                                       **_ENDS_RECORD),
    "firearm.transfer_received": _movement({S.IN_TRANSIT}, S.IN_STORAGE,
                                           agency_id=Field("to_agency_id"),
                                           location_id=Field("location_id")),
    "firearm.reported_lost": _movement(_ACTIVE, S.LOST, **_NOWHERE, **_ENDS_RECORD),
    "firearm.reported_stolen": _movement(_ACTIVE | {S.LOST}, S.STOLEN, **_NOWHERE,
                                         **_ENDS_RECORD),
    "firearm.recovered": replace(
        _movement({S.LOST, S.STOLEN}, S.HELD_AS_EVIDENCE, **_NOWHERE),
        # an entry recorded before weapons were held as evidence named the armory it went to
        legacy=("location_id", _movement({S.LOST, S.STOLEN}, S.IN_STORAGE,
                                         location_id=Field("location_id")))),
    "firearm.released": _movement({S.HELD_AS_EVIDENCE}, S.IN_STORAGE,
                                  location_id=Field("location_id")),
    "firearm.decommission_requested": _request({S.IN_STORAGE, S.IN_REPAIR, S.LOST, S.STOLEN}),
    "firearm.decommissioned": _movement({S.IN_STORAGE, S.IN_REPAIR, S.LOST, S.STOLEN},
                                        S.DECOMMISSIONED, **_NOWHERE, **_ENDS_RECORD),
    # a weapon of record is a designation: its status and the time of it stay
    "firearm.assigned_of_record": Rule(frozenset({S.IN_STORAGE, S.ISSUED, S.IN_REPAIR}), {
        "record_officer_id": Field("officer_id"), "record_since": AT, "last_event": POSITION},
        designation=True),
    "firearm.unassigned_of_record": Rule(None, {**_ENDS_RECORD, "last_event": POSITION}),
    # on or off the agency's collective licence, unless it left the agency's books
    "licence.firearm_attached": Rule(
        frozenset(S) - {S.DECOMMISSIONED, S.IN_TRANSIT},
        {"licence_id": Field("licence_id"), "last_event": POSITION}, designation=True),
}

#: entry type -> the statuses it may be recorded from (every rule that has them)
ALLOWED_FROM: dict[str, frozenset[FirearmStatus]] = {
    event_type: rule.allowed_from
    for event_type, rule in RULES.items() if rule.allowed_from is not None
}

#: The custody state machine (``custody.check_transition``): movement type -> statuses it
#: may start from -> status it leads to (None: it stays)
TRANSITIONS: dict[str, tuple[frozenset[FirearmStatus], FirearmStatus | None]] = {
    event_type: (rule.allowed_from, rule.to)
    for event_type, rule in RULES.items()
    if rule.allowed_from is not None and not rule.designation
}

#: Entries after which a weapon is nobody's weapon of record any more.
ENDS_RECORD = frozenset(
    event_type for event_type, rule in RULES.items()
    if event_type != "firearm.registered" and "record_officer_id" in rule.sets
    and rule.sets["record_officer_id"] is None)

#: Entries that change the weapon's row (the others only ask for a change).
ROW_EVENTS = frozenset(event_type for event_type, rule in RULES.items() if rule.sets)


def rule_for(event_type: str, payload: Mapping[str, Any]) -> Rule | None:
    """The rule one entry follows (None: it does not concern a weapon's state)."""
    rule = RULES.get(event_type)
    if rule is not None and rule.legacy is not None and payload.get(rule.legacy[0]) is not None:
        return rule.legacy[1]
    return rule


def changes(event_type: str, payload: Mapping[str, Any], at: Any = None,
            position: Any = None) -> dict[str, Any]:
    """The columns one entry sets, and their values (empty: the row stays)."""
    rule = rule_for(event_type, payload)
    if rule is None:
        return {}
    return dict(zip(rule.columns, rule.values(payload, at, position), strict=True))


@dataclass(frozen=True, slots=True)
class WeaponState:
    """A weapon's custody columns, as the projection's ``firearms`` row holds them;
    ``status`` is None before it was registered."""

    status: str | None = None
    agency_id: int | None = None
    location_id: int | None = None
    custodian_id: int | None = None
    record_officer_id: int | None = None
    record_since: str | None = None
    licence_id: int | None = None
    status_since: str | None = None
    last_event: int | None = None


def fold(state: WeaponState, event_type: str, payload: Mapping[str, Any], at: Any = None,
         position: Any = None) -> WeaponState:
    """The weapon's state after one entry."""
    rule = rule_for(event_type, payload)
    if rule is None or not rule.columns:
        return state
    return replace(state, **dict(zip(rule.columns, rule.values(payload, at, position),
                                     strict=True)))


# --- what the weapon's page offers ------------------------------------------------------

#: action (a form of the weapon's page) -> the entry it records; every movement of
#: ``movements.MOVEMENTS`` is one
ACTIONS: dict[str, str] = {
    "issue": "custody.issued",
    "return": "custody.returned",
    "transfer_request": "firearm.transfer_requested",
    "transfer_receive": "firearm.transfer_received",
    "report_loss": "firearm.reported_lost",
    "report_theft": "firearm.reported_stolen",
    "recover": "firearm.recovered",
    "decommission_request": "firearm.decommission_requested",
    "assign_of_record": "firearm.assigned_of_record",
    "licence_declare": "licence.firearm_attached",
    **{name: movement.entry for name, movement in MOVEMENTS.items()},
}


def actions_for(status: str) -> frozenset[str]:
    """The actions whose entry the state machine allows from ``status``."""
    return frozenset(action for action, event_type in ACTIONS.items()
                     if status in ALLOWED_FROM[event_type])
