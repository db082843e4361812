"""A reconciliation rendered for people: CSV (one row per finding) and a PDF report.

Spanish by default, English on request. The PDF uses DejaVu Sans when the
system has it (any Unicode text); otherwise fpdf2's core Helvetica, with text
reduced to Latin-1 (accents kept, other characters approximated).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from resguardo.domain.reconciliation import SUMMARY_KEYS, Finding, FindingKind, Reconciliation
from resguardo.domain.vocabulary import capitalized, status_name
from resguardo.reports.spreadsheets import CsvWriter

LANGUAGES = ("es", "en")

LABELS: dict[str, dict[str, str]] = {
    "es": {
        "title": "Acta de conciliación de armamento",
        "subtitle": "Registro de armamento contra conteo físico (revista)",
        "registry_file": "Registro",
        "count_file": "Conteo",
        "agency": "Corporación",
        "generated": "Emitida",
        "counts": "Resumen",
        "findings": "Hallazgos",
        "no_findings": "Sin hallazgos: el conteo coincide con el registro.",
        "registry": "Armas en el registro",
        "scans": "Lecturas del conteo",
        "matched": "Coinciden",
        "missing": "Faltantes",
        "unregistered": "No registradas",
        "foreign": "De otra corporación",
        "status_conflict": "Conflicto de estatus",
        "mislocated": "Fuera de su ubicación",
        "custody_mismatch": "Resguardo discrepante",
        "duplicate_scan": "Lecturas en dos lugares",
        "explained": "Ausencias justificadas",
        "col_no": "#",
        "col_kind": "Hallazgo",
        "col_serial": "Matrícula",
        "col_make": "Marca",
        "col_status": "Estatus registrado",
        "col_location": "Ubicación registrada",
        "col_custodian": "Resguardante",
        "col_agency": "Corporación registrada",
        "col_seen_serial": "Matrícula leída",
        "col_seen_location": "Ubicación observada",
        "col_seen_holder": "Portador",
        "col_seen_make": "Marca leída",
        "col_seen_at": "Fecha y hora",
        "col_seen_note": "Observaciones",
        "col_seen_line": "Línea del conteo",
        "col_suggested": "Posible coincidencia",
        "col_distance": "Distancia",
        "col_kind_code": "Código",
        "sign_inspector": "Inspector",
        "sign_armorer": "Responsable de la armería",
        "sign_name": "Nombre, cargo y firma",
        "page": "Página {page} de {pages}",
        "kind.missing": "Faltante",
        "kind.unregistered": "No registrada",
        "kind.foreign": "De otra corporación",
        "kind.status_conflict": "Conflicto de estatus",
        "kind.mislocated": "Fuera de ubicación",
        "kind.custody_mismatch": "Resguardo discrepante",
        "kind.duplicate_scan": "Lectura duplicada",
        "kind.explained": "Ausencia justificada",
        "kind.to_present": "Por presentar",
    },
    "en": {
        "title": "Firearms reconciliation report",
        "subtitle": "Registry against physical count (inspection)",
        "registry_file": "Registry",
        "count_file": "Count",
        "agency": "Agency",
        "generated": "Issued",
        "counts": "Summary",
        "findings": "Findings",
        "no_findings": "No findings: the count matches the registry.",
        "registry": "Weapons in the registry",
        "scans": "Scans in the count",
        "matched": "Matched",
        "missing": "Missing",
        "unregistered": "Unregistered",
        "foreign": "Another agency's",
        "status_conflict": "Status conflicts",
        "mislocated": "Mislocated",
        "custody_mismatch": "Custody mismatches",
        "duplicate_scan": "Seen in two places",
        "explained": "Explained absences",
        "col_no": "#",
        "col_kind": "Finding",
        "col_serial": "Serial",
        "col_make": "Make",
        "col_status": "Recorded status",
        "col_location": "Recorded location",
        "col_custodian": "Custodian",
        "col_agency": "Recorded agency",
        "col_seen_serial": "Serial as read",
        "col_seen_location": "Seen at",
        "col_seen_holder": "Holder",
        "col_seen_make": "Make as read",
        "col_seen_at": "Observed at",
        "col_seen_note": "Notes",
        "col_seen_line": "Count line",
        "col_suggested": "Suggested match",
        "col_distance": "Distance",
        "col_kind_code": "Code",
        "sign_inspector": "Inspector",
        "sign_armorer": "Armory officer in charge",
        "sign_name": "Name, position and signature",
        "page": "Page {page} of {pages}",
        "kind.missing": "Missing",
        "kind.unregistered": "Unregistered",
        "kind.foreign": "Another agency's",
        "kind.status_conflict": "Status conflict",
        "kind.mislocated": "Mislocated",
        "kind.custody_mismatch": "Custody mismatch",
        "kind.duplicate_scan": "Seen in two places",
        "kind.explained": "Explained absence",
        "kind.to_present": "To present",
    },
}


def labels(lang: str) -> dict[str, str]:
    """The label table of a language (``es`` or ``en``)."""
    try:
        return LABELS[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}") from None


def finding_cells(finding: Finding, lang: str = "es") -> dict[str, str]:
    """The printable fields of one finding, keyed by column label code."""
    t = labels(lang)
    reg, seen, sug = finding.registry, finding.observed, finding.suggested_match
    at = seen.observed_at if seen is not None else None
    return {
        "col_kind_code": finding.kind.value,
        "col_kind": t[f"kind.{finding.kind.value}"],
        "col_serial": finding.serial,
        "col_make": finding.make or "",
        "col_status": capitalized(status_name(reg.status.value, lang)) if reg is not None
                      else "",
        "col_location": (reg.location or "") if reg is not None else "",
        "col_custodian": (reg.custodian or "") if reg is not None else "",
        "col_agency": (reg.agency or "") if reg is not None else "",
        "col_seen_serial": seen.serial if seen is not None else "",
        "col_seen_location": (seen.location or "") if seen is not None else "",
        "col_seen_holder": (seen.holder or "") if seen is not None else "",
        "col_seen_make": (seen.make or "") if seen is not None else "",
        "col_seen_at": at.isoformat() if at is not None else "",
        "col_seen_note": (seen.note or "") if seen is not None else "",
        "col_seen_line": str(seen.order) if seen is not None else "",
        "col_suggested": sug.serial if sug is not None else "",
        "col_distance": str(sug.distance) if sug is not None else "",
    }


_CSV_COLUMNS = (
    "col_kind_code",
    "col_kind",
    "col_serial",
    "col_make",
    "col_status",
    "col_location",
    "col_custodian",
    "col_agency",
    "col_seen_serial",
    "col_seen_location",
    "col_seen_holder",
    "col_seen_make",
    "col_seen_at",
    "col_seen_note",
    "col_seen_line",
    "col_suggested",
    "col_distance",
)


def write_csv(
    result: Reconciliation, out: str | os.PathLike[str] | IO[str], *, lang: str = "es"
) -> None:
    """One row per finding, headers in ``lang``; UTF-8 with a byte-order mark for Excel."""
    t = labels(lang)
    if isinstance(out, str | os.PathLike):
        with open(out, "w", encoding="utf-8-sig", newline="") as f:
            write_csv(result, f, lang=lang)
        return
    writer = CsvWriter(out)
    writer.row([t[c] for c in _CSV_COLUMNS])
    for finding in result.findings:
        cells = finding_cells(finding, lang)
        writer.row([cells[c] for c in _CSV_COLUMNS])


# -- PDF --------------------------------------------------------------------------------


#: Findings table: (column, width in mm) on an A4 landscape page (277 mm usable).
_PDF_COLUMNS: tuple[tuple[str, float], ...] = (
    ("col_no", 14),
    ("col_kind", 34),
    ("col_serial", 30),
    ("col_make", 24),
    ("col_status", 24),
    ("col_location", 30),
    ("col_custodian", 22),
    ("col_seen_location", 30),
    ("col_seen_holder", 22),
    ("col_seen_line", 14),
    ("col_suggested", 33),
)


def _latin1(text: str) -> str:
    """Text the core fonts can print: Latin-1 kept, the rest approximated."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = "".join(
            c
            for c in unicodedata.normalize("NFKD", ch)
            if ord(c) < 256 and not unicodedata.combining(c)
        )
        out.append(base or {"\u2026": "...", "\u2013": "-", "\u2014": "-"}.get(ch, "?"))
    return "".join(out)


