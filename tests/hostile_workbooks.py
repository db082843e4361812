"""Twenty-four hostile workbooks, made with ``zipfile``: small on disk, hostile when inflated.

Each ``Case`` names the limit that must refuse it (``limit``, as in the refusal's
``details["limit"]``), or ``None`` for a workbook that is accepted or refused
for what it holds (no header) but must be read in bounded memory. The ratio
edge cases inflate just under the ratio limit of 200 (random comments mixed
into repetitive XML keep them there).
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CT = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
       'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
       'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
       'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
       'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
       'worksheet+xml"/>{extra}</Types>')
_SST_CT = ('<Override PartName="/{path}" ContentType="application/vnd.openxmlformats-'
           'officedocument.spreadsheetml.sharedStrings+xml"/>')
_RELS = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
         '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
         'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         '</Relationships>')
_BOOK = ('<?xml version="1.0"?><workbook xmlns="' + MAIN + '" xmlns:r="http://schemas.'
         'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Hoja1" '
         'sheetId="1" r:id="rId1"/></sheets></workbook>')
_BOOK_RELS = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
              'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
              'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
              'Target="worksheets/sheet1.xml"/></Relationships>')
SHEET_OPEN = b'<?xml version="1.0"?><worksheet xmlns="' + MAIN.encode() + b'"><sheetData>'
SHEET_CLOSE = b"</sheetData></worksheet>"
HEADER_ROW = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>Serie</t></is></c>'
              b'<c r="B1" t="inlineStr"><is><t>Marca</t></is></c>'
              b'<c r="C1" t="inlineStr"><is><t>Calibre</t></is></c>'
              b'<c r="D1" t="inlineStr"><is><t>Tipo</t></is></c></row>')

Parts = Iterator[bytes]


def workbook(sheet: Parts, *, strings: Parts | None = None, styles: Parts | None = None,
             strings_path: str = "xl/sharedStrings.xml",
             extra: dict[str, Parts] | None = None) -> bytes:
    """A workbook whose parts are written from byte iterators (streamed, never whole)."""
    out = io.BytesIO()
    ct_extra = _SST_CT.format(path=strings_path) if strings is not None else ""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CT.format(extra=ct_extra))
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _BOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        parts: dict[str, Parts] = {"xl/worksheets/sheet1.xml": sheet}
        if strings is not None:
            parts[strings_path] = strings
        if styles is not None:
            parts["xl/styles.xml"] = styles
        parts.update(extra or {})
        for name, chunks in parts.items():
            # force_zip64: a member may be written larger than 2 GiB would allow otherwise
            with archive.open(name, "w", force_zip64=True) as member:
                for chunk in chunks:
                    member.write(chunk)
    return out.getvalue()


def salted(pieces: Iterator[bytes], every: int = 6_000, inline: bool = False) -> Parts:
    """``pieces`` with random bytes every ``every`` bytes: keeps the ratio under 200.

    The salt is a comment put after a tag's ``>``, or (``inline``: inside text, an
    attribute or a comment) bare random hexadecimal digits.
    """
    pending = bytearray()
    out: list[bytes] = []
    for piece in pieces:
        pending += piece
        while len(pending) >= every:
            cut = every * 2 // 3 if inline else pending.rfind(b">", 0, every) + 1
            if cut <= 0:
                cut = pending.find(b">") + 1
                if cut <= 0:
                    break
            out.append(bytes(pending[:cut]))
            salt = os.urandom(16).hex().encode()
            out.append(salt if inline else b"<!--" + salt + b"-->")
            del pending[:cut]
        if len(out) > 256:
            yield b"".join(out)
            out = []
    out.append(bytes(pending))
    yield b"".join(out)


def _buffered(pieces: Iterator[bytes], size: int = 1 << 20) -> Parts:
    pending: list[bytes] = []
    total = 0
    for piece in pieces:
        pending.append(piece)
        total += len(piece)
        if total >= size:
            yield b"".join(pending)
            pending = []
            total = 0
    yield b"".join(pending)


def _sheet(body: Iterator[bytes], header: bool = True) -> Parts:
    yield SHEET_OPEN
    if header:
        yield HEADER_ROW
    yield from _buffered(body)
    yield SHEET_CLOSE


def _repeat(piece: bytes, total: int) -> Iterator[bytes]:
    block = piece * max(1, (1 << 20) // len(piece))
    for _ in range(max(1, total // len(block))):
        yield block


# --- the cases ------------------------------------------------------------------------------


def ratio_rows_past_the_last() -> bytes:
    """Empty rows, numbered on past Excel's last row, at a ratio just under 200."""
    return workbook(_sheet(iter([b'<row r="1000000"/>',
                                 *salted(_repeat(b"<row/>", 200_000 * 6))])))


def ratio_row_past_the_last_column() -> bytes:
    """One row whose cells march past column XFD."""
    def cells() -> Iterator[bytes]:
        yield b'<row r="2">'
        for _ in range(20_000):
            yield b"<c><v>1</v></c>"
        yield b"</row>"
    return workbook(_sheet(salted(cells())))


