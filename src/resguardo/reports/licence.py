"""Additions to and removals from a collective licence: the printable sheet and its tables.

What the military authority asks of a licence holder for a period: the
weapons and the officers added to the licence and those removed from it,
each with the date and the reason, as a PDF to sign and as a spreadsheet
(``tables``, written by ``reports.spreadsheets``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from resguardo.reports.spreadsheets import Table
from resguardo.reports.vocabulary import KIND_WORDS

TEXT = {
    "es": {
        "title": "ALTAS Y BAJAS DE LA LICENCIA OFICIAL COLECTIVA",
        "licence": "Licencia", "holder": "Titular", "agencies": "Corporaciones amparadas",
        "period": "Periodo", "validity": "Vigencia", "generated": "Emitido",
        "weapons_added": "Armas dadas de alta", "weapons_removed": "Armas dadas de baja",
        "officers_added": "Elementos dados de alta", "officers_removed": "Elementos dados de baja",
        "none": "Sin movimientos en el periodo.", "total": "Total",
        "no": "No.", "date": "Fecha", "agency": "Corporación", "serial": "Matrícula",
        "make": "Marca", "model": "Modelo", "calibre": "Calibre", "kind": "Tipo",
        "folio": "Folio", "reason": "Motivo", "badge": "Placa", "name": "Nombre",
        "cuip": "CUIP", "credential": "Credencial", "entry": "Asiento",
        "registered": "alta en el registro", "recovered": "recuperada",
        "decommissioned": "baja definitiva", "lost": "extravío", "stolen": "robo",
        "transferred": "transferida a {to}", "separated": "separación",
        "sign_holder": "Por el titular de la licencia", "sign_authority": "Recibe",
        "sign_name": "Nombre, cargo y firma", "page": "Página {page} de {pages}",
        "to": "al",
    },
    "en": {
        "title": "COLLECTIVE LICENCE: ADDITIONS AND REMOVALS",
        "licence": "Licence", "holder": "Holder", "agencies": "Agencies covered",
        "period": "Period", "validity": "Valid", "generated": "Issued",
        "weapons_added": "Weapons added", "weapons_removed": "Weapons removed",
        "officers_added": "Officers added", "officers_removed": "Officers removed",
        "none": "No changes in the period.", "total": "Total",
        "no": "No.", "date": "Date", "agency": "Agency", "serial": "Serial",
        "make": "Make", "model": "Model", "calibre": "Calibre", "kind": "Kind",
        "folio": "Folio", "reason": "Reason", "badge": "Badge", "name": "Name",
        "cuip": "CUIP", "credential": "Credential", "entry": "Entry",
        "registered": "registered", "recovered": "recovered",
        "decommissioned": "decommissioned", "lost": "lost", "stolen": "stolen",
        "transferred": "transferred to {to}", "separated": "separated",
        "sign_holder": "For the licence holder", "sign_authority": "Received by",
        "sign_name": "Name, position and signature", "page": "Page {page} of {pages}",
        "to": "to",
    },
}

@dataclass
class Movement:
    """A weapon or an officer added to or removed from a licence."""

    at: datetime
    entry: int
    change: str
    """What happened: registered, recovered, decommissioned, lost, stolen, transferred,
    separated."""
    agency: str
    fields: dict[str, Any]


@dataclass
class LicenceMovements:
    number: str
    holder: str
    holder_name: str
    agencies: list[str]
    valid_from: str
    valid_to: str
    start: date
    end: date
    weapons_added: list[Movement]
    weapons_removed: list[Movement]
    officers_added: list[Movement]
    officers_removed: list[Movement]


_WEAPON_KEYS = ("date", "agency", "serial", "make", "model", "calibre", "kind", "folio",
                "reason", "entry")
_OFFICER_KEYS = ("date", "agency", "badge", "name", "cuip", "credential", "reason", "entry")
_SECTIONS = ("weapons_added", "weapons_removed", "officers_added", "officers_removed")


def reason(move: Movement, lang: str) -> str:
    t = TEXT[lang]
    if move.change.startswith("transferred:"):
        return t["transferred"].format(to=move.change.split(":", 1)[1])
    return t[move.change]


def _cells(section: str, move: Movement, lang: str) -> list[Any]:
    f = move.fields
    if section.startswith("weapons"):
        kind = KIND_WORDS[lang].get(f["kind"], f["kind"])
        return [move.at.date(), move.agency, f["serial"], f["make"], f["model"],
                f["calibre"], kind, f["folio"], reason(move, lang), move.entry]
    return [move.at.date(), move.agency, f["badge"], f["name"], f["cuip"],
            f["credential_folio"], reason(move, lang), move.entry]


def tables(data: LicenceMovements, lang: str = "es") -> list[Table]:
    """One sheet per list (weapons added, removed; officers added, removed)."""
    t = TEXT[lang]
    out = []
    for section in _SECTIONS:
        keys = _WEAPON_KEYS if section.startswith("weapons") else _OFFICER_KEYS
        moves: list[Movement] = getattr(data, section)
        out.append(Table(t[section], [t[k] for k in keys],
                         [_cells(section, m, lang) for m in moves]))
    return out


def flat_table(data: LicenceMovements, lang: str = "es") -> Table:
    """All four lists in one table (for CSV), with the list each row belongs to."""
    t = TEXT[lang]
    headers = ["", t["date"], t["agency"], t["serial"] + " / " + t["badge"],
               t["make"] + " / " + t["name"], t["model"], t["calibre"], t["kind"],
               t["folio"] + " / " + t["credential"], t["reason"], t["entry"]]
    rows: list[list[Any]] = []
    for section in _SECTIONS:
        for move in getattr(data, section):
            cells = _cells(section, move, lang)
            if section.startswith("weapons"):
                rows.append([t[section], *cells])
            else:
                date_, agency, badge, name, cuip, credential, why, entry = cells
                rows.append([t[section], date_, agency, badge, name, cuip, None, None,
                             credential, why, entry])
    return Table(t["title"], headers, rows)


def write_pdf(data: LicenceMovements, out: str | os.PathLike[str], *, lang: str = "es",
              issued_at: datetime | None = None) -> None:
    """The printable sheet: header, the four lists, totals and signature lines."""
    from resguardo.reports.pdf_text import fit, new_pdf  # fpdf2 only when a PDF is made

    t = TEXT[lang]
    pdf, family, unicode_font = new_pdf(t["title"])
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.alias_nb_pages()

    def text(value: Any) -> str:
        return fit("" if value is None else str(value), unicode_font)

    def footer() -> None:
        pdf.set_y(-12)
        pdf.set_font(family, "", 8)
        pdf.cell(0, 6, text(t["page"].format(page=pdf.page_no(), pages="{nb}")), align="C")

    pdf.footer = footer  # type: ignore[method-assign]
    pdf.set_margins(12, 12, 12)
    pdf.add_page(orientation="L")
    pdf.set_font(family, "B", 14)
    pdf.cell(0, 8, text(t["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    when = (issued_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    for key, value in (
        ("licence", data.number),
        ("holder", f"{data.holder} — {data.holder_name}"),
        ("agencies", ", ".join(data.agencies)),
        ("validity", f"{data.valid_from} – {data.valid_to}"),
        ("period", f"{data.start.isoformat()} – {data.end.isoformat()}"),
        ("generated", when),
    ):
        pdf.cell(0, 5.5, text(f"{t[key]}: {value}"), new_x="LMARGIN", new_y="NEXT")
    widths = {"weapons": (8, 20, 22, 34, 28, 26, 22, 24, 28, 38, 14),
              "officers": (8, 20, 24, 30, 70, 40, 30, 36, 15)}
    for section in _SECTIONS:
        moves: list[Movement] = getattr(data, section)
        group = "weapons" if section.startswith("weapons") else "officers"
        keys = _WEAPON_KEYS if group == "weapons" else _OFFICER_KEYS
        pdf.ln(4)
        pdf.set_font(family, "B", 11)
        pdf.cell(0, 7, text(f"{t[section]} ({t['total']}: {len(moves)})"),
                 new_x="LMARGIN", new_y="NEXT")
        if not moves:
            pdf.set_font(family, "", 9)
            pdf.cell(0, 6, text(t["none"]), new_x="LMARGIN", new_y="NEXT")
            continue
        columns = ["no", *keys]
        sizes = widths[group]

        def head(columns: list[str] = columns, sizes: tuple[int, ...] = sizes) -> None:
            pdf.set_font(family, "B", 8)
            pdf.set_fill_color(220, 220, 220)
            for key, width in zip(columns, sizes, strict=True):
                pdf.cell(width, 6, text(t[key]), border=1, fill=True)
            pdf.ln()
            pdf.set_font(family, "", 8)

        head()
        for n, move in enumerate(moves, 1):
            if pdf.will_page_break(6):
                pdf.add_page(orientation="L")
                head()
            for value, width in zip([n, *_cells(section, move, lang)], sizes, strict=True):
                shown = text(value)
                while shown and pdf.get_string_width(shown) > width - 2:
                    shown = shown[:-1]
                pdf.cell(width, 5.5, shown, border=1)
            pdf.ln()
    if pdf.will_page_break(40):
        pdf.add_page(orientation="L")
    pdf.ln(22)
    y = pdf.get_y()
    for offset, key in ((0, "sign_holder"), (150, "sign_authority")):
        pdf.line(12 + offset, y, 12 + offset + 110, y)
        pdf.set_xy(12 + offset, y + 1)
        pdf.set_font(family, "", 10)
        pdf.cell(110, 5, text(t[key]), align="C")
        pdf.set_xy(12 + offset, y + 6)
        pdf.set_font(family, "", 8)
        pdf.cell(110, 5, text(t["sign_name"]), align="C")
    pdf.output(str(out))
