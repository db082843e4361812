"""The trace request: what an investigator sends to a national tracing centre about a
recovered firearm (serial as read and whether it was obliterated, make, model,
calibre, kind, country of origin, importer, markings, where and when it was
recovered), with the candidates this registry already found for it.

Plain data in (the record :func:`resguardo.services.trace.trace_request`
returns), PDF bytes out, in Spanish or English.
"""

from __future__ import annotations

from typing import Any

from resguardo.domain.timefmt import DEFAULT_ZONE, local, parse_instant
from resguardo.domain.vocabulary import STATUS_NAMES
from resguardo.reports.pdf_text import fit, new_pdf

TEXT: dict[str, dict[str, str]] = {
    "es": {
        "title": "Solicitud de rastreo de arma de fuego",
        "subtitle": "Para el centro nacional de rastreo",
        "request_section": "Datos de la solicitud",
        "request": "Solicitud núm.", "at": "Fecha y hora", "by": "Solicita",
        "organization": "Dependencia", "reason": "Motivo",
        "case_file": "Carpeta de investigación",
        "firearm": "Arma recuperada", "serial": "Matrícula (como se lee)",
        "obliterated": "Matrícula borrada o alterada", "yes": "Sí", "no": "No",
        "make": "Marca", "model": "Modelo", "calibre": "Calibre", "kind": "Tipo",
        "country_of_origin": "País de origen", "importer": "Importador",
        "markings": "Otras marcas", "recovery": "Recuperación",
        "recovered_place": "Lugar", "recovered_on": "Fecha",
        "candidates": "Coincidencias en el registro de Resguardo",
        "none": "Ninguna coincidencia en el alcance de quien solicita.",
        "col_serial": "Matrícula", "col_make": "Marca", "col_agency": "Corporación",
        "col_distance": "Distancia", "col_status": "Situación",
        "col_holder": "Resguardante",
        "unread": "? = carácter ilegible",
        "footer": "Solicitud asentada en el libro de registro inalterable de Resguardo "
                  "como entrada {entry}.",
        "kind.pistol": "pistola", "kind.revolver": "revólver", "kind.rifle": "fusil",
        "kind.carbine": "carabina", "kind.shotgun": "escopeta",
        "kind.submachine_gun": "subametralladora", "kind.other": "otra",
        **{f"status.{code}": word for code, word in STATUS_NAMES["es"].items()},
        "holder_note": "Situación y resguardante en la fecha de recuperación.",
    },
    "en": {
        "title": "Firearm trace request",
        "subtitle": "For the national tracing centre",
        "request_section": "Request",
        "request": "Request no.", "at": "Date and time", "by": "Requested by",
        "organization": "Organization", "reason": "Purpose",
        "case_file": "Case file (carpeta de investigación)",
        "firearm": "Recovered firearm", "serial": "Serial (as read)",
        "obliterated": "Serial obliterated or altered", "yes": "Yes", "no": "No",
        "make": "Make", "model": "Model", "calibre": "Calibre", "kind": "Kind",
        "country_of_origin": "Country of origin", "importer": "Importer",
        "markings": "Other markings", "recovery": "Recovery",
        "recovered_place": "Place", "recovered_on": "Date",
        "candidates": "Candidates in the Resguardo registry",
        "none": "No candidate within the requester's scope.",
        "col_serial": "Serial", "col_make": "Make", "col_agency": "Agency",
        "col_distance": "Distance", "col_status": "Status",
        "col_holder": "Holder then",
        "unread": "? = unreadable character",
        "footer": "Request recorded in Resguardo's tamper-evident log as entry {entry}.",
        "kind.pistol": "pistol", "kind.revolver": "revolver", "kind.rifle": "rifle",
        "kind.carbine": "carbine", "kind.shotgun": "shotgun",
        "kind.submachine_gun": "submachine gun", "kind.other": "other",
        **{f"status.{code}": word for code, word in STATUS_NAMES["en"].items()},
        "holder_note": "Status and holder on the recovery date.",
    },
}


