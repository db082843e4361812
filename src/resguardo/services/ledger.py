"""The ledger as a deployment runs it: its signing key and signed checkpoints (on request
and automatically). What readers check against those checkpoints (inclusion and
consistency proofs, witness cosignatures, event export) lives in `ledger_proofs`;
verification of the whole log lives in `ledger_verify`.

The signing key is an Ed25519 C2SP note key named after the log's origin
(`settings.log_origin`), kept in `settings.signing_key` (RESGUARDO_SIGNING_KEY) with
mode 0600; `resguardo init` creates it through `init_hook` (wired in `services.app`). With
`settings.signer` (RESGUARDO_SIGNER) the key is out of the application's reach instead
(`resguardo.ledger.signer`: a signer process on a unix socket, or a PKCS#11 token), and
only committed entries are signed: the append path leaves them to `witnessing.publish`.

Automatic checkpoints are signed in the append path, in the event's transaction, once
RESGUARDO_CHECKPOINT_EVERY entries (default 1000) or RESGUARDO_CHECKPOINT_MINUTES
minutes (default 1: the unsigned tail stays short) have passed since the last one. The
append path knows only the database connection, so it finds the deployment's key
through `attach(app)` (done by `resguardo init` and by every ledger command) or, failing
that, through the settings in the environment when they name the same database.

A deployment that cannot sign checkpoints for its log refuses writes (`SigningUnavailable`,
503 `signing_unavailable`) and says why, while reads go on: the key file is missing or
unreadable (a database restored without its key), the key is not the one that signed the
log's checkpoints (a database restored beside another deployment's key), or the signer
(RESGUARDO_SIGNER) does not answer. Entries accepted then could never be checkpointed.
Entries that only record a read (`READ_RECORDS`: sign-ins, accesses, exports) still go in,
unsigned until the key is back, so that people can sign in and read.
The check runs at a unit of work's first entry and holds for `SIGNING_CHECK_SECONDS`;
a log with no checkpoint yet (`resguardo init` at work) is not checked.
"""

from __future__ import annotations

import base64
import logging
import os
import stat
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resguardo.config import Settings
from resguardo.domain.errors import T_, Conflict, NotFound, SigningUnavailable, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.domain.timefmt import iso, parse_instant
from resguardo.ledger import (
    EMPTY_ROOT,
    SIG_TYPE_ED25519,
    Checkpoint,
    LedgerError,
    Signer,
    Verifier,
    consistency_proof,
    generate_signer,
    tree_root,
    verify_checkpoint,
    verify_consistency,
)
from resguardo.ledger.signer import CheckpointSigner, LocalSigner, SignerRefused, SocketSigner
from resguardo.storage import ledger_store
from resguardo.storage.ledger_store import DbNodeStore, StoredCheckpoint
from resguardo.storage.uow import UnitOfWork

log = logging.getLogger("resguardo.ledger")

KEY_FILE_MODE = 0o600


def write_key_file(path: Path, name: str, what: str) -> Signer:
    """A new Ed25519 key named ``name`` in a file readable only by its owner (whatever the
    umask says); an existing file is never replaced. ``what`` names the key in refusals."""
    signer = generate_signer(name, SIG_TYPE_ED25519)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise Conflict(f"{what} {path} already exists; it is never replaced",
                       path=str(path)) from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        os.fchmod(f.fileno(), KEY_FILE_MODE)
        f.write(signer.to_key_string() + "\n")
    return signer


