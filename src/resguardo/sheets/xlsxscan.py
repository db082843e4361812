"""A workbook's XML read as a stream, with a budget, before any reader trusts it.

``scan_workbook`` inflates each XML member of an ``.xlsx`` in small chunks and
runs it through expat without building a tree, so that it holds a few hundred
kilobytes whatever the file. It refuses the workbook, naming what was
exceeded and the limit, when:

- the XML inflated so far passes ``max_inflated`` bytes (all members together);
- the sheets hold more cells than ``max_cells`` (counted as a reader fills
  them: a row whose only cell is at column XFD counts 16,384);
- the shared-string table holds more than ``max_strings`` strings or more than
  ``max_shared_text`` bytes of text;
- the scan takes longer than ``max_seconds`` (no file keeps an import busy
  for minutes before it is refused);
- the XML is nested deeper than 64 elements (a sheet needs about eight), one
  piece of markup (a tag, a comment, a processing instruction) is longer than
  1 MiB, or one element's text is longer than 1 MiB;
- one row, or one shared string, is longer than 16 MiB of XML (a reader
  holds it whole), or a row has more cells than Excel's 16,384 columns;
- the styles hold more than 50,000 elements (Excel itself keeps under 65,000
  formats), another part the reader parses whole (the list of parts, the
  relations, the workbook, external links) more than 200,000, or one of these
  declares more than 16 MiB; or it declares a document type (entities; no
  workbook has one). Parts the reader never opens (properties, theme,
  drawings, comments, pivot caches) are only checked for their XML's shape
  and counted in the inflated bytes.

expat before 2.6 parses a token that spans chunks again with every chunk, so a
long comment costs time quadratic in its length; the 1 MiB markup limit is
checked after every 64 KiB chunk, which keeps that cost to milliseconds.
"""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

_CHUNK = 64 * 1024
MAX_DEPTH = 64
MAX_MARKUP = 1 << 20
MAX_TEXT = 1 << 20
MAX_STYLE_ELEMENTS = 50_000
MAX_PART_ELEMENTS = 200_000
MAX_ITEM = 16 << 20
MAX_WHOLE_PART = 16 << 20
#: Excel's last column (XFD) and last row.
LAST_COLUMN = 16_384
LAST_ROW = 1_048_576


class Budget:
    """What a scan may spend (see the module docstring); ``0`` switches a limit off."""

    __slots__ = ("max_inflated", "max_cells", "max_strings", "max_shared_text", "max_seconds")

    def __init__(self, max_inflated: int, max_cells: int, max_strings: int,
                 max_shared_text: int, max_seconds: float) -> None:
        self.max_inflated = max_inflated
        self.max_cells = max_cells
        self.max_strings = max_strings
        self.max_shared_text = max_shared_text
        self.max_seconds = max_seconds


@dataclass(slots=True)
class ScanResult:
    """What the scan counted (for messages and tests)."""

    inflated: int = 0
    cells: int = 0
    rows: int = 0
    strings: int = 0
    shared_text: int = 0
    seconds: float = 0.0


