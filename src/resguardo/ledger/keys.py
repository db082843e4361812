"""Ed25519 keys for signed notes and witness cosignatures, in the Go sumdb/note key formats.

A verifier key (vkey) reads `<name>+<8 hex digits key hash>+<base64(type || public key)>`;
a signer key reads `PRIVATE+KEY+<name>+<key hash>+<base64(type || 32-byte seed)>`. The key
hash is the first four bytes (big-endian) of SHA-256(name || 0x0A || type || public key).
Type 0x01 signs notes (checkpoints); type 0x04 makes C2SP tlog-cosignature/v1 cosignatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

SIG_TYPE_ED25519: Final = 0x01
"""Signature type byte of plain Ed25519 note signatures (C2SP signed-note)."""

SIG_TYPE_COSIGNATURE: Final = 0x04
"""Signature type byte of timestamped Ed25519 witness cosignatures (C2SP tlog-cosignature)."""

_SIG_TYPES: Final = (SIG_TYPE_ED25519, SIG_TYPE_COSIGNATURE)
_KEY_SIZE: Final = 32
_HEX8: Final = re.compile(r"[0-9a-fA-F]{8}")


def is_valid_key_name(name: str) -> bool:
    """True if `name` may name a key: non-empty, no Unicode space, no '+', no control character."""
    return (
        bool(name)
        and "+" not in name
        and not any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name)
    )


def key_hash(name: str, sig_type: int, public_key: bytes) -> int:
    """Key hash (key ID) of a key: SHA-256(name || 0x0A || type || public key)[:4] as uint32."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _decode_key_material(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("key material is not valid base64") from None


def _check_type(sig_type: int) -> None:
    if sig_type not in _SIG_TYPES:
        raise ValueError(f"unsupported signature type 0x{sig_type:02x}")


@dataclass(frozen=True)
class Verifier:
    """A named public key that checks note signatures (type 0x01) or cosignatures (0x04)."""

    name: str
    sig_type: int
    public_key: bytes

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise ValueError(f"invalid key name {self.name!r}")
        _check_type(self.sig_type)
        if len(self.public_key) != _KEY_SIZE:
            raise ValueError("an Ed25519 public key is 32 bytes")

    @property
    def key_hash(self) -> int:
        """The 32-bit key ID that prefixes this key's signatures."""
        return key_hash(self.name, self.sig_type, self.public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse `<name>+<hash>+<base64(type || key)>`; ValueError if malformed or the hash is wrong."""
        name, sep1, rest = vkey.strip().partition("+")
        hash_hex, sep2, material = rest.partition("+")
        if not (sep1 and sep2) or not _HEX8.fullmatch(hash_hex):
            raise ValueError("a verifier key reads <name>+<8 hex digits>+<base64 key>")
        raw = _decode_key_material(material)
        if len(raw) != 1 + _KEY_SIZE:
            raise ValueError("verifier key material must be a type byte and a 32-byte key")
        verifier = cls(name, raw[0], raw[1:])
        if verifier.key_hash != int(hash_hex, 16):
            raise ValueError("verifier key hash does not match its name and key")
        return verifier

    def vkey(self) -> str:
        """This key as a verifier key string."""
        material = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_hash:08x}+{material}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True if `signature` is this key's Ed25519 signature of `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    """A named Ed25519 private key; keep its key string secret."""

    def __init__(self, name: str, seed: bytes, sig_type: int = SIG_TYPE_ED25519) -> None:
        if len(seed) != _KEY_SIZE:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = bytes(seed)
        self._verifier = Verifier(name, sig_type, self._private.public_key().public_bytes_raw())

    def __repr__(self) -> str:
        return f"Signer({self.name!r}, key_hash={self.key_hash:08x}, type=0x{self.sig_type:02x})"

    @property
    def name(self) -> str:
        """Key name, written in each signature line."""
        return self._verifier.name

    @property
    def sig_type(self) -> int:
        """Signature type byte: SIG_TYPE_ED25519 or SIG_TYPE_COSIGNATURE."""
        return self._verifier.sig_type

    @property
    def key_hash(self) -> int:
        """The 32-bit key ID that prefixes this key's signatures."""
        return self._verifier.key_hash

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self._verifier.public_key

    @classmethod
    def from_key_string(cls, skey: str) -> Signer:
        """Parse `PRIVATE+KEY+<name>+<hash>+<base64(type || seed)>`; ValueError if malformed."""
        prefix1, _, rest = skey.strip().partition("+")
        prefix2, _, rest = rest.partition("+")
        name, sep1, rest = rest.partition("+")
        hash_hex, sep2, material = rest.partition("+")
        if (prefix1, prefix2) != ("PRIVATE", "KEY") or not (sep1 and sep2):
            raise ValueError("a signer key reads PRIVATE+KEY+<name>+<hash>+<base64 seed>")
        if not _HEX8.fullmatch(hash_hex):
            raise ValueError("signer key hash must be 8 hex digits")
        raw = _decode_key_material(material)
        if len(raw) != 1 + _KEY_SIZE:
            raise ValueError("signer key material must be a type byte and a 32-byte seed")
        _check_type(raw[0])
        if not is_valid_key_name(name):
            raise ValueError(f"invalid key name {name!r}")
        signer = cls(name, raw[1:], raw[0])
        # The hash names the public key, so it can only be checked after deriving it.
        if signer.key_hash != int(hash_hex, 16):
            raise ValueError("signer key hash does not match its name and key")
        return signer

    def to_key_string(self) -> str:
        """This key as a secret signer key string (for a key file)."""
        material = base64.b64encode(bytes([self.sig_type]) + self._seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_hash:08x}+{material}"

    def verifier(self) -> Verifier:
        """The public half of this key."""
        return self._verifier

    def vkey(self) -> str:
        """The verifier key string of this key, to publish."""
        return self._verifier.vkey()

    def sign(self, message: bytes) -> bytes:
        """Raw 64-byte Ed25519 signature of `message`."""
        return self._private.sign(message)


def generate_signer(name: str, sig_type: int = SIG_TYPE_ED25519) -> Signer:
    """A new random key named `name` (type 0x01 for a log, 0x04 for a witness)."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return Signer(name, seed, sig_type)
