"""QR labels for weapons, in the sizes agencies print: sheets of labels (A4 and
US Letter) and roll labels for a thermal printer, chosen per print.

The QR code holds the serial exactly as marked, so a keyboard-wedge scanner
types it into the shift desk or an inspection's scanning screen, and a phone
camera reads it too.

Text never runs past its label: each line is first set at the size the label
allows, shrunk (down to a legible minimum) until it fits its width, then
wrapped onto more lines (a serial, which has no spaces, between characters) and,
only if a line still cannot fit, cut with "…" (the QR keeps the whole serial).
When a small label has no room for every line, the folio and then the agency
name give way; the serial, make, model, calibre and kind are always printed.
:func:`layout` returns what is drawn and where, so tests check every width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fpdf import FPDF

from resguardo.domain.errors import ValidationFailed
from resguardo.reports.pdf_text import draw_qr, fit, new_pdf

PT = 25.4 / 72  # millimetres per typographic point
LEADING = 1.18  # line height as a multiple of the font size
ELLIPSIS = "…"


@dataclass(frozen=True)
class LabelSize:
    """A label stock: the page, the label, and how labels sit on the page."""

    code: str
    name: str  # English; the web interface translates it
    page: tuple[float, float]  # width, height in mm
    label: tuple[float, float]
    columns: int = 1
    rows: int = 1
    left: float = 0.0  # first label's top-left corner on the page
    top: float = 0.0
    pitch: tuple[float, float] | None = None  # label to label, across and down

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def roll(self) -> bool:
        return self.per_page == 1

    def origin(self, slot: int) -> tuple[float, float]:
        across, down = self.pitch or self.label
        return (self.left + (slot % self.columns) * across,
                self.top + (slot // self.columns) * down)


SIZES: dict[str, LabelSize] = {s.code: s for s in (
    LabelSize("a4-3x8", "A4 sheet, 24 labels of 70 x 37 mm (3 x 8)", (210.0, 297.0),
              (70.0, 37.0), 3, 8, 0.0, (297.0 - 8 * 37.0) / 2),
    LabelSize("letter-3x10", "US Letter sheet, 30 labels of 2 5/8 x 1 in (3 x 10, as Avery 5160)",
              (215.9, 279.4), (66.675, 25.4), 3, 10, 4.7625, 12.7, (69.85, 25.4)),
    LabelSize("roll-62x29", "Roll, one label of 62 x 29 mm a page (thermal printer)",
              (62.0, 29.0), (62.0, 29.0)),
    LabelSize("roll-51x25", "Roll, one label of 2 x 1 in (51 x 25 mm) a page (thermal printer)",
              (50.8, 25.4), (50.8, 25.4)),
)}
DEFAULT_SIZE = "a4-3x8"


def label_size(code: str | None) -> LabelSize:
    """The stock named ``code`` (the default when empty); a clear refusal otherwise."""
    found = SIZES.get((code or DEFAULT_SIZE).strip().lower())
    if found is None:
        raise ValidationFailed(f"unknown label size {code!r}; one of: {', '.join(SIZES)}",
                               field="size", value=code)
    return found


@dataclass(frozen=True)
class LabelData:
    serial: str
    make: str
    model: str | None
    calibre: str
    kind: str  # already in the reader's language
    agency: str
    folio: str | None = None


@dataclass(frozen=True)
class Placed:
    """One line of text on a label: drawn with ``cell(w, h, text)`` at (x, y)."""

    text: str
    style: str  # "" or "B"
    size: float  # points
    x: float
    y: float
    w: float
    h: float
    grey: bool = False


@dataclass(frozen=True)
class LabelLayout:
    qr: tuple[float, float, float]  # x, y, side
    lines: list[Placed]


@dataclass(frozen=True)
class _Field:
    text: str
    style: str
    size: float  # nominal size on a 37 mm high label
    minimum: float
    max_lines: int
    grey: bool = False
    droppable: int = 0  # 0: always printed; higher gives way first


def _fields(item: LabelData) -> list[_Field]:
    found = [
        _Field(item.agency, "", 6.5, 4.5, 2, grey=True, droppable=2),
        _Field(item.serial, "B", 11.0, 6.0, 4),
        _Field(f"{item.make} {item.model or ''}".strip(), "", 7.5, 5.0, 2),
        _Field(f"{item.calibre} · {item.kind}", "", 7.5, 5.0, 2),
    ]
    if item.folio:
        found.append(_Field(item.folio, "", 7.5, 5.0, 2, droppable=1))
    return [f for f in found if f.text]


def _width(pdf: FPDF, font: str, style: str, size: float, text: str) -> float:
    pdf.set_font(font, style, size)
    return float(pdf.get_string_width(text))


def _wrap(pdf: FPDF, font: str, style: str, size: float, text: str, width: float) -> list[str]:
    """Lines within ``width``: between words, and inside a word too long for a line."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _width(pdf, font, style, size, candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        while _width(pdf, font, style, size, word) > width:
            cut = len(word)
            while cut > 1 and _width(pdf, font, style, size, word[:cut]) > width:
                cut -= 1
            dash = max(word.rfind("-", 0, cut), word.rfind("/", 0, cut))
            if dash >= cut // 2:  # a serial breaks after a dash when one is near
                cut = dash + 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def _ellipsize(pdf: FPDF, font: str, style: str, size: float, text: str, width: float) -> str:
    mark = ELLIPSIS if font != "helvetica" else "..."  # the core font has no "…"
    while text and _width(pdf, font, style, size, text + mark) > width:
        text = text[:-1]
    return text + mark


