"""Refusals are translated from the catalogue by their template, never by reading the
English sentence they were rendered into (issue 19); every template raised anywhere has
its Spanish; a status has one word per language wherever it is said."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from resguardo.domain.codes import FirearmStatus, OfficerStatus
from resguardo.domain.custody import eligibility_problems
from resguardo.domain.entities import Officer
from resguardo.domain.errors import T_, Conflict, DomainError, Phrase, ValidationFailed
from resguardo.domain.vocabulary import OFFICER_STATUS_NAMES, STATUS_NAMES, parse_status
from resguardo.services import import_messages
from resguardo.web import labels
from resguardo.web.catalogue import extract, refusal_templates, untranslated
from resguardo.web.i18n import Lang
from resguardo.web.refusals import WORDING, explain

SRC = Path(__file__).resolve().parents[2] / "src" / "resguardo"
SPANISH, ENGLISH = Lang("es"), Lang("en")
#: The modules that turn a refusal into a person's sentence.
TRANSLATORS = (SRC / "web" / "refusals.py", SRC / "services" / "import_messages.py")


@pytest.mark.parametrize("path", TRANSLATORS, ids=lambda p: p.name)
def test_no_translator_reads_the_english_text_of_a_refusal(path):
    """Neither the page's nor the import's translator compiles or uses a regular
    expression: a refusal is translated by its template, so rewording the English
    sentence can never leave a surface speaking English."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"re", "regex"}
    calls = {node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"}
    assert calls == set()


def test_the_spanish_catalogue_translates_every_string_and_every_refusal_template():
    assert untranslated("es") == []


def test_every_template_raised_outside_the_interface_is_in_the_catalogue():
    """The catalogue's extraction finds the templates of the domain and the services (a
    T_ it missed would reach a Spanish page in English)."""
    templates = {message for _file, _line, message, _c, _ctx in refusal_templates()}
    assert "firearm %(serial)s is already at %(location)s" in templates  # domain
    assert "the PIN of %(badge)s is not locked" in templates  # services
    ids = {m.id for m in extract()}
    assert templates <= ids
    spanish = {t: SPANISH.gettext(t) for t in templates}
    assert [t for t, s in spanish.items() if s == t] == []


def test_every_template_keeps_its_placeholders_in_spanish_and_in_the_page_wording():
    """A translation may leave a parameter out, never name one the template lacks (it
    would fail with KeyError at the moment of the refusal)."""
    wrong = []
    for _file, _line, template, _c, _ctx in refusal_templates():
        names = set(re.findall(r"%\((\w+)\)s", template))
        for text in (SPANISH.gettext(template), WORDING.get(template, template)):
            if not set(re.findall(r"%\((\w+)\)s", text)) <= names | {"value"}:
                wrong.append((template, text))
    assert wrong == []


def test_every_page_wording_belongs_to_a_template_that_is_raised():
    templates = {message for _file, _line, message, _c, _ctx in refusal_templates()}
    templates |= {m.id for m in extract() if isinstance(m.id, str)}
    assert sorted(set(WORDING) - templates) == []


def test_a_template_is_rendered_in_english_for_the_api_and_translated_for_a_page():
    error = Conflict(T_("location %(code)s already exists in %(agency)s"), field="code",
                     code="ARM1", agency="MUN1")
    assert error.message == "location ARM1 already exists in MUN1"
    assert error.as_dict() == {"code": "conflict",
                               "message": "location ARM1 already exists in MUN1",
                               "details": {"field": "code", "code": "ARM1", "agency": "MUN1"}}
    assert explain(error, SPANISH) == "MUN1 ya tiene una ubicación ARM1."
    assert explain(error, ENGLISH) == "MUN1 already has a location ARM1."


def test_a_parameter_that_looks_like_a_placeholder_stays_text():
    """A serial or name typed by a person is a value, never part of the template."""
    error = ValidationFailed(T_("a transfer of %(serial)s is already awaiting approval"),
                             serial="%(field)s 100%")
    assert error.message == "a transfer of %(field)s 100% is already awaiting approval"
    assert explain(error, SPANISH) == ("Ya hay una solicitud de %(field)s 100% en espera de "
                                       "aprobación.")


def test_a_fixed_sentence_is_a_template_without_parameters():
    error = ValidationFailed("serial has no letters or digits", field="serial")
    assert (error.templated, error.template, error.params) == (
        False, "serial has no letters or digits", {})
    assert explain(error, SPANISH) == "La matrícula no tiene letras ni dígitos."
    assert import_messages.render("refused", {"message": error.message}, "es") == (
        "la matrícula no tiene letras ni dígitos")


def test_the_import_says_a_templated_refusal_from_the_same_catalogue_as_the_page():
    error = ValidationFailed(T_("%(field)s is longer than %(limit)s characters"), field="model",
                             limit=200)
    refused = Phrase(error.template, **error.params)
    assert import_messages.render("refused", {"message": refused}, "en") == (
        "model is longer than 200 characters")
    assert import_messages.render("refused", {"message": refused}, "es") == (
        "Modelo tiene más de 200 caracteres")


def test_an_officers_problems_stay_english_strings_and_are_said_in_spanish_everywhere():
    officer = Officer(1, 1, "P1", "Ana Ruiz", OfficerStatus.SUSPENDED,
                      credential_expiry=date(2025, 3, 31), qualification_expiry=None)
    problems = eligibility_problems(officer, date(2025, 6, 1))
    assert problems == ["officer is suspended", "carry credential expired on 2025-03-31",
                        "officer has no firearms qualification on record"]
    from resguardo.domain.errors import OfficerNotEligible
    from resguardo.web.refusals import problem
    error = OfficerNotEligible("cannot issue", badge="P1", problems=problems)
    assert explain(error, SPANISH) == (
        "No se puede asignar a P1: el elemento está suspendido; la credencial de portación "
        "venció el 31 mar 2025; no hay evaluación de tiro registrada.")
    assert problem(problems[1], SPANISH) == "la credencial de portación venció el 31 mar 2025"
    said = import_messages.render("not_eligible", {"badge": "P1", "problems": problems}, "es")
    assert said == ("el arma no puede asignarse a P1: el elemento está suspendido; la "
                    "credencial de portación venció el 31 mar 2025; no hay evaluación de tiro "
                    "registrada")


def test_every_domain_error_class_accepts_a_template():
    for cls in (DomainError, *DomainError.__subclasses__()):
        error = cls(T_("badge %(badge)s is already registered in %(agency)s"), badge="P1",
                    agency="MUN1")
        assert str(error) == "badge P1 is already registered in MUN1"


# --- one vocabulary of status words per language ------------------------------------------


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_web_labels_say_the_status_words_of_the_one_vocabulary(language):
    lang = Lang(language)
    for table, names in ((labels.STATUS, STATUS_NAMES), (labels.OFFICER_STATUS,
                                                          OFFICER_STATUS_NAMES)):
        shown = {code: lang.gettext(label) for code, label in table.items()}
        assert shown == {code: word[:1].upper() + word[1:]
                         for code, word in names[language].items()}


def test_every_status_of_the_domain_has_its_label_and_chart_colour():
    """Derived from the domain: a new status needs no line in the web's tables."""
    from resguardo.web import charts
    from resguardo.web.i18n import domain_words

    codes = {s.value for s in FirearmStatus}
    assert set(labels.STATUS) == set(charts.STATUS_COLOURS) == codes
    assert charts.STATUS_COLOURS["in_storage"] == "#2e8b57"  # the chosen colours stay
    assert set(labels.OFFICER_STATUS) == {s.value for s in OfficerStatus}
    # the vocabulary is the catalogue's source for these words, whatever the .po says
    spanish = domain_words("es")
    for code, word in STATUS_NAMES["es"].items():
        assert spanish[labels.STATUS[code]] == word[:1].upper() + word[1:]


def test_the_words_a_movement_brings_are_said_by_the_pages_without_the_po(monkeypatch):
    from resguardo.domain import movements
    from resguardo.domain.movements import Input, Movement, Words
    from resguardo.domain.policy import Action
    from resguardo.web.i18n import catalogue

    words = {"en": Words("Send to engraving", "Sent to engraving.",
                         "Sent to engraving", "sent to engraving"),
             "es": Words("Enviar a grabado", "Enviada a grabado.",
                         "Enviada a grabado", "enviada a grabado")}
    sent = Movement("engraving_send", "firearm.repair_sent", Action.FIREARM_REPAIR,
                    (Input("workshop", label={"en": "Engraving workshop",
                                         "es": "Taller de grabado"}),), words=words)
    monkeypatch.setitem(movements.MOVEMENTS, sent.name, sent)
    catalogue.cache_clear()
    try:
        assert SPANISH.gettext("Sent to engraving.") == "Enviada a grabado."
        assert SPANISH.gettext("Engraving workshop") == "Taller de grabado"
        assert SPANISH.gettext("In storage") == "En armería"
        assert ENGLISH.gettext("Send to engraving") == "Send to engraving"
    finally:
        monkeypatch.undo()
        catalogue.cache_clear()
    assert SPANISH.gettext("Sent to engraving.") == "Sent to engraving."


def test_exports_reports_and_import_messages_use_the_one_vocabulary():
    from resguardo.reports import trace_request
    from resguardo.reports.vocabulary import OFFICER_STATUS_WORDS, STATUS_WORDS

    assert STATUS_WORDS is STATUS_NAMES and OFFICER_STATUS_WORDS is OFFICER_STATUS_NAMES
    for code, word in STATUS_NAMES["es"].items():
        assert import_messages.status_es(code) == word
        assert trace_request.TEXT["es"][f"status.{code}"] == word
    for code, word in OFFICER_STATUS_NAMES["es"].items():
        assert import_messages.status_es(code) == word
    assert import_messages.render("status_differs", {"current": "decommissioned",
                                                     "wanted": "held_as_evidence"}, "es") == (
        "el registro la tiene dada de baja; el archivo dice asegurada (resguardo ministerial): "
        "registre ese cambio con su comando")


def test_every_status_word_reads_back_to_its_code():
    for language in ("es", "en"):
        for code, word in STATUS_NAMES[language].items():
            assert parse_status(word) == FirearmStatus(code)
            assert parse_status(word.upper()) == FirearmStatus(code)


def _refusal(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def test_refusals_the_rules_raise_reach_a_spanish_page_in_spanish():
    """Raised by the rules themselves (not built by hand): each one a page can meet is
    said in Spanish, its values in place; the English stays what the CLI printed."""
    from resguardo.domain import corrections, licences, people

    long_reason = _refusal(lambda: licences._reason("x" * 501))
    assert long_reason.message == "reason is longer than 500 characters"
    assert explain(long_reason, SPANISH) == "Motivo tiene más de 500 caracteres."
    bad_date = _refusal(lambda: corrections._normalize("acquired_on", "ayer"))
    assert bad_date.message == "acquired_on must be a date YYYY-MM-DD"
    assert explain(bad_date, SPANISH) == "Fecha de adquisición debe ser una fecha."
    unknown = _refusal(lambda: people.parse_person(
        {"name": "A", "post": "B", "identification": "C", "rank": "x", "age": 3}, 2))
    assert unknown.message == "person 2 present has unknown field(s) age, rank"
    assert explain(unknown, SPANISH) == (
        "La persona presente 2 tiene campos desconocidos: age, rank.")