def render(record: dict[str, Any], lang: str = "es") -> bytes:
    """The request as PDF bytes (the same bytes for the same record and fonts)."""
    t = TEXT[lang]
    pdf, font, uni = new_pdf(f"{t['title']} {record['request']}")
    pdf.set_creation_date(parse_instant(record["at"]))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, 18)
    pdf.add_page()
    width = pdf.w - 36

    pdf.set_font(font, "B", 15)
    pdf.multi_cell(width, 7, fit(t["title"], uni), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 9.5)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(width, 5, fit(t["subtitle"], uni), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)

    def section(title: str, rows: list[tuple[str, Any]]) -> None:
        pdf.set_font(font, "B", 11)
        pdf.set_fill_color(236, 240, 245)
        pdf.cell(width, 7, fit(title, uni), fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        for key, value in rows:
            pdf.set_font(font, "", 9.5)
            pdf.set_text_color(90, 90, 90)
            pdf.cell(58, 6, fit(t[key], uni))
            pdf.set_text_color(0, 0, 0)
            pdf.set_font(font, "B" if key == "serial" else "", 10.5)
            text = "—" if value is None or value == "" else str(value)
            pdf.multi_cell(width - 58, 6, fit(text, uni), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    kind = record.get("kind")
    section(t["firearm"], [
        ("serial", record.get("serial")),
        ("obliterated", t["yes"] if record.get("obliterated") else t["no"]),
        ("make", record.get("make")), ("model", record.get("model")),
        ("calibre", record.get("calibre")),
        ("kind", t.get(f"kind.{kind}", kind) if kind else None),
        ("country_of_origin", record.get("country_of_origin")),
        ("importer", record.get("importer")), ("markings", record.get("markings")),
    ])
    section(t["recovery"], [("recovered_place", record.get("recovered_place")),
                            ("recovered_on", record.get("recovered_on"))])
    zone = record.get("time_zone") or DEFAULT_ZONE
    section(t["request_section"], [("request", record["request"]),
                                   ("case_file", record.get("case_file")),
                                   ("at", local(record["at"], zone)),
                                   ("by", record.get("requested_by_name")
                                    or record.get("requested_by")),
                                   ("organization", record.get("organization")),
                                   ("reason", record.get("reason"))])

    pdf.set_font(font, "B", 11)
    pdf.set_fill_color(236, 240, 245)
    pdf.cell(width, 7, fit(t["candidates"], uni), fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    candidates = record.get("candidates") or []
    if not candidates:
        pdf.set_font(font, "", 10)
        pdf.multi_cell(width, 6, fit(t["none"], uni), new_x="LMARGIN", new_y="NEXT")
    else:
        columns = (("col_serial", 32), ("col_make", 30), ("col_agency", 26),
                   ("col_distance", 20), ("col_status", 26), ("col_holder", width - 134))
        pdf.set_font(font, "B", 9)
        for key, w in columns:
            pdf.cell(w, 6, fit(t[key], uni), border="B")
        pdf.ln(6)
        pdf.set_font(font, "", 9)
        for c in candidates:
            holder = c.get("custodian_on_date")
            status = c.get("status_on_date") or c.get("status") or ""
            cells = (c["serial"], c["make"], c["agency"], f"{c['distance']:.1f}",
                     t.get(f"status.{status}", status),
                     f"{holder['badge']} {holder['name']}" if holder else "—")
            for (_, w), value in zip(columns, cells, strict=True):
                pdf.cell(w, 6, fit(str(value), uni)[:40])
            pdf.ln(6)
    pdf.ln(4)
    pdf.set_font(font, "", 8)
    pdf.set_text_color(90, 90, 90)
    notes = [t["unread"]] + ([t["holder_note"]] if candidates else [])
    for note in notes:
        pdf.multi_cell(width, 4, fit(note, uni), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 4, fit(t["footer"].format(entry=record["request"]), uni),
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
