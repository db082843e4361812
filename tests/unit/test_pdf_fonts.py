"""DejaVu Sans read once per process (reports.pdf_text.add_dejavu) makes the very PDF that
fpdf2 makes reading the font for each document, document after document."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fpdf import FPDF

from resguardo.reports.pdf_text import DEJAVU, add_dejavu, has_dejavu

pytestmark = pytest.mark.skipif(not has_dejavu(), reason="DejaVu Sans is not installed")

#: texts using different glyphs: accents, ñ, signs, a character DejaVu lacks (a CJK one)
TEXTS = ("Acta circunstanciada: revista de armamento", "Señor Núñez, ¿presentó la Glock?",
         "Folio Nº 12 – 3/4 ½ € ✓", "名 ausente", "")


def _document(text: str, *, once: bool) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    if once:
        assert add_dejavu(pdf)
    else:
        pdf.add_font("DejaVu", "", str(DEJAVU / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 10, text[:12], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 6, text * 3)
    return bytes(pdf.output())


def test_each_document_is_the_one_fpdf2_makes_reading_the_font_itself() -> None:
    # one after the other, so that what one document used could show in the next
    for text in TEXTS + TEXTS[::-1]:
        assert _document(text, once=True) == _document(text, once=False), text


def test_without_the_font_files_nothing_is_added(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pdf = FPDF()
    assert not add_dejavu(pdf, tmp_path)
    assert "dejavu" not in pdf.fonts
