"""Pushing the log's checkpoints to outside witnesses (C2SP tlog-witness) and keeping
their cosignatures; turning their refusals and silences into alerts for the auditors.

`publish(app)` signs a checkpoint when entries are not yet covered by one, then sends
the newest checkpoint to every configured witness that has not cosigned it, with the
consistency proof from the size that witness last cosigned (from the cosignatures the
log keeps; a 409 answer names the witness's real size and the request is sent again
from there). A cosignature is kept only once it verifies with the witness's configured
key. Every request is recorded in `witness_attempts`; the newest attempt of each
witness that did not end in a cosignature is an alert, and `ledger verify` holds the
log to the configured quorum.

No HTTP request is made while a database transaction is open: the proof is read in one
short transaction, the witness is asked, and the outcome is written in another.
`publish` is run by `resguardo ledger publish` (once, or `--every SECONDS`) and by the
API server in the background every RESGUARDO_PUBLISH_SECONDS (so that the entries
before a quiet spell are signed too, not only when the next one arrives); a failed push
is retried by the next run.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from resguardo.domain.alerts import Alert, AlertKind
from resguardo.domain.errors import DomainError, ValidationFailed
from resguardo.domain.policy import Action, authorize, may
from resguardo.domain.timefmt import iso, parse_instant
from resguardo.ledger import LedgerError, consistency_proof, parse_note, verify_cosignature
from resguardo.ledger.note import parse_signature_line
from resguardo.ledger.witnesses import (
    Answer,
    Witness,
    WitnessList,
    add_checkpoint_body,
    post_checkpoint,
)
from resguardo.services import ledger
from resguardo.storage import ledger_store
from resguardo.storage.ledger_store import DbNodeStore, StoredCheckpoint, StoredCosignature
from resguardo.storage.uow import UnitOfWork

log = logging.getLogger("resguardo.witness")

Transport = Callable[[str, bytes], Answer]
#: How many times one push follows a 409 to the size the witness names.
MAX_CONFLICTS = 2

COSIGNED, REFUSED, UNREACHABLE, INVALID = "cosigned", "refused", "unreachable", "invalid"


@dataclass(frozen=True)
class PushResult:
    """How one witness answered for one checkpoint."""

    witness: str
    checkpoint_id: int
    size: int
    old_size: int
    outcome: str
    """cosigned, already (it had cosigned before), refused, unreachable or invalid."""
    status: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"witness": self.witness, "checkpoint_id": self.checkpoint_id, "size": self.size,
                "old_size": self.old_size, "outcome": self.outcome, "status": self.status,
                "detail": self.detail}


@dataclass(frozen=True)
class Publication:
    """A checkpoint and what each witness made of it."""

    checkpoint: StoredCheckpoint
    results: list[PushResult]
    quorum: int
    cosignatures: int

    @property
    def quorum_met(self) -> bool:
        return self.cosignatures >= self.quorum

    def as_dict(self) -> dict[str, Any]:
        return {**ledger.checkpoint_dict(self.checkpoint), "quorum": self.quorum,
                "cosignatures": self.cosignatures, "quorum_met": self.quorum_met,
                "witnesses": [r.as_dict() for r in self.results]}


def publish(app: Any, *, transport: Transport = post_checkpoint,
            witnesses: tuple[Witness, ...] | None = None) -> Publication:
    """Sign a checkpoint of the whole log if one is due, and push it to the witnesses.

    `witnesses` defaults to the deployment's (settings.witnesses); the revista passes
    the overseeing authority's. Raises NotFound without a signing key.
    """
    key = ledger.LedgerKey.of(app.settings)
    with app.read(None) as uow:  # most runs find nothing new: no write lock for them
        last = ledger_store.latest_checkpoint(uow.conn)
        covered = last is not None and last.size == uow.repo.log_size()
        uow.wait_until_durable()  # a witness never cosigns what a crash could still undo
    if covered:
        assert last is not None
        stored = last
    else:
        with app.work(None) as uow:
            stored = ledger.checkpoint(uow, key)
            uow.commit()
    listed = app.settings.witnesses
    chosen = listed.witnesses if witnesses is None else witnesses
    results = [push(app, stored, witness, transport=transport) for witness in chosen]
    with app.read(None) as uow:
        kept = len(quorum_witnesses(ledger_store.cosignatures(uow.conn, stored.id),
                                    listed.witnesses))
    return Publication(stored, results, listed.quorum, kept)


def quorum_witnesses(cosignatures: list[StoredCosignature], witnesses: tuple[Witness, ...]
                     ) -> list[str]:
    """Names of the configured witnesses among `cosignatures` (with the configured key)."""
    keys = {w.name: w.verifier.vkey() for w in witnesses}
    return [c.witness for c in cosignatures if keys.get(c.witness) == c.vkey]


def push(app: Any, stored: StoredCheckpoint, witness: Witness, *,
         transport: Transport = post_checkpoint) -> PushResult:
    """Ask one witness to cosign a stored checkpoint; record and return how it went."""
    with app.read(None) as uow:
        held = ledger_store.cosignature_of(uow.conn, stored.id, witness.name)
        old = ledger_store.witness_size(uow.conn, witness.name, witness.verifier.vkey())
    if held is not None and held.vkey == witness.verifier.vkey():
        return PushResult(witness.name, stored.id, stored.size, old, "already", 200, "")
    body_text, _ = parse_note(stored.note)
    result: PushResult | None = None
    for _ in range(MAX_CONFLICTS + 1):
        if old > stored.size:
            result = _result(witness, stored, old, REFUSED, 409,
                             f"the witness has cosigned size {old}, more than this log's "
                             f"checkpoint of size {stored.size}: the log was rolled back or "
                             "truncated")
            break
        proof = _proof(app, old, stored.size)
        answer = transport(witness.url, add_checkpoint_body(old, proof, stored.note))
        if _silent(answer):  # one more try before giving up until the next run
            answer = transport(witness.url, add_checkpoint_body(old, proof, stored.note))
        conflict = answer.conflict_size()
        if conflict is not None and conflict != old:
            old = conflict
            continue
        result = _judge(app, witness, stored, body_text, old, answer)
        break
    if result is None:
        result = _result(witness, stored, old, REFUSED, 409,
                         "the witness kept answering with a different size")
    with app.work(None) as uow:
        ledger_store.add_witness_attempt(uow.conn, result.witness, result.checkpoint_id,
                                         result.size, result.old_size, iso(uow.now()),
                                         result.status, result.outcome, result.detail)
        uow.commit()
    if result.outcome != COSIGNED:
        log.warning("witness %s: checkpoint %d (size %d): %s: %s", witness.name, stored.id,
                    stored.size, result.outcome, result.detail)
    return result


def _result(witness: Witness, stored: StoredCheckpoint, old: int, outcome: str, status: int,
            detail: str) -> PushResult:
    return PushResult(witness.name, stored.id, stored.size, old, outcome, status, detail)


def _proof(app: Any, old: int, new: int) -> list[bytes]:
    if old in (0, new):
        return []
    with app.read(None) as uow:
        return consistency_proof(DbNodeStore(uow.conn), old, new)


def _silent(answer: Answer) -> bool:
    """No answer, or one that says nothing about the log (an outage, a busy witness)."""
    return answer.status == 0 or answer.status == 429 or answer.status >= 500


def _judge(app: Any, witness: Witness, stored: StoredCheckpoint, body_text: str, old: int,
           answer: Answer) -> PushResult:
    if answer.status == 0:
        return _result(witness, stored, old, UNREACHABLE, 0, answer.body)
    if _silent(answer):
        detail = answer.body.strip()[:500] or "(no reason given)"
        return _result(witness, stored, old, UNREACHABLE, answer.status,
                       f"HTTP {answer.status}: {detail}")
    if answer.status != 200:
        detail = answer.body.strip()[:500] or "(no reason given)"
        return _result(witness, stored, old, REFUSED, answer.status,
                       f"HTTP {answer.status}: {detail}")
    for line in answer.body.splitlines():
        try:
            sig = parse_signature_line(line)
        except LedgerError:
            continue
        if (sig.name, sig.key_hash) != (witness.name, witness.verifier.key_hash):
            continue
        try:
            timestamp = verify_cosignature(body_text, line, witness.verifier)
        except LedgerError as exc:
            return _result(witness, stored, old, INVALID, 200,
                           f"the cosignature does not verify with the configured key: {exc}")
        with app.work(None) as uow:
            ledger_store.keep_cosignature(uow.conn, StoredCosignature(
                stored.id, witness.name, witness.verifier.vkey(), sig.line, timestamp))
            uow.commit()
        return _result(witness, stored, old, COSIGNED, 200, f"cosigned at {timestamp}")
    return _result(witness, stored, old, INVALID, 200,
                   "the answer carries no cosignature line by the configured key")


# --- status -----------------------------------------------------------------------------


def status(uow: UnitOfWork, listed: WitnessList) -> list[dict[str, Any]]:
    """Each configured witness: the largest size it cosigned here and its latest answer
    (auditor, admin)."""
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_VERIFY)
    attempts = {a.witness: a for a in ledger_store.latest_witness_attempts(uow.conn)}
    out = []
    for witness in listed.witnesses:
        attempt = attempts.get(witness.name)
        out.append({
            "witness": witness.name, "url": witness.url, "organization": witness.organization,
            "vkey": witness.verifier.vkey(),
            "cosigned_size": ledger_store.witness_size(uow.conn, witness.name,
                                                       witness.verifier.vkey()),
            "last": None if attempt is None else {
                "at": attempt.at, "checkpoint_id": attempt.checkpoint_id, "size": attempt.size,
                "outcome": attempt.outcome, "status": attempt.status, "detail": attempt.detail},
        })
    return out


# --- alerts -----------------------------------------------------------------------------


def witness_alerts(uow: UnitOfWork) -> list[Alert]:
    """The newest attempt of each witness, when it did not end in a cosignature
    (auditors and administrators: those who verify the ledger)."""
    actor = uow.actor
    if actor is not None and not may(actor, Action.LEDGER_VERIFY):
        return []
    out = []
    org_id = actor.scope.id if actor is not None else 0
    org_name = actor.scope.name if actor is not None else ""
    for attempt in ledger_store.latest_witness_attempts(uow.conn):
        if attempt.outcome == COSIGNED:
            continue
        kind = (AlertKind.WITNESS_UNREACHABLE if attempt.outcome == UNREACHABLE
                else AlertKind.WITNESS_REFUSED)
        out.append(Alert(
            key=f"{kind.value}:{attempt.witness}:{attempt.id}", kind=kind, agency_id=org_id,
            agency=org_name, subject=f"witness {attempt.witness}",
            message=f"checkpoint {attempt.checkpoint_id} (size {attempt.size}): "
                    f"{attempt.detail}",
            since=parse_instant(attempt.at)))
    return out




# --- the revista as a witness -------------------------------------------------------------


@dataclass(frozen=True)
class RevistaWitness:
    """The checkpoint that covers a revista's acta entry, cosigned by its overseer."""

    checkpoint_id: int
    size: int
    root: str
    """Base64 root hash, as the acta prints it."""
    witness: str
    cosigned: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"checkpoint_id": self.checkpoint_id, "size": self.size, "root": self.root,
                "witness": self.witness, "cosigned": self.cosigned, "detail": self.detail}