def _set(pdf: FPDF, font: str, field: _Field, scale: float, width: float,
         max_lines: int, cap: float | None = None) -> tuple[float, list[str]]:
    """The size and lines of one field within ``width``: shrink, then wrap, then cut."""
    size = max(field.minimum, round(field.size * scale * 4) / 4)
    if cap is not None:
        size = min(size, cap)
    floor = min(field.minimum, size)
    while size > floor and _width(pdf, font, field.style, size, field.text) > width:
        size = max(floor, size - 0.25)
    if _width(pdf, font, field.style, size, field.text) <= width:
        return size, [field.text]
    lines = _wrap(pdf, font, field.style, size, field.text, width)
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1:])
        lines = lines[:max_lines - 1] + [_ellipsize(pdf, font, field.style, size, rest, width)]
    return size, lines


def layout(pdf: FPDF, font: str, size: LabelSize, item: LabelData, x: float = 0.0,
           y: float = 0.0) -> LabelLayout:
    """Where the QR code and each line of text go on one label whose corner is (x, y)."""
    w, h = size.label
    pad = max(1.5, min(3.0, h * 0.08))
    side = min(h - 2 * pad, w * 0.42)
    qr = (x + pad, y + (h - side) / 2, side)
    tx = x + pad + side + 1.5
    tw = x + w - pad - tx
    room = h - 2 * pad
    scale = min(1.0, h / 37.0)
    fields = _fields(item)
    for budget in (None, 1):  # then every field on one line, before any gives way
        for dropping in (0, 1, 2):  # then the folio, then the agency give way
            kept = [fi for fi in fields if fi.droppable == 0 or fi.droppable > dropping]
            set_ = [(fi, *_set(pdf, font, fi, scale, tw, budget or fi.max_lines)) for fi in kept]
            # the plain lines share one size: the smallest any of them needed
            body = min(sz for fi, sz, _ in set_ if fi.style == "" and not fi.grey)
            set_ = [(fi, sz, lines) if fi.style or fi.grey
                    else (fi, *_set(pdf, font, fi, scale, tw, budget or fi.max_lines, body))
                    for fi, sz, lines in set_]
            height = sum(len(lines) * sz * PT * LEADING for _, sz, lines in set_)
            if height <= room:
                return LabelLayout(qr, _place(set_, tx, y + pad + (room - height) / 2, tw))
    raise ValueError(f"a label of {w} x {h} mm cannot hold its serial")  # sizes are fixed


def _place(set_: list[tuple[_Field, float, list[str]]], x: float, y: float,
           w: float) -> list[Placed]:
    placed = []
    for field, size, lines in set_:
        line_h = size * PT * LEADING
        for line in lines:
            placed.append(Placed(line, field.style, size, x, y, w, line_h, field.grey))
            y += line_h
    return placed


def labels_pdf(items: Sequence[LabelData], *, title: str, size: str | None = None) -> bytes:
    """Labels on the chosen stock (``SIZES``), in the order given."""
    stock = label_size(size)
    pdf, font, uni = new_pdf(title)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0  # a cell's text starts at its left edge: the layout pads the label
    items = [_printable(item, uni) for item in items]
    if not items:
        pdf.add_page(format=stock.page)
    for i, item in enumerate(items):
        slot = i % stock.per_page
        if slot == 0:
            pdf.add_page(format=stock.page)
        x, y = stock.origin(slot)
        _draw(pdf, font, stock, item, x, y)
    return bytes(pdf.output())


def _printable(item: LabelData, uni: bool) -> LabelData:
    return LabelData(serial=fit(item.serial, uni), make=fit(item.make, uni),
                     model=fit(item.model, uni) if item.model else None,
                     calibre=fit(item.calibre, uni), kind=fit(item.kind, uni),
                     agency=fit(item.agency, uni),
                     folio=fit(item.folio, uni) if item.folio else None)


def _draw(pdf: FPDF, font: str, stock: LabelSize, item: LabelData, x: float, y: float) -> None:
    w, h = stock.label
    if not stock.roll:  # a cutting guide on sheets; a roll's labels are already cut
        pdf.set_draw_color(210, 210, 210)
        pdf.rect(x + 1, y + 1, w - 2, h - 2)
    plan = layout(pdf, font, stock, item, x, y)
    draw_qr(pdf, item.serial, *plan.qr, border=2)
    for line in plan.lines:
        pdf.set_text_color(*((90, 90, 90) if line.grey else (0, 0, 0)))
        pdf.set_font(font, line.style, line.size)
        pdf.set_xy(line.x, line.y)
        pdf.cell(line.w, line.h, line.text)
