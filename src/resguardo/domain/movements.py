"""Movements recorded by one generic path: the table of actions that need no code of their own.

A movement here is an action on one weapon that records one entry from the fields a person
types: who may do it (a permission of ``policy``), the entry it records (its rule, the
statuses it may start from and what it does to the weapon's row, is
``firearm_state.RULES``'), and the fields it takes, each checked the same way:

- ``LOCATION``: a location code of the weapon's agency, recorded as its id
  (``<name>_id``); ``elsewhere`` refuses the place the weapon already is;
- ``TEXT``: a line of text, trimmed; a required one refused when blank (``missing`` is the
  sentence, else ``%(field)s is required``);
- ``REASON``: the entry's reason (free text, optional unless ``required``).

``custody.perform`` is the one decision (state machine, agency, fields) and
``services.custody.perform`` the one use case (lock, scoped look-up, permission, append);
the weapon's page (``/firearms/{id}/movement``) and the API
(``POST /api/v1/firearms/{id}/actions/{name}``) are generated from this table, and
``firearm_state.ACTIONS`` (what the page offers in a status) includes every name here.

``words`` says the movement in each language (its title, the notice after it, the entry in
a timeline, the verb of a refusal) and labels its fields: the web's catalogue takes them from
here, so a new movement needs no translation elsewhere. The first four movements predate
the table and keep their words, and their forms, in the web's catalogue and template.

Adding a movement: its entry's rule in ``firearm_state.RULES`` and its line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from resguardo.domain.errors import ValidationFailed
from resguardo.domain.policy import Action

LOCATION = "location"
TEXT = "text"
REASON = "reason"
LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class Input:
    """One field a movement takes (see the module docstring)."""

    name: str
    kind: str = TEXT
    required: bool = True
    missing: str | None = None
    """The refusal when a required field is blank (a fixed sentence); None: the generic one."""
    elsewhere: bool = False
    """A location other than the one the weapon is at."""
    label: Mapping[str, str] = field(default_factory=dict)
    """The field's label per language (empty: the web's catalogue has it)."""
    example: str = ""
    about: str = ""
    """What it is, for the API's documentation (default: its English label)."""

    def __post_init__(self) -> None:
        if self.kind not in (LOCATION, TEXT, REASON):
            raise ValueError(f"a movement's field is a location, a text or a reason: {self.kind!r}")

    @property
    def key(self) -> str | None:
        """The payload field it is recorded in (None: the entry's reason)."""
        if self.kind == REASON:
            return None
        return f"{self.name}_id" if self.kind == LOCATION else self.name


@dataclass(frozen=True)
class Words:
    """How a movement is said in one language."""

    title: str
    """The form's heading and button: "Send to repair"."""
    done: str
    """The notice once it is recorded: "Sent to repair."."""
    entry: str
    """Its entry in a timeline: "Sent to repair"."""
    verb: str
    """In a refusal, "cannot be <verb> while ...": "sent to repair"."""


@dataclass(frozen=True)
class Movement:
    name: str
    entry: str
    permission: Action
    inputs: tuple[Input, ...] = ()
    from_location: bool = False
    """The entry records where the weapon was (``from_location_id``)."""
    words: Mapping[str, Words] = field(default_factory=dict)
    """Per language (``en`` and ``es``); empty for the four that predate the table."""
    summary: str = ""
    """One line for the API's documentation."""

    def __post_init__(self) -> None:
        if self.words and set(self.words) != set(LANGUAGES):
            raise ValueError(f"{self.name}: say it in {', '.join(LANGUAGES)}")
        for given in self.inputs:
            if self.words and given.kind != REASON and set(given.label) != set(LANGUAGES):
                raise ValueError(f"{self.name}: label {given.name} in {', '.join(LANGUAGES)}")


_REASON = Input("reason", REASON, required=False, example="Reorganización de armería",
                about="Why (optional)")
#: The label every page already gives a location (the catalogue says the same).
_LOCATION = {"en": "Location", "es": "Ubicación"}
_BACK_TO = Input("location", LOCATION, example="ARM1", about="The location it goes back to",
                 label=_LOCATION)

#: action name -> the movement (the name is the form's ``action`` and the API's path)
MOVEMENTS: dict[str, Movement] = {m.name: m for m in (
    Movement("move", "firearm.moved", Action.FIREARM_MOVE,
             (Input("location", LOCATION, elsewhere=True, example="ARM2",
                    about="The location it goes to", label=_LOCATION), _REASON),
             from_location=True,
             summary="Move a stored weapon to another location of its agency."),
    Movement("repair_send", "firearm.repair_sent", Action.FIREARM_REPAIR,
             (Input("shop", missing="the repair shop is required", example="Taller SEDENA",
                    about="The repair shop that receives it"),
              Input("reason", REASON, required=False, example="Percutor roto",
                    about="What is wrong (optional)")),
             from_location=True, summary="Send a stored weapon to a repair shop."),
    Movement("repair_return", "firearm.repair_returned", Action.FIREARM_REPAIR,
             (_BACK_TO,),
             summary="Book a weapon back from repair into a location of its agency."),
    Movement("release", "firearm.released", Action.FIREARM_RELEASE,
             (_BACK_TO,
              Input("reference", missing="a release needs the release document's reference",
                    example="Oficio FGE/JAL/LIB/221/2026",
                    about="The release document (oficio de liberación)")),
             summary="Record that the authority gave back a weapon held as evidence: back to "
                     "storage at a location of its agency."),
)}

#: entry type -> the movement that records it
BY_ENTRY: dict[str, Movement] = {m.entry: m for m in MOVEMENTS.values()}


def find(name: str) -> Movement:
    """The movement called ``name``; refused naming the field when there is none."""
    movement = MOVEMENTS.get(name)
    if movement is None:
        raise ValidationFailed("choose what to do", field="action")
    return movement


def said(language: str) -> dict[str, str]:
    """The English words of every movement that brings its own, and the same words in
    ``language`` (the web's catalogue adds them: English source -> translation)."""
    out: dict[str, str] = {}
    for movement in MOVEMENTS.values():
        if not movement.words:
            continue
        english, there = movement.words["en"], movement.words[language]
        for name in ("title", "done", "entry", "verb"):
            out[getattr(english, name)] = getattr(there, name)
        for given in movement.inputs:
            if given.label:
                out[given.label["en"]] = given.label[language]
    return out