def read_key_file(path: Path, what: str, kind: str, missing: str) -> Signer:
    """The Ed25519 key in ``path``: NotFound without the file (``missing`` says what to do),
    Conflict when others may read it or it holds no Ed25519 key (``kind``: "a note key")."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise NotFound(f"no {what} at {path}: {missing}", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Conflict(f"cannot read {what} {path}: {exc}", path=str(path)) from None
    if mode & 0o077:
        raise Conflict(f"{what} {path} is readable by others (mode {mode:04o}); "
                       "run `chmod 600` on it", path=str(path))
    try:
        signer = Signer.from_key_string(text)
    except ValueError as exc:
        raise Conflict(f"{what} {path} is not a key file: {exc}", path=str(path)) from None
    if signer.sig_type != SIG_TYPE_ED25519:
        raise Conflict(f"{what} {path} is not {kind} (type 0x01)", path=str(path))
    return signer
DEFAULT_CHECKPOINT_EVERY = 1000
DEFAULT_CHECKPOINT_MINUTES = 1.0


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- the signing key ------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerKey:
    """Where a deployment's checkpoints are signed, and the log they are signed for.

    By default the key is a file beside the database (`path`, mode 0600): fine for a
    laptop, but whoever runs the application can read it. `remote` (RESGUARDO_SIGNER)
    moves the key out of its reach: `unix:PATH` asks the signer process on that socket,
    `pkcs11:...` a token; both sign only checkpoints that extend the last one they signed.
    """

    path: Path
    origin: str
    remote: str = ""

    @classmethod
    def of(cls, settings: Settings) -> LedgerKey:
        return cls(Path(settings.signing_key), settings.log_origin, settings.signer)

    @property
    def is_remote(self) -> bool:
        return bool(self.remote)

    def exists(self) -> bool:
        return self.is_remote or self.path.exists()

    def create(self) -> Signer:
        """Make a new key file readable only by its owner; refuse to overwrite one."""
        if self.is_remote:
            raise Conflict(f"the signer {self.remote} keeps its own key; no key file is made",
                           signer=self.remote)
        return write_key_file(self.path, self.origin, "signing key")

    def signer(self) -> Signer:
        """The private key; NotFound without the file, Conflict if others may read it."""
        if self.is_remote:
            raise Conflict(f"the key is held by the signer {self.remote}, not by this process",
                           signer=self.remote)
        return read_key_file(self.path, "signing key", "a note key", (
            "run `resguardo init`, or point RESGUARDO_SIGNING_KEY at the key file"))

    def checkpoint_signer(self) -> CheckpointSigner:
        """What signs this deployment's checkpoints."""
        if self.remote.startswith("unix:"):
            return SocketSigner(Path(self.remote.removeprefix("unix:")))
        if self.remote.startswith("pkcs11:"):
            from resguardo.ledger.pkcs11 import token_signer

            try:
                return token_signer(self.remote, self.origin)
            except SignerRefused as exc:
                raise Conflict(f"the PKCS#11 signer: {exc}", signer=self.remote) from None
        return LocalSigner(self.signer())

    def verifier(self) -> Verifier:
        """The public half, as overseers hold it."""
        if not self.is_remote:
            return self.signer().verifier()
        try:
            return self.checkpoint_signer().verifier()
        except SignerRefused as exc:
            raise NotFound(f"the log's key is not available: {exc}",
                           signer=self.remote) from None


def parse_vkey(text: str) -> Verifier:
    """A verifier key given as its string or as the path of a file holding it."""
    value = text.strip()
    try:
        if Path(value).is_file():
            value = Path(value).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValidationFailed(f"cannot read verifier key file {value}: {exc}",
                               field="vkey") from None
    try:
        return Verifier.from_vkey(value)
    except ValueError as exc:
        raise ValidationFailed(f"not a verifier key: {exc}", field="vkey") from None


# --- which deployment an append belongs to ----------------------------------------------


@dataclass
class _Deployment:
    key: LedgerKey
    warned: bool = field(default=False)
    refused_at: int | None = field(default=None)
    """The checkpoint the log was last found not to extend (reported once)."""
    able_until: float = field(default=0.0)
    """Until when (time.monotonic) the key is known to sign for the log."""


_BY_DATABASE: dict[str, _Deployment | None] = {}
_BY_ENGINE: weakref.WeakKeyDictionary[Any, _Deployment | None] = weakref.WeakKeyDictionary()


def attach(app: Any) -> LedgerKey:
    """Tell the append path which key signs checkpoints for `app`'s database."""
    key = LedgerKey.of(app.settings)
    deployment = _Deployment(key)
    _BY_DATABASE[ledger_store.database_identity(app.engine)] = deployment
    _BY_ENGINE[app.engine] = deployment
    return key


def _deployment_of(engine: Any) -> _Deployment | None:
    try:
        return _BY_ENGINE[engine]
    except KeyError:
        pass
    identity = ledger_store.database_identity(engine)
    if identity not in _BY_DATABASE:
        settings = Settings.from_env()
        same = ledger_store.database_identity(settings.database_url) == identity
        _BY_DATABASE[identity] = _Deployment(LedgerKey.of(settings)) if same else None
    found = _BY_DATABASE[identity]
    _BY_ENGINE[engine] = found
    return found


