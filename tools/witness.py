#!/usr/bin/env python3
"""Keep and check copies of a Resguardo log's checkpoints, and cosign them as a witness.

An overseer (an inspector, a prosecutor's office, another agency) runs this script on
its own machine to hold the log to what it has published: every checkpoint it saves is
signed by the log, and a later checkpoint must extend it, as a consistency proof shows.

    python tools/witness.py keygen witness.example.org/w1 --out witness.key
    python tools/witness.py save checkpoint.txt --vkey log.vkey --dir copies/
    python tools/witness.py check copies/120.checkpoint new.txt --proof proof.json --vkey log.vkey
    python tools/witness.py cosign new.txt --key witness.key --vkey log.vkey
    python tools/witness.py serve --key witness.key --log log.vkey --state state/ --port 7380

`serve` runs a C2SP tlog-witness (POST /add-checkpoint): it cosigns a checkpoint only
when a consistency proof shows it extends the last one it cosigned for that log, and
keeps every refused request as evidence.

Exit status: 0 verified, 1 verification failed (bad signature, not an extension, a
fork), 2 usage error or unreadable input.

It needs only Python 3.11+ and the `cryptography` package, and deliberately does not
import resguardo: an overseer should not have to install, or trust, the software it
oversees. The few hashing and verification functions below therefore duplicate
resguardo.ledger (RFC 9162 consistency proofs, C2SP signed-note, tlog-checkpoint and
tlog-cosignature/v1); the test suite checks both agree.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import io
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

SIG_TYPE_ED25519 = 0x01
SIG_TYPE_COSIGNATURE = 0x04
EMPTY_ROOT = hashlib.sha256(b"").digest()
SIGNATURE_PREFIX = "\u2014 "
MAX_SIGNATURES = 100
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
Keep and check copies of a Resguardo log's checkpoints, and cosign them as a witness.
Every checkpoint saved is verified against the log's key; a later checkpoint must
extend each one held, as a consistency proof shows."""

EXAMPLES = """\
examples:
  python tools/witness.py keygen witness.example.org/w1 --out witness.key
  python tools/witness.py save checkpoint.txt --vkey log.vkey --dir copies/
  python tools/witness.py check copies/120.checkpoint new.txt --proof proof.json --vkey log.vkey
  python tools/witness.py cosign new.txt --key witness.key --vkey log.vkey >> new.txt
  python tools/witness.py serve --key witness.key --log log.vkey --state state/ --port 7380"""


class Failed(Exception):
    """Verification failed: exit status 1."""


class Unusable(Exception):
    """Bad usage or unreadable input: exit status 2."""


