"""Cells a spreadsheet program would run as a formula, and how exports keep them inert.

Text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is a formula to Excel, LibreOffice and Google Sheets when a CSV is opened
(and may run commands: "CSV injection"). Resguardo stores such text as it
was typed and neutralizes it on the way out:

- CSV: the cell is written with a leading apostrophe (``'=1+2``), which
  spreadsheet programs show as text; reading a CSV back, an apostrophe
  before one of those characters is taken off again (``restore``), so an
  exported file re-imports to the values it came from;
- XLSX: the cell is stored as a string (never as a formula) and marked
  "quote prefix", so it stays text even when someone edits it.
"""

from __future__ import annotations

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(text: str) -> bool:
    """Whether a spreadsheet program would treat ``text`` as a formula."""
    return text.startswith(TRIGGERS)


def neutralize(text: str) -> str:
    """The CSV form of a cell: risky text gets a leading apostrophe."""
    return "'" + text if text.startswith(TRIGGERS) else text


def restore(text: str) -> str:
    """Undo ``neutralize`` on a cell read from CSV (other text is returned as it is)."""
    if text.startswith("'") and text[1:].startswith(TRIGGERS):
        return text[1:]
    return text
