"""The acta of an inspection: the document the inspector, the agency and the
witnesses sign. Rendered once at closing; its SHA-256 goes into the ledger with
the closing event and the exact bytes are kept, so the signed paper can always
be matched against the log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF

from resguardo.domain.people import Person
from resguardo.domain.serials import serial_key
from resguardo.domain.timefmt import DEFAULT_ZONE, local, parse_instant
from resguardo.reports.pdf_text import add_dejavu, has_dejavu, wrap
from resguardo.reports.reconciliation import _latin1, labels
from resguardo.reports.vocabulary import KIND_WORDS

TEXT = {
    "es": {
        "title": "ACTA CIRCUNSTANCIADA DE REVISTA DE ARMAMENTO",
        "intro": ("En {place}, siendo las {time} horas del día {date} (hora local, {zone}), "
                  "en cumplimiento de las disposiciones en materia de control de armas de "
                  "fuego, se hace constar la revista física del armamento de la corporación "
                  "que se indica, ante las personas que al final se mencionan, con los "
                  "resultados siguientes."),
        "place": "Lugar", "no_place": "lugar no registrado", "licence": "Licencia oficial colectiva",
        "no_licence": "ninguna registrada para la corporación", "zone": "Huso horario",
        "inspector": "Cierra la revista", "col_post": "Cargo",
        "col_id": "Identificación", "col_name": "Nombre",
        "margin": "Firmas al margen",
        "annex": "ANEXO 1. Armamento revistado",
        "annex_note": ("Cada arma del registro comprendida en la revista y cada matrícula "
                       "leída que no está en él; «Conteo» dice cómo se contó (primera lectura) "
                       "o por qué no."),
        "col_type": "Tipo", "col_calibre": "Calibre", "col_folio": "Folio", "col_where": "Dónde",
        "col_how": "Conteo",
        "how.scanner": "lector", "how.typed": "tecleada", "how.camera": "cámara",
        "how.file": "hoja de conteo", "how.to_present": "por presentar",
        "how.not_seen": "no vista", "readings": "lecturas", "not_on_books": "no registrada",
        "closing": ("No habiendo más que hacer constar, se cierra la presente acta a las {time} "
                    "horas del día {date}, firmando al margen de cada hoja y al calce quienes "
                    "en ella intervinieron."),
        "authority": "Autoridad que practica la revista", "agency": "Corporación revistada",
        "inspection": "Revista núm.", "scope": "Alcance", "all_locations": "todas las ubicaciones",
        "sealed": "Revista sorpresa (sellada hasta su apertura)", "planned": "Fecha programada",
        "opened": "Apertura", "closed": "Cierre", "present": "Personas presentes",
        "counts": "Resultados del conteo", "findings": "Hallazgos",
        "no_findings": "Sin hallazgos: el conteo físico coincide con el registro.",
        "refused": "Movimientos rechazados (bloqueo)", "mode": "Modalidad",
        "count.registry": "Armas en registro", "count.scans": "Lecturas",
        "count.matched": "Coincidentes",
        "rounds": "Diferencias de municiones", "signatures": "Firmas",
        "sig_inspector": "Por la autoridad revisora", "sig_agency": "Por la corporación",
        "sig_witness": "Testigo", "name_line": "Nombre, cargo y firma",
        "hash_note": ("La huella SHA-256 de este documento queda asentada en el libro de registro "
                      "inalterable de Resguardo junto con el cierre de la revista."),
        "page": "Página", "col_no": "No.", "col_kind": "Hallazgo", "col_serial": "Matrícula",
        "col_make": "Marca", "col_books": "Según registro", "col_seen": "Observado",
        "col_suggested": "Posible coincidencia", "location": "Ubicación", "calibre": "Calibre",
        "lot": "Lote", "expected": "Registro", "counted": "Contado",
        "kind.ammunition_difference": "Diferencia de municiones",
        "kind.to_present": "Por presentar (en servicio)",
        "count.to_present": "Por presentar",
        "present_by": "Plazo de presentación",
        "identity": ("Correcciones de identidad (matrícula, marca, tipo, calibre) desde la "
                     "revista anterior"),
        "changes": "Movimientos de la corporación entre la programación y la apertura",
        "losses": "Extravíos y robos reportados con la revista programada o abierta",
        "refusals": "Intentos rechazados durante la revista (registro congelado)",
        "col_at": "Fecha y hora local", "col_who": "Usuario", "col_what": "Movimiento",
        "col_subject": "Arma o archivo", "more": "y {n} más en el registro",
        "none": "Ninguno.",
        "log": "Bitácora al momento del cierre",
        "log_value": ("{size} asientos; raíz {root}. El cierre es el asiento {size}, que un "
                      "punto de control cosignado por la autoridad cubre; compruébelo con "
                      "`resguardo ledger consistency {size}`."),
    },
    "en": {
        "title": "WEAPONS INSPECTION RECORD (ACTA CIRCUNSTANCIADA)",
        "intro": ("In {place}, at {time} on {date} (local time, {zone}), under the rules on "
                  "firearms control, this records the physical inspection of the weapons of "
                  "the agency below, before the people named at the end, with the following "
                  "results."),
        "place": "Place", "no_place": "place not recorded", "licence": "Collective licence (LOC)",
        "no_licence": "none recorded for the agency", "zone": "Time zone",
        "inspector": "Closed by", "col_post": "Post",
        "col_id": "Identification", "col_name": "Name",
        "margin": "Margin signatures",
        "annex": "ANNEX 1. Weapons reviewed",
        "annex_note": ("Every weapon on the books within the inspection and every serial read "
                       "that is not on them; 'Count' says how it was counted (first reading) "
                       "or why not."),
        "col_type": "Kind", "col_calibre": "Calibre", "col_folio": "Folio", "col_where": "Where",
        "col_how": "Count",
        "how.scanner": "scanner", "how.typed": "typed", "how.camera": "camera",
        "how.file": "count sheet", "how.to_present": "to present",
        "how.not_seen": "not seen", "readings": "readings", "not_on_books": "not registered",
        "closing": ("There being nothing more to record, this acta is closed at {time} on "
                    "{date}, signed in the margin of every page and at the foot by those who "
                    "took part."),
        "authority": "Inspecting authority", "agency": "Agency inspected",
        "inspection": "Inspection no.", "scope": "Scope", "all_locations": "all locations",
        "sealed": "Surprise inspection (sealed until opened)", "planned": "Planned date",
        "opened": "Opened", "closed": "Closed", "present": "People present",
        "counts": "Count results", "findings": "Findings",
        "no_findings": "No findings: the physical count matches the registry.",
        "refused": "Movements refused (lockdown)", "mode": "Mode",
        "count.registry": "Weapons on the books", "count.scans": "Scans",
        "count.matched": "Matched",
        "rounds": "Ammunition differences", "signatures": "Signatures",
        "sig_inspector": "For the inspecting authority", "sig_agency": "For the agency",
        "sig_witness": "Witness", "name_line": "Name, position and signature",
        "hash_note": ("The SHA-256 fingerprint of this document is entered in Resguardo's "
                      "tamper-evident ledger with the closing of the inspection."),
        "page": "Page", "col_no": "No.", "col_kind": "Finding", "col_serial": "Serial",
        "col_make": "Make", "col_books": "On the books", "col_seen": "Observed",
        "col_suggested": "Possible match", "location": "Location", "calibre": "Calibre",
        "lot": "Lot", "expected": "Books", "counted": "Counted",
        "kind.ammunition_difference": "Ammunition difference",
        "kind.to_present": "To present (in service)",
        "count.to_present": "To present",
        "present_by": "Present-by deadline",
        "identity": "Identity corrections (serial, make, kind, calibre) since the last revista",
        "changes": "Agency's changes between the plan and the opening",
        "losses": "Losses and thefts reported while planned or open",
        "refusals": "Attempts refused during the inspection (registry frozen)",
        "col_at": "Local date and time", "col_who": "User", "col_what": "Entry",
        "col_subject": "Weapon or file", "more": "and {n} more in the log",
        "none": "None.",
        "log": "The ledger at the closing",
        "log_value": ("{size} entries; root {root}. The closing is entry {size}, covered by a "
                      "checkpoint the authority's witness cosigns; check it with "
                      "`resguardo ledger consistency {size}`."),
    },
}


#: Entries as the acta names them (the record of what the agency did around the revista).
ENTRY = {
    "es": {"firearm.registered": "Alta de arma", "entry.corrected": "Corrección de registro",
           "entry.correction_requested": "Corrección de identidad solicitada",
           "entry.correction_approved": "Corrección de identidad aprobada",
           "firearm.reported_lost": "Reporte de extravío", "firearm.reported_stolen": "Reporte de robo",
           "firearm.recovered": "Recuperación (asegurada)",
           "firearm.released": "Liberación de resguardo ministerial",
           "firearm.negligence_determined": "Determinación de negligencia", "firearm.transfer_requested": "Transferencia solicitada",
           "firearm.transfer_sent": "Transferencia enviada",
           "firearm.transfer_received": "Transferencia recibida",
           "firearm.decommission_requested": "Baja solicitada", "firearm.decommissioned": "Baja",
           "import.completed": "Importación", "import.voided": "Importación anulada", "location.created": "Alta de ubicación",
           "firearm.moved": "Cambio de ubicación", "firearm.repair_sent": "Envío a reparación",
           "firearm.repair_returned": "Regreso de reparación",
           "custody.issued": "Asignación a elemento", "custody.returned": "Devolución a armería",
           "ammunition.issued": "Entrega de cartuchos", "ammunition.returned": "Devolución de cartuchos",
           "ammunition.consumed": "Consumo de cartuchos", "ammunition.received": "Ingreso de cartuchos",
           "import.firearms": "Importación de armas", "import.officers": "Importación de elementos",
           "import.locations": "Importación de ubicaciones", "licence.created": "Alta de licencia"},
    "en": {"firearm.registered": "Weapon registered", "entry.corrected": "Record corrected",
           "entry.correction_requested": "Identity correction requested",
           "entry.correction_approved": "Identity correction approved",
           "firearm.reported_lost": "Reported lost", "firearm.reported_stolen": "Reported stolen",
           "firearm.recovered": "Recovered (held as evidence)",
           "firearm.released": "Released from evidence",
           "firearm.negligence_determined": "Negligence determined", "firearm.transfer_requested": "Transfer requested",
           "firearm.transfer_sent": "Transfer sent", "firearm.transfer_received": "Transfer received",
           "firearm.decommission_requested": "Decommission requested",
           "firearm.decommissioned": "Decommissioned", "import.completed": "Import", "import.voided": "Import voided",
           "location.created": "Location added", "firearm.moved": "Moved",
           "firearm.repair_sent": "Sent to repair", "firearm.repair_returned": "Back from repair",
           "custody.issued": "Issued to officer", "custody.returned": "Returned to storage",
           "ammunition.issued": "Rounds issued", "ammunition.returned": "Rounds returned",
           "ammunition.consumed": "Rounds used", "ammunition.received": "Rounds received",
           "import.firearms": "Import of weapons", "import.officers": "Import of officers",
           "import.locations": "Import of locations", "licence.created": "Licence added"},
}


@dataclass
class ActaData:
    inspection_id: int
    authority: str
    agency: str
    locations: list[str]
    sealed: bool
    planned_on: str
    opened_at: str
    closed_at: datetime
    people: list[Person]
    summary: dict[str, int]
    findings: list[dict[str, Any]]
    refused_movements: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    present_by: datetime | None = None
    #: The log just before the closing entry (its size and base64 root).
    log_size: int | None = None
    log_root: str | None = None
    #: Entries the inspector must see (``services.inspections._record``): each a dict
    #: with at, who, what, subject.
    changes: list[dict[str, Any]] = field(default_factory=list)
    losses: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    identity: list[dict[str, Any]] = field(default_factory=list)
    #: The agency's zone: every time on the acta is its wall-clock time, saying the zone.
    time_zone: str = DEFAULT_ZONE
    city: str | None = None
    address: str | None = None
    #: The collective licences (LOC) covering the agency, as printed.
    licences: list[str] = field(default_factory=list)
    #: Every weapon reviewed (``services.inspections._annex``).
    annex: list[dict[str, Any]] = field(default_factory=list)
    #: Who closed the revista: full name, post (and username).
    inspector: str = ""


#: Width of the strip at the right of every page where those present sign (mm).
MARGIN_STRIP = 30


class _Acta(FPDF):
    def __init__(self, text: dict[str, str], family: str, fix: Any,
                 signers: list[str]) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.t, self.family, self.fix, self.signers = text, family, fix, signers
        self.set_margins(10, 12, 10 + MARGIN_STRIP + 2)

    def header(self) -> None:
        """The margin of every page: a box per person who signs the acta (firma al margen)."""
        x = self.w - 10 - MARGIN_STRIP
        top, bottom = 12.0, self.h - 20
        self.set_draw_color(120, 120, 120)
        self.set_text_color(60, 60, 60)
        self.set_font(self.family, "B", 6.5)
        self.set_xy(x, top)
        self.cell(MARGIN_STRIP, 4, self.fix(self.t["margin"]), align="C")
        y = top + 5
        box = min(36.0, (bottom - y) / max(len(self.signers), 1))
        for name in self.signers:
            self.rect(x, y, MARGIN_STRIP, box - 1.5)
            self.set_font(self.family, "", 6)
            text = self.fix(name)
            wrapped = self.multi_cell(MARGIN_STRIP - 1, 2.6, text, align="C", dry_run=True,
                                      output="LINES")
            lines = len(wrapped) if isinstance(wrapped, list) else 2
            self.set_xy(x + 0.5, y + box - 2 - 2.6 * lines)
            self.multi_cell(MARGIN_STRIP - 1, 2.6, text, align="C")
            y += box
        self.set_text_color(0, 0, 0)
        self.set_draw_color(0, 0, 0)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 6, self.fix(f"{self.t['page']} {self.page_no()}/{{nb}}"), align="C")


def _signers(data: ActaData, t: dict[str, str]) -> list[str]:
    """Who signs in the margin: those present (name, post); the roles when none were named."""
    named = [p.name for p in data.people]
    return named or [t["sig_inspector"], t["sig_agency"], t["sig_witness"]]


def render(data: ActaData, lang: str = "es") -> bytes:
    """The acta as PDF bytes (deterministic for the same data and fonts)."""
    t = TEXT[lang]
    kinds = labels(lang)
    unicode_font = has_dejavu()
    fix = (lambda s: s) if unicode_font else _latin1
    family = "DejaVu" if unicode_font else "Helvetica"
    pdf = _Acta(t, family, fix, _signers(data, t))
    if unicode_font:
        add_dejavu(pdf)
    pdf.set_creation_date(data.closed_at)
    pdf.set_title(f"{t['title']} {data.inspection_id}")
    pdf.set_author(data.authority)
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    zone = data.time_zone

    def when(instant: datetime | str) -> str:
        return local(instant, zone)

    opened = parse_instant(data.opened_at).astimezone(ZoneInfo(zone))
    closed = data.closed_at.astimezone(ZoneInfo(zone))
    place = ", ".join(x for x in (data.address, data.city) if x)

    pdf.set_font(family, "B", 13)
    pdf.multi_cell(width, 7, fix(t["title"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.cell(width, 6, fix(f"{t['inspection']} {data.inspection_id}"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.multi_cell(width, 5, fix(t["intro"].format(
        place=place or t["no_place"], time=opened.strftime("%H:%M"),
        date=opened.strftime("%Y-%m-%d"), zone=zone)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rows = [
        (t["authority"], data.authority),
        (t["agency"], data.agency),
        (t["place"], place or t["no_place"]),
        (t["licence"], "; ".join(data.licences) or t["no_licence"]),
        (t["scope"], ", ".join(data.locations) if data.locations else t["all_locations"]),
        (t["planned"], data.planned_on),
        (t["opened"], when(data.opened_at)),
        (t["closed"], when(data.closed_at)),
        (t["inspector"], data.inspector or "-"),
        (t["refused"], str(data.refused_movements)),
    ]
    if data.log_size is not None:
        rows.append((t["log"], t["log_value"].format(size=data.log_size, root=data.log_root)))
    if data.present_by is not None:
        rows.append((t["present_by"], when(data.present_by)))
    if data.sealed:
        rows.insert(5, (t["mode"], t["sealed"]))
    for label, value in rows:
        pdf.set_font(family, "B", 8.5)
        pdf.cell(64, 6, _fit(pdf, fix(label.strip()), 64), border="B")
        pdf.set_font(family, "", 9)
        pdf.multi_cell(width - 64, 6, fix(value), border="B", align="L", new_x="LMARGIN",
                       new_y="NEXT")

    _people(pdf, t, family, fix, data.people, width)

    pdf.ln(4)
    pdf.set_font(family, "B", 11)
    pdf.cell(width, 7, fix(t["counts"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    items = list(data.summary.items())
    for i in range(0, len(items), 3):
        for key, count in items[i:i + 3]:
            label = t.get(f"count.{key}") or kinds.get(f"kind.{key}") or key
            pdf.cell(40, 6, _fit(pdf, fix(label), 40), border=1)
            pdf.cell(13, 6, str(count), border=1, align="R")
        pdf.ln(6)

    weapons = {serial_key(w["serial"]): w for w in data.annex if w["on_books"]}
    weapon_findings = [f for f in data.findings if f["kind"] != "ammunition_difference"]
    rounds = [f for f in data.findings if f["kind"] == "ammunition_difference"]
    pdf.ln(4)
    pdf.set_font(family, "B", 11)
    pdf.cell(width, 7, fix(t["findings"]), new_x="LMARGIN", new_y="NEXT")
    if not weapon_findings:
        pdf.set_font(family, "", 9)
        pdf.cell(width, 6, fix(t["no_findings"]), new_x="LMARGIN", new_y="NEXT")
    else:
        widths = (7, 19, 19, 17, 18, 16, 18, 26, width - 140)
        heads = ("col_no", "col_kind", "col_serial", "col_type", "col_make", "col_calibre",
                 "col_folio", "col_books", "col_seen")
        _head(pdf, t, family, fix, widths, heads)
        pdf.set_font(family, "", 6.5)
        fitted: dict[tuple[str, float], list[str]] = {}
        for n, f in enumerate(weapon_findings, 1):
            reg, seen, sug = f.get("registry") or {}, f.get("observed") or {}, f.get("suggested_match")
            w = weapons.get(serial_key(f.get("serial") or "")) or {}
            status = kinds.get(f"status.{reg.get('status')}", reg.get("status"))
            books = " / ".join(x for x in (status, reg.get("location"), reg.get("custodian")) if x)
            observed = " / ".join(x for x in (seen.get("location"), seen.get("holder")) if x)
            if sug:
                observed = " / ".join(x for x in (observed, f"≈ {sug['serial']}") if x)
            cells = (str(n), kinds.get(f"kind.{f['kind']}", f["kind"]), f.get("serial") or "",
                     KIND_WORDS[lang].get(w.get("kind") or "", ""), f.get("make") or "",
                     w.get("calibre") or "", w.get("folio") or "", books, observed)
            _row(pdf, widths, [fix(v) for v in cells], 5.5, fitted,
                 lambda: _head(pdf, t, family, fix, widths, heads))
    if rounds:
        pdf.ln(4)
        pdf.set_font(family, "B", 11)
        pdf.cell(width, 7, fix(t["rounds"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "B", 8)
        for cw, h in ((36, "location"), (30, "calibre"), (30, "lot"), (26, "expected"),
                      (26, "counted")):
            pdf.cell(cw, 6, fix(t[h]), border=1)
        pdf.ln(6)
        pdf.set_font(family, "", 8)
        for r in rounds:
            for cw, v in ((36, r["location"]), (30, r["calibre"]), (30, r["lot"]),
                          (26, str(r["expected"])), (26, str(r["counted"]))):
                pdf.cell(cw, 5.5, _fit(pdf, fix(v), cw), border=1)
            pdf.ln(5.5)

    for key, entries in (("identity", data.identity), ("changes", data.changes),
                         ("losses", data.losses), ("refusals", data.refusals)):
        _entries(pdf, t, family, fix, t[key], entries, ENTRY[lang], zone, width)

    _annex(pdf, t, family, fix, data.annex, lang, kinds)

    if pdf.get_y() > 170:
        pdf.add_page()
    pdf.ln(6)
    pdf.set_font(family, "", 9)
    pdf.multi_cell(width, 5, fix(t["closing"].format(time=closed.strftime("%H:%M"),
                                                     date=closed.strftime("%Y-%m-%d"))),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(family, "B", 11)
    pdf.cell(width, 7, fix(t["signatures"]), new_x="LMARGIN", new_y="NEXT")
    signers: list[tuple[str, str, str]] = [(p.name, p.post, p.identification)
                                           for p in data.people]
    if not signers:
        signers = [(t["sig_inspector"], t["name_line"], ""), (t["sig_agency"], t["name_line"], ""),
                   (t["sig_witness"], t["name_line"], "")]
    col = (width - 8) / 2
    for i in range(0, len(signers), 2):
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.ln(14)
        y = pdf.get_y()
        pdf.set_font(family, "", 7)
        posts = [wrap(pdf, fix(post), col - 2) for _, post, _ in signers[i:i + 2]]
        for j, (name, _, ident) in enumerate(signers[i:i + 2]):
            x = pdf.l_margin + j * (col + 8)
            pdf.line(x, y, x + col, y)
            pdf.set_xy(x, y + 1)
            pdf.set_font(family, "B", 8)
            pdf.cell(col, 4.5, _fit(pdf, fix(name), col), align="C")
            pdf.set_font(family, "", 7)
            for k, line in enumerate(posts[j]):  # the post whole, on as many lines as it takes
                pdf.set_xy(x, y + 5.5 + 3.5 * k)
                pdf.cell(col, 4, line, align="C")
            pdf.set_xy(x, y + 6 + 3.5 * len(posts[j]))
            pdf.cell(col, 4, _fit(pdf, fix(ident), col), align="C")
        pdf.set_xy(pdf.l_margin, y + 10.5 + 3.5 * max(len(lines) for lines in posts))
    pdf.ln(3)
    pdf.set_font(family, "", 7.5)
    pdf.multi_cell(width, 4, fix(t["hash_note"]))
    return bytes(pdf.output())


def _head(pdf: FPDF, t: dict[str, str], family: str, fix: Any, widths: tuple[float, ...],
          heads: tuple[str, ...]) -> None:
    pdf.set_font(family, "B", 7)
    for w, h in zip(widths, heads, strict=True):
        pdf.cell(w, 6, _fit(pdf, fix(t[h]), w), border=1)
    pdf.ln(6)


def _people(pdf: FPDF, t: dict[str, str], family: str, fix: Any, people: list[Person],
            width: float) -> None:
    """Those present: name, post, identification."""
    pdf.ln(4)
    pdf.set_font(family, "B", 11)
    pdf.cell(width, 7, fix(t["present"]), new_x="LMARGIN", new_y="NEXT")
    if not people:
        pdf.set_font(family, "", 9)
        pdf.cell(width, 6, fix(t["none"]), new_x="LMARGIN", new_y="NEXT")
        return
    widths = (56, 58, width - 114)
    _head(pdf, t, family, fix, widths, ("col_name", "col_post", "col_id"))
    pdf.set_font(family, "", 7.5)
    fitted: dict[tuple[str, float], list[str]] = {}
    for p in people:
        _row(pdf, widths, [fix(v) for v in (p.name, p.post or "-", p.identification or "-")],
             5.5, fitted, lambda: _head(pdf, t, family, fix, widths,
                                        ("col_name", "col_post", "col_id")))


def _annex(pdf: FPDF, t: dict[str, str], family: str, fix: Any,
           annex: list[dict[str, Any]], lang: str, kinds: dict[str, str]) -> None:
    """Annex 1: every weapon reviewed, on a page of its own, its header on every page."""
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font(family, "B", 11)
    pdf.cell(width, 7, fix(t["annex"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 7.5)
    pdf.multi_cell(width, 4, fix(t["annex_note"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (8, 22, 17, 25, 16, 20, 26, width - 134)
    heads = ("col_no", "col_serial", "col_type", "col_make", "col_calibre", "col_folio",
             "col_where", "col_how")
    _head(pdf, t, family, fix, widths, heads)
    pdf.set_font(family, "", 6.5)
    fitted: dict[tuple[str, float], list[str]] = {}
    for n, w in enumerate(annex, 1):
        status = kinds.get(f"status.{w['status']}", w["status"]) if w["status"] else ""
        where = " / ".join(x for x in (w["where"], status if w["status"] != "in_storage" else "")
                           if x)
        how = t.get(f"how.{w['how']}", w["how"])
        if w["readings"] > 1:
            how += f" ({w['readings']} {t['readings']})"
        if not w["on_books"]:
            how += f"; {t['not_on_books']}"
        cells = (str(n), w["serial"], KIND_WORDS[lang].get(w["kind"] or "", ""),
                 " ".join(x for x in (w["make"], w["model"]) if x), w["calibre"] or "",
                 w["folio"] or "", where, how)
        _row(pdf, widths, [fix(v) for v in cells], 5, fitted,
             lambda: _head(pdf, t, family, fix, widths, heads))


def _entries(pdf: FPDF, t: dict[str, str], family: str, fix: Any, title: str,
             entries: list[dict[str, Any]], names: dict[str, str], zone: str,
             width: float) -> None:
    """A titled table of log entries (when, in the agency's time; who, what, which weapon)."""
    if pdf.will_page_break(24):  # the title never alone at the foot of a page
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font(family, "B", 10)
    pdf.multi_cell(width, 6, fix(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 8)
    if not entries:
        pdf.cell(width, 5, fix(t["none"]), new_x="LMARGIN", new_y="NEXT")
        return
    widths = (30, 30, 52, width - 112)
    pdf.set_font(family, "B", 7.5)
    for w, h in zip(widths, ("col_at", "col_who", "col_what", "col_subject"), strict=True):
        pdf.cell(w, 6, _fit(pdf, fix(t[h]), w), border=1)
    pdf.ln(6)
    pdf.set_font(family, "", 7.5)
    for e in entries:
        at = local(str(e["at"]), zone).split(" (")[0] if e.get("at") else ""
        what = names.get(e["what"], e["what"])
        for w, value in zip(widths, (at, e["who"], what, e["subject"]), strict=True):
            pdf.cell(w, 5.5, _fit(pdf, fix(str(value or "")), w), border=1)
        pdf.ln(5.5)


def _row(pdf: FPDF, widths: tuple[float, ...], cells: list[str], height: float,
         fitted: dict[tuple[str, float], list[str]],
         head: Callable[[], None] | None = None) -> None:
    """One table row drawn with plain rectangles and text: the annex has a row per weapon
    (1,000 and more at a large agency), and ``cell`` costs ten times as much. A value too
    wide for its column wraps onto more lines (the row grows), never cut; a row that would
    cross the foot of the page starts the next one, under ``head``."""
    lines = []
    for width, value in zip(widths, cells, strict=True):
        key = (value, width)
        wrapped = fitted.get(key)
        if wrapped is None:
            wrapped = fitted[key] = wrap(pdf, value, width - 2) if value else []
        lines.append(wrapped)
    step = pdf.font_size * 1.25
    most = max((len(x) for x in lines), default=1)
    if most > 1:
        height = max(height, most * step + 1.5)
    if head is not None and pdf.will_page_break(height):
        size = pdf.font_size_pt
        pdf.add_page()
        head()
        pdf.set_font_size(size)
    x, y = pdf.l_margin, pdf.get_y()
    first = y + (height - (most - 1) * step) / 2 + pdf.font_size * 0.35 if most > 1 else \
        y + height / 2 + pdf.font_size * 0.35
    for width, wrapped in zip(widths, lines, strict=True):
        pdf.rect(x, y, width, height)
        for i, text in enumerate(wrapped):
            pdf.text(x + 1, first + i * step, text)
        x += width
    pdf.set_xy(pdf.l_margin, y + height)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "...") > width - 2:
        text = text[:-1]
    return text + "..."