def witness_revista(app: Any, entry: int, authority: str, *,
                    transport: Transport = post_checkpoint) -> RevistaWitness:
    """Have the overseeing authority's witness cosign a checkpoint covering entry `entry`.

    Call after the transaction that appended the revista's closing entry committed.
    `authority` is the code of the organization that conducted the revista; its witness
    is the one listed with that organization in RESGUARDO_WITNESSES. Signs a checkpoint
    of the whole log (so it covers `entry`), pushes it to that witness, and returns the
    checkpoint's size and root for the acta. A refusal or silence is returned (cosigned
    False, with the reason), recorded, and alerted like any other push; with no witness
    listed for the authority the checkpoint is still signed and returned (witness "",
    cosigned False). ValidationFailed when the entry is not in the log.
    """
    with app.read(None) as uow:
        if not 0 <= entry < uow.repo.log_size():
            raise ValidationFailed(f"entry {entry} is not in the log", field="entry")
    chosen = tuple(app.settings.witnesses.by_organization(authority))
    published = publish(app, transport=transport, witnesses=chosen[:1])
    stored = published.checkpoint
    if not published.results:
        return RevistaWitness(stored.id, stored.size, ledger.b64(stored.root), "", False,
                              f"no witness is listed for organization {authority} in "
                              "RESGUARDO_WITNESSES")
    result = published.results[0]
    return RevistaWitness(stored.id, stored.size, ledger.b64(stored.root), result.witness,
                          result.outcome in (COSIGNED, "already"), result.detail)


