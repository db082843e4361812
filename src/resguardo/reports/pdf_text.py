"""What the PDFs of labels and receipts share: fonts, text that fits them, QR codes.

DejaVu Sans when the system has it (any Unicode text); otherwise fpdf2's core
Helvetica, with text reduced to Latin-1 (accents kept, other characters
approximated), so a PDF is always produced.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import segno
from fpdf import FPDF

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def new_pdf(title: str) -> tuple[FPDF, str, bool]:
    """An A4 document with a body font: (pdf, font family, unicode font?)."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("Resguardo")
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    if regular.is_file() and bold.is_file():
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        return pdf, "DejaVu", True
    return pdf, "helvetica", False


def fit(text: str | None, unicode_font: bool) -> str:
    """Text the chosen font can draw."""
    value = text or ""
    if unicode_font:
        return value
    out = []
    for ch in value:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            bare = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(bare or "?")
    return "".join(out)


def wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` in the current font: broken between words,
    and inside a word only when the word alone is wider (a table cell shows all of it)."""
    if pdf.get_string_width(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if pdf.get_string_width(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:
            if line and pdf.get_string_width(line + ch) > width:
                lines.append(line)
                line = ""
            line += ch
    lines.append(line)
    return lines


def draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float, border: int = 3) -> None:
    """A QR code (never a Micro QR: phone cameras and most scanners need the full symbol)."""
    qr = segno.make_qr(data, error="m")
    rows = [list(row) for row in qr.matrix_iter(border=border)]
    module = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(x + start * module, y + r * module, (c - start) * module, module,
                         style="F")
            else:
                c += 1
