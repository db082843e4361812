"""The interface's translation catalogues: extraction and upkeep.

Source strings are English, marked with ``_``/``gettext``/``ngettext`` (pages
and templates), ``N_`` (labels and fixed messages, translated where shown) or
``T_`` (the templates refusals are raised with, anywhere in the code base:
``domain.errors``).
``python -m resguardo.web.catalogue`` extracts them and merges them into each
language's ``.po`` file, keeping existing translations; a test checks that
the Spanish catalogue translates every one of them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

from resguardo.web.i18n import LANGUAGES, TRANSLATIONS

WEB = Path(__file__).parent
#: Reports whose sentences are translated through this catalogue.
REPORTS = (WEB.parent / "reports" / "receipt.py", WEB.parent / "reports" / "pin_slips.py")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "T_": None}
#: Outside the interface only refusal templates are marked (``domain.errors.T_``).
TEMPLATE_KEYWORDS = {"T_": None}
JINJA = "jinja2.ext:babel_extract"


def extract() -> Catalog:
    """Every marked string of the interface (and of the reports it prints)."""
    catalog = Catalog(project="Resguardo", fuzzy=False)
    method_map = [("**/templates/**.html", JINJA), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = list(extract_from_dir(str(WEB), method_map, options, keywords=KEYWORDS))
    for report in REPORTS:
        for lineno, message, comments, context in extract_from_file(
                "python", str(report), keywords=KEYWORDS):
            found.append((str(report), lineno, message, comments, context))
    found.extend(refusal_templates())
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(Path(filename).name, lineno)], auto_comments=comments,
                    context=context)
    return catalog


def refusal_templates() -> list[tuple[str, int, str | tuple[str, ...], list[str], str | None]]:
    """Every template a refusal is raised with outside the interface (``T_``), as
    (file, line, template, comments, context)."""
    found = []
    for path in sorted(WEB.parent.rglob("*.py")):
        if WEB in path.parents or path.name == "errors.py":
            continue
        source = path.read_text(encoding="utf-8")
        if "T_(" not in source:
            continue
        for lineno, message, comments, context in extract_from_file(
                "python", str(path), keywords=TEMPLATE_KEYWORDS):
            found.append((str(path), lineno, message, comments, context))
    return found


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def untranslated(language: str) -> list[str]:
    """Source strings that the language's catalogue does not translate."""
    with po_path(language).open("rb") as fh:
        po = read_po(fh, locale=LANGUAGES[language][0])
    missing = []
    for message in extract():
        if not message.id:
            continue
        found = po.get(message.id)
        strings = found.string if found is not None else None
        if isinstance(strings, tuple | list):
            ok = all(strings)
        else:
            ok = bool(strings)
        if not ok:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update(language: str) -> int:
    """Merge the extracted strings into the language's .po; returns how many lack a translation."""
    template = extract()
    path = po_path(language)
    if path.exists():
        with path.open("rb") as fh:
            po = read_po(fh, locale=LANGUAGES[language][0])
    else:
        po = Catalog(locale=LANGUAGES[language][0], project="Resguardo")
    po.update(template, no_fuzzy_matching=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, po, omit_header=False, sort_output=True, include_previous=False,
                 width=100, no_location=True, ignore_obsolete=True)
    return len(untranslated(language))


if __name__ == "__main__":  # pragma: no cover - developer tool
    for code in sys.argv[1:] or ["es"]:
        print(f"{code}: {update(code)} untranslated")
