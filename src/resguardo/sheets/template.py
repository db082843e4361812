"""Blank import templates, written from the same column definitions the importer reads
(``schema.SheetSchema``), so that a template and the importer cannot drift apart.

The first sheet holds one header row (the headers chosen by the caller, each one an
accepted header of its field: checked here); required columns are bold on a shaded
background. A second sheet lists every column, whether it is required and the other
headers accepted for it. The CSV template is the header row alone (UTF-8 with a byte
order mark, so that Excel reads the accents).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from resguardo.sheets.schema import SheetSchema


def headers(schema: SheetSchema, titles: Mapping[str, str]) -> list[str]:
    """One header per field: ``titles[name]`` when the importer recognises it, else the
    field's name (always recognised)."""
    chosen = []
    for f in schema.fields:
        title = titles.get(f.name, f.name)
        chosen.append(title if schema.match(title) == f.name else f.name)
    return chosen


def template_csv(schema: SheetSchema, titles: Mapping[str, str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(headers(schema, titles))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(schema: SheetSchema, titles: Mapping[str, str], *, sheet: str,
                  guide: str, guide_headers: tuple[str, str, str], yes: str,
                  no: str) -> bytes:
    """The XLSX template: ``sheet`` (the header row) and ``guide`` (the columns explained,
    under ``guide_headers``: column, required, also accepted)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    first = book.active
    assert first is not None
    first.title = sheet[:31]
    shaded = PatternFill("solid", fgColor="FFE8B0")
    for col, (f, title) in enumerate(zip(schema.fields, headers(schema, titles), strict=True),
                                     start=1):
        cell = first.cell(row=1, column=col, value=title)
        cell.font = Font(bold=f.required)
        if f.required:
            cell.fill = shaded
        first.column_dimensions[cell.column_letter].width = max(12, len(title) + 4)
    first.freeze_panes = "A2"
    notes = book.create_sheet(guide[:31])
    notes.append(list(guide_headers))
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for f, title in zip(schema.fields, headers(schema, titles), strict=True):
        others = [a for a in (f.name, *f.aliases) if a.casefold() != title.casefold()]
        notes.append([title, yes if f.required else no, ", ".join(others)])
    notes.column_dimensions["A"].width = 32
    notes.column_dimensions["B"].width = 12
    notes.column_dimensions["C"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
