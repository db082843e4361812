"""Words people write for firearm kinds and statuses, in Spanish and English.

Spreadsheets say ``En armería``, ``asignada`` or ``in storage``; the domain
speaks in stable codes. Matching ignores case, accents, repeated spaces,
hyphens and underscores, so ``EN ARMERIA`` and ``en_armería`` are the same
word. The stored code itself (``in_storage``) is always accepted.
"""

from __future__ import annotations

import unicodedata

from resguardo.domain.codes import FirearmKind, FirearmStatus, OfficerStatus
from resguardo.domain.errors import ValidationFailed


def fold_text(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of free text (places, badges, words)."""
    if text.isascii():
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def _fold_word(text: str) -> str:
    return fold_text(text.replace("_", " ").replace("-", " "))


#: The one word for each status of a weapon, per language. Exports, import messages, the
#: printed reports and the web pages (their catalogue, checked by a test) all say these;
#: every word reads back to its code (``parse_status``).
STATUS_NAMES: dict[str, dict[str, str]] = {
    "es": {"in_storage": "en armería", "issued": "asignada", "in_repair": "en reparación",
           "in_transit": "en tránsito", "lost": "extraviada", "stolen": "robada",
           "decommissioned": "dada de baja",
           "held_as_evidence": "asegurada (resguardo ministerial)"},
    "en": {s.value: s.value.replace("_", " ") for s in FirearmStatus},
}
#: The one word for each status of an officer, per language (as ``STATUS_NAMES``).
OFFICER_STATUS_NAMES: dict[str, dict[str, str]] = {
    "es": {"active": "activo", "suspended": "suspendido", "separated": "baja"},
    "en": {s.value: s.value for s in OfficerStatus},
}


def capitalized(word: str) -> str:
    """A word of the vocabulary as a label or a table's cell shows it (``en armería`` ->
    ``En armería``)."""
    return word[:1].upper() + word[1:]


def status_name(code: str, language: str) -> str:
    """The word for a weapon's or an officer's status ``code`` in ``language`` (``es`` or
    ``en``); an unknown code is spelled out."""
    lang = "es" if language == "es" else "en"
    return (STATUS_NAMES[lang].get(code) or OFFICER_STATUS_NAMES[lang].get(code)
            or code.replace("_", " "))


_STATUS_SYNONYMS: dict[FirearmStatus, tuple[str, ...]] = {
    FirearmStatus.IN_STORAGE: (
        "in storage",
        "stored",
        "en armería",
        "en resguardo de armería",
        "almacenada",
        "almacenado",
    ),
    FirearmStatus.ISSUED: (
        "issued",
        "asignada",
        "asignado",
        "en resguardo de elemento",
    ),
    FirearmStatus.IN_REPAIR: ("in repair", "en reparación"),
    FirearmStatus.IN_TRANSIT: ("in transit", "en tránsito"),
    FirearmStatus.LOST: ("lost", "extraviada", "extraviado"),
    FirearmStatus.STOLEN: ("stolen", "robada", "robado"),
    FirearmStatus.DECOMMISSIONED: ("decommissioned", "baja", "dada de baja", "de baja"),
    FirearmStatus.HELD_AS_EVIDENCE: ("held as evidence", "asegurada", "asegurado",
                                     "en resguardo ministerial",
                                     "asegurada (resguardo ministerial)"),
}

#: The accepted spellings of each status: its synonyms, then its words in ``STATUS_NAMES``
#: (a new status is read in both languages from its one word per language alone).
_STATUS_WORDS: dict[FirearmStatus, tuple[str, ...]] = {
    code: tuple(dict.fromkeys((*_STATUS_SYNONYMS.get(code, ()),
                               *(STATUS_NAMES[lang][code] for lang in ("en", "es")))))
    for code in FirearmStatus
}

_KIND_WORDS: dict[FirearmKind, tuple[str, ...]] = {
    FirearmKind.PISTOL: ("pistol", "pistola"),
    FirearmKind.REVOLVER: ("revolver", "revólver"),
    FirearmKind.RIFLE: ("rifle", "fusil"),
    FirearmKind.CARBINE: ("carbine", "carabina"),
    FirearmKind.SHOTGUN: ("shotgun", "escopeta"),
    FirearmKind.SUBMACHINE_GUN: ("submachine gun", "subametralladora"),
    FirearmKind.OTHER: ("other", "otra", "otro"),
}


_STATUS_BY_WORD: dict[str, FirearmStatus] = {
    _fold_word(word): code for code, words in _STATUS_WORDS.items() for word in (code, *words)
}
_KIND_BY_WORD: dict[str, FirearmKind] = {
    _fold_word(word): code for code, words in _KIND_WORDS.items() for word in (code, *words)
}

#: Raw spelling -> code, filled as values are met; spreadsheets repeat a handful of words.
_status_seen: dict[str, FirearmStatus] = {}
_kind_seen: dict[str, FirearmKind] = {}


def status_words() -> dict[FirearmStatus, tuple[str, ...]]:
    """The accepted spellings of each status (besides the code), for messages and help."""
    return dict(_STATUS_WORDS)


def kind_words() -> dict[FirearmKind, tuple[str, ...]]:
    """The accepted spellings of each kind (besides the code), for messages and help."""
    return dict(_KIND_WORDS)


def parse_status(text: str) -> FirearmStatus:
    """The status code a person meant by ``text``; ``ValidationFailed`` when it is none."""
    code = _status_seen.get(text)
    if code is None:
        code = _STATUS_BY_WORD.get(_fold_word(text))
        if code is None:
            accepted = ", ".join(w for words in _STATUS_WORDS.values() for w in words)
            raise ValidationFailed(
                f"unknown status {text!r}; accepted: {accepted}", field="status", value=text
            )
        if len(_status_seen) < 4096:
            _status_seen[text] = code
    return code


def parse_kind(text: str) -> FirearmKind:
    """The firearm kind a person meant by ``text``; ``ValidationFailed`` when it is none."""
    code = _kind_seen.get(text)
    if code is None:
        code = _KIND_BY_WORD.get(_fold_word(text))
        if code is None:
            accepted = ", ".join(w for words in _KIND_WORDS.values() for w in words)
            raise ValidationFailed(
                f"unknown kind {text!r}; accepted: {accepted}", field="kind", value=text
            )
        if len(_kind_seen) < 4096:
            _kind_seen[text] = code
    return code
