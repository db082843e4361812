"""QR labels in every size an agency prints: each text fits its place, never overflows."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from resguardo.domain.errors import ValidationFailed
from resguardo.reports.labels import SIZES, LabelData, label_size, labels_pdf, layout
from resguardo.reports.pdf_text import new_pdf

LONG = LabelData(
    serial="SMT-2024-GDL-000123456789-XK", make="Heckler & Koch",
    model="MP5A3 Subametralladora", calibre="9x19mm", kind="Subametralladora",
    agency="Secretaría de Seguridad Ciudadana de Guadalajara",
    folio="FOLIO-SEDENA-2024-000987654")
WIDEST = LabelData(  # every field at its longest, in the widest letters
    serial="W" * 40, make="Smith & Wesson " * 4, model="M" * 60,
    calibre="5.56x45mm NATO / .223 Remington", kind="Subametralladora",
    agency="Guadalajara " * 12, folio="W" * 64)
SHORT = LabelData(serial="GLK-A100", make="Glock", model="17", calibre="9x19mm",
                  kind="Pistola", agency="Policía Municipal de Guadalajara", folio="F-1")
MM_PER_PT = 25.4 / 72


@pytest.mark.parametrize("code", sorted(SIZES))
@pytest.mark.parametrize("item", [LONG, WIDEST, SHORT], ids=["long", "widest", "short"])
def test_every_text_fits_its_cell_and_the_label(code: str, item: LabelData) -> None:
    stock = SIZES[code]
    pdf, font, _ = new_pdf("t")
    plan = layout(pdf, font, stock, item)
    w, h = stock.label
    qx, qy, side = plan.qr
    assert qx > 0 and qx + side < w and qy > 0 and qy + side < h
    for line in plan.lines:
        pdf.set_font(font, line.style, line.size)
        assert pdf.get_string_width(line.text) <= line.w + 1e-6, (code, line)
        assert line.x >= qx + side and line.x + line.w <= w, (code, line)
        assert line.y >= 0 and line.y + line.h <= h + 1e-6, (code, line)
        assert line.size >= 4.5, (code, line)  # still legible
    if item is not WIDEST:  # nothing cut: the serial whole, the kind and calibre in words
        assert "".join(line.text for line in plan.lines if line.style == "B") == item.serial
        shown = " ".join(line.text for line in plan.lines)
        assert item.kind in shown and item.calibre in shown and "…" not in shown


def test_a_long_serial_breaks_after_a_dash_not_inside_a_number() -> None:
    pdf, font, _ = new_pdf("t")
    plan = layout(pdf, font, SIZES["roll-51x25"], LONG)
    serial = [line.text for line in plan.lines if line.style == "B"]
    assert serial == ["SMT-2024-GDL-", "000123456789-XK"]


@pytest.mark.parametrize("code", sorted(SIZES))
def test_each_stock_prints_its_page_size_and_labels_a_page(code: str) -> None:
    stock = SIZES[code]
    reader = PdfReader(io.BytesIO(
        labels_pdf([SHORT] * (stock.per_page + 1), title="t", size=code)))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72, 1), round(float(box.height) * 25.4 / 72, 1)) \
        == (round(stock.page[0], 1), round(stock.page[1], 1))
    across, down = stock.pitch or stock.label
    right = stock.left + (stock.columns - 1) * across + stock.label[0]
    bottom = stock.top + (stock.rows - 1) * down + stock.label[1]
    assert right <= stock.page[0] + 1e-6 and bottom <= stock.page[1] + 1e-6


def test_an_unknown_size_is_refused_naming_the_sizes() -> None:
    with pytest.raises(ValidationFailed) as err:
        label_size("a5")
    assert "a4-3x8" in str(err.value) and err.value.details["field"] == "size"
    assert label_size(None).code == "a4-3x8"


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) needed")
@pytest.mark.parametrize("code", ["roll-51x25", "roll-62x29"])
def test_a_roll_label_rendered_leaves_its_edges_blank(code: str, tmp_path: Path) -> None:
    """Rendered as the printer would: no ink reaches the label's last millimetre."""
    (tmp_path / "l.pdf").write_bytes(labels_pdf([LONG, WIDEST], title="t", size=code))
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-gray", str(tmp_path / "l.pdf"),
                    str(tmp_path / "l")], check=True)
    pages = sorted(tmp_path.glob("l-*.png"))
    assert len(pages) == 2
    for page in pages:
        img = Image.open(page).convert("L")
        w, h = img.size
        edge = round(300 / 25.4)  # one millimetre in pixels
        for box in ((w - edge, 0, w, h), (0, h - edge, w, h), (0, 0, w, edge), (0, 0, edge, h)):
            assert img.crop(box).getextrema()[0] > 200, (code, page.name, box)