def ratio_cells_at_xfd() -> bytes:
    """Rows whose only cell is at column XFD: a reader fills 16,384 cells for each."""
    return workbook(_sheet(salted(_repeat(b'<row><c r="XFD2"><v>1</v></c></row>',
                                          200_000 * 36))))


def ratio_inflated_past_the_budget() -> bytes:
    """Plausible rows, more XML than the inflated-bytes budget (as the test server sets it)."""
    def rows() -> Iterator[bytes]:
        notes = b"sin novedad en la revista; " * 30
        for n in range(2, 100_000):
            yield (b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>SERIE%08d</t></is></c>'
                   b'<c r="B%d" t="inlineStr"><is><t>%s</t></is></c></row>'
                   % (n, n, n, n, notes))
    return workbook(_sheet(rows()))


def declared_ratio_over_the_limit() -> bytes:
    """A sheet of blank rows that would inflate about a thousand times."""
    return workbook(_sheet(_repeat(b"<row/>", 64 << 20), header=False))


def shared_strings_too_many() -> bytes:
    """A shared-string table of more strings than the budget (tiny ones; the test
    server's budget is 300,000, the default 4,000,000)."""
    return workbook(_sheet(iter([])), strings=_strings(
        salted(_repeat(b"<si><t>7</t></si>", 400_000 * 17)), count=400_000))


def _strings(body: Iterator[bytes], count: int) -> Parts:
    yield (b'<?xml version="1.0"?><sst xmlns="' + MAIN.encode() + b'" count="%d" '
           b'uniqueCount="%d">' % (count, count))
    yield from _buffered(body)
    yield b"</sst>"


def shared_strings_too_much_text() -> bytes:
    """Fewer strings, each long: more text than the shared-text budget (the test
    server's is 16 MiB, the default 64 MiB)."""
    def texts() -> Iterator[bytes]:
        for _ in range(1_000):
            yield b"<si><t>"
            yield from salted(iter([b"A" * 30_000]), inline=True)
            yield b"</t></si>"
    return workbook(_sheet(iter([])), strings=_strings(texts(), count=1_000))


def shared_strings_elsewhere() -> bytes:
    """Too many shared strings, at an unusual path: judged by what the part is."""
    text = b"<si><t>x</t></si>"
    return workbook(_sheet(iter([])), strings=_strings(salted(_repeat(text, 40 << 20)), 1),
                    strings_path="xl/cadenas.xml")


def one_huge_string() -> bytes:
    """One shared string of 12 MiB."""
    return workbook(_sheet(iter([])), strings=_strings(
        iter([b"<si><t>", *salted(_repeat(b"ABCDEFGH", 12 << 20), inline=True),
              b"</t></si>"]), 1))


def deeply_nested_sheet() -> bytes:
    """Elements nested a million deep where the rows should be."""
    return workbook(_sheet(salted(iter([b"<x>" * 1_000_000, b"</x>" * 1_000_000]))))


def deeply_nested_cell() -> bytes:
    """A cell whose inline string nests rich-text runs 500,000 deep."""
    return workbook(_sheet(salted(iter([b'<row r="2"><c r="A2" t="inlineStr"><is>',
                                        b"<r>" * 500_000, b"</r>" * 500_000,
                                        b"</is></c></row>"]))))


def long_comment() -> bytes:
    """One XML comment of 40 MiB in the sheet (it kept an import at full CPU for minutes)."""
    return workbook(_sheet(iter([b"<!--", *salted(_repeat(b"resguardo ", 40 << 20),
                                                   inline=True), b"-->"])))


def long_attribute() -> bytes:
    """A cell whose attribute value is 20 MiB long."""
    return workbook(_sheet(iter([b'<row r="2"><c r="A2" x="',
                                 *salted(_repeat(b"Q" * 64, 20 << 20), inline=True),
                                 b'"><v>1</v></c></row>'])))


def many_attributes() -> bytes:
    """One element with 400,000 attributes."""
    return workbook(_sheet(iter([b'<row r="2"',
                                 *(b' a%d="1"' % n for n in range(400_000)), b"/>"])))


def styles_bomb() -> bytes:
    """A styles part of 300,000 cell formats (Excel keeps under 65,000)."""
    def styles() -> Iterator[bytes]:
        yield (b'<?xml version="1.0"?><styleSheet xmlns="' + MAIN.encode() + b'">'
               b'<cellXfs count="300000">')
        yield from salted(_repeat(b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>',
                                  300_000 * 54))
        yield b"</cellXfs></styleSheet>"
    return workbook(_sheet(iter([])), styles=styles())


def styles_declared_too_large() -> bytes:
    """A styles part declared at 64 MiB (readers load styles whole)."""
    def styles() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?><styleSheet xmlns="' + MAIN.encode() + b'">'
        yield from salted(_repeat(b"<!-- estilo -->", 64 << 20), 3_000)
        yield b"</styleSheet>"
    return workbook(_sheet(iter([])), styles=styles())


