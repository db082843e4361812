"""The custody receipt (resguardo): the page an officer signs when a weapon is
issued to them, with the weapon, the officer, who issued it and when, and the
ledger entry that recorded it.

Plain data in, PDF bytes out. Every sentence is passed through the caller's
``gettext`` (the web interface's catalogue), so the receipt is printed in the
reader's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from resguardo.reports.pdf_text import draw_qr, fit, new_pdf


def N_(message: str) -> str:
    """Mark a sentence for the translation catalogue."""
    return message


TEXT = {
    "title": N_("Custody receipt for an issued firearm"),
    "subtitle": N_("Resguardo: the officer's signed acknowledgement"),
    "agency": N_("Agency"),
    "officer": N_("Officer"),
    "badge": N_("Badge"),
    "name": N_("Name"),
    "cuip": N_("CUIP"),
    "credential": N_("Carry credential"),
    "of_record": N_("Weapons of record"),
    "firearm": N_("Firearm"),
    "serial": N_("Serial"),
    "make_model": N_("Make and model"),
    "calibre": N_("Calibre"),
    "kind": N_("Kind"),
    "folio": N_("Registration folio"),
    "licence": N_("Licence"),
    "issue": N_("Issue"),
    "issued_at": N_("Issued on"),
    "issued_by": N_("Issued by"),
    "from": N_("Taken from"),
    "entry": N_("Ledger entry"),
    "declaration": N_(
        "I receive the firearm described above under my custody and responsibility, in working "
        "order. I will carry it only on duty and under the agency's collective licence, return it "
        "at the end of my shift or whenever it is required, and report at once any loss, theft "
        "or damage."),
    "sign_officer": N_("Officer who receives"),
    "sign_armorer": N_("Armorer who issues"),
    "sign_chief": N_("Chief (acknowledged)"),
    "sign_hint": N_("Name and signature"),
    # the moment last but inside brackets: a time ending in "a.m." takes no second full stop
    "footer": N_("The issue is recorded in the tamper-evident log as entry %(entry)s; this "
                 "paper is the officer's signature on it (printed %(when)s)."),
}


@dataclass(frozen=True)
class ReceiptData:
    agency: str
    badge: str
    officer_name: str
    cuip: str | None
    credential: str | None  # folio and expiry, already formatted
    serial: str
    make: str
    model: str | None
    calibre: str
    kind: str  # in the reader's language
    folio: str | None
    licence: str | None
    issued_at: str  # formatted in the reader's locale
    issued_by: str
    taken_from: str | None
    entry: int
    printed_at: str
    of_record: str | None = None
    """The officer's weapons of record (arma de cargo), already formatted, beside the pool
    weapon this receipt is for; None when he has none."""


def receipt_pdf(data: ReceiptData, gettext: Callable[[str], str]) -> bytes:
    def t(key: str) -> str:
        return gettext(TEXT[key])

    pdf, font, uni = new_pdf(t("title"))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, 18)
    pdf.add_page()
    width = pdf.w - 36

    pdf.set_font(font, "B", 15)
    pdf.multi_cell(width - 34, 7, fit(t("title"), uni), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 9.5)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(width - 34, 5, fit(f"{t('subtitle')} · {data.agency}", uni),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    draw_qr(pdf, data.serial, pdf.w - 18 - 30, 12, 30)
    pdf.set_y(max(pdf.get_y(), 44) + 2)

    def section(title: str, rows: list[tuple[str, str | None]]) -> None:
        pdf.set_font(font, "B", 11)
        pdf.set_fill_color(236, 240, 245)
        pdf.cell(width, 7, fit(title, uni), fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        for label, value in rows:
            if value is None or value == "":
                continue
            pdf.set_font(font, "", 9.5)
            pdf.set_text_color(90, 90, 90)
            pdf.cell(48, 6, fit(label, uni))
            pdf.set_text_color(0, 0, 0)
            pdf.set_font(font, "B" if label == t("serial") else "", 10.5)
            pdf.multi_cell(width - 48, 6, fit(value, uni), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    section(t("firearm"), [
        (t("serial"), data.serial), (t("make_model"), f"{data.make} {data.model or ''}".strip()),
        (t("calibre"), data.calibre), (t("kind"), data.kind), (t("folio"), data.folio),
        (t("licence"), data.licence)])
    section(t("officer"), [
        (t("badge"), data.badge), (t("name"), data.officer_name), (t("cuip"), data.cuip),
        (t("credential"), data.credential), (t("of_record"), data.of_record)])
    section(t("issue"), [
        (t("issued_at"), data.issued_at), (t("issued_by"), data.issued_by),
        (t("from"), data.taken_from), (t("entry"), str(data.entry))])

    pdf.set_font(font, "", 10)
    pdf.multi_cell(width, 5.5, fit(t("declaration"), uni), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(22)
    col = (width - 12) / 3
    y = pdf.get_y()
    for i, key in enumerate(("sign_officer", "sign_armorer", "sign_chief")):
        x = 18 + i * (col + 6)
        pdf.line(x, y, x + col, y)
        pdf.set_xy(x, y + 1.5)
        pdf.set_font(font, "B", 9)
        pdf.multi_cell(col, 4.5, fit(t(key), uni), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font(font, "", 8)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(col, 4, fit(t("sign_hint"), uni), align="C")
        pdf.set_text_color(0, 0, 0)
    pdf.set_y(pdf.h - 26)
    pdf.set_font(font, "", 7.5)
    pdf.set_text_color(90, 90, 90)
    footer = gettext(TEXT["footer"]) % {"when": data.printed_at, "entry": data.entry}
    pdf.multi_cell(width, 4, fit(footer, uni))
    return bytes(pdf.output())
