"""The demonstration deployment holds a closed revista in Sonora whose acta reads right:
Sonora's time (UTC-7, not Mexico City's), the armory's address, the LOC, those present,
every weapon in the annex, the margin signatures on every page."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from pypdf import PdfReader

from resguardo.services import demo, inspections
from resguardo.storage import inspection_queries as q


def test_the_demo_revista_in_sonora_has_a_complete_acta(demo_app):
    app, result = demo_app
    note = next(n for n in result.notes if "Sonora time" in n)
    iid = int(re.search(r"Revista (\d+)", note).group(1))  # type: ignore[union-attr]
    with app.read("inspector_son") as uow:
        pdf, _ = inspections.acta(uow, iid)
        books = [w["serial"] for w in q.annex_books(uow.repo, q.get(uow.repo, iid))]
    app.engine.dispose()
    if os.environ.get("RESGUARDO_KEEP_ACTA"):
        Path(os.environ["RESGUARDO_KEEP_ACTA"]).write_bytes(pdf)  # to look at it
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 3
    for page in pages:
        assert "Firmas al margen" in page and "Cap. 2/o. Luis Moreno Chávez" in page
        assert "Lic. Verónica Ruiz Domínguez" in page and "Sgto. Manuel Torres Juárez" in page
    text = " ".join(pages)
    assert "(America/Hermosillo, UTC-07:00)" in text and "America/Mexico_City" not in text
    assert "Blvd. Luis Encinas y Calle Reforma s/n, Col. Centro Norte, Hermosillo, Sonora" in text
    assert "LOC-SON-0017" in text
    assert "Credencial SEDENA A-4471203" in text and "INE IDMEX2231847765" in text
    assert "Cap. 2/o. Luis Moreno Chávez, Inspector de armamento, 4/a. Zona Militar" in text
    assert len(books) == demo.SONORA[2]
    annex = text[text.index("ANEXO 1"):]
    assert all(serial in annex for serial in books)
