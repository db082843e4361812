"""Hostile files: checks an upload passes before any reader touches it.

A file for import is refused, with a message that says why, when it is not
what its name says (a ``.xlsx`` that is no workbook, a ``.csv`` that is a
ZIP, PDF or image), larger than the configured limit, a workbook whose
members would inflate beyond the limits (a decompression bomb: the declared
uncompressed sizes in the ZIP directory are checked before openpyxl opens
it; Python's ``zipfile`` never inflates a member past its declared size, a
lying size ends in a CRC error), a truncated workbook, text whose bytes are
not valid in the encoding it declares or mixes, or a file with NUL bytes.

Cells are checked row by row by the importer (``check_cell``): too long, or
holding control characters a person cannot type.

Limits are configurable (``SheetLimits.from_env``; ``RESGUARDO_IMPORT_*``).
"""

from __future__ import annotations

import codecs
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

from resguardo.domain.errors import ValidationFailed
from resguardo.sheets.xlsxscan import Budget, Exceeded, scan_workbook

_CHUNK = 1 << 20

# Signatures of files people mistake for (or disguise as) spreadsheets.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls or other Office 97 file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"SQLite format 3", "a SQLite database"),
)
_WORKBOOK_NAMES = (".xlsx", ".xlsm")
_TEXT_NAMES = (".csv", ".txt", ".tsv", ".tab")

# Bytes that Windows-1252 leaves undefined: in a file read as Windows-1252 they
# mean the file is in some other encoding or damaged.
_CP1252_HOLES = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# Control characters nobody types into a cell (tab, line feed and carriage return
# are structure; the C1 range comes from bytes misread as Latin-1), and halves of
# surrogate pairs, which no text holds (a workbook can spell one as _xD800_).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class SheetLimits:
    """What an import accepts. ``0`` switches a limit off."""

    max_bytes: int = 256 * 1024 * 1024
    """Size of the file as uploaded."""
    max_rows: int = 2_000_000
    """Data rows (the header and blank rows not counted)."""
    max_cell: int = 1_000
    """Characters in one cell."""
    max_columns: int = 200
    """Columns in the header row."""
    max_uncompressed: int = 2 * 1024 * 1024 * 1024
    """Sum of the declared uncompressed sizes of a workbook's members."""
    max_ratio: int = 200
    """Declared uncompressed size over compressed size, for any member above 1 MiB."""
    max_inflated: int = 1024 * 1024 * 1024
    """Bytes of a workbook's XML actually inflated while it is read (all members)."""
    max_cells: int = 40_000_000
    """Cells in a workbook's sheets, counted as a reader fills them (empty ones before
    a row's last cell included)."""
    max_strings: int = 4_000_000
    """Strings in a workbook's shared-string table."""
    max_shared_text: int = 64 * 1024 * 1024
    """Bytes of text (UTF-8) in a workbook's shared-string table."""
    max_seconds: int = 120
    """Seconds the streaming check of a workbook may take before it is refused."""

    @classmethod
    def from_env(cls) -> SheetLimits:
        """Defaults, overridden by ``RESGUARDO_IMPORT_MAX_BYTES``, ``..._MAX_ROWS``,
        ``..._MAX_CELL``, ``..._MAX_COLUMNS``, ``..._MAX_UNCOMPRESSED``, ``..._MAX_RATIO``,
        ``..._MAX_INFLATED``, ``..._MAX_CELLS``, ``..._MAX_STRINGS``,
        ``..._MAX_SHARED_TEXT``, ``..._MAX_SECONDS``."""
        limits = cls()
        changes: dict[str, int] = {}
        for name in (
            "max_bytes",
            "max_rows",
            "max_cell",
            "max_columns",
            "max_uncompressed",
            "max_ratio",
            "max_inflated",
            "max_cells",
            "max_strings",
            "max_shared_text",
            "max_seconds",
        ):
            raw = os.environ.get(f"RESGUARDO_IMPORT_{name.upper()}")
            if raw is None or not raw.strip():
                continue
            try:
                value = int(raw)
            except ValueError:
                raise SystemExit(
                    f"RESGUARDO_IMPORT_{name.upper()} must be a whole number, got {raw!r}"
                ) from None
            if value < 0:
                raise SystemExit(f"RESGUARDO_IMPORT_{name.upper()} must not be negative")
            changes[name] = value
        return replace(limits, **changes) if changes else limits