# --- RFC 9162 consistency proofs (duplicates resguardo.ledger.proofs) ---------------


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_consistency(
    size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2; raises Failed. Size 0 is handled by the caller."""
    if size2 < size1:
        raise Failed(f"the new tree ({size2}) is smaller than the old one ({size1})")
    if size1 == size2:
        if proof or root1 != root2:
            raise Failed("same size but a different root: the log has forked")
        return
    if size1 == 0 or not proof or any(len(p) != 32 for p in proof):
        raise Failed("malformed consistency proof")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Failed("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != root1 or sr != root2:
        raise Failed("consistency proof does not verify")


# --- Keys and signed notes (duplicates resguardo.ledger.keys and .note) ---------------


def key_hash(name: str, sig_type: int, public_key: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() or c < " " for c in name)


def b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Unusable(f"{what} is not valid base64") from None


@dataclass(frozen=True)
class Key:
    name: str
    sig_type: int
    public_key: bytes
    seed: bytes | None = None

    @property
    def hash(self) -> int:
        return key_hash(self.name, self.sig_type, self.public_key)


def parse_vkey(vkey: str) -> Key:
    name, _, rest = vkey.strip().partition("+")
    hash_hex, _, material = rest.partition("+")
    raw = b64decode(material, "verifier key")
    if not valid_name(name) or not re.fullmatch(r"[0-9a-fA-F]{8}", hash_hex) or len(raw) != 33:
        raise Unusable("a verifier key reads <name>+<8 hex digits>+<base64 key>")
    key = Key(name, raw[0], raw[1:])
    if key.sig_type not in (SIG_TYPE_ED25519, SIG_TYPE_COSIGNATURE) or key.hash != int(
        hash_hex, 16
    ):
        raise Unusable("verifier key has an unknown type or a wrong key hash")
    return key


def parse_signer_key(skey: str) -> Key:
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not valid_name(parts[2]):
        raise Unusable("a key file holds PRIVATE+KEY+<name>+<hash>+<base64 seed>")
    raw = b64decode(parts[4], "private key")
    if len(raw) != 33 or raw[0] not in (SIG_TYPE_ED25519, SIG_TYPE_COSIGNATURE):
        raise Unusable("private key material must be a known type byte and a 32-byte seed")
    public = Ed25519PrivateKey.from_private_bytes(raw[1:]).public_key().public_bytes_raw()
    key = Key(parts[2], raw[0], public, raw[1:])
    if not re.fullmatch(r"[0-9a-fA-F]{8}", parts[3]) or key.hash != int(parts[3], 16):
        raise Unusable("private key hash does not match its name and key")
    return key


def ed25519_ok(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def split_note(note: str) -> tuple[str, list[tuple[str, int, bytes]]]:
    """(text, [(name, key hash, signature)]) of a signed note; raises Failed if malformed."""
    if any(c < " " and c != "\n" for c in note):
        raise Failed("note contains a control character")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise Failed("not a signed note: no blank line before the signatures")
    text, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise Failed("too many signatures")
    signatures = []
    for line in lines:
        name, _, b64 = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if not line.startswith(SIGNATURE_PREFIX) or not valid_name(name) or len(raw) < 5:
            raise Failed(f"malformed signature line {line!r}")
        signatures.append((name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, signatures


def open_note(note: str, key: Key) -> str:
    """The text of a note signed by the Ed25519 note key `key`; raises Failed otherwise."""
    text, signatures = split_note(note)
    for name, khash, signature in signatures:
        if (name, khash) == (key.name, key.hash):
            if not ed25519_ok(key.public_key, text.encode(), signature):
                raise Failed(f"the signature by {key.name} does not verify")
            return text
    raise Failed(f"not signed by {key.name}+{key.hash:08x}")


# --- Checkpoints and cosignatures (duplicates .checkpoint and .cosignature) -----------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str


def parse_checkpoint(body: str) -> Checkpoint:
    lines = body[:-1].split("\n") if body.endswith("\n") else []
    if len(lines) < 3 or not all(lines) or not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Failed("not a checkpoint: needs origin, decimal size and root lines")
    root = b64decode(lines[2], "checkpoint root")
    if len(root) != 32:
        raise Failed("checkpoint root is not a 32-byte hash")
    return Checkpoint(lines[0], int(lines[1]), root, body)


def cosignature_line(body: str, key: Key, timestamp: int) -> str:
    message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
    if key.seed is None:
        raise Unusable("a cosignature needs the witness's private key")
    signature = Ed25519PrivateKey.from_private_bytes(key.seed).sign(message)
    blob = key.hash.to_bytes(4, "big") + timestamp.to_bytes(8, "big") + signature
    return f"{SIGNATURE_PREFIX}{key.name} {base64.b64encode(blob).decode()}\n"


# --- Commands ---------------------------------------------------------------------------


def read_text(path: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise Unusable(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise Unusable(f"{path} is not UTF-8 text") from None


def load_vkey(value: str) -> Key:
    """A verifier key given inline or as the path of a file holding it."""
    text = read_text(value) if os.path.isfile(value) else value
    key = parse_vkey(text)
    if key.sig_type != SIG_TYPE_ED25519:
        raise Unusable("--vkey must be the log's note key (type 0x01)")
    return key


def verified_checkpoint(path: str, vkey: Key) -> Checkpoint:
    return parse_checkpoint(open_note(read_text(path), vkey))


def key_string(key: Key, material: bytes) -> str:
    encoded = base64.b64encode(bytes([key.sig_type]) + material).decode()
    return f"{key.name}+{key.hash:08x}+{encoded}"


def cmd_keygen(args: argparse.Namespace) -> int:
    if not valid_name(args.name):
        raise Unusable("a key name must be non-empty, without spaces or '+'")
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    key = Key(args.name, SIG_TYPE_COSIGNATURE, public, seed)
    skey = "PRIVATE+KEY+" + key_string(key, seed)
    vkey = key_string(key, public)
    if args.out:
        try:
            fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise Unusable(f"{args.out} exists; refusing to overwrite a key") from None
        with os.fdopen(fd, "w") as f:
            f.write(skey + "\n")
        print(vkey)
    else:
        print(skey)
        print(vkey)
    return EXIT_OK


def cmd_save(args: argparse.Namespace) -> int:
    note = read_text(args.checkpoint)
    checkpoint = parse_checkpoint(open_note(note, load_vkey(args.vkey)))
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{checkpoint.size}.checkpoint"
    if target.exists():
        held = split_note(read_text(str(target)))[0]
        if held != checkpoint.body:
            raise Failed(
                f"{target} holds a different checkpoint of size {checkpoint.size}: "
                "the log has forked; keep both files as evidence"
            )
        print(f"already held: {target}")
        return EXIT_OK
    target.write_text(note, encoding="utf-8")
    print(f"saved {checkpoint.origin} size {checkpoint.size} to {target}")
    return EXIT_OK


def load_proof(path: str) -> tuple[int, int, list[bytes]]:
    try:
        data = json.loads(read_text(path))
        size1, size2, items = data["from"], data["to"], data["proof"]
    except (ValueError, KeyError, TypeError):
        raise Unusable(
            f'{path} must be JSON {{"from": n, "to": m, "proof": [base64...]}}'
        ) from None
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (size1, size2))
    if not ints or not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise Unusable(f"{path}: from/to must be integers and proof a list of base64 strings")
    return size1, size2, [b64decode(item, "proof hash") for item in items]


def cmd_check(args: argparse.Namespace) -> int:
    vkey = load_vkey(args.vkey)
    old = verified_checkpoint(args.old, vkey)
    new = verified_checkpoint(args.new, vkey)
    size1, size2, proof = load_proof(args.proof)
    if old.origin != new.origin:
        raise Failed(f"different logs: {old.origin!r} and {new.origin!r}")
    if (size1, size2) != (old.size, new.size):
        raise Failed(f"the proof is from {size1} to {size2}, not {old.size} to {new.size}")
    if old.size == 0:
        # RFC 9162 defines no proof from the empty tree: every tree extends it.
        if old.root != EMPTY_ROOT or proof:
            raise Failed("an empty checkpoint must carry the empty root and an empty proof")
    else:
        verify_consistency(old.size, new.size, proof, old.root, new.root)
    print(f"ok: {new.origin} size {new.size} extends size {old.size}")
    return EXIT_OK


def cmd_cosign(args: argparse.Namespace) -> int:
    key = parse_signer_key(read_text(args.key))
    if key.sig_type != SIG_TYPE_COSIGNATURE:
        raise Unusable("the witness key must be a cosignature key (type 0x04); see keygen")
    note = read_text(args.checkpoint)
    if args.vkey:
        body = open_note(note, load_vkey(args.vkey))
    else:
        body = split_note(note)[0] if "\n\n" in note else note
    parse_checkpoint(body)
    timestamp = int(time.time()) if args.time is None else args.time
    if not 0 <= timestamp < 2**63:
        raise Unusable("--time must be between 0 and 2**63 - 1")
    sys.stdout.write(cosignature_line(body, key, timestamp))
    return EXIT_OK


# --- The witness server (C2SP tlog-witness) -------------------------------------------

MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"


class Refusal(Exception):
    """An add-checkpoint request the witness refuses: an HTTP status and a reason."""

    def __init__(self, status: int, reason: str, evidence: bool = True) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.evidence = evidence


class SizeConflict(Refusal):
    """409: the request's old size is not the size this witness last cosigned."""

    def __init__(self, size: int, reason: str, evidence: bool) -> None:
        super().__init__(409, reason, evidence)
        self.size = size


def parse_add_checkpoint(body: bytes) -> tuple[int, list[bytes], str]:
    """(old size, consistency proof, signed checkpoint note) of a request body; 400 if not."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise Refusal(400, "no empty line between the proof and the checkpoint")
    lines = head.split("\n")
    match = re.fullmatch(r"old (0|[1-9][0-9]{0,18})", lines[0])
    if match is None:
        raise Refusal(400, "the first line must read 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Refusal(400, "too many consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            item = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            item = b""
        if len(item) != 32 or base64.b64encode(item).decode() != line:
            raise Refusal(400, f"proof line {line!r} is not the base64 of a 32-byte hash")
        proof.append(item)
    return int(match.group(1)), proof, note


def origin_key(origin: str) -> str:
    """The state directory name of a log: hex SHA-256 of its origin (any origin is safe)."""
    return hashlib.sha256(origin.encode()).hexdigest()


class Witness:
    """A tlog-witness: its key, the logs it knows, and their latest cosigned checkpoints.

    State lives under `state`: for each log, `<sha256(origin)>/checkpoint` is the latest
    checkpoint this witness cosigned (as the log signed it) and `<...>/refused/` keeps
    every refused request with the reason, as evidence for an overseer.
    """

    def __init__(self, key: Key, logs: list[Key], state: Path,
                 clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self.logs = {log.name: log for log in logs}
        self.state = state
        self.clock = clock
        self.lock = threading.Lock()
        for origin in self.logs:
            (state / origin_key(origin) / "refused").mkdir(parents=True, exist_ok=True)
            (state / origin_key(origin) / "origin").write_text(origin + "\n", encoding="utf-8")

    def latest(self, origin: str) -> Checkpoint | None:
        path = self.state / origin_key(origin) / "checkpoint"
        if not path.exists():
            return None
        return parse_checkpoint(split_note(read_text(str(path)))[0])

    def add_checkpoint(self, body: bytes) -> str:
        """Cosignature line(s) for an add-checkpoint request; raises Refusal."""
        old, proof, note = parse_add_checkpoint(body)
        origin = note.split("\n", 1)[0]
        log = self.logs.get(origin)
        if log is None:
            raise Refusal(404, f"unknown log origin {origin!r}", evidence=False)
        try:
            text = open_note(note, log)
        except Failed as exc:
            raise Refusal(403, f"not signed by the log's key: {exc}") from None
        try:
            checkpoint = parse_checkpoint(text)
        except (Failed, Unusable) as exc:
            raise Refusal(400, f"not a checkpoint: {exc}") from None
        if old > checkpoint.size:
            raise Refusal(400, f"old size {old} is larger than the checkpoint's {checkpoint.size}")
        with self.lock:
            held = self.latest(origin)
            held_size = 0 if held is None else held.size
            if old != held_size:
                # Behind us is normal (the log resends from what we hold); a log smaller
                # than what we cosigned was rolled back or truncated: keep that as evidence.
                raise SizeConflict(held_size, f"this witness cosigned size {held_size}, not "
                                   f"{old}", evidence=checkpoint.size < held_size)
            if held is None:
                if proof or (checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT):
                    raise Refusal(422, "from size 0 the proof must be empty")
            elif held.size == checkpoint.size:
                if proof or held.root != checkpoint.root:
                    raise Refusal(422, f"a different root for size {held.size}, which this "
                                  "witness already cosigned: the log has forked")
            else:
                try:
                    verify_consistency(held.size, checkpoint.size, proof, held.root,
                                       checkpoint.root)
                except Failed as exc:
                    raise Refusal(422, f"size {checkpoint.size} does not extend size "
                                  f"{held.size}: {exc}") from None
            self.keep(origin, note)
        return cosignature_line(text, self.key, int(self.clock()))

    def keep(self, origin: str, note: str) -> None:
        """Replace the log's latest cosigned checkpoint durably before cosigning: after a
        crash the witness must not have forgotten what it vouched for."""
        directory = self.state / origin_key(origin)
        tmp = directory / "checkpoint.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(note)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, directory / "checkpoint")
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def keep_evidence(self, body: bytes, refusal: Refusal) -> Path | None:
        """Write a refused request and why, under the log's refused/ directory."""
        origin = body.split(b"\n\n", 1)[-1].split(b"\n", 1)[0].decode("utf-8", "replace")
        if origin not in self.logs or not refusal.evidence:
            return None
        directory = self.state / origin_key(origin) / "refused"
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.clock()))
        digest = hashlib.sha256(body).hexdigest()[:12]
        path = directory / f"{stamp}-{refusal.status}-{digest}.txt"
        path.write_bytes(f"status {refusal.status}\nreason {refusal.reason}\n\n".encode()
                         + body)
        return path