# --- checkpoints ----------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointPolicy:
    """How often the append path signs a checkpoint on its own."""

    every: int
    minutes: float

    @classmethod
    def from_env(cls) -> CheckpointPolicy:
        return cls(_env_number("RESGUARDO_CHECKPOINT_EVERY", DEFAULT_CHECKPOINT_EVERY, int),
                   _env_number("RESGUARDO_CHECKPOINT_MINUTES", DEFAULT_CHECKPOINT_MINUTES, float))

    def due(self, size: int, last: tuple[int, str] | None, at: str) -> bool:
        """True if a log of `size` entries at instant `at` needs a newer checkpoint than `last`."""
        if last is None:
            return True
        last_size, last_at = last
        if size <= last_size:
            return False
        if size - last_size >= self.every:
            return True
        elapsed = parse_instant(at) - parse_instant(last_at)
        return elapsed.total_seconds() >= self.minutes * 60


def _env_number(name: str, default: Any, kind: type) -> Any:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be a number, got {raw!r}", field=name) from None
    if value <= 0:
        raise ValidationFailed(f"{name} must be positive, got {raw!r}", field=name)
    return value


def _refusal(conn: Any, last: StoredCheckpoint, size: int, root: bytes) -> str | None:
    """Why the tree of `size` with `root` does not extend checkpoint `last` (None if it does)."""
    if size < last.size:
        return f"the log has {size} entries, fewer than checkpoint {last.id} signed ({last.size})"
    if last.size == 0:
        return None if last.root == EMPTY_ROOT else f"checkpoint {last.id} has a bad empty root"
    try:
        proof = consistency_proof(DbNodeStore(conn), last.size, size)
        verify_consistency(last.size, size, proof, last.root, root)
    except LedgerError as exc:
        return f"the log does not extend checkpoint {last.id} (size {last.size}): {exc}"
    return None


def _sign(conn: Any, signer: CheckpointSigner, origin: str, size: int, created_at: str
          ) -> StoredCheckpoint:
    root = tree_root(DbNodeStore(conn), size)
    last = ledger_store.latest_checkpoint(conn)
    reason = None if last is None else _refusal(conn, last, size, root)
    if reason is not None:
        raise Conflict(T_("refusing to sign a checkpoint: %(reason)s; run `resguardo ledger verify`"),
                       size=size, checkpoint_id=last.id if last else None, reason=reason)
    try:
        note = signer.sign_checkpoint(Checkpoint(origin, size, root),
                                      lambda old: consistency_proof(DbNodeStore(conn), old, size))
    except SignerRefused as exc:
        raise Conflict(f"the signer refused to sign size {size}: {exc}; run "
                       "`resguardo ledger verify`", size=size,
                       checkpoint_id=last.id if last else None) from None
    return ledger_store.store_checkpoint(conn, size, root, note, created_at)


def checkpoint(uow: UnitOfWork, key: LedgerKey) -> StoredCheckpoint:
    """Sign and keep a checkpoint of the log as this unit of work sees it (auditor, admin).

    Returns the latest checkpoint instead when it already covers the whole log. Refuses
    (Conflict) when the log no longer extends the last signed checkpoint.
    """
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_VERIFY)
    if key.is_remote and uow.appended:
        # The signer remembers what it signed: only committed entries may be signed.
        raise Conflict("commit the entries before asking the signer for a checkpoint")
    uow.lock()
    size = uow.repo.log_size() + len(uow.appended)
    last = ledger_store.latest_checkpoint(uow.conn)
    if last is not None and last.size == size and last.root == tree_root(DbNodeStore(uow.conn),
                                                                         size):
        return last
    return _sign(uow.conn, key.checkpoint_signer(), key.origin, size, iso(uow.now()))


def latest(uow: UnitOfWork) -> StoredCheckpoint:
    """The newest stored checkpoint (the oversight roles: a checkpoint counts the log)."""
    if uow.actor is not None:
        authorize(uow.actor, Action.LEDGER_READ)
    found = ledger_store.latest_checkpoint(uow.conn)
    if found is None:
        raise NotFound("no checkpoint has been signed yet: run `resguardo ledger checkpoint`")
    return found


def checkpoint_dict(stored: StoredCheckpoint) -> dict[str, Any]:
    return {"id": stored.id, "size": stored.size, "root": b64(stored.root),
            "created_at": stored.created_at, "note": stored.note}


