"""Trace: the answer of docs/formats.md ("Trace") and the access log of traces."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from resguardo.api.schemas.common import PRINTABLE, Code, _Encodable
from resguardo.domain.codes import FirearmKind
from resguardo.domain.trace import DEFAULT_LIMIT, DEFAULT_MAX_DISTANCE, MAX_MAX_DISTANCE
from resguardo.domain.trace_custody import CUSTODY_AFTER, CUSTODY_BEFORE

#: A date (a whole UTC day) or an instant (UTC unless an offset is given).
MOMENT_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
                  r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$")
MOMENT_HELP = ("Who held each weapon then: YYYY-MM-DD (a whole UTC day: its last holder that "
               "day) or YYYY-MM-DDTHH:MM (UTC unless an offset is given). Default: now.")
#: Most candidates one trace returns (as the service allows).
MAX_CANDIDATES = 100


TraceSerial = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=PRINTABLE),
                        _Encodable]
Short = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=PRINTABLE),
                  _Encodable]
Note = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PRINTABLE),
                 _Encodable]
Moment = Annotated[str, StringConstraints(pattern=MOMENT_PATTERN)]


class CustodyExtent(StrEnum):
    """How much of each candidate's custody chain a trace returns."""

    window = "window"
    full = "full"


CUSTODY_HELP = (f"`window` (the default): each candidate's last {CUSTODY_BEFORE} custody "
                f"entries at or before the date and the first {CUSTODY_AFTER} after it; "
                "`full`: its whole chain (read whole: slower for a long history).")


class TraceIn(BaseModel):
    """A trace question (the same as the query parameters of ``GET /trace``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"serial": "GLK-A1?0", "make": "Glock", "agency": "MUN1", "date": "2025-03-07T22:30",
         "reason": "FED/CDMX/0077/2025"}]})

    serial: TraceSerial = Field(description="The serial as read: '?' for each unreadable "
                                            "character, '*' at an end for an unknown rest.")
    make: Short | None = Field(None, description="Only this make.")
    calibre: Short | None = Field(None, description="Only this calibre.")
    kind: FirearmKind | None = None
    agency: Code | None = Field(None, description="Only firearms of this organization.")
    date: Moment | None = Field(None, description=MOMENT_HELP)
    max_distance: float = Field(DEFAULT_MAX_DISTANCE, ge=0, le=MAX_MAX_DISTANCE,
                                description="Largest weighted distance (look-alike 0.5, "
                                            "'?' 0.1, other edit 1).")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_CANDIDATES, description="Most candidates.")
    reason: Note | None = Field(None, description="Case number or purpose, recorded.")
    custody: CustodyExtent = Field(CustodyExtent.window, description=CUSTODY_HELP)


class CustodianOut(BaseModel):
    badge: str
    name: str


class CustodyEntryOut(BaseModel):
    """One custody entry; the fields after ``location`` appear on the entries they concern."""

    at: str = Field(description="UTC instant of the entry.")
    event: str = Field(description="Entry type, e.g. custody.issued, firearm.reported_stolen.")
    officer: str | None = Field(description="Badge and name of the officer concerned.")
    location: str | None = Field(description="Location code (where stored, or taken from).")
    to_agency: str | None = Field(None, description="Registrations and transfers: the agency.")
    shop: str | None = Field(None, description="Sent to repair: the shop.")
    occurred_on: str | None = Field(None, description="Loss or theft: the date it happened.")
    place: str | None = Field(None, description="Loss or theft: where.")
    on_duty: bool | None = Field(None, description="Loss or theft: on duty or not.")
    complaint_number: str | None = Field(None, description="Loss or theft: criminal complaint.")
    notified: bool | None = Field(None, description="Loss or theft: whether the military "
                                                    "authority was notified.")
    notified_at: str | None = Field(None, description="When the military authority was notified.")
    reference: str | None = Field(None, description="Notification: its reference.")


class DifferencesOut(BaseModel):
    """How the serial differs from the query, in characters (0, 0, 0: an exact match)."""

    unreadable: int = Field(description="Characters the query marks '?' (each matches any).")
    lookalike: int = Field(description="Characters read as a look-alike, such as 0 for O or "
                                       "8 for B.")
    other: int = Field(description="Characters that differ otherwise, are missing or extra.")


class TraceCandidateOut(BaseModel):
    serial: str
    make: str
    model: str | None
    calibre: str
    distance: float = Field(description=(
        "How far the serial is from the query, for ranking: each character marked '?' "
        "counts 0.1, each look-alike 0.5 and each other differing, missing or extra "
        "character 1 (0: an exact match). `differences` tells the same in characters."))
    differences: DifferencesOut = Field(description=(
        "The match in words an investigator reads: how many characters differ, and how."))
    agency: str = Field(description="The agency holding the weapon now (code).")
    status: str = Field(description="Status now.")
    custodian_on_date: CustodianOut | None = Field(
        description="Who held it on the date asked (a whole day: its last holder that day).")
    custody: list[CustodyEntryOut] = Field(description=(
        f"The custody entries around the date asked (now by default), oldest first: the last "
        f"{CUSTODY_BEFORE} at or before it and the first {CUSTODY_AFTER} after it; the whole "
        "chain with `custody=full`."))
    firearm_id: int = Field(description="The weapon's id: its whole history is "
                                         "`GET /api/v1/firearms/{firearm_id}/history`.")
    custody_total: int = Field(description="How many entries the weapon's whole custody "
                                            "chain has.")
    custody_complete: bool = Field(description=(
        "Whether `custody` is the whole chain (false: entries were left out; ask with "
        "`custody=full`, or page the weapon's history)."))
    former_serial: str | None = Field(
        None, description="The serial the weapon was once recorded under (before a correction "
                          "of its serial or make) that the query matched; null when its serial "
                          "now matched.")
    kind: str
    status_on_date: str | None = Field(description="Status on the date (null: not registered).")
    location_on_date: str | None = Field(description="Where it was stored on the date.")
    import_running: int | None = Field(
        None, description="The import.started entry of the import that is still writing "
                          "this weapon (it is not yet the registry's and takes no entry "
                          "until that import completes; a failed import's weapons are "
                          "never candidates); null for a registered weapon.")


class TraceOut(BaseModel):
    """Candidates for a serial in your scope, nearest first (docs/formats.md "Trace")."""

    query: str = Field(description="The serial as given.")
    candidates: list[TraceCandidateOut]


class TracedCandidateOut(BaseModel):
    firearm_id: int
    serial: str
    make: str
    agency: str
    distance: float


class TraceLogEntryOut(BaseModel):
    """One recorded trace (or trace request)."""

    position: int = Field(description="Position of the access entry in the log.")
    at: str
    actor: str = Field(description="Who traced.")
    kind: str = Field(description="trace, or request (a request to a national tracing centre).")
    query: str
    filters: dict[str, str]
    reason: str | None
    candidates: list[TracedCandidateOut] = Field(description="The candidates returned.")