class Exceeded(Exception):
    """A budget or structural limit was passed: ``message`` says which and its limit."""

    def __init__(self, message: str, limit: str, value: str = "", part: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.value = value
        self.part = part


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MiB"


def _column(ref: str) -> int:
    """The 1-based column of a cell reference (``AB12`` -> 28); 0 when it has none."""
    col = 0
    for ch in ref:
        o = ord(ch)
        if 65 <= o <= 90:
            col = col * 26 + o - 64
        elif 97 <= o <= 122:
            col = col * 26 + o - 96
        else:
            break
        if col > LAST_COLUMN:
            return col
    return col


def _row_number(ref: str) -> int:
    digits = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    return int(digits) if digits.isdigit() and len(digits) < 10 else 0


class _Member:
    """Scanning one member: the expat callbacks and their counters."""

    def __init__(self, scan: _Scan, name: str, kind: str, size: int = 0) -> None:
        self.scan = scan
        self.name = name
        self.kind = kind  # "sheet", "strings", "styles" or "other"
        self.size = size
        #: a part the reader parses whole (a tree in memory): its elements are counted
        self.whole = _whole(name)
        self.depth = 0
        self.text = 0
        self.elements = 0
        self.last_event = 0
        # sheets: the row being read, its widest column, the last cell's column
        self.row = 0
        self.in_row = False
        self.row_width = 0
        self.row_cells = 0
        self.col = 0
        # shared strings: inside <si>, inside a phonetic run <rPh>
        self.in_si = False
        self.in_rph = 0
        # where the row or shared string being read began (a reader holds it whole)
        self.item_start = -1
        p = expat.ParserCreate()
        p.buffer_text = True
        p.buffer_size = _CHUNK
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.chars
        p.CommentHandler = self.other
        p.ProcessingInstructionHandler = self.pi
        p.StartDoctypeDeclHandler = self.doctype
        p.EntityDeclHandler = self.entity
        self.parser = p

    def refuse(self, message: str, limit: str, value: object = "") -> Exceeded:
        return Exceeded(f"{self.name}: {message}", limit, str(value), self.name)

    def doctype(self, *_args: Any) -> None:
        raise self.refuse("declares a document type (entities); a workbook has none",
                          "doctype")

    def entity(self, *_args: Any) -> None:
        raise self.refuse("declares an entity; a workbook has none", "doctype")

    def other(self, *_args: Any) -> None:
        self.last_event = self.parser.CurrentByteIndex

    def pi(self, *_args: Any) -> None:
        self.last_event = self.parser.CurrentByteIndex

    def long_item(self) -> Exceeded:
        what = "row" if self.kind == "sheet" else "shared string"
        return self.refuse(f"one {what} is longer than {_mib(MAX_ITEM)} of XML "
                           f"(limit {_mib(MAX_ITEM)})", "item", _mib(MAX_ITEM))

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        at = self.last_event = self.parser.CurrentByteIndex
        if self.item_start >= 0 and at - self.item_start > MAX_ITEM:
            raise self.long_item()
        self.depth += 1
        self.text = 0
        if self.depth > MAX_DEPTH:
            raise self.refuse(f"XML nested more than {MAX_DEPTH} elements deep", "depth",
                              MAX_DEPTH)
        kind = self.kind
        if self.depth == 1:
            # judged by what the part is, not by where it sits in the archive
            local = tag[tag.find(":") + 1:]
            kind = self.kind = _ROOTS.get(local, kind)
            if local == "workbook":  # the workbook part, wherever the package puts it
                self.whole = True
                if self.size > MAX_WHOLE_PART:
                    raise self.refuse(
                        f"declares {_mib(self.size)}; a part read whole may hold "
                        f"{_mib(MAX_WHOLE_PART)} (limit {_mib(MAX_WHOLE_PART)})", "part",
                        _mib(MAX_WHOLE_PART))
        if kind == "sheet":
            local = tag[tag.find(":") + 1:]
            if local == "c":
                self.row_cells += 1
                if self.row_cells > LAST_COLUMN:
                    raise self.refuse(
                        f"a row holds more than {LAST_COLUMN:,} cells, Excel's last column",
                        "columns", f"{LAST_COLUMN:,}")
                ref = attrs.get("r")
                col = _column(ref) if ref else self.col + 1
                if col == 0:
                    col = self.col + 1
                if col > LAST_COLUMN:
                    raise self.refuse(
                        f"a cell at column {col:,}, past Excel's last column "
                        f"({LAST_COLUMN:,})", "columns", f"{LAST_COLUMN:,}")
                self.col = col
                if col > self.row_width:
                    self.row_width = col
            elif not self.in_row and local != "row" and local != "sheetData":
                self.elements += 1
                if self.elements > MAX_STYLE_ELEMENTS:
                    raise self.refuse(
                        f"the sheet holds more than {MAX_STYLE_ELEMENTS:,} elements outside "
                        f"its rows (limit {MAX_STYLE_ELEMENTS:,})", "elements",
                        f"{MAX_STYLE_ELEMENTS:,}")
            if local == "row":
                ref = attrs.get("r")
                number = _row_number(ref) if ref else self.row + 1
                if number == 0:
                    number = self.row + 1
                if number > LAST_ROW:
                    raise self.refuse(
                        f"row {number:,} is past Excel's last row ({LAST_ROW:,})", "rows",
                        f"{LAST_ROW:,}")
                self.row = number
                self.in_row = True
                self.item_start = at
                self.row_width = 0
                self.row_cells = 0
                self.col = 0
                self.scan.result.rows += 1
        elif kind == "strings":
            local = tag[tag.find(":") + 1:]
            if local == "si":
                self.in_si = True
                self.item_start = at
                result = self.scan.result
                result.strings += 1
                limit = self.scan.budget.max_strings
                if limit and result.strings > limit:
                    raise self.refuse(
                        f"the shared-string table holds more than {limit:,} strings "
                        f"(limit {limit:,}); save the sheet as CSV", "strings", f"{limit:,}")
            elif local == "rPh":
                self.in_rph += 1
        elif kind == "styles":
            self.elements += 1
            if self.elements > MAX_STYLE_ELEMENTS:
                raise self.refuse(
                    f"the styles hold more than {MAX_STYLE_ELEMENTS:,} elements "
                    f"(limit {MAX_STYLE_ELEMENTS:,})", "styles", f"{MAX_STYLE_ELEMENTS:,}")
        elif self.whole:
            self.elements += 1
            if self.elements > MAX_PART_ELEMENTS:
                raise self.refuse(
                    f"the part holds more than {MAX_PART_ELEMENTS:,} elements "
                    f"(limit {MAX_PART_ELEMENTS:,})", "elements", f"{MAX_PART_ELEMENTS:,}")

    def end(self, tag: str) -> None:
        self.last_event = self.parser.CurrentByteIndex
        self.depth -= 1
        self.text = 0
        if self.kind == "sheet" and self.in_row:
            if tag == "row" or tag.endswith(":row"):
                self.in_row = False
                self.item_start = -1
                result = self.scan.result
                result.cells += self.row_width
                limit = self.scan.budget.max_cells
                if limit and result.cells > limit:
                    raise self.refuse(
                        f"the sheets hold more than {limit:,} cells (limit {limit:,}, "
                        "counting the empty cells before the last one of each row)",
                        "cells", f"{limit:,}")
        elif self.kind == "strings":
            local = tag[tag.find(":") + 1:]
            if local == "si":
                self.in_si = False
                self.item_start = -1
            elif local == "rPh":
                self.in_rph -= 1

    def chars(self, data: str) -> None:
        at = self.last_event = self.parser.CurrentByteIndex
        if self.item_start >= 0 and at - self.item_start > MAX_ITEM:
            raise self.long_item()
        self.text += len(data)
        if self.text > MAX_TEXT:
            raise self.refuse(
                f"one element holds more than {MAX_TEXT:,} characters of text "
                f"(limit {MAX_TEXT:,})", "text", f"{MAX_TEXT:,}")
        if self.kind == "strings" and self.in_si and not self.in_rph:
            result = self.scan.result
            result.shared_text += len(data.encode("utf-8", "surrogatepass"))
            limit = self.scan.budget.max_shared_text
            if limit and result.shared_text > limit:
                raise self.refuse(
                    f"the shared-string table holds more than {_mib(limit)} of text "
                    f"(limit {_mib(limit)}); save the sheet as CSV", "shared_text",
                    _mib(limit))


_ROOTS = {"worksheet": "sheet", "sst": "strings", "styleSheet": "styles"}


class _Scan:
    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.result = ScanResult()
        self.started = time.monotonic()

    def member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, kind: str) -> None:
        budget = self.budget
        result = self.result
        m = _Member(self, info.filename, kind, info.file_size)
        fed = 0
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                fed += len(chunk)
                result.inflated += len(chunk)
                if budget.max_inflated and result.inflated > budget.max_inflated:
                    raise Exceeded(
                        f"its XML inflates past {_mib(budget.max_inflated)} "
                        f"(limit {_mib(budget.max_inflated)}, reached in {info.filename})",
                        "inflated", _mib(budget.max_inflated), info.filename)
                m.parser.Parse(chunk, False)
                if fed - m.last_event > MAX_MARKUP:
                    raise m.refuse(
                        f"one piece of markup (a tag, comment or instruction) is longer "
                        f"than {_mib(MAX_MARKUP)} (limit {_mib(MAX_MARKUP)})", "markup",
                        _mib(MAX_MARKUP))
                if budget.max_seconds and time.monotonic() - self.started > budget.max_seconds:
                    raise Exceeded(
                        f"reading it took longer than {budget.max_seconds:g} seconds "
                        f"(limit {budget.max_seconds:g} s, in {info.filename})", "seconds",
                        f"{budget.max_seconds:g}", info.filename)
            m.parser.Parse(b"", True)


