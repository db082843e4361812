"""The officer roster and the list of locations, as agencies keep them in spreadsheets.

Headers and values in Spanish or English, matched like the registry's
(case, accents, spaces, dots and underscores ignored).
"""

from __future__ import annotations

from resguardo.domain.codes import LocationKind, OfficerStatus
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.vocabulary import fold_text
from resguardo.sheets.schema import Field, SheetSchema

_AGENCY = ("agency", "corporación", "dependencia")
_BADGE = ("badge", "placa", "no. de placa", "número de placa", "numero de placa")

#: One row per officer (elemento).
OFFICER_SHEET = SheetSchema(
    "officers",
    (
        Field("badge", True, _BADGE),
        Field("name", True, ("name", "full name", "nombre", "nombre completo")),
        Field("cuip", False, ("cuip",)),
        Field("status", False, ("status", "estatus", "estado", "situación")),
        Field(
            "credential_folio",
            False,
            ("credential folio", "credential", "folio de credencial", "credencial",
             "folio de la credencial de portación", "carry credential folio"),
        ),
        Field(
            "credential_expiry",
            False,
            (
                "credential expiry",
                "credential expires",
                "vigencia de credencial",
                "vencimiento de credencial",
                "vigencia de la credencial",
                "credencial vigente hasta",
                "credential valid until",
            ),
        ),
        Field(
            "qualification_expiry",
            False,
            (
                "qualification expiry",
                "qualification expires",
                "vigencia de evaluación",
                "vencimiento de evaluación",
                "vigencia de la evaluación",
                "vigencia de adiestramiento",
                "evaluación vigente hasta",
                "qualification valid until",
            ),
        ),
        Field("licence", False, ("licence", "license", "licencia", "loc")),
        Field("agency", False, _AGENCY),
    ),
)

#: One row per place where weapons are kept.
LOCATION_SHEET = SheetSchema(
    "locations",
    (
        Field("code", True, ("code", "código", "clave")),
        Field("name", True, ("name", "nombre", "descripción")),
        Field("kind", False, ("kind", "type", "tipo", "clase")),
        Field("agency", False, _AGENCY),
    ),
)

_OFFICER_STATUS_WORDS: dict[OfficerStatus, tuple[str, ...]] = {
    OfficerStatus.ACTIVE: ("active", "activo", "activa", "en activo", "alta"),
    OfficerStatus.SUSPENDED: ("suspended", "suspendido", "suspendida"),
    OfficerStatus.SEPARATED: ("separated", "separado", "separada", "baja", "dado de baja"),
}

_LOCATION_KIND_WORDS: dict[LocationKind, tuple[str, ...]] = {
    LocationKind.ARMORY: ("armory", "armoury", "armería", "armeria"),
    LocationKind.VAULT: ("vault", "bóveda", "boveda", "depósito", "deposito"),
    LocationKind.STATION: ("station", "estación", "base", "comandancia", "módulo"),
    LocationKind.VEHICLE: ("vehicle", "vehículo", "patrulla", "unidad"),
    LocationKind.REPAIR_SHOP: ("repair shop", "taller", "taller de reparación"),
}


def _fold(word: str) -> str:
    return fold_text(word.replace("_", " ").replace("-", " "))


_OFFICER_STATUS = {
    _fold(w): code for code, words in _OFFICER_STATUS_WORDS.items() for w in (code, *words)
}
_LOCATION_KIND = {
    _fold(w): code for code, words in _LOCATION_KIND_WORDS.items() for w in (code, *words)
}


def officer_status_words() -> dict[OfficerStatus, tuple[str, ...]]:
    """The accepted spellings of each officer status (besides the code)."""
    return dict(_OFFICER_STATUS_WORDS)


def location_kind_words() -> dict[LocationKind, tuple[str, ...]]:
    """The accepted spellings of each kind of location (besides the code)."""
    return dict(_LOCATION_KIND_WORDS)


def parse_officer_status(text: str) -> OfficerStatus:
    """The officer status a person meant; ``ValidationFailed`` when it is none."""
    code = _OFFICER_STATUS.get(_fold(text))
    if code is None:
        accepted = ", ".join(w for words in _OFFICER_STATUS_WORDS.values() for w in words)
        raise ValidationFailed(
            f"unknown officer status {text!r}; accepted: {accepted}", field="status", value=text
        )
    return code


def parse_location_kind(text: str) -> LocationKind:
    """The kind of location a person meant; ``ValidationFailed`` when it is none."""
    code = _LOCATION_KIND.get(_fold(text))
    if code is None:
        accepted = ", ".join(w for words in _LOCATION_KIND_WORDS.values() for w in words)
        raise ValidationFailed(
            f"unknown location kind {text!r}; accepted: {accepted}", field="kind", value=text
        )
    return code
