"""Backup and restore of a deployment's database, and what a backup leaves out.

A backup holds the database only. The signing key (or the signer that holds
it) and the settings are kept apart on purpose: a copy of the database must
not carry the means to sign checkpoints for it. A restore is not done until
the restored ledger verifies in full (leaves, tree, checkpoints against the
key, projection replayed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resguardo.config import Settings
from resguardo.domain.errors import Conflict, NotFound
from resguardo.services import ledger, ledger_verify
from resguardo.storage import backup as store
from resguardo.storage.backup import BackupError

__all__ = ["BackupError", "RestoreOutcome", "backup", "kept_apart", "restore"]


def kept_apart(settings: Settings) -> list[str]:
    """What a backup does not hold and a restore needs, said plainly."""
    if settings.signer:
        lines = [f"the signer's configuration: RESGUARDO_SIGNER={settings.signer}, and the key "
                 "it keeps (the signer's own backup, under its own account)"]
    else:
        lines = [f"the signing key file {settings.signing_key} (RESGUARDO_SIGNING_KEY): keep a "
                 "copy somewhere other than the database backups"]
    lines.append(f"the log's origin: RESGUARDO_LOG_ORIGIN={settings.log_origin}")
    return lines


def backup(app: Any, out: Path, *, force: bool = False) -> None:
    """Write the deployment's database to ``out`` (refuses an existing file unless
    ``force``)."""
    if out.exists() and not force:
        raise BackupError(f"{out} already exists; choose another name, or give --force to "
                          "replace it")
    if out.is_dir():
        raise BackupError(f"{out} is a directory; give the backup file's name")
    store.backup(app.settings.database_url, out)


@dataclass(frozen=True)
class RestoreOutcome:
    report: ledger_verify.VerifyReport
    entries: int


def restore(app: Any, source: Path, *, force: bool = False,
            progress: ledger_verify.Progress | None = None) -> RestoreOutcome:
    """Put the backup ``source`` into the deployment's database, then verify the ledger.

    Refuses a database that already holds tables unless ``force``; the caller reports
    success only when ``outcome.report.ok``. ``progress`` follows the verify.
    """
    store.backup_kind(source)  # a file that is no backup is refused before anything changes
    if not force and not store.is_empty(app.engine):
        raise BackupError(f"{app.settings.database_url} is not empty; a restore replaces it: "
                          "give --force to do so")
    store.restore(app.settings.database_url, source, app.engine)
    key = ledger.attach(app)
    try:
        verifier = key.verifier()
    except (NotFound, Conflict):
        verifier = None  # verify names what is missing (no_key)
    with app.read(None) as uow:
        # integrity, not freshness: a copy from last week has an old unsigned tail by nature
        report = ledger_verify.verify(uow, verifier=verifier, origin=key.origin,
                                      projection=True, freshness=None, progress=progress)
        entries = uow.repo.log_size()
    return RestoreOutcome(report, entries)
