"""Additions to and removals from a collective licence: the printable sheet and its tables.

What the military authority asks of a licence holder for a period: the
weapons and the officers added to the licence and those removed from it,
each with the date and the reason, as a PDF to sign and as a spreadsheet
(``tables``, written by ``reports.spreadsheets``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from resguardo.domain.timefmt import DEFAULT_ZONE, local
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
        "attached": "manifestada en la licencia", "detached": "retirada de la licencia",
        "moved": "pasa a la licencia {to}", "released": "devuelta por la autoridad",
        "sign_holder": "Por el titular de la licencia", "sign_authority": "Recibe",
        "sign_name": "Nombre, cargo y firma", "page": "Página {page} de {pages}",
        "to": "al",
        "complaint": "denuncia {number} ante {authority}", "on_duty": "en servicio",
        "off_duty": "fuera de servicio", "negligence": "negligencia: {answer}",
        "answer_yes": "sí", "answer_no": "no", "undetermined": "sin determinar",
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
        "attached": "declared on the licence", "detached": "taken off the licence",
        "moved": "moved to licence {to}", "released": "released by the authority",
        "sign_holder": "For the licence holder", "sign_authority": "Received by",
        "sign_name": "Name, position and signature", "page": "Page {page} of {pages}",
        "to": "to",
        "complaint": "complaint {number} with {authority}", "on_duty": "on duty",
        "off_duty": "off duty", "negligence": "negligence: {answer}",
        "answer_yes": "yes", "answer_no": "no", "undetermined": "not yet determined",
    },
}

@dataclass(frozen=True)
class LossFacts:
    """What SEDENA-02-031 asks of a loss or theft taken off the licence: the complaint, the
    authority it was filed with, on duty or off, and negligence (None: not yet determined
    by a chief)."""

    complaint_number: str | None
    complaint_authority: str | None
    on_duty: bool
    negligent: bool | None


@dataclass
class Movement:
    """A weapon or an officer added to or removed from a licence."""

    at: datetime
    """When, on the clock of the row's agency (naive wall-clock time in its zone): the
    row's date is the agency's day, as the period's limits are."""
    entry: int
    change: str
    """What happened: registered, recovered, decommissioned, lost, stolen, transferred,
    separated."""
    agency: str
    fields: dict[str, Any]
    note: str = ""
    """The reason written with the entry, when it has one."""
    loss: LossFacts | None = None
    """For a removal by loss or theft, its complaint, duty and negligence."""


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
    issued_at: datetime
    """When the export was made (aware), printed on the holder's clock."""
    time_zone: str = DEFAULT_ZONE
    """The licence holder's zone: the sheet's "Emitido" is its wall-clock time."""


_WEAPON_KEYS = ("date", "agency", "serial", "make", "model", "calibre", "kind", "folio",
                "reason", "entry")
_OFFICER_KEYS = ("date", "agency", "badge", "name", "cuip", "credential", "reason", "entry")
_SECTIONS = ("weapons_added", "weapons_removed", "officers_added", "officers_removed")


def reason(move: Movement, lang: str) -> str:
    t = TEXT[lang]
    word, _, to = move.change.partition(":")
    if word in ("transferred", "moved"):
        return t[word].format(to=to)
    return t[word]


def loss_answers(loss: LossFacts, lang: str) -> tuple[str, str]:
    """(on duty: yes or no, negligence: yes, no or not yet determined) in words."""
    t = TEXT[lang]
    negligence = t["undetermined"] if loss.negligent is None else t[
        "answer_yes" if loss.negligent else "answer_no"]
    return t["answer_yes" if loss.on_duty else "answer_no"], negligence


def _why(move: Movement, lang: str) -> str:
    """The reason, and for a loss or theft its complaint, duty and negligence (the PDF)."""
    words = reason(move, lang)
    if move.loss is None:
        return words
    t = TEXT[lang]
    loss = move.loss
    _, negligence = loss_answers(loss, lang)
    return "; ".join((words, t["complaint"].format(number=loss.complaint_number or "-",
                                                   authority=loss.complaint_authority or "-"),
                      t["on_duty" if loss.on_duty else "off_duty"],
                      t["negligence"].format(answer=negligence)))


def _cells(section: str, move: Movement, lang: str, *, detail: bool = False) -> list[Any]:
    """A row's values; ``detail``: a loss's complaint, duty and negligence follow its
    reason (the PDF, whose reader has no other column for them)."""
    f = move.fields
    if section.startswith("weapons"):
        kind = KIND_WORDS[lang].get(f["kind"], f["kind"])
        return [move.at.date(), move.agency, f["serial"], f["make"], f["model"],
                f["calibre"], kind, f["folio"], _why(move, lang) if detail else
                reason(move, lang), move.entry]
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


