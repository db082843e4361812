"""Corrections: nothing is edited in place; an ``entry.corrected`` event points
at the entry it fixes and carries the new values beside the old ones.

A weapon's identity (serial, make, kind, calibre) is what a count, a trace and
the duplicate check match it by, so a correction touching any of it takes two
people: it is recorded as ``entry.correction_requested`` and changes nothing
until a second person approves it (the ``entry.corrected`` that applies it names
the request) or rejects it (``request.rejected``); whoever asked cannot approve.
"""

from __future__ import annotations

from datetime import date

from resguardo.domain.calibres import parse_calibre
from resguardo.domain.custody import approve
from resguardo.domain.entities import NewEvent
from resguardo.domain.errors import T_, ValidationFailed
from resguardo.domain.registry import check_shown_serial, parse_kind
from resguardo.domain.serials import make_key, serial_display, serial_key

#: Which fields of which recorded event may be corrected.
CORRECTABLE: dict[str, frozenset[str]] = {
    "firearm.registered": frozenset({
        "serial", "make", "model", "calibre", "kind", "folio", "barrel_serial", "ballistic_id",
        "acquired_on", "supplier", "purchase_ref",
    }),
    "officer.registered": frozenset({"name", "cuip", "credential_folio", "credential_expiry",
                                     "qualification_expiry"}),
    "firearm.reported_lost": frozenset({"occurred_on", "place", "on_duty", "complaint_number",
                                        "complaint_authority"}),
    "firearm.reported_stolen": frozenset({"occurred_on", "place", "on_duty", "complaint_number",
                                          "complaint_authority"}),
}

#: The fields of a weapon's registration that are its identity: correcting any of them
#: is a request that a second person approves.
IDENTITY = frozenset({"serial", "make", "kind", "calibre"})
#: The entry that asks for an identity correction (it changes nothing by itself).
REQUESTED = "entry.correction_requested"

_DATE_FIELDS = {"acquired_on", "credential_expiry", "qualification_expiry", "occurred_on"}


def correct(position: int, event_type: str, current: dict, changes: dict[str, str],
            reason: str, subject_type: str | None, subject_id: int | None,
            org_id: int | None) -> list[NewEvent]:
    """Decide a correction of fields recorded by the event at ``position``: the entries to
    record, in order. Fields other than a weapon's identity are corrected at once
    (``entry.corrected``); identity fields are asked for (``entry.correction_requested``).
    Values equal to the current ones are left out.

    ``current`` holds the values as they stand now (after earlier corrections).
    """
    allowed = CORRECTABLE.get(event_type)
    if allowed is None:
        raise ValidationFailed(
            f"entry {position} ({event_type}) cannot be corrected; correctable kinds: "
            + ", ".join(sorted(CORRECTABLE)), field="position")
    if not reason or len(reason.strip()) < 5:
        raise ValidationFailed("a correction needs a written reason", field="reason")
    if not changes:
        raise ValidationFailed("nothing to correct: give FIELD=VALUE", field="changes")
    new: dict = {}
    for field, raw in changes.items():
        if field not in allowed:
            raise ValidationFailed(
                f"{field} cannot be corrected on {event_type}; correctable: "
                + ", ".join(sorted(allowed)), field=field)
        new[field] = _normalize(field, raw)
    typed = None
    if "serial" in new:
        # recorded in its shown form, as at registration; the typed text kept when it differs
        typed = new["serial"]
        new["serial"], new["serial_key"] = serial_display(typed), serial_key(typed)
        if not new["serial_key"]:
            raise ValidationFailed("serial has no letters or digits", field="serial")
        check_shown_serial(typed)
        if new["serial"] == typed:
            typed = None
    if "make" in new:
        new["make_key"] = make_key(new["make"])
    _previous(current, new)  # refuses a correction that changes nothing
    changed = {k: v for k, v in new.items() if current.get(k) != v}
    identity = {k: v for k, v in changed.items() if _identity_field(event_type, k)}
    others = {k: v for k, v in changed.items() if k not in identity}
    decided = []
    for part in (others, identity):
        if not part:
            continue
        payload = {"corrects": position, "corrected_type": event_type, "changes": part,
                   "previous": {k: current.get(k) for k in part}}
        if typed is not None and "serial" in part:
            payload["serial_as_typed"] = typed
        if part is identity:
            # the weapon keeps its identity until a second person approves: nothing changes yet
            decided.append(NewEvent(REQUESTED, {**payload, "firearm_id": subject_id},
                                    reason=reason.strip(), org_id=org_id,
                                    subject_type=subject_type, subject_id=subject_id))
        else:
            decided.append(NewEvent("entry.corrected", payload, reason=reason.strip(),
                                    org_id=org_id, subject_type=subject_type,
                                    subject_id=subject_id, corrects=position))
    return decided


