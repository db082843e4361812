"""Settings, read from the environment (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from resguardo.ledger.witnesses import WitnessList, load_witnesses


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    database_url: str
    signing_key: Path
    loss_notify_deadline: timedelta
    shift_length: timedelta
    sqlite_synchronous: str
    log_origin: str
    #: Months between an agency's revistas (RESGUARDO_REVISTA_MONTHS, default 6).
    revista_months: int = 6
    signer: str = ""
    """RESGUARDO_SIGNER: empty for the key file; unix:PATH for the signer process;
    pkcs11:MODULE for a PKCS#11 token."""
    witnesses: WitnessList = WitnessList()
    """RESGUARDO_WITNESSES (a file, one witness a line) and RESGUARDO_WITNESS_QUORUM."""
    unsigned_tail_limit: timedelta = timedelta(minutes=10)
    """RESGUARDO_UNSIGNED_TAIL_MINUTES: `ledger verify` fails when entries stay unsigned longer."""
    cosignature_limit: timedelta = timedelta(minutes=10)
    """RESGUARDO_COSIGN_MINUTES: `ledger verify` fails when the latest checkpoint lacks the
    quorum of cosignatures for longer (only with witnesses configured)."""
    #: The command line must prove who acts (a server), instead of trusting ``--as``
    #: (a laptop with one operator): RESGUARDO_CLI_SIGN_IN
    cli_sign_in: bool = False
    #: RESGUARDO_READ_DATABASE_URL: a streaming replica for the reads that may lag
    #: (dashboards, lists, trace, the witness endpoints); empty reads the primary.
    read_database_url: str = ""
    credential_key: Path | None = None
    """RESGUARDO_CREDENTIAL_KEY: the key file that signs officers' credential statements
    (the QR on a printed credential); None for the default, beside the database
    (``credential_key_path``)."""

    @property
    def credential_key_path(self) -> Path:
        if self.credential_key is not None:
            return self.credential_key
        url = self.database_url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            return Path(url.removeprefix("sqlite:///") + ".credential.key")
        return Path("resguardo-credential.key")
    #: How long a SQLite writer waits for the write lock before failing "database is
    #: locked" (RESGUARDO_BUSY_TIMEOUT_SECONDS, default 60).
    busy_timeout: float = 60.0

    @classmethod
    def from_env(cls) -> Settings:
        url = os.environ.get("RESGUARDO_DATABASE_URL") or "sqlite:///resguardo.db"
        key = os.environ.get("RESGUARDO_SIGNING_KEY")
        if key:
            key_path = Path(key)
        elif url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            key_path = Path(url.removeprefix("sqlite:///") + ".key")
        else:
            key_path = Path("resguardo-signing.key")
        credential_key = os.environ.get("RESGUARDO_CREDENTIAL_KEY")
        sync = (os.environ.get("RESGUARDO_SQLITE_SYNCHRONOUS") or "FULL").upper()
        if sync not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise SystemExit("RESGUARDO_SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA")
        return cls(
            database_url=url,
            signing_key=key_path,
            loss_notify_deadline=timedelta(hours=_float("RESGUARDO_LOSS_NOTIFY_HOURS", 24)),
            shift_length=timedelta(hours=_float("RESGUARDO_SHIFT_HOURS", 12)),
            sqlite_synchronous=sync,
            log_origin=os.environ.get("RESGUARDO_LOG_ORIGIN") or "resguardo.example/log",
            revista_months=_months("RESGUARDO_REVISTA_MONTHS", 6),
            signer=_signer(),
            witnesses=_witnesses(),
            unsigned_tail_limit=timedelta(minutes=_float("RESGUARDO_UNSIGNED_TAIL_MINUTES", 10)),
            cosignature_limit=timedelta(minutes=_float("RESGUARDO_COSIGN_MINUTES", 10)),
            cli_sign_in=(os.environ.get("RESGUARDO_CLI_SIGN_IN") or "").strip().lower()
            in {"1", "true", "yes", "on"},
            read_database_url=(os.environ.get("RESGUARDO_READ_DATABASE_URL") or "").strip(),
            credential_key=Path(credential_key) if credential_key else None,
            busy_timeout=_float("RESGUARDO_BUSY_TIMEOUT_SECONDS", 60),
        )


def _signer() -> str:
    value = (os.environ.get("RESGUARDO_SIGNER") or "").strip()
    if value and not value.startswith(("unix:", "pkcs11:")):
        raise SystemExit("RESGUARDO_SIGNER must be unix:<socket path> or pkcs11:<module path>, "
                         f"got {value!r}")
    return value


def _witnesses() -> WitnessList:
    path = os.environ.get("RESGUARDO_WITNESSES") or ""
    quorum = os.environ.get("RESGUARDO_WITNESS_QUORUM") or ""
    if not path:
        if quorum:
            raise SystemExit("RESGUARDO_WITNESS_QUORUM is set but RESGUARDO_WITNESSES names "
                             "no witness file")
        return WitnessList()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"RESGUARDO_WITNESSES: cannot read {path}: {exc}") from None
    if quorum and not quorum.isdigit():
        raise SystemExit(f"RESGUARDO_WITNESS_QUORUM must be a whole number, got {quorum!r}")
    try:
        return load_witnesses(text, int(quorum) if quorum else None)
    except ValueError as exc:
        raise SystemExit(f"RESGUARDO_WITNESSES ({path}): {exc}") from None



def _months(name: str, default: int) -> int:
    value = _float(name, default)
    if value != int(value) or not 1 <= value <= 60:
        raise SystemExit(f"{name} must be a whole number of months from 1 to 60")
    return int(value)
