"""A checkpoint signer that keeps the log's key out of the application's reach and signs
only checkpoints that extend the last one it signed.

`ExtendingSigner` holds the key and its own state (the size and root it last signed, in
a file of its own). It signs a checkpoint body only with a consistency proof, from that
size, that verifies: even an application that controls the database cannot make it sign
a rewritten or rolled-back history. `serve` runs it on a unix socket, as a process under
its own system account (`resguardo ledger signer`, or `python -m resguardo.ledger.signer`);
`SocketSigner` is the application's side.

The protocol on the socket, one request per connection (the client closes its sending
side after the request):

- `vkey\\n` answers `ok\\n<verifier key>\\n`;
- `old <size>\\n<proof lines, base64>\\n\\n<checkpoint body>` (the tlog-witness request,
  with the unsigned checkpoint) answers `ok\\n<signature line>\\n`, or `conflict <size>\\n`
  when the signer last signed another size (resend from it), or `refused <reason>\\n`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import re
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from .checkpoint import Checkpoint
from .errors import LedgerError, NoteError
from .hashing import EMPTY_ROOT
from .keys import SIG_TYPE_ED25519, Signer, Verifier
from .note import format_signature_line
from .proofs import verify_consistency

MAX_REQUEST = 64 * 1024
_OLD = re.compile(r"old (0|[1-9][0-9]{0,18})")

ProofFrom = Callable[[int], Sequence[bytes]]
"""The consistency proof from an older size to the checkpoint being signed."""


class SignerRefused(LedgerError):
    """The signer will not sign this checkpoint (or cannot be reached)."""


class NoteSigner(Protocol):
    """Anything that makes a raw Ed25519 signature with the log's note key."""

    def verifier(self) -> Verifier: ...

    def sign(self, message: bytes) -> bytes: ...


class CheckpointSigner(Protocol):
    """What signs the log's checkpoints: the key file, the signer process, a token."""

    def verifier(self) -> Verifier: ...

    def sign_checkpoint(self, checkpoint: Checkpoint, proof_from: ProofFrom) -> str:
        """The checkpoint as a signed note; SignerRefused if it will not sign it."""
        ...


def note_with_signature(body: str, key: Verifier, signature: bytes) -> str:
    return body + "\n" + format_signature_line(key.name, key.key_hash, signature)


class LocalSigner:
    """The key in this process (the key file beside a laptop's database)."""

    def __init__(self, key: NoteSigner) -> None:
        self.key = key

    def verifier(self) -> Verifier:
        return self.key.verifier()

    def sign_checkpoint(self, checkpoint: Checkpoint, proof_from: ProofFrom) -> str:
        body = checkpoint.format()
        return note_with_signature(body, self.key.verifier(), self.key.sign(body.encode()))