def run_forever(app: Any, every: float, stop: Callable[[], bool]) -> None:
    """Publish every `every` seconds until `stop()` (the server's background loop)."""
    while not stop():
        try:
            publish(app)
        except DomainError as exc:
            log.error("witness push: %s", exc.message)
        except Exception:  # noqa: BLE001 - the loop must outlive a bad run
            log.exception("witness push failed")
        deadline = time.monotonic() + every
        while not stop() and time.monotonic() < deadline:
            time.sleep(min(0.5, every))


class Publisher:
    """The API server's background thread that publishes every RESGUARDO_PUBLISH_SECONDS."""

    def __init__(self, app: Any, every: float) -> None:
        self.app = app
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_app(cls, app: Any) -> Publisher | None:
        """A publisher when the deployment can sign (so that the last entries before a
        quiet spell get their checkpoint too) or lists witnesses, else None."""
        settings = app.settings
        if not (settings.witnesses.witnesses or settings.signer
                or ledger.LedgerKey.of(settings).exists()):
            return None
        raw = os.environ.get("RESGUARDO_PUBLISH_SECONDS") or "30"
        try:
            every = float(raw)
        except ValueError:
            raise ValidationFailed(f"RESGUARDO_PUBLISH_SECONDS must be a number, got {raw!r}",
                                   field="RESGUARDO_PUBLISH_SECONDS") from None
        if every <= 0:
            raise ValidationFailed("RESGUARDO_PUBLISH_SECONDS must be positive",
                                   field="RESGUARDO_PUBLISH_SECONDS")
        return cls(app, every)

    def start(self) -> None:
        self._thread = threading.Thread(target=run_forever, name="witness-publisher",
                                        args=(self.app, self.every, self._stop.is_set),
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
