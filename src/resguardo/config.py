"""Settings, read from the environment (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path


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
    #: The command line must prove who acts (a server), instead of trusting ``--as``
    #: (a laptop with one operator): RESGUARDO_CLI_SIGN_IN
    cli_sign_in: bool = False

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
            cli_sign_in=(os.environ.get("RESGUARDO_CLI_SIGN_IN") or "").strip().lower()
            in {"1", "true", "yes", "on"},
        )
