"""Languages of the interface: Babel catalogues, compiled when the site starts.

The source strings are English; ``translations/es/LC_MESSAGES/messages.po``
holds the Spanish the interface shows by default, and the domain's own words are
added to it (``domain_words``: the status of a weapon or an officer from
``domain.vocabulary``, a movement's words from ``domain.movements``), so a new
status or movement needs no entry in the ``.po`` file; where both say a word,
the domain's wins (one vocabulary per language). Catalogues are compiled in
memory from the ``.po`` files, so no binary ``.mo`` is kept in the repository.
Dates, times and numbers are formatted by Babel for the visitor's locale, in
the deployment's time zone (``RESGUARDO_TIMEZONE``, default America/Mexico_City).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

from resguardo.domain import movements
from resguardo.domain.vocabulary import OFFICER_STATUS_NAMES, STATUS_NAMES, capitalized

TRANSLATIONS = Path(__file__).parent / "translations"
#: The date types, under names that ``Lang``'s methods of the same names do not hide.
Day = date
Instant = datetime

#: language code -> (Babel locale, name of the language in itself)
LANGUAGES: dict[str, tuple[str, str]] = {
    "es": ("es_MX", "Español"),
    "en": ("en_US", "English"),
}
DEFAULT = "es"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def domain_words(language: str) -> dict[str, str]:
    """The words the domain says in every language, as a catalogue's entries: the English
    label of a status (``In storage``) -> its label in ``language``, and a movement's
    words (title, notice, timeline entry, verb, field labels)."""
    words = {capitalized(names["en"][code]): capitalized(names[language][code])
             for names in (STATUS_NAMES, OFFICER_STATUS_NAMES) for code in names["en"]}
    words.update(movements.said(language))
    return words


@cache
def catalogue(language: str) -> NullTranslations:
    """The compiled catalogue of one language: its ``.po`` file and the domain's words
    (English is the source: no catalogue needed)."""
    po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        cat = read_po(fh, locale=LANGUAGES[language][0])
    for source, word in domain_words(language).items():
        cat.add(source, word)
    buf = io.BytesIO()
    write_mo(buf, cat, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf)


@cache
def timezone() -> ZoneInfo:
    name = os.environ.get("RESGUARDO_TIMEZONE") or "America/Mexico_City"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def pick_language(cookie: str | None) -> str:
    return cookie if cookie in LANGUAGES else DEFAULT


@dataclass(frozen=True)
class Lang:
    """Everything a page needs to speak one language."""

    code: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(LANGUAGES[self.code][0])

    def gettext(self, message: str, **values: Any) -> str:
        text = catalogue(self.code).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = catalogue(self.code).ngettext(singular, plural, n)
        return text % {"num": n, **values}

    def number(self, value: float | int | None) -> str:
        if value is None:
            return ""
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float) -> str:
        return format_percent(value, locale=self.locale)

    def datetime(self, value: datetime | str | None) -> str:
        """Date and time of an instant, in the deployment's time zone."""
        dt = _instant(value)
        if dt is None:
            return ""
        local = dt.astimezone(timezone())
        return (f"{format_date(local, 'medium', locale=self.locale)} "
                f"{format_time(local, 'short', locale=self.locale)}")

    def date(self, value: Day | Instant | str | None) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value[:10]) if len(value) <= 10 else _instant(value)
        if isinstance(value, datetime):
            value = value.astimezone(timezone()).date()
        return format_date(value, "medium", locale=self.locale)

    def month(self, value: Day) -> str:
        return format_skeleton("yMMM", value, locale=self.locale)

    def month_name(self, value: Day) -> str:
        """The month's short name alone (its year shown elsewhere)."""
        return format_date(value, "LLL", locale=self.locale).rstrip(".")


def _instant(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        from resguardo.domain.timefmt import parse_instant
        return parse_instant(value)
    return value


Gettext = Callable[..., str]