def _identity_field(event_type: str, field: str) -> bool:
    return event_type == "firearm.registered" and field.removesuffix("_key") in IDENTITY


def is_identity(event_type: str, changes: dict) -> bool:
    """Whether a correction touches a weapon's identity (and so needs a second person)."""
    return any(_identity_field(event_type, field) for field in changes)


def _previous(current: dict, new: dict) -> dict:
    previous = {k: current.get(k) for k in new}
    if all(previous[k] == new[k] for k in new):
        raise ValidationFailed("the corrected values equal the recorded ones", field="changes")
    return previous


def approve_identity(request: dict, current: dict, request_id: int, requested_by: int | None,
                     approver_id: int | None, reason: str | None, org_id: int | None,
                     firearm_id: int) -> NewEvent:
    """The ``entry.corrected`` that applies an approved identity correction.

    ``request`` is the payload of the ``entry.correction_requested`` entry and
    ``current`` the corrected entry's values now (another correction may have
    come in between: the previous values are taken as they stand at approval).
    """
    approve(requested_by, approver_id, "identity correction")
    changes = request["changes"]
    payload = {"corrects": request["corrects"], "corrected_type": request["corrected_type"],
               "changes": changes, "previous": _previous(current, changes),
               "request_id": request_id}
    if "serial_as_typed" in request:
        payload["serial_as_typed"] = request["serial_as_typed"]
    return NewEvent(
        "entry.corrected", payload,
        reason=reason, org_id=org_id, subject_type="firearm", subject_id=firearm_id,
        corrects=request["corrects"],
    )


def _normalize(field: str, raw: str) -> str | bool | None:
    value = (raw or "").strip()
    if field in _DATE_FIELDS:
        if not value:
            return None
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValidationFailed(T_("%(field)s must be a date YYYY-MM-DD"), field=field) from None
    if field == "on_duty":
        if value.lower() in {"yes", "true", "1", "si", "sí"}:
            return True
        if value.lower() in {"no", "false", "0"}:
            return False
        raise ValidationFailed("on_duty must be yes or no", field=field)
    if field == "kind":
        return parse_kind(value).value
    if field in {"serial", "make", "calibre", "name"} and not value:
        raise ValidationFailed(T_("%(field)s cannot be empty"), field=field)
    if field == "calibre":
        return parse_calibre(value)  # a word of the list, as at registration
    return value or None


def apply_corrections(recorded: dict, corrections: list[dict]) -> dict:
    """The payload of an event as corrected by the given correction payloads, in order.

    A corrected serial brings its own ``serial_as_typed`` (none when it was typed in the
    form it is shown in): the registration's no longer describes it."""
    result = dict(recorded)
    for correction in corrections:
        result.update(correction["changes"])
        if "serial" in correction["changes"]:
            result.pop("serial_as_typed", None)
            if correction.get("serial_as_typed") is not None:
                result["serial_as_typed"] = correction["serial_as_typed"]
    return result


def identities(registration: dict, corrections: list[dict]) -> list[tuple[str, str, str, str]]:
    """Every (serial, serial key, make, make key) a weapon was recorded under, first the one
    it was registered with, then each one a correction gave it, without repeats."""
    out: list[tuple[str, str, str, str]] = []
    current = dict(registration)
    for correction in [None, *corrections]:
        if correction is not None:
            current.update(correction["changes"])
        identity = (current["serial"], current["serial_key"], current["make"],
                    current["make_key"])
        if identity not in out:
            out.append(identity)
    return out
