"""Corrections: nothing is edited in place; an ``entry.corrected`` event points
at the entry it fixes and carries the new values beside the old ones."""

from __future__ import annotations

from datetime import date

from resguardo.domain.entities import NewEvent
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.registry import parse_kind
from resguardo.domain.serials import make_key, serial_key

#: Which fields of which recorded event may be corrected.
CORRECTABLE: dict[str, frozenset[str]] = {
    "firearm.registered": frozenset({
        "serial", "make", "model", "calibre", "kind", "folio", "barrel_serial", "ballistic_id",
        "acquired_on", "supplier", "purchase_ref",
    }),
    "officer.registered": frozenset({"name", "cuip", "credential_folio", "credential_expiry",
                                     "qualification_expiry"}),
    "firearm.reported_lost": frozenset({"occurred_on", "place", "on_duty", "complaint_number"}),
    "firearm.reported_stolen": frozenset({"occurred_on", "place", "on_duty", "complaint_number"}),
}

_DATE_FIELDS = {"acquired_on", "credential_expiry", "qualification_expiry", "occurred_on"}


def correct(position: int, event_type: str, current: dict, changes: dict[str, str],
            reason: str, subject_type: str | None, subject_id: int | None,
            org_id: int | None) -> NewEvent:
    """Decide a correction of fields recorded by the event at ``position``.

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
    if "serial" in new:
        new["serial_key"] = serial_key(new["serial"])
        if not new["serial_key"]:
            raise ValidationFailed("serial has no letters or digits", field="serial")
    if "make" in new:
        new["make_key"] = make_key(new["make"])
    previous = {k: current.get(k) for k in new}
    if all(previous[k] == new[k] for k in new):
        raise ValidationFailed("the corrected values equal the recorded ones", field="changes")
    return NewEvent(
        "entry.corrected",
        {"corrects": position, "corrected_type": event_type, "changes": new, "previous": previous},
        reason=reason.strip(), org_id=org_id, subject_type=subject_type, subject_id=subject_id,
        corrects=position,
    )


def _normalize(field: str, raw: str) -> str | bool | None:
    value = (raw or "").strip()
    if field in _DATE_FIELDS:
        if not value:
            return None
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValidationFailed(f"{field} must be a date YYYY-MM-DD", field=field) from None
    if field == "on_duty":
        if value.lower() in {"yes", "true", "1", "si", "sí"}:
            return True
        if value.lower() in {"no", "false", "0"}:
            return False
        raise ValidationFailed("on_duty must be yes or no", field=field)
    if field == "kind":
        return parse_kind(value).value
    if field in {"serial", "make", "calibre", "name"} and not value:
        raise ValidationFailed(f"{field} cannot be empty", field=field)
    return value or None


def apply_corrections(recorded: dict, corrections: list[dict]) -> dict:
    """The payload of an event as corrected by the given correction payloads, in order."""
    result = dict(recorded)
    for correction in corrections:
        result.update(correction["changes"])
    return result
