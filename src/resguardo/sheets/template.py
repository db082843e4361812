"""The headers of a blank import template, chosen from the same column definitions the
importer reads (``schema.SheetSchema``), so that a template and the importer cannot
drift apart (``reports.import_template`` writes the files)."""

from __future__ import annotations

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