def _refuse(
    label: str, message: str, line: int | None = None, limit: str | None = None,
    value: object = "", part: str = "",
) -> ValidationFailed:
    where = f"{label}, line {line}" if line is not None else label
    details: dict[str, object] = {"file": label, "hostile": True}
    if limit is not None:
        # which limit, its value as said in the message, and the workbook part
        details.update(limit=limit, limit_value=str(value), part=part)
    if line is not None:
        details["line"] = line
    return ValidationFailed(f"{where}: {message}", **details)


def _what(head: bytes) -> str | None:
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    return None


def check_file(
    path: str | os.PathLike[str], limits: SheetLimits, *, name: str | None = None
) -> str:
    """Refuse a hostile file; return its format, ``"csv"`` or ``"xlsx"``.

    ``name`` is the file's name as the person gave it (an upload's original
    name); it defaults to the path's. The format is decided by the content
    and must agree with the name's extension when it has a known one.
    """
    path = os.fspath(path)
    label = name or Path(path).name
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise _refuse(label, f"cannot read ({exc.strerror or exc})") from None
    if size == 0 or not head:
        raise _refuse(label, "the file is empty")
    if limits.max_bytes and size > limits.max_bytes:
        raise _refuse(label, f"the file is {_mib(size)}; the limit is {_mib(limits.max_bytes)}")
    suffix = Path(label).suffix.lower()
    what = _what(head)
    if suffix in _WORKBOOK_NAMES:
        if what != "a ZIP archive":
            found = what or "text, not a workbook"
            raise _refuse(label, f"named like an Excel workbook but it is {found}")
        _check_workbook(path, label, size, limits)
        return "xlsx"
    if what == "a ZIP archive":
        if suffix in _TEXT_NAMES:
            raise _refuse(
                label,
                f"named like a {suffix[1:].upper()} text file but it is a ZIP "
                "archive (an Excel workbook?); save it as .csv or name it .xlsx",
            )
        _check_workbook(path, label, size, limits)
        return "xlsx"
    if what is not None:
        raise _refuse(label, f"not a spreadsheet: it is {what}")
    if suffix == ".xls":
        raise _refuse(label, "named like an old Excel .xls workbook; save it as .xlsx or .csv")
    _check_text(path, label)
    return "csv"


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MiB"


