"""C2SP tlog-checkpoint: origin, tree size and base64 root, signed as a note."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from .errors import CheckpointError, NoteError
from .hashing import HASH_SIZE
from .keys import Signer, Verifier
from .note import open_note, sign_note

_SIZE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of a log's size and root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("origin must be one non-empty line")
        if self.size < 0:
            raise CheckpointError("tree size must not be negative")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for line in self.extensions:
            if not line or "\n" in line:
                raise CheckpointError("extension lines must be non-empty single lines")

    def format(self) -> str:
        """The checkpoint body (note text), final newline included."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint body; CheckpointError if it is not well formed."""
        if not body.endswith("\n"):
            raise CheckpointError("checkpoint body must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3 or any(not line for line in lines):
            raise CheckpointError("checkpoint body needs at least three non-empty lines")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE.fullmatch(size_text):
            raise CheckpointError("tree size must be decimal without leading zeros")
        try:
            root = base64.b64decode(root_text, validate=True)
        except (binascii.Error, ValueError):
            raise CheckpointError("root hash is not valid base64") from None
        checkpoint = cls(origin, int(size_text), root, tuple(extensions))
        if checkpoint.format() != body:
            raise CheckpointError("checkpoint body is not in canonical form")
        return checkpoint


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The checkpoint as a signed note."""
    return sign_note(checkpoint.format(), [signer])


def verify_checkpoint(
    note: str | bytes, verifier: Verifier, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint with the log's key and parse it.

    Raises NoteError (CheckpointError for a bad body) if the log's key did not sign it, or
    if `origin` is given and differs from the checkpoint's.
    """
    text, _ = open_note(note, [verifier])
    checkpoint = Checkpoint.parse(text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint is for origin {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint
