"""What `ledger verify` holds the log to beyond its own hashes: that no entry stays
unsigned for long, that the newest checkpoint gathers its witnesses' quorum in time,
and that no witness has refused the log.

These catch what hashes alone cannot: an insider holding both the database and the
signing key rewrites the log and re-signs every checkpoint, so the stored evidence is
consistent again; but the witnesses keep what they cosigned and refuse the rewritten
checkpoints, and without their cosignatures the newest checkpoint lacks its quorum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from resguardo.domain.timefmt import parse_instant
from resguardo.ledger import LedgerError, parse_note, verify_cosignature
from resguardo.ledger.witnesses import WitnessList
from resguardo.services.ledger_scan import Finding
from resguardo.storage import ledger_store
from resguardo.storage.ledger_store import StoredCheckpoint
from resguardo.storage.uow import UnitOfWork

#: Witness attempt outcomes that mean the witness refused the log (not a silence).
REFUSALS = frozenset({"refused", "invalid"})


@dataclass(frozen=True)
class FreshnessPolicy:
    """The limits `ledger verify` enforces (from the settings)."""

    witnesses: WitnessList
    tail_limit: timedelta
    """RESGUARDO_UNSIGNED_TAIL_MINUTES."""
    cosign_limit: timedelta
    """RESGUARDO_COSIGN_MINUTES."""

    @classmethod
    def of(cls, settings: Any) -> FreshnessPolicy:
        return cls(settings.witnesses, settings.unsigned_tail_limit, settings.cosignature_limit)


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:g} min"


def check(uow: UnitOfWork, policy: FreshnessPolicy, size: int,
          newest: StoredCheckpoint | None) -> list[Finding]:
    """Findings for a log of `size` entries whose newest stored checkpoint is `newest`."""
    conn, now = uow.conn, uow.now()
    found: list[Finding] = []
    covered = 0 if newest is None else newest.size
    if covered < size:
        at = ledger_store.event_time(conn, covered)
        if at is not None and now - parse_instant(at) > policy.tail_limit:
            age = now - parse_instant(at)
            found.append(Finding(
                "unsigned_tail", f"entries {covered}..{size - 1} are covered by no checkpoint, "
                f"the oldest since {at} ({_minutes(age)}, more than the "
                f"{_minutes(policy.tail_limit)} allowed): nothing outside the server vouches "
                "for them; `resguardo serve` signs them within RESGUARDO_PUBLISH_SECONDS, "
                "`resguardo ledger publish` at once", covered, size - 1, False, {"since": at}))
    listed = policy.witnesses
    if not listed.witnesses:
        return found
    by_name = {w.name: w for w in listed.witnesses}
    for checkpoint in ledger_store.all_checkpoints(conn):
        try:
            body, _ = parse_note(checkpoint.note)
        except LedgerError:
            continue  # verify reports the note itself
        valid = 0
        for cosig in ledger_store.cosignatures(conn, checkpoint.id):
            witness = by_name.get(cosig.witness)
            if witness is None:
                continue
            try:
                verify_cosignature(body, cosig.line, witness.verifier)
                valid += 1
            except (LedgerError, ValueError) as exc:
                found.append(Finding(
                    "cosignature_invalid", f"checkpoint {checkpoint.id}: the cosignature kept "
                    f"for witness {cosig.witness} does not verify with its configured key "
                    f"({exc})", None, None, False,
                    {"checkpoint_id": checkpoint.id, "witness": cosig.witness}))
        if newest is None or checkpoint.id != newest.id:
            continue
        age = now - parse_instant(checkpoint.created_at)
        if valid < listed.quorum and age > policy.cosign_limit:
            found.append(Finding(
                "cosignature_quorum", f"checkpoint {checkpoint.id} (size {checkpoint.size}), "
                f"signed {checkpoint.created_at}, has {valid} of the {listed.quorum} witness "
                f"cosignatures required after {_minutes(age)} (limit "
                f"{_minutes(policy.cosign_limit)}): the witnesses have not vouched for the "
                "log as it stands", None, None, False,
                {"checkpoint_id": checkpoint.id, "cosignatures": valid,
                 "quorum": listed.quorum}))
    for attempt in ledger_store.latest_witness_attempts(conn):
        if attempt.witness in by_name and attempt.outcome in REFUSALS:
            found.append(Finding(
                "witness_refused", f"witness {attempt.witness} refused checkpoint "
                f"{attempt.checkpoint_id} (size {attempt.size}) at {attempt.at}: "
                f"{attempt.detail}", None, None, False,
                {"witness": attempt.witness, "checkpoint_id": attempt.checkpoint_id,
                 "status": attempt.status}))
    return found