def make_handler(witness: Witness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "resguardo-witness/1"

        def reply(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8"
                  ) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            if self.path != "/add-checkpoint":
                self.reply(404, "not found\n")
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self.reply(411, "a Content-Length is required\n")
                return
            if not 0 <= length <= MAX_BODY:
                self.reply(413, "request too large\n")
                return
            body = self.rfile.read(length)
            try:
                lines = witness.add_checkpoint(body)
            except Refusal as refusal:
                kept = witness.keep_evidence(body, refusal)
                where = f" (kept as {kept.name})" if kept else ""
                self.log_message("refused %d: %s%s", refusal.status, refusal.reason, where)
                if isinstance(refusal, SizeConflict):
                    self.reply(409, f"{refusal.size}\n", SIZE_CONTENT_TYPE)
                else:
                    self.reply(refusal.status, refusal.reason + "\n")
                return
            self.reply(200, lines)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            sys.stderr.write(f"{self.log_date_time_string()} {format % args}\n")

    return Handler


def cmd_serve(args: argparse.Namespace) -> int:
    key = parse_signer_key(read_text(args.key))
    if key.sig_type != SIG_TYPE_COSIGNATURE:
        raise Unusable("the witness key must be a cosignature key (type 0x04); see keygen")
    logs = [load_vkey(value) for value in args.log]
    if len({log.name for log in logs}) != len(logs):
        raise Unusable("each --log must name a different origin")
    witness = Witness(key, logs, Path(args.state))
    server = ThreadingHTTPServer((args.host, args.port), make_handler(witness))
    host, port = server.server_address[:2]
    print(f"witness {key.name} listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="witness.py",
        description=DESCRIPTION,
        epilog=EXAMPLES
        + "\n\nexit status: 0 verified, 1 verification failed, 2 usage or input error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(
        "keygen",
        help="make a witness (cosignature) key pair",
        formatter_class=raw,
        description="Make an Ed25519 witness key (signature type 0x04). With --out the "
        "private key goes to that file (mode 0600) and the public verifier key is printed; "
        "without it both are printed, private first.",
        epilog="example:\n  python tools/witness.py keygen witness.example.org/w1 --out witness.key",
    )
    p.add_argument("name", help="key name, e.g. witness.example.org/w1")
    p.add_argument("--out", metavar="FILE", help="write the private key here")
    p.set_defaults(run=cmd_keygen)

    p = sub.add_parser(
        "save",
        help="verify a signed checkpoint and keep a copy",
        formatter_class=raw,
        description="Verify the log's signature on a checkpoint and store it as "
        "DIR/<size>.checkpoint. A different checkpoint of the same size already held "
        "is a fork: exit status 1.",
        epilog="example:\n  python tools/witness.py save checkpoint.txt --vkey log.vkey --dir copies/",
    )
    p.add_argument("checkpoint", help="signed checkpoint file")
    p.add_argument("--vkey", required=True, help="the log's verifier key, or a file holding it")
    p.add_argument("--dir", required=True, help="directory of saved checkpoints")
    p.set_defaults(run=cmd_save)

    p = sub.add_parser(
        "check",
        help="check that a new checkpoint extends an old one",
        formatter_class=raw,
        description="Verify both checkpoints' signatures and the consistency proof, "
        'given as JSON {"from": n, "to": m, "proof": [base64, ...]}. Exit status 1 '
        "means the new checkpoint is not an extension of the old one.",
        epilog="example:\n  python tools/witness.py check copies/120.checkpoint new.txt "
        "--proof proof.json --vkey log.vkey",
    )
    p.add_argument("old", help="signed checkpoint held from before")
    p.add_argument("new", help="newer signed checkpoint")
    p.add_argument("--proof", required=True, help="consistency proof JSON file")
    p.add_argument("--vkey", required=True, help="the log's verifier key, or a file holding it")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser(
        "cosign",
        help="print a witness cosignature line for a checkpoint",
        formatter_class=raw,
        description="Print a C2SP tlog-cosignature/v1 line for the checkpoint. A "
        "witness should first `check` that it extends the last one it cosigned, and "
        "pass --vkey so the log's own signature is verified before signing.",
        epilog="example:\n  python tools/witness.py cosign new.txt --key witness.key "
        "--vkey log.vkey >> new.txt",
    )
    p.add_argument("checkpoint", help="signed checkpoint (or bare checkpoint body)")
    p.add_argument("--key", required=True, help="witness private key file (from keygen)")
    p.add_argument("--vkey", help="the log's verifier key: verify the checkpoint first")
    p.add_argument("--time", type=int, help="UNIX time to sign (default: now)")
    p.set_defaults(run=cmd_cosign)

    p = sub.add_parser(
        "serve",
        help="run a C2SP tlog-witness HTTP server (POST /add-checkpoint)",
        formatter_class=raw,
        description="Serve the C2SP tlog-witness protocol: cosign a log's checkpoint only "
        "if a consistency proof shows it extends the last one this witness cosigned for "
        "that log. Refused requests (bad signature, bad proof, a log smaller than what was "
        "cosigned) are kept under STATE/<sha256 of the origin>/refused/ as evidence. "
        "Prints the address it listens on; stop it with Ctrl-C or SIGTERM.",
        epilog="example:\n  python tools/witness.py serve --key witness.key --log log.vkey "
        "--state state/ --host 0.0.0.0 --port 7380",
    )
    p.add_argument("--key", required=True, help="witness private key file (from keygen)")
    p.add_argument("--log", required=True, action="append", metavar="VKEY",
                   help="a log's verifier key (or a file holding it); its name is the "
                   "log's origin. Repeat for several logs.")
    p.add_argument("--state", required=True, help="directory of the witness's state")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=7380, help="port (0: any free port)")
    p.set_defaults(run=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Notes are UTF-8 (the em dash of every signature line), whatever the locale says.
    for stream, errors in ((sys.stdout, "strict"), (sys.stderr, "backslashreplace")):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors=errors)
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except Failed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Unusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