def check_workbook(path: str | os.PathLike[str], limits: SheetLimits | None = None) -> None:
    """Refuse a hostile ``.xlsx`` (see ``check_file``); anything else is left alone.

    For readers of sheets other than an import (a revista's count file, a
    reconciliation's registry), which take CSV as it comes but must not let a
    workbook cost more than its budget.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return  # the reader says it cannot read it
    if head == b"PK\x03\x04":
        limits = limits or SheetLimits.from_env()
        _check_workbook(path, Path(path).name, os.path.getsize(path), limits)


def _check_workbook(path: str, label: str, size: int, limits: SheetLimits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_members(members, label, size, limits)
            budget = Budget(limits.max_inflated, limits.max_cells, limits.max_strings,
                            limits.max_shared_text, limits.max_seconds)
            try:
                scan_workbook(archive, budget)
            except Exceeded as exc:
                raise _refuse(label, f"refused while reading it: {exc.message}",
                              limit=exc.limit, value=exc.value, part=exc.part) from None
    except zipfile.BadZipFile as exc:
        raise _refuse(label, f"a damaged or truncated workbook ({exc})") from None
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        raise _refuse(label, f"a damaged or truncated workbook ({exc})") from None


def _check_members(
    members: list[zipfile.ZipInfo], label: str, size: int, limits: SheetLimits
) -> None:
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names and "[Content_Types].xml" not in names:
        raise _refuse(label, "a ZIP archive, but not an Excel workbook")
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise _refuse(label, "an encrypted workbook; save it without a password")
        if member.header_offset + member.compress_size > size:
            raise _refuse(label, f"a truncated workbook ({member.filename} ends past the file)")
        total += member.file_size
        if limits.max_ratio and member.file_size > (1 << 20):
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_ratio:
                raise _refuse(
                    label,
                    f"refused as a decompression bomb: {member.filename} would inflate "
                    f"{ratio:,.0f} times (limit {limits.max_ratio})",
                    limit="ratio", value=limits.max_ratio, part=member.filename,
                )
    if limits.max_uncompressed and total > limits.max_uncompressed:
        raise _refuse(
            label,
            f"refused as a decompression bomb: its contents would inflate to "
            f"{_mib(total)} (limit {_mib(limits.max_uncompressed)})",
            limit="uncompressed", value=_mib(limits.max_uncompressed),
        )


def _line_at(path: str, offset: int) -> int:
    """The 1-based line holding byte ``offset``."""
    line = 1
    done = 0
    with open(path, "rb") as f:
        while done < offset and (chunk := f.read(min(_CHUNK, offset - done))):
            line += chunk.count(b"\n")
            done += len(chunk)
    return line


def _check_text(path: str, label: str) -> None:
    """NUL bytes, and bytes that no reading of the file makes sense of."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return  # UTF-16 is checked (NUL and invalid units) by the CSV reader
        f.seek(0)
        decoder: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        multibyte = False
        bom = head.startswith(codecs.BOM_UTF8)
        while chunk := f.read(_CHUNK):
            nul = chunk.find(b"\x00")
            if nul >= 0:
                raise _refuse(
                    label, "contains a NUL byte (a binary file?)", _line_at(path, offset + nul)
                )
            if decoder is not None and not chunk.isascii():
                try:
                    decoder.decode(chunk)
                    multibyte = True
                except UnicodeDecodeError as exc:
                    bad = offset + exc.start
                    if bom or multibyte or _utf8_before(chunk[: exc.start]):
                        raise _refuse(
                            label,
                            f"invalid bytes: the file is UTF-8 but byte "
                            f"0x{chunk[exc.start]:02X} is not",
                            _line_at(path, bad),
                        ) from None
                    decoder = None  # a legacy single-byte encoding: check below
            offset += len(chunk)
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise _refuse(
                    label,
                    "invalid bytes: the file ends in the middle of a UTF-8 character (truncated?)",
                    _line_at(path, offset),
                ) from None
            return
        f.seek(0)
        offset = 0
        while chunk := f.read(_CHUNK):
            hole = _CP1252_HOLES.search(chunk)
            if hole is not None:
                raise _refuse(
                    label,
                    f"invalid bytes: 0x{chunk[hole.start()]:02X} is not a "
                    "character in UTF-8 or Windows-1252; save the file as "
                    "UTF-8",
                    _line_at(path, offset + hole.start()),
                )
            offset += len(chunk)


def _utf8_before(data: bytes) -> bool:
    """Whether ``data`` holds at least one multi-byte UTF-8 character."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 0 and not data[: exc.start].isascii()
    return True


def check_cell(text: str, limits: SheetLimits) -> str | None:
    """Why a cell is refused (too long, control characters), or None."""
    if limits.max_cell and len(text) > limits.max_cell:
        return f"the cell holds {len(text):,} characters; the limit is {limits.max_cell:,}"
    found = CONTROL_CHARACTERS.search(text)
    if found is not None:
        return f"the cell holds a control character (U+{ord(found.group()):04X})"
    return None
