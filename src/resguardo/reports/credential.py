"""The officer's credential and resguardo of his weapons of record (armas de cargo).

One page: the officer, his credential folio and validity, each weapon of record, the
declaration he signs, and a QR code whose signed statement (officer, weapons, date)
anyone checks offline with ``tools/verify_credential.py`` and the deployment's public
credential key: the roadside check of the weapon carried against the credential.

Plain data in, PDF bytes out; every sentence through the caller's ``gettext``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from resguardo.reports.pdf_text import draw_qr, fit, new_pdf


def N_(message: str) -> str:
    """Mark a sentence for the translation catalogue."""
    return message


TEXT = {
    "title": N_("Credential and resguardo of weapons of record"),
    "subtitle": N_("Weapons assigned to the officer long-term (arma de cargo)"),
    "officer": N_("Officer"),
    "badge": N_("Badge"),
    "name": N_("Name"),
    "cuip": N_("CUIP"),
    "folio": N_("Credential folio"),
    "valid": N_("Valid until"),
    "licence": N_("Licence"),
    "weapons": N_("Weapons of record"),
    "serial": N_("Serial"),
    "make_model": N_("Make and model"),
    "kind": N_("Kind"),
    "calibre": N_("Calibre"),
    "reg_folio": N_("Registration folio"),
    "none": N_("No weapon of record is assigned to this officer."),
    "declaration": N_(
        "I keep the weapons of record listed above under my custody and responsibility. I will "
        "carry only them with this credential, on duty and under the agency's collective "
        "licence, present them whenever required, and report at once any loss, theft or "
        "damage."),
    "sign_officer": N_("Officer"),
    "sign_chief": N_("Chief who assigns"),
    "sign_hint": N_("Name and signature"),
    "qr": N_("Signed statement of %(date)s. Check it offline: scan the QR and run "
             "tools/verify_credential.py with the public key below; it answers OK or FAIL."),
    "key": N_("Public credential key"),
    "footer": N_("Printed %(when)s; the QR says what the registry held on that date: a "
                 "weapon withdrawn later still shows on this paper, the newer one prevails."),
}


@dataclass(frozen=True)
class CredentialWeapon:
    serial: str
    make: str
    model: str | None
    kind: str  # in the reader's language
    calibre: str
    folio: str | None


@dataclass(frozen=True)
class CredentialData:
    agency: str
    badge: str
    officer_name: str
    cuip: str | None
    folio: str | None
    valid_until: str | None  # formatted in the reader's locale
    licence: str | None
    weapons: Sequence[CredentialWeapon]
    payload: str  # the QR's text
    statement_date: str  # formatted
    vkey: str
    printed_at: str


def credential_pdf(data: CredentialData, gettext: Callable[[str], str]) -> bytes:
    def t(key: str) -> str:
        return gettext(TEXT[key])

    pdf, font, uni = new_pdf(t("title"))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, 18)
    pdf.add_page()
    width = pdf.w - 36
    qr_size = 52

    pdf.set_font(font, "B", 15)
    pdf.multi_cell(width - qr_size - 4, 7, fit(t("title"), uni), align="L",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 9.5)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(width - qr_size - 4, 5, fit(f"{t('subtitle')} · {data.agency}", uni),
                   align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)

    def rows(items: list[tuple[str, str | None]], value_width: float) -> None:
        for label, value in items:
            if not value:
                continue
            pdf.set_font(font, "", 9.5)
            pdf.set_text_color(90, 90, 90)
            pdf.cell(40, 6, fit(label, uni))
            pdf.set_text_color(0, 0, 0)
            pdf.set_font(font, "B" if label == t("folio") else "", 10.5)
            pdf.multi_cell(value_width, 6, fit(value, uni), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font(font, "B", 11)
    pdf.set_fill_color(236, 240, 245)
    pdf.cell(width - qr_size - 4, 7, fit(t("officer"), uni), fill=True,
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    rows([(t("badge"), data.badge), (t("name"), data.officer_name), (t("cuip"), data.cuip),
          (t("folio"), data.folio), (t("valid"), data.valid_until),
          (t("licence"), data.licence)], width - qr_size - 44)
    draw_qr(pdf, data.payload, pdf.w - 18 - qr_size, 14, qr_size, border=2)
    pdf.set_xy(pdf.w - 18 - qr_size, 14 + qr_size + 1)
    pdf.set_font(font, "", 6.5)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(qr_size, 3, fit(gettext(TEXT["qr"]) % {"date": data.statement_date}, uni),
                   align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(max(pdf.get_y(), 14 + qr_size + 18) + 4)

    pdf.set_font(font, "B", 11)
    pdf.set_fill_color(236, 240, 245)  # the QR left the fill black
    pdf.cell(width, 7, fit(t("weapons"), uni), fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    columns = [(t("serial"), 34.0), (t("make_model"), 46.0), (t("kind"), 28.0),
               (t("calibre"), 30.0), (t("reg_folio"), width - 138.0)]
    if data.weapons:
        pdf.set_font(font, "B", 9)
        for title, w in columns:
            pdf.cell(w, 6, fit(title, uni), border="B")
        pdf.ln(6)
        pdf.set_font(font, "", 9.5)
        for weapon in data.weapons:
            values = [weapon.serial, f"{weapon.make} {weapon.model or ''}".strip(), weapon.kind,
                      weapon.calibre, weapon.folio or "—"]
            for (_title, w), value in zip(columns, values, strict=True):
                pdf.cell(w, 6.5, fit(value, uni), border="B")
            pdf.ln(6.5)
    else:
        pdf.set_font(font, "", 10)
        pdf.multi_cell(width, 6, fit(t("none"), uni), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)

    pdf.set_font(font, "", 10)
    pdf.multi_cell(width, 5.5, fit(t("declaration"), uni), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(22)
    col = (width - 12) / 2
    y = pdf.get_y()
    for i, key in enumerate(("sign_officer", "sign_chief")):
        x = 18 + i * (col + 12)
        pdf.line(x, y, x + col, y)
        pdf.set_xy(x, y + 1.5)
        pdf.set_font(font, "B", 9)
        pdf.multi_cell(col, 4.5, fit(t(key), uni), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font(font, "", 8)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(col, 4, fit(t("sign_hint"), uni), align="C")
        pdf.set_text_color(0, 0, 0)

    pdf.set_auto_page_break(False)  # the footer sits in the bottom margin, on this page
    pdf.set_y(pdf.h - 30)
    pdf.set_font(font, "", 7.5)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(width, 4, fit(f"{t('key')}: {data.vkey}", uni), align="L",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 4, fit(gettext(TEXT["footer"]) % {"when": data.printed_at}, uni),
                   align="L")
    return bytes(pdf.output())
