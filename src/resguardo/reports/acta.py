"""The acta of an inspection: the document the inspector, the agency and the
witnesses sign. Rendered once at closing; its SHA-256 goes into the ledger with
the closing event and the exact bytes are kept, so the signed paper can always
be matched against the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from resguardo.reports.reconciliation import _latin1, labels

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

TEXT = {
    "es": {
        "title": "ACTA DE REVISTA DE ARMAMENTO",
        "intro": ("En cumplimiento de las disposiciones en materia de control de armas de fuego, "
                  "se hace constar la revista física del armamento de la corporación que se indica, "
                  "con los resultados siguientes."),
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
        "col_at": "Fecha y hora (UTC)", "col_who": "Usuario", "col_what": "Movimiento",
        "col_subject": "Arma o archivo", "more": "y {n} más en el registro",
        "none": "Ninguno.",
        "log": "Bitácora al momento del cierre",
        "log_value": ("{size} asientos; raíz {root}. El cierre es el asiento {size}, que un "
                      "punto de control cosignado por la autoridad cubre; compruébelo con "
                      "`resguardo ledger consistency {size}`."),
    },
    "en": {
        "title": "WEAPONS INSPECTION RECORD (ACTA)",
        "intro": ("Under the rules on firearms control, this records the physical inspection of "
                  "the weapons of the agency below, with the following results."),
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
        "col_at": "Date and time (UTC)", "col_who": "User", "col_what": "Entry",
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
    people: list[str]
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


class _Acta(FPDF):
    def __init__(self, text: dict[str, str], family: str, fix: Any) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.t, self.family, self.fix = text, family, fix

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 6, self.fix(f"{self.t['page']} {self.page_no()}/{{nb}}"), align="C")


def render(data: ActaData, lang: str = "es") -> bytes:
    """The acta as PDF bytes (deterministic for the same data and fonts)."""
    t = TEXT[lang]
    kinds = labels(lang)
    unicode_font = (_DEJAVU / "DejaVuSans.ttf").is_file() and (_DEJAVU / "DejaVuSans-Bold.ttf").is_file()
    fix = (lambda s: s) if unicode_font else _latin1
    family = "DejaVu" if unicode_font else "Helvetica"
    pdf = _Acta(t, family, fix)
    if unicode_font:
        pdf.add_font("DejaVu", "", str(_DEJAVU / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(_DEJAVU / "DejaVuSans-Bold.ttf"))
    pdf.set_creation_date(data.closed_at)
    pdf.set_title(f"{t['title']} {data.inspection_id}")
    pdf.set_author(data.authority)
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    pdf.set_font(family, "B", 15)
    pdf.cell(0, 9, fix(t["title"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.cell(0, 6, fix(f"{t['inspection']} {data.inspection_id}"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.multi_cell(0, 5, fix(t["intro"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rows = [
        (t["authority"], data.authority),
        (t["agency"], data.agency),
        (t["scope"], ", ".join(data.locations) if data.locations else t["all_locations"]),
        (t["planned"], data.planned_on),
        (t["opened"], data.opened_at.replace("T", " ")[:16] + " UTC"),
        (t["closed"], data.closed_at.strftime("%Y-%m-%d %H:%M") + " UTC"),
        (t["present"], "; ".join(data.people) or "-"),
        (t["refused"], str(data.refused_movements)),
    ]
    if data.log_size is not None:
        rows.append((t["log"], t["log_value"].format(size=data.log_size, root=data.log_root)))
    if data.present_by is not None:
        rows.append((t["present_by"], data.present_by.strftime("%Y-%m-%d %H:%M") + " UTC"))
    if data.sealed:
        rows.insert(3, (t["mode"], t["sealed"]))
    for label, value in rows:
        pdf.set_font(family, "B", 9)
        pdf.cell(68, 6, fix(label.strip()), border="B")
        pdf.set_font(family, "", 9)
        pdf.multi_cell(0, 6, fix(value), border="B", align="L", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(4)
    pdf.set_font(family, "B", 11)
    pdf.cell(0, 7, fix(t["counts"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    items = list(data.summary.items())
    for i in range(0, len(items), 3):
        for key, count in items[i:i + 3]:
            label = t.get(f"count.{key}") or kinds.get(f"kind.{key}") or key
            pdf.cell(46, 6, fix(label), border=1)
            pdf.cell(14, 6, str(count), border=1, align="R")
        pdf.ln(6)

    weapon_findings = [f for f in data.findings if f["kind"] != "ammunition_difference"]
    rounds = [f for f in data.findings if f["kind"] == "ammunition_difference"]
    pdf.ln(4)
    pdf.set_font(family, "B", 11)
    pdf.cell(0, 7, fix(t["findings"]), new_x="LMARGIN", new_y="NEXT")
    if not weapon_findings:
        pdf.set_font(family, "", 9)
        pdf.cell(0, 6, fix(t["no_findings"]), new_x="LMARGIN", new_y="NEXT")
    else:
        # 190 mm: a make such as "Heckler & Koch" and the headers fit without cutting
        widths = (9, 30, 25, 28, 36, 27, 35)
        heads = ("col_no", "col_kind", "col_serial", "col_make", "col_books", "col_seen",
                 "col_suggested")
        pdf.set_font(family, "B", 7.5)
        for w, h in zip(widths, heads, strict=True):
            pdf.cell(w, 6, _fit(pdf, fix(t[h]), w), border=1)
        pdf.ln(6)
        pdf.set_font(family, "", 7.5)
        for n, f in enumerate(weapon_findings, 1):
            reg, seen, sug = f.get("registry") or {}, f.get("observed") or {}, f.get("suggested_match")
            status = kinds.get(f"status.{reg.get('status')}", reg.get("status"))
            books = " / ".join(x for x in (status, reg.get("location"), reg.get("custodian")) if x)
            observed = " / ".join(x for x in (seen.get("location"), seen.get("holder")) if x)
            cells = (str(n), kinds.get(f"kind.{f['kind']}", f["kind"]), f.get("serial") or "",
                     f.get("make") or "", books, observed,
                     f"{sug['serial']} ({sug['distance']})" if sug else "")
            for w, value in zip(widths, cells, strict=True):
                pdf.cell(w, 5.5, _fit(pdf, fix(value), w), border=1)
            pdf.ln(5.5)
    if rounds:
        pdf.ln(4)
        pdf.set_font(family, "B", 11)
        pdf.cell(0, 7, fix(t["rounds"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "B", 8)
        for w, h in ((40, "location"), (34, "calibre"), (34, "lot"), (30, "expected"),
                     (30, "counted")):
            pdf.cell(w, 6, fix(t[h]), border=1)
        pdf.ln(6)
        pdf.set_font(family, "", 8)
        for r in rounds:
            for w, v in ((40, r["location"]), (34, r["calibre"]), (34, r["lot"]),
                         (30, str(r["expected"])), (30, str(r["counted"]))):
                pdf.cell(w, 5.5, fix(v), border=1)
            pdf.ln(5.5)

    for key, entries in (("identity", data.identity), ("changes", data.changes),
                         ("losses", data.losses), ("refusals", data.refusals)):
        _entries(pdf, t, family, fix, t[key], entries, ENTRY[lang])

    if pdf.get_y() > 215:
        pdf.add_page()
    pdf.ln(8)
    pdf.set_font(family, "B", 11)
    pdf.cell(0, 7, fix(t["signatures"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(14)
    y = pdf.get_y()
    for i, who in enumerate((t["sig_inspector"], t["sig_agency"], t["sig_witness"])):
        x = 12 + i * 64
        pdf.line(x, y, x + 56, y)
        pdf.set_xy(x, y + 1)
        pdf.set_font(family, "B", 8)
        pdf.cell(56, 5, fix(who), align="C")
        pdf.set_xy(x, y + 6)
        pdf.set_font(family, "", 7)
        pdf.cell(56, 4, fix(t["name_line"]), align="C")
    pdf.set_xy(10, y + 16)
    pdf.set_font(family, "", 7.5)
    pdf.multi_cell(0, 4, fix(t["hash_note"]))
    return bytes(pdf.output())


def _entries(pdf: FPDF, t: dict[str, str], family: str, fix: Any, title: str,
             entries: list[dict[str, Any]], names: dict[str, str]) -> None:
    """A titled table of log entries (when, who, what, which weapon)."""
    pdf.ln(4)
    pdf.set_font(family, "B", 10)
    pdf.multi_cell(0, 6, fix(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 8)
    if not entries:
        pdf.cell(0, 5, fix(t["none"]), new_x="LMARGIN", new_y="NEXT")
        return
    widths = (34, 30, 62, 64)
    pdf.set_font(family, "B", 7.5)
    for w, h in zip(widths, ("col_at", "col_who", "col_what", "col_subject"), strict=True):
        pdf.cell(w, 6, _fit(pdf, fix(t[h]), w), border=1)
    pdf.ln(6)
    pdf.set_font(family, "", 7.5)
    for e in entries:
        at = str(e["at"]).replace("T", " ")[:16]
        what = names.get(e["what"], e["what"])
        for w, value in zip(widths, (at, e["who"], what, e["subject"]), strict=True):
            pdf.cell(w, 5.5, _fit(pdf, fix(str(value or "")), w), border=1)
        pdf.ln(5.5)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "...") > width - 2:
        text = text[:-1]
    return text + "..."