def write_pdf(
    result: Reconciliation,
    out: str | os.PathLike[str],
    *,
    lang: str = "es",
    registry_name: str | None = None,
    count_name: str | None = None,
    agency: str | None = None,
    issued_at: datetime | None = None,
    font_dir: str | os.PathLike[str] | None = None,
) -> None:
    """The reconciliation as an inspection report: counts, every finding, signature lines."""
    from fpdf import FPDF  # imported here: only PDF output pays for fpdf2

    t = labels(lang)
    from resguardo.reports.pdf_text import DEJAVU, add_dejavu

    class _Report(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, "", 8)
            self.cell(0, 6, fix(t["page"].format(page=self.page_no(), pages="{nb}")), align="C")

    pdf = _Report(orientation="L", unit="mm", format="A4")
    if add_dejavu(pdf, Path(font_dir) if font_dir is not None else DEJAVU):
        family = "DejaVu"

        def fix(text: str) -> str:
            return text

        ellipsis = "\u2026"
    else:
        family = "Helvetica"
        fix = _latin1
        ellipsis = "..."
    pdf.set_title(fix(t["title"]))
    pdf.set_creator("Resguardo")
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.set_font(family, "B", 16)
    pdf.cell(0, 9, fix(t["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.cell(0, 6, fix(t["subtitle"]), new_x="LMARGIN", new_y="NEXT")
    when = (issued_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M %Z").strip()
    for key, value in (
        ("registry_file", registry_name),
        ("count_file", count_name),
        ("agency", agency),
        ("generated", when),
    ):
        if value:
            pdf.cell(0, 5.5, fix(f"{t[key]}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_font(family, "B", 12)
    pdf.cell(0, 7, fix(t["counts"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    for key in SUMMARY_KEYS:
        bold_row = key not in ("registry", "scans", "matched") and result.summary[key] > 0
        pdf.set_font(family, "B" if bold_row else "", 10)
        pdf.cell(70, 6, fix(t[key]), border=1)
        pdf.cell(
            25, 6, str(result.summary[key]), border=1, align="R", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(4)

    pdf.set_font(family, "B", 12)
    pdf.cell(0, 7, fix(t["findings"]), new_x="LMARGIN", new_y="NEXT")
    if not result.findings:
        pdf.set_font(family, "", 10)
        pdf.cell(0, 6, fix(t["no_findings"]), new_x="LMARGIN", new_y="NEXT")
    else:
        _findings_table(pdf, result.findings, lang, family, fix, ellipsis)

    _signatures(pdf, t, family, fix)
    pdf.output(str(out))


def _fit(pdf: Any, text: str, width: float, ellipsis: str) -> str:
    room = width - 2.2
    # No glyph is wider than the font size (in mm): shorter texts fit unmeasured.
    if len(text) * pdf.font_size < room or pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + ellipsis) > room:
        text = text[:-1]
    return text + ellipsis


def _wrap(pdf: Any, text: str, width: float, ellipsis: str) -> list[str]:
    """At most two lines of ``text`` that fit ``width`` (the second cut if it must be)."""
    words = text.split()
    first = ""
    while words:
        candidate = f"{first} {words[0]}".strip()
        if first and _fit(pdf, candidate, width, ellipsis) != candidate:
            break
        first = candidate
        words.pop(0)
    lines = [_fit(pdf, first, width, ellipsis)]
    if words:
        lines.append(_fit(pdf, " ".join(words), width, ellipsis))
    return lines


def _findings_table(
    pdf: Any, findings: Sequence[Finding], lang: str, family: str, fix: Any, ellipsis: str
) -> None:
    # Drawn with text() and ruled lines, not bordered cell()s: several times faster,
    # which matters for an acta of thousands of findings.
    t = labels(lang)
    height, pad, baseline = 5.5, 1.0, 3.9
    left = pdf.l_margin
    xs: list[float] = []
    x = left
    for _, width in _PDF_COLUMNS:
        xs.append(x)
        x += width
    right = x
    bottom = pdf.h - 16
    pdf.set_auto_page_break(False)
    pdf.set_draw_color(150, 150, 150)

    def header(y: float) -> float:
        pdf.set_font(family, "B", 8)
        pdf.set_fill_color(225, 225, 225)
        pdf.rect(left, y, right - left, 2 * height, style="DF")
        for (key, width), x0 in zip(_PDF_COLUMNS, xs, strict=True):
            for n, line in enumerate(_wrap(pdf, fix(t[key]), width, ellipsis)):
                pdf.text(x0 + pad, y + baseline + 0.3 + n * (height - 1.5), line)
        pdf.set_font(family, "", 8)
        return y + 2 * height

    def rule_columns(top: float, y: float) -> None:
        for x0 in (*xs, right):
            pdf.line(x0, top, x0, y)

    fits: dict[tuple[str, float], str] = {}  # labels, makes and places repeat: measure once
    top = y = pdf.get_y()
    y = header(y)
    for number, finding in enumerate(findings, start=1):
        if y + height > bottom:
            rule_columns(top, y)
            pdf.add_page()
            top = y = pdf.get_y()
            y = header(y)
        cells = finding_cells(finding, lang)
        cells["col_no"] = str(number)
        sug = finding.suggested_match
        if sug is not None:
            cells["col_suggested"] = f"{sug.serial} (d={sug.distance})"
        for (key, width), x0 in zip(_PDF_COLUMNS, xs, strict=True):
            text = cells[key]
            if text:
                fitted = fits.get((text, width))
                if fitted is None:
                    fitted = _fit(pdf, fix(text), width, ellipsis)
                    if len(fits) < 100_000:
                        fits[(text, width)] = fitted
                pdf.text(x0 + pad, y + baseline, fitted)
        y += height
        pdf.line(left, y, right, y)
    rule_columns(top, y)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_y(y)
    pdf.set_auto_page_break(True, margin=16)


def _signatures(pdf: Any, t: dict[str, str], family: str, fix: Any) -> None:
    if pdf.will_page_break(40):
        pdf.add_page()
    pdf.ln(22)
    pdf.set_font(family, "", 10)
    left = pdf.l_margin
    y = pdf.get_y()
    for offset, key in ((0, "sign_inspector"), (150, "sign_armorer")):
        pdf.line(left + offset, y, left + offset + 110, y)
        pdf.set_xy(left + offset, y + 1)
        pdf.cell(110, 5, fix(t[key]), align="C")
        pdf.set_xy(left + offset, y + 6)
        pdf.set_font(family, "", 8)
        pdf.cell(110, 5, fix(t["sign_name"]), align="C")
        pdf.set_font(family, "", 10)


def kind_label(kind: FindingKind | str, lang: str = "es") -> str:
    """A finding kind in words: the reconciliation's kinds, and a revista's ``to_present``
    (ammunition differences keep their code: the acta names them itself)."""
    code = kind.value if isinstance(kind, FindingKind) else str(kind)
    return labels(lang).get(f"kind.{code}", code.replace("_", " "))
