"""The plain registry row, judged without the general machinery.

Most rows of an agency's inventory register a weapon into storage at a known
location: text cells within their lengths, a kind, status, date, location and
licence already met in earlier rows. ``PlainRows.plain`` recognizes such a row
and builds its registration (payload text and projection values) directly;
for any other row it returns None and the row goes through
``FirearmImport.plan``, which asks the domain (``domain.registry``,
``domain.custody``) and names every problem.

``plain`` never refuses a row, it only declines: whatever it accepts the
domain accepts, with the same payload: its values come from the domain's
``registration_fields`` (the recorded serial, the keys) and its text from
``storage.import_batch.registration_text``. The words it recognizes are those
``plan`` has already judged (its memos), and the lengths are the domain's
limits. The import checks the first plain row of every batch against the
domain's own registration (``FirearmImport.check_plain``), and the tests
compare the two on generated and hostile rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from resguardo.domain.calibres import known as known_calibre
from resguardo.domain.codes import FirearmStatus
from resguardo.domain.registry import FIREARM_TEXT_LIMITS, registration_fields
from resguardo.storage.import_batch import flat_canonical, registration_text

if TYPE_CHECKING:
    from resguardo.services.import_firearms import _Planned

S = FirearmStatus
_IN_STORAGE = S.IN_STORAGE

#: What ``domain.registry.validate_firearm`` allows each text field (characters).
LIMITS = FIREARM_TEXT_LIMITS
_SERIAL, _MAKE, _CALIBRE, _MODEL, _FOLIO, _BARREL, _BALLISTIC, _SUPPLIER, _PURCHASE = (
    LIMITS[name] for name in ("serial", "make", "calibre", "model", "folio", "barrel_serial",
                              "ballistic_id", "supplier", "purchase_ref"))
#: Entries kept in each memo (distinct texts are few in a real inventory).
MEMO = 10_000


class PlainRows:
    """``plain``: the fast reading of a row (mixed into ``FirearmImport``)."""

    # Set by FirearmImport (see there).
    x: Any
    csv: bool
    width: int
    notes: list[tuple[int, str]]
    agency: Any
    kinds: dict
    status_memo: dict
    places: dict
    licences: dict
    default_location: Any
    _agency_seen: dict[str, bool]
    plain_dates: dict[str, str]
    calibre_memo: dict[str, str | None]
    planned_type: Any
    #: Column index of each field the plain reading looks at (-1: the sheet has none).
    plain_columns: tuple[int, ...]

    def plain(self, line: int, cells: list[str]) -> _Planned | None:
        """The row's registration, when it is a plain registration into storage; else None."""
        if len(cells) > self.width:
            return None
        v = [c.strip() for c in cells]
        if self.csv and "\n'" in "\n" + "\n".join(v):  # a neutralized formula: plan() restores
            return None
        v.append("")
        (i_serial, i_make, i_model, i_calibre, i_kind, i_folio, i_status, i_location,
         i_custodian, i_agency, i_acquired, i_barrel, i_ballistic, i_licence, i_supplier,
         i_purchase) = self.plain_columns
        if v[i_custodian]:
            return None
        text = v[i_status]
        if text and self.status_memo.get(text) is not _IN_STORAGE:
            return None
        kind = self.kinds.get(v[i_kind])
        if kind is None:
            return None
        text = v[i_acquired]
        acquired = None
        if text:
            acquired = self.plain_dates.get(text)
            if acquired is None:
                return None
        text = v[i_agency]
        if text and not self._agency_seen.get(text):
            return None
        text = v[i_licence]
        licence_id = None
        if text:
            licence_id = self.licences.get(text)
            if licence_id is None or licence_id < 0:  # unknown, or not covering the agency
                return None
        text = v[i_location]
        if text:
            known = self.places.get(text)
            if known is None or known[0] is None:
                return None
            location = known[0]
        else:
            location = self.default_location
            if location is None:
                return None
        serial, make, calibre, model = v[i_serial], v[i_make], v[i_calibre], v[i_model]
        folio, barrel, ballistic = v[i_folio], v[i_barrel], v[i_ballistic]
        supplier, purchase_ref = v[i_supplier], v[i_purchase]
        if not (0 < len(serial) <= _SERIAL and 0 < len(make) <= _MAKE
                and 0 < len(calibre) <= _CALIBRE and len(model) <= _MODEL
                and len(folio) <= _FOLIO and len(barrel) <= _BARREL
                and len(ballistic) <= _BALLISTIC and len(supplier) <= _SUPPLIER
                and len(purchase_ref) <= _PURCHASE
                and (serial + make + calibre + model + folio + barrel + ballistic + supplier
                     + purchase_ref).isprintable()):
            return None
        if calibre in self.calibre_memo:
            canonical = self.calibre_memo[calibre]
        else:
            canonical = known_calibre(calibre)
            if len(self.calibre_memo) < MEMO:
                self.calibre_memo[calibre] = canonical
        if canonical is None:
            return None  # plan() refuses it, naming the closest calibres
        fields, as_typed = registration_fields(
            serial, make, model or None, canonical, kind.value, folio or None, barrel or None,
            ballistic or None, licence_id, acquired, supplier or None, purchase_ref or None,
            self.agency.id)
        key = fields[1]
        if not key or len(fields[0]) > _SERIAL:  # plan() refuses it, naming the field
            return None
        notes_text = None
        if self.notes:
            notes = {label: v[i] for i, label in self.notes if v[i]}
            if notes:
                notes_text = flat_canonical(notes)
        location_id = location.id
        return self.planned_type(line, cells, (fields[3], key), None, None, _IN_STORAGE,
                                 location, None, None,
                                 (registration_text(fields, location_id, notes_text, as_typed),
                                  fields, location_id, None))