SIGNING_CHECK_SECONDS = 10.0


def signing_problem(conn: Any, key: LedgerKey) -> tuple[str, str] | None:
    """(reason, message) when `key` cannot sign checkpoints for the log on `conn`: reason
    `no_key`, `wrong_key` or `signer_unreachable`. None when it can, or when the log has
    no checkpoint yet (nothing to match)."""
    last = ledger_store.latest_checkpoint(conn)
    if last is None:
        return None
    try:
        verifier = key.checkpoint_signer().verifier() if key.is_remote \
            else key.signer().verifier()
    except NotFound as exc:
        return "no_key", exc.message
    except (Conflict, SignerRefused, OSError) as exc:
        text = exc.message if isinstance(exc, Conflict) else str(exc)
        if key.is_remote:
            return "signer_unreachable", f"the signer {key.remote} does not answer: {text}"
        return "no_key", text
    try:
        verify_checkpoint(last.note, verifier)
    except LedgerError:
        where = key.remote if key.is_remote else str(key.path)
        return "wrong_key", (f"the key of {where} ({verifier.name}+{verifier.key_hash:08x}) "
                             f"did not sign this log's checkpoint {last.id}: the database was "
                             "restored or copied without its own signing key")
    return None


#: Entries that record a read (a sign-in, an access, an export): still written while
#: checkpoints cannot be signed, so that people can sign in and read; nothing is signed.
READ_RECORDS = ("access.", "auth.", "export.")


def require_signing(conn: Any, event: Event | None = None) -> bool:
    """Refuse (SigningUnavailable) a write the deployment could never checkpoint; False
    when `event` only records a read and goes in unsigned, True when signing works."""
    deployment = _deployment_of(conn.engine)
    if deployment is None or time.monotonic() < deployment.able_until:
        return True
    problem = signing_problem(conn, deployment.key)
    if problem is None:
        deployment.able_until = time.monotonic() + SIGNING_CHECK_SECONDS
        return True
    if event is not None and event.type.startswith(READ_RECORDS):
        return False
    reason, message = problem
    log.error("ledger: writes refused: %s", message)
    raise SigningUnavailable(
        f"writes are refused: this deployment cannot sign checkpoints for its log ({message}); "
        "restore the signing key or the signer, then retry; reading goes on",
        reason=reason)


def auto_checkpoint(conn: Any, event: Event) -> None:
    """Append hook: sign a checkpoint in the event's transaction when one is due; refuse
    the entry when checkpoints cannot be signed (`require_signing`)."""
    deployment = _deployment_of(conn.engine)
    if deployment is None or not require_signing(conn, event):
        return
    size = event.position + 1
    last = ledger_store.latest_checkpoint_head(conn)
    if not CheckpointPolicy.from_env().due(size, last, event.at):
        return
    key = deployment.key
    if key.is_remote:
        return  # the signer signs committed entries only: `ledger publish` and the server
    if last is None and not key.exists():
        return  # `resguardo init` at work: its hook makes the key and the first checkpoint
    try:
        signer = key.signer()
    except (NotFound, Conflict) as exc:
        if not deployment.warned:
            log.warning("ledger: no automatic checkpoints: %s", exc.message)
            deployment.warned = True
        return
    try:
        _sign(conn, LocalSigner(signer), key.origin, size, event.at)
    except Conflict as exc:
        # Custody goes on; `ledger verify` explains the refusal. Said once, not per event.
        if deployment.refused_at != exc.details.get("checkpoint_id"):
            log.error("ledger: %s", exc.message)
            deployment.refused_at = exc.details.get("checkpoint_id")


def init_hook(app: Any) -> list[str]:
    """`resguardo init`: create the signing key if needed and sign the first checkpoint."""
    key = attach(app)
    created = not key.exists()
    vkey = key.create().vkey() if created else key.verifier().vkey()
    with app.work(None) as uow:
        first = checkpoint(uow, key)
        uow.commit()
    verb = "created" if created else "kept the existing"
    where = (f"ledger: checkpoints are signed by {key.remote}" if key.is_remote else
             f"ledger: {verb} signing key {key.path} (mode 0600); back it up, it is not in "
             "the database")
    return [
        where,
        f"ledger: verifier key for overseers: {vkey}",
        f"ledger: checkpoint {first.id} signed at size {first.size}",
    ]