def entity_declarations() -> bytes:
    """A document type with nested entities ("billion laughs")."""
    dtd = [b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">']
    dtd += [b'<!ENTITY a%d "%s">' % (n, (b"&a;" if n == 0 else b"&a%d;" % (n - 1)) * 10)
            for n in range(9)]
    dtd.append(b"]>")
    body = (b'<worksheet xmlns="' + MAIN.encode() + b'"><sheetData><row r="1"><c r="A1" '
            b't="inlineStr"><is><t>&a8;</t></is></c></row></sheetData></worksheet>')
    return workbook(iter([b"".join(dtd) + body]))


def columns_bomb() -> bytes:
    """200,000 column definitions before the rows."""
    def sheet() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?><worksheet xmlns="' + MAIN.encode() + b'"><cols>'
        yield from salted(b'<col min="%d" max="%d" width="9"/>' % (n, n)
                          for n in range(1, 200_000))
        yield b"</cols><sheetData>" + HEADER_ROW + SHEET_CLOSE
    return workbook(sheet())


def many_empty_rows() -> bytes:
    """600,000 numbered rows, all empty: read through (no header), in bounded memory."""
    return workbook(_sheet(salted(b'<row r="%d"/>' % n for n in range(1, 600_001)),
                           header=False))


def many_tall_rows() -> bytes:
    """400,000 empty rows with a height each (openpyxl keeps one dict a row)."""
    return workbook(_sheet(salted(_repeat(b'<row ht="30" customHeight="1"/>', 400_000 * 32)),
                           header=False))


def row_of_repeated_cells() -> bytes:
    """One row holding 20,000 cells all at A2 (never past a column, more than a row holds)."""
    return workbook(_sheet(salted(iter([b'<row r="2">', b'<c r="A2"><v>1</v></c>' * 20_000,
                                        b"</row>"]))))


def one_long_row() -> bytes:
    """One row of 40 cells, each under the text limit, 24 MB together."""
    def row() -> Iterator[bytes]:
        yield b'<row r="2">'
        for n in range(40):
            yield b'<c r="%s2" t="inlineStr"><is><t>' % chr(65 + n % 26).encode()
            yield from salted(iter([b"revista " * 75_000]), inline=True)
            yield b"</t></is></c>"
        yield b"</row>"
    return workbook(_sheet(row()))


def relations_bomb() -> bytes:
    """The sheet's relations: 300,000 elements (a part that readers parse whole)."""
    def rels() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?><Relationships>'
        yield from salted(_repeat(b"<p/>", 300_000 * 4))
        yield b"</Relationships>"
    return workbook(_sheet(iter([])), extra={"xl/worksheets/_rels/sheet1.xml.rels": rels()})


def broken_xml() -> bytes:
    """Rows that never close, then the end of the sheet."""
    return workbook(_sheet(iter([b'<row r="2"><c r="A2"><v>1</c></row>'])))


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes]
    limit: str | None
    """The limit that refuses it (``details["limit"]``), or None (read in bounded memory)."""


CASES: tuple[Case, ...] = (
    Case("ratio_rows_past_the_last", ratio_rows_past_the_last, "rows"),
    Case("ratio_row_past_the_last_column", ratio_row_past_the_last_column, "columns"),
    Case("ratio_cells_at_xfd", ratio_cells_at_xfd, "cells"),
    Case("ratio_inflated_past_the_budget", ratio_inflated_past_the_budget, "inflated"),
    Case("declared_ratio_over_the_limit", declared_ratio_over_the_limit, "ratio"),
    Case("shared_strings_too_many", shared_strings_too_many, "strings"),
    Case("shared_strings_too_much_text", shared_strings_too_much_text, "shared_text"),
    Case("shared_strings_elsewhere", shared_strings_elsewhere, "strings"),
    Case("one_huge_string", one_huge_string, "text"),
    Case("deeply_nested_sheet", deeply_nested_sheet, "depth"),
    Case("deeply_nested_cell", deeply_nested_cell, "depth"),
    Case("long_comment", long_comment, "markup"),
    Case("long_attribute", long_attribute, "markup"),
    Case("many_attributes", many_attributes, "markup"),
    Case("styles_bomb", styles_bomb, "styles"),
    Case("styles_declared_too_large", styles_declared_too_large, "part"),
    Case("entity_declarations", entity_declarations, "doctype"),
    Case("columns_bomb", columns_bomb, "elements"),
    Case("many_empty_rows", many_empty_rows, None),
    Case("many_tall_rows", many_tall_rows, None),
    Case("row_of_repeated_cells", row_of_repeated_cells, "columns"),
    Case("one_long_row", one_long_row, "item"),
    Case("relations_bomb", relations_bomb, "elements"),
    Case("broken_xml", broken_xml, "xml"),
)
#: Budgets the test server lowers so that the suite runs in seconds (the defaults are
#: sized the same way, larger): the cases that pass them are made to.
TEST_LIMITS = {"max_inflated": 48 << 20, "max_strings": 300_000,
               "max_shared_text": 16 << 20}