class ExtendingSigner:
    """Signs a checkpoint only if it extends the last one signed; keeps that in `state`."""

    def __init__(self, key: NoteSigner, state: Path) -> None:
        verifier = key.verifier()
        if verifier.sig_type != SIG_TYPE_ED25519:
            raise ValueError("the log's key must be a note key (type 0x01)")
        self.key = key
        self.state = state
        self.lock = threading.Lock()

    def verifier(self) -> Verifier:
        return self.key.verifier()

    def last(self) -> tuple[int, bytes]:
        """(size, root) last signed; (0, empty root) before the first."""
        if not self.state.exists():
            return 0, EMPTY_ROOT
        data = json.loads(self.state.read_text(encoding="utf-8"))
        return int(data["size"]), base64.b64decode(data["root"])

    def sign(self, old: int, proof: Sequence[bytes], body: str) -> str:
        """The signature line for checkpoint `body`; SignerRefused or a conflict size."""
        try:
            checkpoint = Checkpoint.parse(body)
        except NoteError as exc:
            raise SignerRefused(f"not a checkpoint: {exc}") from None
        key = self.key.verifier()
        if checkpoint.origin != key.name:
            raise SignerRefused(f"this signer signs for {key.name!r}, not "
                                f"{checkpoint.origin!r}")
        with self.lock:
            size, root = self.last()
            if old != size:
                raise _Conflict(size)
            if checkpoint.size < size:
                raise SignerRefused(f"size {checkpoint.size} is smaller than the {size} already "
                                    "signed: the log was rolled back or truncated")
            try:
                if size == 0:
                    if proof or (checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT):
                        raise LedgerError("from size 0 the proof must be empty")
                else:
                    verify_consistency(size, checkpoint.size, list(proof), root,
                                       checkpoint.root)
            except LedgerError as exc:
                raise SignerRefused(f"size {checkpoint.size} does not extend the size {size} "
                                    f"already signed: {exc}") from None
            # Remember before signing: after a crash the signer must not have forgotten.
            self._remember(checkpoint.size, checkpoint.root)
            signature = self.key.sign(body.encode("utf-8"))
        return format_signature_line(key.name, key.key_hash, signature)

    def _remember(self, size: int, root: bytes) -> None:
        tmp = self.state.with_name(self.state.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps({"size": size, "root": base64.b64encode(root).decode()}))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state)
        fd = os.open(self.state.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def sign_checkpoint(self, checkpoint: Checkpoint, proof_from: ProofFrom) -> str:
        """Sign in this process (a PKCS#11 token), holding the same rule."""
        body = checkpoint.format()
        old = self.last()[0]
        for _ in range(2):
            try:
                proof = [] if old in (0, checkpoint.size) else list(proof_from(old))
                return body + "\n" + self.sign(old, proof, body)
            except _Conflict as conflict:
                old = conflict.size
        raise SignerRefused("the signer's state keeps changing")


class _Conflict(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def parse_request(data: bytes) -> tuple[int, list[bytes], str]:
    """(old size, proof, checkpoint body) of a signing request; SignerRefused if malformed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SignerRefused("the request is not UTF-8") from None
    head, sep, body = text.partition("\n\n")
    lines = head.split("\n")
    match = _OLD.fullmatch(lines[0])
    if not sep or match is None:
        raise SignerRefused("a request reads 'old <size>', the proof, an empty line, the body")
    proof = []
    for line in lines[1:]:
        try:
            item = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            item = b""
        if len(item) != 32:
            raise SignerRefused("a proof line is not the base64 of a 32-byte hash")
        proof.append(item)
    return int(match.group(1)), proof, body


def answer(signer: ExtendingSigner, data: bytes) -> bytes:
    """The signer's answer to one request."""
    if data == b"vkey\n":
        return f"ok\n{signer.verifier().vkey()}\n".encode()
    try:
        old, proof, body = parse_request(data)
        line = signer.sign(old, proof, body)
    except _Conflict as conflict:
        return f"conflict {conflict.size}\n".encode()
    except SignerRefused as exc:
        return f"refused {exc}\n".encode()
    return f"ok\n{line}".encode()


def serve(signer: ExtendingSigner, path: Path, ready: Callable[[], None] | None = None) -> None:
    """Answer requests on the unix socket at `path` until interrupted."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            data = self.rfile.read(MAX_REQUEST + 1)
            if len(data) > MAX_REQUEST:
                self.wfile.write(b"refused the request is too large\n")
                return
            self.wfile.write(answer(signer, data))

    if path.exists():
        path.unlink()
    server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
    # The application's account must be able to connect: group access, never others.
    os.chmod(path, 0o660)
    if ready is not None:
        ready()
    try:
        server.serve_forever()
    finally:
        server.server_close()


class SocketSigner:
    """The application's side: asks the signer process over its unix socket."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout

    def _ask(self, data: bytes) -> str:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(self.timeout)
                conn.connect(str(self.path))
                conn.sendall(data)
                conn.shutdown(socket.SHUT_WR)
                chunks = []
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
        except OSError as exc:
            raise SignerRefused(f"cannot reach the signer at {self.path}: "
                                f"{exc.strerror or exc}") from None
        return b"".join(chunks).decode("utf-8", "replace")

    def verifier(self) -> Verifier:
        reply = self._ask(b"vkey\n")
        status, _, rest = reply.partition("\n")
        if status != "ok":
            raise SignerRefused(f"the signer did not give its key: {reply.strip()}")
        return Verifier.from_vkey(rest.strip())

    def sign_checkpoint(self, checkpoint: Checkpoint, proof_from: ProofFrom) -> str:
        body = checkpoint.format()
        old = 0
        for _ in range(3):
            proof = [] if old in (0, checkpoint.size) or old > checkpoint.size else list(
                proof_from(old))
            lines = [f"old {old}", *(base64.b64encode(p).decode() for p in proof)]
            reply = self._ask(("\n".join(lines) + "\n\n" + body).encode("utf-8"))
            status, _, rest = reply.partition("\n")
            if status == "ok":
                return body + "\n" + rest
            if status.startswith("conflict "):
                old = int(status.removeprefix("conflict "))
                if old > checkpoint.size:
                    raise SignerRefused(f"the signer already signed size {old}, more than "
                                        f"{checkpoint.size}: the log was rolled back or "
                                        "truncated")
                continue
            raise SignerRefused(f"the signer refused: {status.removeprefix('refused ')}")
        raise SignerRefused("the signer keeps answering with another size")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m resguardo.ledger.signer",
        description="Run the log's checkpoint signer on a unix socket, under its own system "
        "account: it signs only checkpoints that extend the last one it signed, and keeps "
        "that size and root in its own state file. The key is a key file only this account "
        "reads, or a PKCS#11 token.",
        epilog="examples:\n  python -m resguardo.ledger.signer --key /etc/resguardo-signer/log.key "
        "--state /var/lib/resguardo-signer/state.json --socket /run/resguardo-signer/sock "
        "--init checkpoint.txt\n  python -m resguardo.ledger.signer --pkcs11 "
        "'pkcs11:module-path=/usr/lib/softhsm/libsofthsm2.so;token=resguardo;"
        "pin-source=/etc/resguardo-signer/pin;state=/var/lib/resguardo-signer/state.json' "
        "--origin resguardo.example/log --socket /run/resguardo-signer/sock",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--key", help="the log's key file (mode 0600, this account only)")
    source.add_argument("--pkcs11", metavar="URI", help="a PKCS#11 token's URI (see "
                        "resguardo.ledger.pkcs11); its state= is the state file")
    parser.add_argument("--origin", help="the log's origin (with --pkcs11)")
    parser.add_argument("--state", help="file where the signer keeps the size and root it "
                        "last signed (with --key)")
    parser.add_argument("--socket", required=True, help="unix socket path to listen on")
    parser.add_argument("--init", metavar="CHECKPOINT", help="on first start, trust this "
                        "checkpoint signed by the key (the log's latest) instead of size 0")
    args = parser.parse_args(argv)
    try:
        signer = _make_signer(args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    name = signer.verifier().name
    serve(signer, Path(args.socket),
          lambda: print(f"signer {name} listening on {args.socket}", flush=True))
    return 0


def _make_signer(args: argparse.Namespace) -> ExtendingSigner:
    if args.key:
        if not args.state:
            raise ValueError("--state is required with --key")
        key: NoteSigner = Signer.from_key_string(Path(args.key).read_text(encoding="ascii"))
        signer = ExtendingSigner(key, Path(args.state))
    else:
        if not args.origin:
            raise ValueError("--origin is required with --pkcs11")
        from .pkcs11 import token_signer

        signer = token_signer(args.pkcs11, args.origin)
    if args.init and not signer.state.exists():
        from .checkpoint import verify_checkpoint

        trusted = verify_checkpoint(Path(args.init).read_text(encoding="utf-8"),
                                    signer.verifier())
        signer._remember(trusted.size, trusted.root)
    return signer


if __name__ == "__main__":
    sys.exit(main())
