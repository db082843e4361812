"""Blank import templates (XLSX and CSV), written by the one spreadsheet writer.

The first sheet holds one header row (``sheets.template.headers``: each an accepted
header of its field); required columns are bold on a shaded background. A second sheet
lists every column, whether it is required and the other headers accepted for it. The
CSV template is the header row alone (UTF-8 with a byte order mark, so that Excel reads
the accents).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping

from resguardo.reports.spreadsheets import Table, write_csv, write_xlsx
from resguardo.sheets.schema import SheetSchema
from resguardo.sheets.template import headers


def template_csv(schema: SheetSchema, titles: Mapping[str, str]) -> bytes:
    out = io.StringIO()
    write_csv(out, headers(schema, titles), [])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(schema: SheetSchema, titles: Mapping[str, str], *, sheet: str,
                  guide: str, guide_headers: tuple[str, str, str], yes: str,
                  no: str) -> bytes:
    """The XLSX template: ``sheet`` (the header row) and ``guide`` (the columns explained,
    under ``guide_headers``: column, required, also accepted)."""
    chosen = headers(schema, titles)
    notes = []
    for f, title in zip(schema.fields, chosen, strict=True):
        others = [a for a in (f.name, *f.aliases) if a.casefold() != title.casefold()]
        notes.append([title, yes if f.required else no, ", ".join(others)])
    tables = [Table(sheet, chosen, [], marked=[f.required for f in schema.fields]),
              Table(guide, list(guide_headers), notes)]
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        write_xlsx(path, tables)
        with open(path, "rb") as written:
            return written.read()
    finally:
        os.remove(path)