def write_pdf(data: LicenceMovements, out: str | os.PathLike[str], *, lang: str = "es") -> None:
    """The printable sheet: header, the four lists, totals and signature lines."""
    from resguardo.reports.pdf_text import fit, new_pdf, wrap  # fpdf2 only for a PDF

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
    when = local(data.issued_at, data.time_zone)
    for key, value in (
        ("licence", data.number),
        ("holder", f"{data.holder} — {data.holder_name}"),
        ("agencies", ", ".join(data.agencies)),
        ("validity", f"{data.valid_from} – {data.valid_to}"),
        ("period", f"{data.start.isoformat()} – {data.end.isoformat()}"),
        ("generated", when),
    ):
        pdf.cell(0, 5.5, text(f"{t[key]}: {value}"), new_x="LMARGIN", new_y="NEXT")
    widths = {"weapons": (8, 19, 22, 26, 26, 22, 22, 28, 25, 60, 14),
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
            cells = [wrap(pdf, text(v), w - 2) for v, w in
                     zip([n, *_cells(section, move, lang, detail=True)], sizes,
                         strict=True)]
            height = 4 * max(len(lines) for lines in cells) + 1.5
            if pdf.will_page_break(height):
                pdf.add_page(orientation="L")
                head()
            x, y = pdf.l_margin, pdf.get_y()
            for lines, width in zip(cells, sizes, strict=True):
                pdf.rect(x, y, width, height)
                for i, line in enumerate(lines):
                    pdf.text(x + 1, y + 3.6 + 4 * i, line)
                x += width
            pdf.set_xy(pdf.l_margin, y + height)
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


# --- Modelo 4: the ministry's additions-and-removals form -----------------------------------

MODELO4: dict[str, dict[str, Any]] = {
    "es": {
        "weapons_title": "MODELO No. 4 — ALTAS Y BAJAS DE ARMAMENTO",
        "officers_title": "MODELO No. 4 — ALTAS Y BAJAS DE PERSONAL",
        "weapons_sheet": "Modelo 4 armamento", "officers_sheet": "Modelo 4 personal",
        "licence": "Licencia Oficial Colectiva No. {number}",
        "holder": "Titular: {holder} — {name}", "agencies": "Corporaciones amparadas: {codes}",
        "period": "Periodo: {start} al {end}", "counts": "Altas: {added}   Bajas: {removed}",
        "alta": "ALTA", "baja": "BAJA",
        "weapon_headers": ("No.", "Movimiento", "Fecha", "Corporación", "Tipo", "Marca",
                           "Modelo", "Calibre", "Matrícula", "Folio de manifestación",
                           "Motivo", "Denuncia", "Autoridad de la denuncia", "En servicio",
                           "Negligencia", "Observaciones", "Asiento"),
        "officer_headers": ("No.", "Movimiento", "Fecha", "Corporación", "Nombre", "CUIP",
                            "Placa", "Folio de credencial", "Motivo", "Observaciones",
                            "Asiento"),
    },
    "en": {
        "weapons_title": "MODEL No. 4 — WEAPONS ADDED AND REMOVED",
        "officers_title": "MODEL No. 4 — PERSONNEL ADDED AND REMOVED",
        "weapons_sheet": "Model 4 weapons", "officers_sheet": "Model 4 personnel",
        "licence": "Collective licence No. {number}",
        "holder": "Holder: {holder} — {name}", "agencies": "Agencies covered: {codes}",
        "period": "Period: {start} to {end}", "counts": "Added: {added}   Removed: {removed}",
        "alta": "ADDED", "baja": "REMOVED",
        "weapon_headers": ("No.", "Movement", "Date", "Agency", "Kind", "Make", "Model",
                           "Calibre", "Serial", "Registration folio", "Reason", "Complaint",
                           "Complaint authority", "On duty", "Negligence", "Remarks", "Entry"),
        "officer_headers": ("No.", "Movement", "Date", "Agency", "Name", "CUIP", "Badge",
                            "Credential folio", "Reason", "Remarks", "Entry"),
    },
}


def modelo4_tables(data: LicenceMovements, lang: str = "es") -> list[Table]:
    """The Modelo 4 (altas y bajas) as the ministry's trámites ask for it in Excel: one
    sheet for the weapons (SEDENA-02-031), one for the personnel (SEDENA-02-038), each
    with the form's heading and the additions first, then the removals."""
    m = MODELO4[lang]

    def heading(title: str, added: int, removed: int) -> list[str]:
        return [title, m["licence"].format(number=data.number),
                m["holder"].format(holder=data.holder, name=data.holder_name),
                m["agencies"].format(codes=", ".join(data.agencies)),
                m["period"].format(start=data.start.isoformat(), end=data.end.isoformat()),
                m["counts"].format(added=added, removed=removed)]

    weapon_rows: list[list[Any]] = []
    for word, moves in (("alta", data.weapons_added), ("baja", data.weapons_removed)):
        for move in moves:
            f = move.fields
            loss: list[Any] = [None] * 4
            if move.loss is not None:
                loss = [move.loss.complaint_number, move.loss.complaint_authority,
                        *loss_answers(move.loss, lang)]
            weapon_rows.append([
                len(weapon_rows) + 1, m[word], move.at.date(), move.agency,
                KIND_WORDS[lang].get(f["kind"], f["kind"]), f["make"], f["model"],
                f["calibre"], f["serial"], f["folio"], reason(move, lang), *loss,
                move.note or None, move.entry])
    officer_rows: list[list[Any]] = []
    for word, moves in (("alta", data.officers_added), ("baja", data.officers_removed)):
        for move in moves:
            f = move.fields
            officer_rows.append([
                len(officer_rows) + 1, m[word], move.at.date(), move.agency, f["name"],
                f["cuip"], f["badge"], f["credential_folio"], reason(move, lang),
                move.note or None, move.entry])
    return [
        Table(m["weapons_sheet"], m["weapon_headers"], weapon_rows,
              preamble=heading(m["weapons_title"], len(data.weapons_added),
                               len(data.weapons_removed))),
        Table(m["officers_sheet"], m["officer_headers"], officer_rows,
              preamble=heading(m["officers_title"], len(data.officers_added),
                               len(data.officers_removed))),
    ]


# --- the periodic licence report (LFAFE art. 29) -------------------------------------------

REPORT: dict[str, Any] = {
    "title": "INFORME PERIÓDICO DE LA LICENCIA OFICIAL COLECTIVA",
    "basis": "Art. 29 de la Ley Federal de Armas de Fuego y Explosivos: armamento "
             "correlacionado con la estructura y organización operativa, con los folios de "
             "las credenciales.",
    "as_of": "Fecha de corte", "summary": "Resumen por corporación",
    "weapons": "Armamento", "officers": "Personal", "carried": "Portadas por elementos",
    "summary_headers": ("Corporación", "Armas en la licencia", "En armería o bóveda",
                        "Portadas", "En reparación", "Elementos en la licencia",
                        "Con credencial vigente", "Sin folio o con credencial vencida",
                        "Armas sin manifestar (más de 30 días)"),
    "weapon_headers": ("Corporación", "Ubicación", "Tipo de ubicación", "Tipo", "Marca",
                       "Modelo", "Calibre", "Matrícula", "Folio de manifestación", "Estatus",
                       "Portador (placa)", "Nombre del portador", "Folio de credencial"),
    "officer_headers": ("Corporación", "Placa", "Nombre", "CUIP", "Folio de credencial",
                        "Vigencia", "Credencial vigente", "Estatus", "Arma que porta"),
    "summary_short": ("Corporación", "Armas en la LOC", "En armería o bóveda", "Portadas",
                      "En reparación", "Elementos en la LOC", "Credencial vigente",
                      "Sin folio o vencida", "Sin manifestar (30 días)"),
    "undeclared_headers": ("Corporación", "Matrícula", "Marca", "Adquirida", "Vence el plazo"),
    "undeclared": "Armas sin manifestar en ninguna licencia (más de 30 días; art. 11 del "
                  "Reglamento)",
    "yes": "sí", "no": "no", "none": "Ninguna.", "no_folio": "SIN FOLIO",
}


@dataclass
class LicenceReport:
    """What a licence covers on a day: its weapons by agency and place, its officers with
    their credential folios, and the weapons the agencies hold that no licence declares."""

    number: str
    holder: str
    holder_name: str
    agencies: list[str]
    valid_from: str
    valid_to: str
    as_of: date
    """The cut-off day: today on the licence holder's calendar (its time zone)."""
    weapons: list[dict[str, Any]]
    officers: list[dict[str, Any]]
    undeclared: list[dict[str, Any]]
    """Weapons past the 30 days with no licence, each with agency, serial, make, acquired,
    due."""
    issued_at: datetime
    """When the report was made (aware), printed on the holder's clock."""
    time_zone: str = DEFAULT_ZONE
    """The licence holder's zone."""


def _current(person: dict[str, Any], day: date) -> bool:
    expiry = person.get("credential_expiry")
    return bool(person.get("credential_folio")) and expiry is not None and expiry >= day


def _where(w: dict[str, Any]) -> tuple[str, str]:
    from resguardo.reports.vocabulary import LOCATION_KIND_WORDS
    if w["location"]:
        return (f"{w['location_name']} ({w['location']})",
                LOCATION_KIND_WORDS["es"].get(w["location_kind"], w["location_kind"]))
    return REPORT["carried"], ""


def report_tables(data: LicenceReport) -> list[Table]:
    """The report as a workbook: summary, weapons, officers and undeclared weapons."""
    from resguardo.reports.vocabulary import OFFICER_STATUS_WORDS, STATUS_WORDS
    heading = [REPORT["title"], f"Licencia Oficial Colectiva No. {data.number}",
               f"Titular: {data.holder} — {data.holder_name}",
               f"Vigencia: {data.valid_from} – {data.valid_to}",
               f"{REPORT['as_of']}: {data.as_of.isoformat()}", REPORT["basis"]]
    weapons = [[w["agency"], *_where(w), KIND_WORDS["es"].get(w["kind"], w["kind"]), w["make"],
                w["model"], w["calibre"], w["serial"], w["folio"],
                STATUS_WORDS["es"].get(w["status"], w["status"]), w["badge"],
                w["officer_name"],
                w["credential_folio"] or (REPORT["no_folio"] if w["badge"] else None)]
               for w in data.weapons]
    officers = [[o["agency"], o["badge"], o["name"], o["cuip"], o["credential_folio"],
                 o["credential_expiry"],
                 REPORT["yes"] if _current(o, data.as_of) else REPORT["no"],
                 OFFICER_STATUS_WORDS["es"].get(o["status"], o["status"]), o["carries"] or None]
                for o in data.officers]
    undeclared = [[u["agency"], u["serial"], u["make"], u["acquired"], u["due"]]
                  for u in data.undeclared]
    return [Table("Resumen", REPORT["summary_headers"], summary_rows(data), preamble=heading),
            Table(REPORT["weapons"], REPORT["weapon_headers"], weapons),
            Table(REPORT["officers"], REPORT["officer_headers"], officers),
            Table("Sin manifestar", REPORT["undeclared_headers"], undeclared)]


def summary_rows(data: LicenceReport) -> list[list[Any]]:
    """Per agency: weapons on the licence by where they are, officers and their credentials,
    weapons not declared; a total row last."""
    rows: list[list[Any]] = []
    for agency in data.agencies:
        w = [x for x in data.weapons if x["agency"] == agency]
        o = [x for x in data.officers if x["agency"] == agency]
        current = sum(1 for x in o if _current(x, data.as_of))
        rows.append([agency, len(w), sum(1 for x in w if x["status"] == "in_storage"),
                     sum(1 for x in w if x["status"] == "issued"),
                     sum(1 for x in w if x["status"] == "in_repair"), len(o), current,
                     len(o) - current, sum(1 for x in data.undeclared if x["agency"] == agency)])
    rows.append([REPORT_TOTAL, *(sum(r[i] for r in rows) for i in range(1, 9))])
    return rows


REPORT_TOTAL = "Total"


def write_report_pdf(data: LicenceReport, out: str | os.PathLike[str]) -> None:
    """The report to sign: heading, the summary, then agency by agency the weapons place by
    place (and those carried, with the carrier's credential folio), the officers with
    their folios, the undeclared weapons, and the signature lines."""
    from resguardo.reports.pdf_text import fit, new_pdf  # fpdf2 only when a PDF is made
    from resguardo.reports.vocabulary import STATUS_WORDS

    pdf, family, unicode_font = new_pdf(REPORT["title"])
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.alias_nb_pages()

    def text(value: Any) -> str:
        if isinstance(value, date):
            value = value.isoformat()
        return fit("" if value is None else str(value), unicode_font)

    def footer() -> None:
        pdf.set_y(-12)
        pdf.set_font(family, "", 8)
        pdf.cell(0, 6, text(f"{data.number} — " + TEXT["es"]["page"].format(
            page=pdf.page_no(), pages="{nb}")), align="C")

    pdf.footer = footer  # type: ignore[method-assign]
    pdf.set_margins(12, 12, 12)
    pdf.add_page(orientation="L")

    def table(headers: tuple[str, ...], sizes: tuple[int, ...], rows: list[list[Any]]) -> None:
        def head() -> None:
            pdf.set_font(family, "B", 7)
            pdf.set_fill_color(220, 220, 220)
            for label, width in zip(headers, sizes, strict=True):
                shown = text(label)
                while shown and pdf.get_string_width(shown) > width - 1.5:
                    shown = shown[:-1]
                pdf.cell(width, 6, shown, border=1, fill=True)
            pdf.ln()
            pdf.set_font(family, "", 7.5)
        if not rows:
            pdf.set_font(family, "", 9)
            pdf.cell(0, 6, text(REPORT["none"]), new_x="LMARGIN", new_y="NEXT")
            return
        head()
        for row in rows:
            if pdf.will_page_break(5.5):
                pdf.add_page(orientation="L")
                head()
            for value, width in zip(row, sizes, strict=True):
                shown = text(value)
                while shown and pdf.get_string_width(shown) > width - 1.5:
                    shown = shown[:-1]
                pdf.cell(width, 5.5, shown, border=1)
            pdf.ln()

    def title(words: str, size: int = 11) -> None:
        if pdf.will_page_break(20):
            pdf.add_page(orientation="L")
        pdf.ln(3)
        pdf.set_font(family, "B", size)
        pdf.cell(0, 7, text(words), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font(family, "B", 14)
    pdf.cell(0, 8, text(REPORT["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    when = local(data.issued_at, data.time_zone)
    for line in (f"Licencia Oficial Colectiva No. {data.number}",
                 f"Titular: {data.holder} — {data.holder_name}",
                 f"Corporaciones amparadas: {', '.join(data.agencies)}",
                 f"Vigencia: {data.valid_from} – {data.valid_to}",
                 f"{REPORT['as_of']}: {data.as_of.isoformat()}   Emitido: {when}"):
        pdf.cell(0, 5.5, text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 8)
    pdf.multi_cell(0, 4.5, text(REPORT["basis"]), new_x="LMARGIN", new_y="NEXT")
    title(REPORT["summary"])
    table(REPORT["summary_short"], (24, 26, 32, 20, 24, 32, 30, 42, 43), summary_rows(data))
    weapon_sizes = (14, 18, 26, 22, 18, 34, 34, 48, 25, 34)
    for agency in data.agencies:
        mine = [w for w in data.weapons if w["agency"] == agency]
        people = [o for o in data.officers if o["agency"] == agency]
        if not mine and not people:
            continue
        pdf.add_page(orientation="L")
        title(f"{agency} — {REPORT['weapons']} ({len(mine)})", 12)
        groups: dict[str, list[dict[str, Any]]] = {}
        for w in mine:
            groups.setdefault(_where(w)[0], []).append(w)
        for place, rows in groups.items():
            title(f"{place}: {len(rows)}", 10)
            table(("No.", "Tipo", "Marca", "Modelo", "Calibre", "Matrícula", "Folio",
                   "Portador", "Estatus", "Folio de credencial"), weapon_sizes,
                  [[n, KIND_WORDS["es"].get(w["kind"], w["kind"]), w["make"], w["model"],
                    w["calibre"], w["serial"], w["folio"],
                    f"{w['badge']} {w['officer_name']}" if w["badge"] else "",
                    STATUS_WORDS["es"].get(w["status"], w["status"]),
                    w["credential_folio"] or (REPORT["no_folio"] if w["badge"] else "")]
                   for n, w in enumerate(rows, 1)])
        title(f"{agency} — {REPORT['officers']} ({len(people)})", 12)
        table(("No.", "Placa", "Nombre", "CUIP", "Folio de credencial", "Vigencia",
               "Vigente", "Arma que porta"), (10, 22, 62, 42, 32, 22, 16, 67),
              [[n, o["badge"], o["name"], o["cuip"], o["credential_folio"],
                o["credential_expiry"],
                REPORT["yes"] if _current(o, data.as_of) else REPORT["no"], o["carries"]]
               for n, o in enumerate(people, 1)])
    title(REPORT["undeclared"])
    table(REPORT["undeclared_headers"], (40, 50, 50, 40, 40),
          [[u["agency"], u["serial"], u["make"], u["acquired"], u["due"]]
           for u in data.undeclared])
    if pdf.will_page_break(40):
        pdf.add_page(orientation="L")
    pdf.ln(22)
    y = pdf.get_y()
    for offset, key in ((0, "sign_holder"), (150, "sign_authority")):
        pdf.line(12 + offset, y, 12 + offset + 110, y)
        pdf.set_xy(12 + offset, y + 1)
        pdf.set_font(family, "", 10)
        pdf.cell(110, 5, text(TEXT["es"][key]), align="C")
        pdf.set_xy(12 + offset, y + 6)
        pdf.set_font(family, "", 8)
        pdf.cell(110, 5, text(TEXT["es"]["sign_name"]), align="C")
    pdf.output(str(out))
