"""What the PDFs of labels and receipts share: fonts, text that fits them, QR codes.

DejaVu Sans when the system has it (any Unicode text); otherwise fpdf2's core
Helvetica, with text reduced to Latin-1 (accents kept, other characters
approximated), so a PDF is always produced.
"""

from __future__ import annotations

import copy
import functools
import unicodedata
from collections import defaultdict
from pathlib import Path

import segno
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

#: Where Debian's fonts-dejavu-core puts DejaVu Sans.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def new_pdf(title: str) -> tuple[FPDF, str, bool]:
    """An A4 document with a body font: (pdf, font family, unicode font?)."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("Resguardo")
    if add_dejavu(pdf):
        return pdf, "DejaVu", True
    return pdf, "helvetica", False


def add_dejavu(pdf: FPDF, fonts: Path = DEJAVU) -> bool:
    """Give ``pdf`` DejaVu Sans, regular and bold, as family "DejaVu", when ``fonts`` has
    both files; False when it has not (the caller falls back to a core font).

    This is what ``pdf.add_font`` does, but fpdf2 reads a font's tables again for every
    document: the widths and glyph ids of DejaVu's 6,000 glyphs, 70 ms a font, most of
    the time an acta, a receipt or a label sheet takes. They are read once per process
    here (``_read``) and each document gets its own copy (``_copy_for``): its own handle on
    the font file and its own subset, since fpdf2 cuts a document's font down to the
    glyphs it used, in place, when it writes it. tests/unit/test_pdf_fonts.py holds the
    result to fpdf2's own, byte for byte.
    """
    if not has_dejavu(fonts):
        return False
    for style, path in (("", fonts / "DejaVuSans.ttf"), ("B", fonts / "DejaVuSans-Bold.ttf")):
        font = _copy_for(pdf, _read(str(path), style))
        pdf.fonts[font.fontkey] = font
    return True


def has_dejavu(fonts: Path = DEJAVU) -> bool:
    """Whether ``fonts`` holds DejaVu Sans, regular and bold."""
    return all((fonts / name).is_file() for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"))


@functools.lru_cache(maxsize=8)
def _read(path: str, style: str) -> TTFFont:
    probe = FPDF()
    probe.add_font("DejaVu", style, path)
    font = probe.fonts[f"dejavu{style}"]
    assert isinstance(font, TTFFont)
    return font


def _copy_for(pdf: FPDF, read: TTFFont) -> TTFFont:
    """A copy of a font ``_read`` read, for one document (as ``TTFFont.__init__`` leaves
    a new font: nothing of it used yet)."""
    font = copy.copy(read)  # what is never changed after reading is shared
    font.i = len(pdf.fonts) + 1
    font.ttfont = ttLib.TTFont(read.ttffile, recalcTimestamp=False,
                               fontNumber=read.collection_font_number, lazy=True)
    font.desc = copy.copy(read.desc)  # given a name and a number when written
    widths = read.cw
    assert isinstance(widths, defaultdict)  # an unknown character has the missing width
    font.cw = defaultdict(widths.default_factory, widths)
    font.glyph_ids = dict(read.glyph_ids)
    font.cmap = dict(read.cmap)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    return font


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
