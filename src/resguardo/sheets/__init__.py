"""Spreadsheets as people write them: CSV (any common delimiter and encoding) and XLSX.

``open_sheet`` finds the header and maps columns to a schema's fields;
``read_registry`` and ``read_count`` stream the domain values of the two
sheets an inspection uses. Reused by bulk import.
"""

from resguardo.sheets.dates import DateError, parse_date, parse_moment
from resguardo.sheets.firearms import count_scans, read_count, read_registry, registry_entries
from resguardo.sheets.reader import Record, Sheet, is_blank, open_sheet
from resguardo.sheets.schema import COUNT_SHEET, REGISTRY_SHEET, Field, SheetSchema, fold_header

__all__ = [
    "COUNT_SHEET",
    "REGISTRY_SHEET",
    "DateError",
    "Field",
    "Record",
    "Sheet",
    "SheetSchema",
    "count_scans",
    "fold_header",
    "is_blank",
    "open_sheet",
    "parse_date",
    "parse_moment",
    "read_count",
    "read_registry",
    "registry_entries",
]
