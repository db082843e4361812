"""QR labels for weapons: one, or a batch on A4 sheets of 3 x 8 labels (70 x 37 mm).

The QR code holds the serial exactly as marked, so a keyboard-wedge scanner
types it into the shift desk or an inspection's scanning screen, and a phone
camera reads it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from resguardo.reports.pdf_text import draw_qr, fit, new_pdf

COLUMNS, ROWS = 3, 8
LABEL_W, LABEL_H = 70.0, 37.0
TOP = (297.0 - ROWS * LABEL_H) / 2
QR = 29.0


@dataclass(frozen=True)
class LabelData:
    serial: str
    make: str
    model: str | None
    calibre: str
    kind: str  # already in the reader's language
    agency: str
    folio: str | None = None


def labels_pdf(items: Sequence[LabelData], *, title: str) -> bytes:
    """A4 sheets of labels, in the order given."""
    pdf, font, uni = new_pdf(title)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    if not items:
        pdf.add_page()
    for i, item in enumerate(items):
        slot = i % (COLUMNS * ROWS)
        if slot == 0:
            pdf.add_page()
        x = (slot % COLUMNS) * LABEL_W
        y = TOP + (slot // COLUMNS) * LABEL_H
        _label(pdf, font, uni, item, x, y)
    return bytes(pdf.output())


def _label(pdf, font: str, uni: bool, item: LabelData, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    pdf.set_draw_color(210, 210, 210)
    pdf.rect(x + 1, y + 1, LABEL_W - 2, LABEL_H - 2)
    draw_qr(pdf, item.serial, x + 3, y + (LABEL_H - QR) / 2, QR)
    tx, tw = x + QR + 5, LABEL_W - QR - 8
    pdf.set_text_color(90, 90, 90)
    pdf.set_font(font, "", 6.5)
    pdf.set_xy(tx, y + 4)
    pdf.cell(tw, 3.2, fit(item.agency, uni)[:48])
    pdf.set_text_color(0, 0, 0)
    size = 11 if len(item.serial) <= 12 else 8.5
    pdf.set_font(font, "B", size)
    pdf.set_xy(tx, y + 9)
    pdf.cell(tw, 5, fit(item.serial, uni))
    pdf.set_font(font, "", 7.5)
    lines = [f"{item.make} {item.model or ''}".strip(), f"{item.calibre} · {item.kind}"]
    if item.folio:
        lines.append(item.folio)
    for n, line in enumerate(lines):
        pdf.set_xy(tx, y + 16 + n * 4)
        pdf.cell(tw, 3.6, fit(line, uni)[:40])
