"""The log's side of the C2SP tlog-witness protocol: which witnesses a deployment uses,
the add-checkpoint request it sends them, and what their answers mean.

A witness cosigns a checkpoint (C2SP tlog-cosignature/v1) only if a consistency proof
shows that it extends the last checkpoint the witness cosigned for the log. The
request body is an `old <size>` line, the consistency proof from that size (one base64
hash a line), an empty line, and the signed checkpoint note. A witness answers 200 with
its cosignature line(s); 409 with its own size (Content-Type text/x.tlog.size) when the
old size is not the one it holds; 403, 404, 422 or 400 when it refuses.

Only the standard library is used (urllib for the POST), so any witness that follows
the specification works, not only `tools/witness.py serve`.
"""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from .keys import SIG_TYPE_COSIGNATURE, Verifier

SIZE_CONTENT_TYPE: Final = "text/x.tlog.size"
_SIZE_BODY: Final = re.compile(r"(0|[1-9][0-9]{0,18})\n")


@dataclass(frozen=True)
class Witness:
    """A witness a deployment pushes its checkpoints to."""

    url: str
    """Base URL; requests go to <url>/add-checkpoint."""
    verifier: Verifier
    """The witness's cosignature key (type 0x04); its name is the witness's name."""
    organization: str | None = None
    """Code of the overseeing organization that runs it (for the revista), if any."""

    @property
    def name(self) -> str:
        return self.verifier.name


@dataclass(frozen=True)
class WitnessList:
    """The witnesses of a deployment and how many cosignatures make a checkpoint trusted."""

    witnesses: tuple[Witness, ...] = field(default=())
    quorum: int = 0

    def by_organization(self, code: str) -> list[Witness]:
        return [w for w in self.witnesses if w.organization == code]


def load_witnesses(text: str, quorum: int | None = None) -> WitnessList:
    """Parse a witness file: one `URL VKEY [ORGANIZATION]` a line, `#` starts a comment.

    The quorum defaults to a majority of the witnesses listed. ValueError names the line.
    """
    found: list[Witness] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) not in (2, 3):
            raise ValueError(f"line {number}: expected 'URL VKEY [ORGANIZATION]'")
        url, vkey = parts[0], parts[1]
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
            raise ValueError(f"line {number}: the URL must start with http:// or https://")
        try:
            verifier = Verifier.from_vkey(vkey)
        except ValueError as exc:
            raise ValueError(f"line {number}: the witness key: {exc}") from None
        if verifier.sig_type != SIG_TYPE_COSIGNATURE:
            raise ValueError(f"line {number}: the witness key must be a cosignature key "
                             "(type 0x04), as `tools/witness.py keygen` makes")
        if any(w.name == verifier.name for w in found):
            raise ValueError(f"line {number}: witness {verifier.name} is listed twice")
        found.append(Witness(url.rstrip("/"), verifier, parts[2] if len(parts) == 3 else None))
    if quorum is None:
        quorum = len(found) // 2 + 1 if found else 0
    if found and not 1 <= quorum <= len(found):
        raise ValueError(f"the quorum must be between 1 and {len(found)} (the witnesses "
                         f"listed), got {quorum}")
    if not found and quorum:
        raise ValueError("a quorum is set but no witness is listed")
    return WitnessList(tuple(found), quorum)


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], signed_checkpoint: str) -> bytes:
    """The body of a tlog-witness add-checkpoint request."""
    lines = [f"old {old_size}", *(base64.b64encode(p).decode("ascii") for p in proof)]
    return ("\n".join(lines) + "\n\n" + signed_checkpoint).encode("utf-8")


@dataclass(frozen=True)
class Answer:
    """A witness's HTTP answer: status 0 means it could not be reached."""

    status: int
    content_type: str
    body: str

    def conflict_size(self) -> int | None:
        """The witness's size from a 409 text/x.tlog.size answer (None otherwise)."""
        if self.status != 409 or self.content_type.split(";")[0].strip() != SIZE_CONTENT_TYPE:
            return None
        match = _SIZE_BODY.fullmatch(self.body)
        return int(match.group(1)) if match else None


def post_checkpoint(url: str, body: bytes, timeout: float = 10.0) -> Answer:
    """POST an add-checkpoint request to a witness; never raises for HTTP or network errors."""
    request = urllib.request.Request(
        url.rstrip("/") + "/add-checkpoint", data=body, method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8",
                 "User-Agent": "resguardo-ledger/1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(response.status, response.headers.get("Content-Type", ""),
                          response.read(65536).decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        text = exc.read(65536).decode("utf-8", "replace")
        return Answer(exc.code, exc.headers.get("Content-Type", ""), text)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Answer(0, "", f"cannot reach the witness: {reason}")