def _whole(name: str) -> bool:
    """Whether the reader parses this part whole: the package's list of parts, the
    relations, the workbook and its external links (styles are counted apart; the
    properties, theme, drawings, comments and pivot caches are never read)."""
    low = name.lower()
    return (low == "[content_types].xml" or low.endswith(".rels")
            or low == "xl/workbook.xml" or low.startswith("xl/externallinks/"))


def _kind(name: str) -> str | None:
    low = name.lower()
    if not (low.endswith(".xml") or low.endswith(".rels") or low.endswith(".vml")):
        return None
    if low.startswith("xl/worksheets/") and low.count("/") == 2:
        return "sheet"
    if low == "xl/sharedstrings.xml":
        return "strings"
    if low == "xl/styles.xml":
        return "styles"
    return "other"


def scan_workbook(archive: zipfile.ZipFile, budget: Budget) -> ScanResult:
    """Scan every XML member of an open workbook; raise ``Exceeded`` naming what failed."""
    scan = _Scan(budget)
    members = [(info, kind) for info in archive.infolist() if (kind := _kind(info.filename))]
    for info, kind in members:
        if (kind == "styles" or _whole(info.filename)) and info.file_size > MAX_WHOLE_PART:
            raise Exceeded(
                f"{info.filename}: declares {_mib(info.file_size)}; a part read whole "
                f"may hold {_mib(MAX_WHOLE_PART)} (limit {_mib(MAX_WHOLE_PART)})", "part",
                _mib(MAX_WHOLE_PART), info.filename)
    # the small parts first, the sheets last: a bad one is refused before the long read
    order = {"other": 0, "styles": 1, "strings": 2, "sheet": 3}
    members.sort(key=lambda pair: (order[pair[1]], pair[0].file_size))
    for info, kind in members:
        try:
            scan.member(archive, info, kind)
        except expat.ExpatError as exc:
            raise Exceeded(
                f"{info.filename} is not well-formed XML ({expat.ErrorString(exc.code)}, "
                f"line {exc.lineno})", "xml", "", info.filename) from None
    scan.result.seconds = time.monotonic() - scan.started
    return scan.result
