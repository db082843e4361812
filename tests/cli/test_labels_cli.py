"""`resguardo firearm labels`: QR labels to a PDF on the stock chosen for the print."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pages_of(path) -> list:  # type: ignore[no-untyped-def]
    return list(PdfReader(io.BytesIO(path.read_bytes())).pages)


def test_labels_on_a_thermal_roll_one_a_page(cli, tmp_path):
    out = tmp_path / "etiquetas.pdf"
    result = cli("--as", "armero1", "firearm", "labels", "GLK-A100", "glk a200",
                 "--size", "roll-62x29", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 label(s) on 2 page(s) of roll-62x29" in result.stdout
    pages = pages_of(out)
    assert len(pages) == 2
    assert round(float(pages[0].mediabox.width) * 25.4 / 72) == 62
    text = pages[0].extract_text()
    assert "GLK-A100" in text and "Pistola" in text


def test_labels_of_a_filtered_list_on_a_letter_sheet(cli, tmp_path):
    out = tmp_path / "hoja.pdf"
    result = cli("--as", "armero1", "firearm", "labels", "--make", "Glock",
                 "--size", "letter-3x10", "--out", str(out))
    assert result.exit_code == 0, result.output
    pages = pages_of(out)
    assert len(pages) == 1 and round(float(pages[0].mediabox.height) * 25.4 / 72, 1) == 279.4


def test_an_unknown_size_is_refused_naming_the_sizes(cli, tmp_path):
    result = cli("--as", "armero1", "firearm", "labels", "GLK-A100", "--size", "a5",
                 "--out", str(tmp_path / "x.pdf"))
    assert result.exit_code != 0
    assert "a4-3x8" in result.stderr and "roll-51x25" in result.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_pin_slips_are_written_to_a_new_owner_only_file(cli, tmp_path):
    out = tmp_path / "nip.pdf"
    result = cli("--as", "jefe1", "officer", "pin-slips", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 PIN slip(s) for MUN1" in result.stdout
    assert out.stat().st_mode & 0o777 == 0o600
    text = " ".join(pages_of(out)[0].extract_text().split())
    assert "P1 · Ana Ruiz" in text and "Memorícelo y destruya este volante." in text
    again = cli("--as", "jefe1", "officer", "pin-slips", "--out", str(tmp_path / "otra.pdf"))
    assert again.exit_code == 1 and "already has a PIN" in again.stderr
    assert not (tmp_path / "otra.pdf").exists()  # no file left behind a refusal


def test_an_armorer_cannot_print_pin_slips(cli, tmp_path):
    result = cli("--as", "armero1", "officer", "pin-slips", "--out", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1 and "permission" in result.stderr.lower()
    assert not (tmp_path / "x.pdf").exists()
