"""C2SP tlog-cosignature/v1: a witness's timestamped Ed25519 signature on a checkpoint.

The witness signs "cosignature/v1\\ntime <unix seconds>\\n" followed by the checkpoint body;
its signature line carries base64(key hash(4) || timestamp(8, big-endian) || signature(64)),
and its key hash uses signature type 0x04.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .checkpoint import Checkpoint
from .errors import NoteError
from .keys import SIG_TYPE_COSIGNATURE, Signer, Verifier
from .note import format_signature_line, match_verifiers, parse_note, parse_signature_line

MAX_TIMESTAMP: Final = 2**63 - 1
_SIGNATURE_SIZE: Final = 8 + 64


def cosignature_message(checkpoint_body: str, timestamp: int) -> bytes:
    """The bytes a witness signs for `checkpoint_body` at `timestamp`."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError("cosignature timestamp must be between 0 and 2**63 - 1")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_body}".encode()


def _check_witness_key(key: Signer | Verifier) -> None:
    if key.sig_type != SIG_TYPE_COSIGNATURE:
        raise ValueError(f"key {key.name} is not a cosignature key (type 0x04)")


def cosign(checkpoint_body: str, witness: Signer, timestamp: int) -> str:
    """The witness's cosignature line (newline included) for a checkpoint body."""
    _check_witness_key(witness)
    Checkpoint.parse(checkpoint_body)
    signature = witness.sign(cosignature_message(checkpoint_body, timestamp))
    blob = timestamp.to_bytes(8, "big") + signature
    return format_signature_line(witness.name, witness.key_hash, blob)


def _verify(checkpoint_body: str, blob: bytes, witness: Verifier) -> int:
    if len(blob) != _SIGNATURE_SIZE:
        raise NoteError(f"cosignature by {witness.name} has the wrong length")
    timestamp = int.from_bytes(blob[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise NoteError(f"cosignature by {witness.name} has an out-of-range timestamp")
    if not witness.verify(cosignature_message(checkpoint_body, timestamp), blob[8:]):
        raise NoteError(f"cosignature by {witness.name} does not verify")
    return timestamp


def verify_cosignature(checkpoint_body: str, line: str, witness: Verifier) -> int:
    """Verify one cosignature line for a checkpoint body; return its timestamp or raise NoteError."""
    _check_witness_key(witness)
    sig = parse_signature_line(line)
    if (sig.name, sig.key_hash) != (witness.name, witness.key_hash):
        raise NoteError(f"cosignature line is not by witness {witness.name}")
    return _verify(checkpoint_body, sig.signature, witness)


def verify_cosignatures(note: str | bytes, witnesses: Sequence[Verifier]) -> dict[str, int]:
    """Timestamps of the known witnesses' cosignatures on a signed checkpoint, by witness name.

    Lines from unknown keys (including the log's own signature) are ignored; a known
    witness's line that does not verify raises NoteError. Check the quorum on the result.
    """
    for witness in witnesses:
        _check_witness_key(witness)
    body, signatures = parse_note(note)
    return {
        sig.name: _verify(body, sig.signature, witness)
        for sig, witness in match_verifiers(signatures, witnesses)
    }
