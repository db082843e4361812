#!/usr/bin/env python3
"""Check the QR of an officer's printed credential offline: who, which weapons, what date.

A roadside check (the Nogales case: weapons that did not match those on the officers'
credentials) needs no network and no Resguardo: scan the QR on the credential with any
reader, then give its text and the deployment's public credential key:

    python tools/verify_credential.py 'RGC1.eyJhZyI6...' --vkey credential.vkey
    python tools/verify_credential.py --file scanned.txt --vkey 'resguardo.example/log/credential+1a2b3c4d+AQ...'
    zbarimg -q --raw credencial.png | python tools/verify_credential.py - --vkey credential.vkey

It prints the officer (badge, name, CUIP, credential folio and validity), each weapon of
record (serial, make, kind, calibre, folio) and the date of the statement, then OK or
FAIL. FAIL when the text is not a credential QR, when the signature does not verify
under the key (any changed byte), when the key named inside is not the one given, or
when the credential has expired on the day of the check (``--on``, default today).

The statement is what the deployment knew on its date: a weapon withdrawn later still
shows on an older paper. The newer paper, or the agency, settles which is current.

Exit status: 0 OK, 1 FAIL, 2 usage error or unreadable input.

It needs only Python 3.11+ and the `cryptography` package, and deliberately does not
import resguardo (a checker should not have to install the software it checks); the
test suite checks that it accepts what resguardo signs.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import io
import json
import os
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIG_TYPE_ED25519 = 0x01
CONTEXT = b"resguardo credential statement v1\n"
PREFIX = "RGC1"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
KINDS = {"pistol": "pistola", "revolver": "revólver", "rifle": "fusil", "carbine": "carabina",
         "shotgun": "escopeta", "submachine_gun": "subametralladora", "other": "otra"}


class Failed(Exception):
    """The credential does not verify: exit status 1."""


class Unusable(Exception):
    """Bad usage or unreadable input: exit status 2."""


@dataclass(frozen=True)
class Key:
    name: str
    hash: int
    public: bytes


def parse_vkey(text: str) -> Key:
    """`<name>+<8 hex key hash>+<base64(0x01 || 32-byte Ed25519 public key)>`."""
    name, _, rest = text.strip().partition("+")
    hash_hex, _, material = rest.partition("+")
    try:
        raw = base64.b64decode(material, validate=True)
        key_hash = int(hash_hex, 16)
    except (binascii.Error, ValueError):
        raise Unusable("--vkey is not a verifier key (name+hash+base64)") from None
    if not name or len(hash_hex) != 8 or len(raw) != 33 or raw[0] != SIG_TYPE_ED25519:
        raise Unusable("--vkey is not an Ed25519 verifier key (name+hash+base64)")
    digest = hashlib.sha256(name.encode() + b"\n" + raw[:1] + raw[1:]).digest()
    if int.from_bytes(digest[:4], "big") != key_hash:
        raise Unusable("--vkey's hash does not match its name and key")
    return Key(name, key_hash, raw[1:])


def load_vkey(value: str) -> Key:
    if os.path.isfile(value):
        try:
            value = Path(value).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Unusable(f"cannot read {value}: {exc}") from None
    return parse_vkey(value)


def _unb64(part: str, what: str) -> bytes:
    """Strict base64url without padding: one text for one byte string, so that no
    changed character of the QR text goes unnoticed."""
    if not part or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789-_" for c in part):
        raise Failed(f"the {what} is not base64url")
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise Failed(f"the {what} is not base64url") from None
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != part:
        raise Failed(f"the {what} is not in its one canonical encoding")
    return data


def open_payload(text: str, key: Key) -> dict:
    """The statement, once its signature verifies under ``key``; Failed otherwise."""
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise Failed("not a Resguardo credential QR (RGC1.<statement>.<signature>)")
    body = _unb64(parts[1], "statement")
    signature = _unb64(parts[2], "signature")
    if len(signature) != 64:
        raise Failed("the signature is not 64 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(key.public).verify(signature, CONTEXT + body)
    except InvalidSignature:
        raise Failed("the signature does not verify: this statement was not signed by this "
                     "key, or it was changed") from None
    try:
        statement = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Failed("the signed statement is not JSON") from None
    if not isinstance(statement, dict) or statement.get("v") != 1:
        raise Failed("unknown statement version")
    if statement.get("iss") != key.name:
        raise Failed(f"the statement names the key {statement.get('iss')!r}, not {key.name!r}")
    return statement


def describe(statement: dict) -> list[str]:
    officer = statement.get("of") or {}
    agency = statement.get("ag") or {}
    lines = [
        f"Corporación / agency: {agency.get('n')} ({agency.get('c')})",
        f"Elemento / officer:  {officer.get('b')} {officer.get('n')}",
    ]
    if officer.get("cuip"):
        lines.append(f"CUIP:                {officer['cuip']}")
    lines.append(f"Credencial / credential: folio {officer.get('f')}, "
                 f"vigente hasta / valid until {officer.get('x')}")
    weapons = statement.get("w") or []
    lines.append(f"Armas de cargo / weapons of record: {len(weapons)}")
    for w in weapons:
        kind = w.get("k")
        extra = "".join(f", {label} {w[k]}" for k, label in (("mo", "modelo"), ("f", "folio"))
                        if w.get(k))
        lines.append(f"  - {w.get('s')}  {w.get('m')}  {KINDS.get(kind, kind)} "
                     f"{w.get('c')}{extra}")
    lines.append(f"Fecha de la constancia / statement date: {statement.get('d')}")
    lines.append(f"Firmada por / signed by: {statement.get('iss')}")
    return lines


def check(text: str, key: Key, on: date) -> list[str]:
    statement = open_payload(text, key)
    lines = describe(statement)
    expiry = (statement.get("of") or {}).get("x")
    try:
        expires = date.fromisoformat(expiry) if expiry else None
    except ValueError:
        expires = None
    if expires is None or expires < on:
        raise Failed("\n".join([*lines, f"the credential is not valid on {on.isoformat()} "
                                         f"(valid until {expiry})"]))
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Check a Resguardo credential QR offline with the deployment's public "
                    "credential key.",
        epilog="Example: python tools/verify_credential.py 'RGC1.eyJ...' --vkey credential.vkey")
    parser.add_argument("payload", nargs="?", help="the QR's text, or '-' to read it from "
                        "standard input")
    parser.add_argument("--file", help="a file holding the QR's text")
    parser.add_argument("--vkey", required=True,
                        help="the deployment's credential key (the string, or a file with it)")
    parser.add_argument("--on", help="the day of the check, YYYY-MM-DD (default today)")
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        key = load_vkey(args.vkey)
        if args.file:
            try:
                text = Path(args.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise Unusable(f"cannot read {args.file}: {exc}") from None
        elif args.payload == "-":
            text = sys.stdin.read()
        elif args.payload:
            text = args.payload
        else:
            raise Unusable("give the QR's text, '-' for standard input, or --file")
        try:
            on = date.fromisoformat(args.on) if args.on else date.today()
        except ValueError:
            raise Unusable("--on must be YYYY-MM-DD") from None
        lines = check(text, key, on)
    except Failed as exc:
        print(f"{exc}\nFAIL", file=sys.stdout)
        return EXIT_FAILED
    except Unusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join([*lines, "OK"]))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
