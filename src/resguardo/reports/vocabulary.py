"""Codes as words in exported spreadsheets, in Spanish or English.

The words are ones the import reads back (``domain.vocabulary``,
``sheets.roster``), so an exported file re-imports to the same codes.
"""

from __future__ import annotations

from resguardo.domain.codes import FirearmKind, FirearmStatus, LocationKind, OfficerStatus

KIND_WORDS = {
    "es": {"pistol": "pistola", "revolver": "revólver", "rifle": "fusil",
           "carbine": "carabina", "shotgun": "escopeta",
           "submachine_gun": "subametralladora", "other": "otra"},
    "en": {k.value: k.value.replace("_", " ") for k in FirearmKind},
}
STATUS_WORDS = {
    "es": {"in_storage": "en armería", "issued": "asignada", "in_repair": "en reparación",
           "in_transit": "en tránsito", "lost": "extraviada", "stolen": "robada",
           "decommissioned": "baja", "held_as_evidence": "asegurada"},
    "en": {s.value: s.value.replace("_", " ") for s in FirearmStatus},
}
OFFICER_STATUS_WORDS = {
    "es": {"active": "activo", "suspended": "suspendido", "separated": "separado"},
    "en": {s.value: s.value for s in OfficerStatus},
}
LOCATION_KIND_WORDS = {
    "es": {"armory": "armería", "vault": "bóveda", "station": "estación",
           "vehicle": "vehículo", "repair_shop": "taller"},
    "en": {k.value: k.value.replace("_", " ") for k in LocationKind},
}
