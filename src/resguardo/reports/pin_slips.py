"""PIN slips: each officer's desk PIN on a slip of its own, ten to an A4 page.

The slips are the only place the PINs ever appear in clear (the database keeps
an argon2 hash): the chief cuts them apart along the dashed lines and hands each
officer their own, folded. Every sentence goes through the caller's ``gettext``
(the web interface's catalogue), as for the custody receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from resguardo.reports.pdf_text import fit, new_pdf


def N_(message: str) -> str:
    """Mark a sentence for the translation catalogue."""
    return message


TEXT = {
    "title": N_("Shift desk PIN"),
    "pin": N_("Your PIN"),
    "keep": N_("Learn it and destroy this slip. Nobody at the armory will ask you for it: "
               "you type it yourself at the desk to take a weapon."),
    "lost": N_("Forgot it, or someone saw it? Ask your chief for a new one."),
    "printed": N_("Printed on %(date)s by %(user)s"),
}
COLUMNS, ROWS = 2, 5
SLIP_W, SLIP_H = 105.0, 297.0 / ROWS


@dataclass(frozen=True)
class SlipData:
    agency: str
    badge: str
    name: str
    pin: str


def slips_pdf(slips: Sequence[SlipData], gettext: Callable[..., str], *, printed_on: str,
              printed_by: str) -> bytes:
    def t(key: str, **kw: str) -> str:
        return gettext(TEXT[key], **kw) if kw else gettext(TEXT[key])

    pdf, font, uni = new_pdf(t("title"))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0
    if not slips:
        pdf.add_page()
    for i, slip in enumerate(slips):
        slot = i % (COLUMNS * ROWS)
        if slot == 0:
            pdf.add_page()
            _cut_lines(pdf)
        x, y = (slot % COLUMNS) * SLIP_W, (slot // COLUMNS) * SLIP_H
        inner = SLIP_W - 16
        pdf.set_text_color(90, 90, 90)
        pdf.set_font(font, "", 7.5)
        pdf.set_xy(x + 8, y + 6)
        pdf.multi_cell(inner, 3.3, fit(f"{slip.agency} · {t('title')}", uni), align="L",
                       max_line_height=3.3)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(font, "B", 11)
        pdf.set_xy(x + 8, pdf.get_y() + 1.2)
        pdf.multi_cell(inner, 4.8, fit(f"{slip.badge} · {slip.name}", uni), align="L")
        pdf.set_font(font, "", 8.5)
        pdf.set_xy(x + 8, pdf.get_y() + 1.2)
        pdf.cell(inner, 3.8, fit(t("pin"), uni))
        pdf.set_font(font, "B", 20)
        pdf.set_xy(x + 8, pdf.get_y() + 3.8)
        pdf.cell(inner, 9, " ".join(slip.pin))
        pdf.set_font(font, "", 7)
        pdf.set_xy(x + 8, pdf.get_y() + 9.5)
        pdf.multi_cell(inner, 3.1, fit(f"{t('keep')} {t('lost')}", uni), align="L")
        pdf.set_text_color(120, 120, 120)
        pdf.set_font(font, "", 6.5)
        pdf.set_xy(x + 8, min(pdf.get_y() + 1, y + SLIP_H - 4.5))
        pdf.cell(inner, 3, fit(t("printed", date=printed_on, user=printed_by), uni))
    return bytes(pdf.output())


def _cut_lines(pdf) -> None:  # type: ignore[no-untyped-def]
    pdf.set_draw_color(160, 160, 160)
    pdf.set_dash_pattern(dash=2, gap=2)
    pdf.line(SLIP_W, 0, SLIP_W, 297)
    for r in range(1, ROWS):
        pdf.line(0, r * SLIP_H, 210, r * SLIP_H)
    pdf.set_dash_pattern()
