"""Codes as words in exported spreadsheets, in Spanish or English.

The words are ones the import reads back (``domain.vocabulary``,
``sheets.roster``), so an exported file re-imports to the same codes.
"""

from __future__ import annotations

from resguardo.domain.codes import FirearmKind, LocationKind
from resguardo.domain.vocabulary import OFFICER_STATUS_NAMES, STATUS_NAMES

KIND_WORDS = {
    "es": {"pistol": "pistola", "revolver": "revólver", "rifle": "fusil",
           "carbine": "carabina", "shotgun": "escopeta",
           "submachine_gun": "subametralladora", "other": "otra"},
    "en": {k.value: k.value.replace("_", " ") for k in FirearmKind},
}
#: Statuses in the one vocabulary (``domain.vocabulary.STATUS_NAMES``).
STATUS_WORDS = STATUS_NAMES
OFFICER_STATUS_WORDS = OFFICER_STATUS_NAMES
LOCATION_KIND_WORDS = {
    "es": {"armory": "armería", "vault": "bóveda", "station": "estación",
           "vehicle": "vehículo", "repair_shop": "taller"},
    "en": {k.value: k.value.replace("_", " ") for k in LocationKind},
}
