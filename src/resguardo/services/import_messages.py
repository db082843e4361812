"""What an import says about a row, in Spanish or English.

Each problem has a stable code (for scripts and the API) and a message per
language built from its parameters. Refusals that come from the shared
domain rules are translated from the web catalogue by their template
(``domain.errors.T_``, kept by ``Phrase``) and parameters, as the web pages
translate them; statuses are said in the one vocabulary
(``domain.vocabulary.STATUS_NAMES``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from resguardo.domain.errors import Phrase
from resguardo.domain.vocabulary import status_name

LANGS = ("es", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "cell_too_long": {
        "en": "the cell holds {length:,} characters; the limit is {limit:,}",
        "es": "la celda tiene {length:,} caracteres; el límite es {limit:,}",
    },
    "control_character": {
        "en": "the cell holds a control character (U+{char})",
        "es": "la celda contiene un carácter de control (U+{char})",
    },
    "formula": {
        "en": "{cell} holds a formula ({formula}); type the value instead",
        "es": "{cell} contiene una fórmula ({formula}); escriba el valor en su lugar",
    },
    "required": {
        "en": "this value is required",
        "es": "falta este dato obligatorio",
    },
    "unknown_calibre": {
        "en": "unknown calibre {value!r}; closest: {closest} (the list: `resguardo calibres`)",
        "es": "calibre desconocido {value!r}; los más parecidos: {closest} (la lista: "
              "`resguardo calibres`)",
    },
    "unknown_kind": {
        "en": "unknown kind {value!r}; accepted: {accepted}",
        "es": "tipo desconocido {value!r}; se aceptan: {accepted}",
    },
    "unknown_status": {
        "en": "unknown status {value!r}; accepted: {accepted}",
        "es": "estatus desconocido {value!r}; se aceptan: {accepted}",
    },
    "bad_date": {
        "en": "not a date: {value!r}; write yyyy-mm-dd or {order}",
        "es": "fecha no válida: {value!r}; escriba aaaa-mm-dd o {order_es}",
    },
    "future_date": {
        "en": "the date {value} is in the future",
        "es": "la fecha {value} es futura",
    },
    "repeated_in_file": {
        "en": "{what} is repeated: it is also on line {first}",
        "es": "{what} se repite: también está en la línea {first}",
    },
    "registered_here": {
        "en": "{make} {serial} is already registered to this agency; {opt_update} to update it",
        "es": "{make} {serial} ya está registrada en esta corporación; {opt_update} para "
        "actualizarla",
    },
    "registered_elsewhere": {
        "en": "{make} {serial} is already registered to another agency ({agency})",
        "es": "{make} {serial} ya está registrada en otra corporación ({agency})",
    },
    "unknown_custodian": {
        "en": "no officer with badge {badge} in {agency}; import the officers first, or "
        "{opt_create}",
        "es": "no hay elemento con placa {badge} en {agency}; importe primero los elementos, "
        "o {opt_create}",
    },
    "unknown_location": {
        "en": "no location {value!r} in {agency}; use a location code or name, or "
        "{opt_create}",
        "es": "no hay ubicación {value!r} en {agency}; use el código o el nombre de una "
        "ubicación, o {opt_create}",
    },
    "location_required": {
        "en": "no location: write one in the file or {opt_location} ({agency} has {count} "
        "locations)",
        "es": "sin ubicación: escríbala en el archivo o {opt_location} ({agency} tiene "
        "{count} ubicaciones)",
    },
    "other_agency": {
        "en": "the row is for {value!r}, but this import is for {agency}",
        "es": "la fila es de {value!r}, pero esta importación es para {agency}",
    },
    "unknown_licence": {
        "en": "no licence {value!r} in scope",
        "es": "no existe la licencia {value!r} en su ámbito",
    },
    "licence_not_covering": {
        "en": "licence {value!r} does not cover {agency}",
        "es": "la licencia {value!r} no ampara a {agency}",
    },
    "status_not_importable": {
        "en": "a weapon {status} cannot be imported as such: it needs its own record (loss or "
        "theft report, decommission, transfer); import it as in storage and record that "
        "with its command",
        "es": "un arma {status_es} no se puede importar así: requiere su propio registro "
        "(denuncia de extravío o robo, baja, transferencia); impórtela en armería y registre "
        "eso con su comando",
    },
    "custodian_not_issued": {
        "en": "a custodian is given but the status is {status}; clear one of them",
        "es": "hay resguardante pero el estatus es {status_es}; deje solo uno de los dos",
    },
    "issued_without_custodian": {
        "en": "an issued weapon needs its custodian's badge",
        "es": "un arma asignada requiere la placa de su resguardante",
    },
    "not_eligible": {
        "en": "the weapon cannot be issued to {badge}: {problems}",
        "es": "el arma no puede asignarse a {badge}: {problems_es}",
    },
    "status_differs": {
        "en": "the registry has it {current}; the file says {wanted}: record that change with "
        "its own command",
        "es": "el registro la tiene {current_es}; el archivo dice {wanted_es}: registre ese "
        "cambio con su comando",
    },
    "badge_taken": {
        "en": "badge {badge} is already registered in {agency}; {opt_update} to update it",
        "es": "la placa {badge} ya está registrada en {agency}; {opt_update} para "
        "actualizarla",
    },
    "unknown_officer_status": {
        "en": "unknown officer status {value!r}; accepted: {accepted}",
        "es": "estatus de elemento desconocido {value!r}; se aceptan: {accepted}",
    },
    "location_taken": {
        "en": "location {code} already exists in {agency}",
        "es": "la ubicación {code} ya existe en {agency}",
    },
    "unknown_location_kind": {
        "en": "unknown kind of location {value!r}; accepted: {accepted}",
        "es": "tipo de ubicación desconocido {value!r}; se aceptan: {accepted}",
    },
    "not_permitted": {
        "en": "your role ({role}) may not {action}",
        "es": "su rol ({role_es}) no puede {action_es}",
    },
    "refused": {
        "en": "{message}",
        "es": "{message_es}",
    },
}

#: The import's options where the messages name one, as a person gives them on the command
#: line (``cli``), in the API's request body (``api``) or on the web page (``web``: its labels).
SURFACES = ("cli", "api", "web")
OPTION_NAMES: dict[str, dict[str, dict[str, str]]] = {
    "cli": {lang: {"update": "--update", "create": "--create-missing",
                   "location": "--location"} for lang in LANGS},
    "api": {lang: {"update": '"update": true', "create": '"create_missing": true',
                   "location": '"location"'} for lang in LANGS},
    "web": {
        "es": {"update": "«Actualizar los registros que ya existen»",
               "location": "«Ubicación para los renglones que no indican una»"},
        "en": {"update": "“Update records that already exist”",
               "location": "“Location for rows that name none”"},
    },
}
#: How a message asks for each option: typed (command line, API) or ticked (web page).
_ASKING: dict[str, dict[str, dict[str, str]]] = {
    "typed": {
        "es": {"opt_update": "importe con {update}", "opt_create": "use {create}",
               "opt_location": "indique {location}"},
        "en": {"opt_update": "import with {update}", "opt_create": "use {create}",
               "opt_location": "give {location}"},
    },
    # The page creates nothing a file names: the role that registers weapons may not add
    # locations or officers (``--create-missing`` is for a role, or a script, that may).
    "web": {
        "es": {"opt_update": "marque {update}",
               "opt_create": "pida el alta a su jefe o al administrador",
               "opt_location": "elija una en {location}"},
        "en": {"opt_update": "tick {update}",
               "opt_create": "ask your chief or the administrator to add it",
               "opt_location": "choose one in {location}"},
    },
}


@cache
def options_named(surface: str, lang: str) -> dict[str, str]:
    """``opt_update``, ``opt_create`` and ``opt_location``: asking for each option on
    ``surface``, in ``lang`` (worded once each; callers copy, never change, the dict)."""
    names = OPTION_NAMES[surface][lang]
    asking = _ASKING["web" if surface == "web" else "typed"][lang]
    return {key: phrase.format(**names) for key, phrase in asking.items()}


_ROLE_ES = {
    "armorer": "armero", "chief": "jefe", "supervisor": "supervisor", "inspector": "inspector",
    "investigator": "investigador", "auditor": "auditor", "admin": "administrador",
}
#: What an import may ask a role to do, in words (else the action's code, spelled out).
_ACTIONS = {
    "location.manage": ("add locations", "dar de alta ubicaciones"),
    "officer.manage": ("add officers", "dar de alta elementos"),
    "firearm.register": ("register firearms", "registrar armas"),
    "custody.issue": ("issue weapons", "asignar armas"),
    "custody.return": ("take weapons back", "recibir armas"),
    "firearm.move": ("move weapons", "mover armas"),
    "firearm.repair": ("send weapons to repair", "enviar armas a reparación"),
    "correct": ("correct records", "corregir registros"),
}


def spanish(message: str) -> str:
    """The Spanish of a domain refusal, from the web catalogue: by its template and
    parameters when it keeps them (``Phrase``), else the fixed sentence (as given when the
    catalogue has no translation)."""
    from resguardo.web.i18n import Lang  # the catalogue lives with the web interface
    from resguardo.web.refusals import said

    lang = Lang("es")
    if isinstance(message, Phrase):
        return said(message.template, message.params, lang, page=False)
    return lang.gettext(message)


def status_es(code: str) -> str:
    return status_name(code, "es")


def render(code: str, params: dict[str, Any], lang: str, surface: str = "cli") -> str:
    """The message of one problem in ``lang`` (``es`` or ``en``), naming the import's
    options as they are given on ``surface`` (``OPTION_NAMES``)."""
    templates = MESSAGES[code]
    lang = "es" if lang == "es" else "en"
    values = {**options_named(surface, lang), **params}
    for key in ("status", "current", "wanted"):
        if key in values:
            values[f"{key}_es"] = status_es(str(values[key]))
            values[key] = str(values[key]).replace("_", " ")
    if "problems" in values:
        problems = list(values["problems"])
        values["problems_es"] = "; ".join(spanish(p) for p in problems)
        values["problems"] = "; ".join(problems)
    if "message" in values:
        values["message_es"] = spanish(values["message"])
    if "role" in values:
        values["role_es"] = _ROLE_ES.get(str(values["role"]), str(values["role"]))
    if "action" in values:
        code = str(values["action"])
        spelled = code.replace(".", " ").replace("_", " ")
        values["action"], values["action_es"] = _ACTIONS.get(code, (spelled, spelled))
    if "order" not in values:
        values["order"] = "dd/mm/yyyy"
    values["order_es"] = "mm/dd/aaaa" if values["order"] == "mm/dd/yyyy" else "dd/mm/aaaa"
    return templates[lang].format(**values)


def column_letter(index: int) -> str:
    """A spreadsheet's name for the 0-based column ``index`` (A, B, ..., Z, AA, ...)."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


PLACES = {
    "en": ("line", "column"),
    "es": ("línea", "columna"),
}
