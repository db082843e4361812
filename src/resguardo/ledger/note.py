"""C2SP signed notes: text, a blank line, then lines `— <key name> <base64(key hash || sig)>`.

Parsing follows golang.org/x/mod/sumdb/note: the text ends at the last blank line,
signatures from unknown keys are ignored, a known key's repeated signatures after the
first are ignored, and a known key whose signature does not verify rejects the note.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from .errors import NoteError
from .keys import SIG_TYPE_ED25519, Signer, Verifier, is_valid_key_name

SIGNATURE_PREFIX: Final = "\u2014 "
"""Em dash and space that start every signature line."""

MAX_SIGNATURES: Final = 100
"""Notes with more signature lines are refused as malformed (the spec requires at least 16)."""


@dataclass(frozen=True)
class NoteSignature:
    """One parsed signature line."""

    name: str
    key_hash: int
    signature: bytes
    """The signature bytes after the 4-byte key hash."""
    line: str
    """The line as written, without its newline."""


def _check_text(note: str) -> None:
    for ch in note:
        if ch < " " and ch != "\n":
            raise NoteError("note contains a control character")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError("note is not valid UTF-8") from None


def _as_text(note: str | bytes) -> str:
    if isinstance(note, bytes):
        try:
            return note.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not valid UTF-8") from None
    return note


def parse_signature_line(line: str) -> NoteSignature:
    """Parse one signature line (with or without its newline); NoteError if malformed."""
    line = line.removesuffix("\n")
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError("signature line does not start with an em dash and a space")
    name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not is_valid_key_name(name) or not b64:
        raise NoteError("signature line has no valid key name and signature")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("signature is not valid base64") from None
    if len(raw) < 5:
        raise NoteError("signature is too short")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:], line)


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text (with final newline) and parsed signatures; no checks."""
    note = _as_text(note)
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("note must end with signature lines, each ending in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return text, [parse_signature_line(line) for line in lines]


def format_signature_line(name: str, key_hash: int, signature: bytes) -> str:
    """A signature line, newline included."""
    blob = key_hash.to_bytes(4, "big") + signature
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Sign `text` (which must end in a newline) with Ed25519 note keys; return the note."""
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_text(text)
    if not signers:
        raise ValueError("a note needs at least one signer")
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        if signer.sig_type != SIG_TYPE_ED25519:
            raise ValueError(f"key {signer.name} is not an Ed25519 note key (type 0x01)")
        lines.append(format_signature_line(signer.name, signer.key_hash, signer.sign(message)))
    return text + "\n" + "".join(lines)


def add_signatures(note: str, lines: Iterable[str]) -> str:
    """Append signature lines (e.g. witness cosignatures) to a signed note, skipping repeats."""
    text, existing = parse_note(note)
    seen = {sig.line for sig in existing}
    added = []
    for line in lines:
        sig = parse_signature_line(line)
        if sig.line not in seen:
            seen.add(sig.line)
            added.append(sig.line + "\n")
    result = note + "".join(added)
    parse_note(result)  # refuse a result that breaks the signature limit
    return result


def match_verifiers(
    signatures: Iterable[NoteSignature], verifiers: Iterable[Verifier]
) -> list[tuple[NoteSignature, Verifier]]:
    """Pair each signature with the known key of the same name and key hash (first one only)."""
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        key = (verifier.name, verifier.key_hash)
        if key in known and known[key] != verifier:
            raise ValueError(f"two different verifiers share name and key hash {key}")
        known[key] = verifier
    pairs = []
    seen: set[tuple[str, int]] = set()
    for sig in signatures:
        key = (sig.name, sig.key_hash)
        match = known.get(key)
        if match is None or key in seen:
            continue
        seen.add(key)
        pairs.append((sig, match))
    return pairs


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> tuple[str, list[str]]:
    """Verify a signed note with Ed25519 note keys; return (text, names of keys that signed).

    Raises NoteError if the note is malformed, if a known key's signature does not verify,
    or if no known key signed it. Signatures from unknown keys are ignored.
    """
    for verifier in verifiers:
        if verifier.sig_type != SIG_TYPE_ED25519:
            raise ValueError(
                f"key {verifier.name} is not a note key (type 0x01); use verify_cosignatures"
            )
    text, signatures = parse_note(note)
    message = text.encode("utf-8")
    names = []
    for sig, verifier in match_verifiers(signatures, verifiers):
        if not verifier.verify(message, sig.signature):
            raise NoteError(f"signature by known key {sig.name} does not verify")
        names.append(sig.name)
    if not names:
        raise NoteError("note carries no signature from a known key")
    return text, names
