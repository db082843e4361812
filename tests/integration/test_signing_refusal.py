"""A deployment that cannot sign checkpoints for its log refuses writes and says why:
a database restored without its signing key, restored beside another deployment's key,
or a signer that does not answer. Reads go on; with the right key, writes are accepted
again at once."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from resguardo.domain.errors import SigningUnavailable
from resguardo.services import backup, custody, ledger
from resguardo.services.app import Resguardo

from world import build_world, do, look


@pytest.fixture
def source(sqlite_url, clock, tmp_path):  # type: ignore[no-untyped-def]
    """A deployment built here, so that its signing key exists and signed its checkpoints."""
    app = build_world(sqlite_url, clock, tmp_path)
    ledger.attach(app)
    yield app
    app.engine.dispose()


def restored(source: Resguardo, tmp_path: Path, key: Path, signer: str = "") -> Resguardo:
    """The source's backup restored into a new database, run with `key` (or `signer`)."""
    out = tmp_path / "copia.backup"
    out.unlink(missing_ok=True)
    backup.backup(source, out)
    target = tmp_path / f"restored-{key.stem}-{len(signer)}.db"
    shutil.copy(out, target)
    settings = dataclasses.replace(source.settings, database_url=f"sqlite:///{target}",
                                   signing_key=key, signer=signer)
    app = Resguardo(settings, clock=source.clock)
    ledger.attach(app)
    return app


def issue(app: Resguardo) -> int:
    return do(app, "armero1", custody.issue, "GLK-A100", "P1").position


def status(app: Resguardo) -> str:
    return look(app, "armero1", lambda uow: uow.repo.firearm("GLK-A100").status)


def test_restored_without_its_key_it_refuses_writes_and_keeps_reading(source, tmp_path):
    app = restored(source, tmp_path, tmp_path / "missing.key")
    with pytest.raises(SigningUnavailable) as refused:
        issue(app)
    assert refused.value.details == {"reason": "no_key"}
    assert "cannot sign checkpoints" in refused.value.message
    assert str(tmp_path / "missing.key") in refused.value.message
    assert status(app) == "in_storage"  # nothing was written, and reading works
    size = look(app, None, lambda uow: uow.repo.log_size())

    shutil.copy(source.settings.signing_key, tmp_path / "missing.key")  # the key comes back
    (tmp_path / "missing.key").chmod(0o600)
    assert issue(app) == size
    assert status(app) == "issued"


def test_another_deployments_key_is_refused_and_named(source, tmp_path, clock):
    other = build_world(f"sqlite:///{tmp_path / 'other.db'}", clock, tmp_path / "other")
    other_key = other.settings.signing_key
    other.engine.dispose()
    assert other_key.exists() and other_key != source.settings.signing_key
    app = restored(source, tmp_path, other_key)
    with pytest.raises(SigningUnavailable) as refused:
        issue(app)
    assert refused.value.details == {"reason": "wrong_key"}
    assert "did not sign this log's checkpoint" in refused.value.message
    assert status(app) == "in_storage"


def test_with_its_own_key_the_restored_copy_accepts_writes(source, tmp_path):
    app = restored(source, tmp_path, source.settings.signing_key)
    issue(app)
    assert status(app) == "issued"


def test_an_unreachable_signer_refuses_writes(source, tmp_path):
    app = restored(source, tmp_path, tmp_path / "unused.key",
                   signer=f"unix:{tmp_path / 'no-signer.sock'}")
    with pytest.raises(SigningUnavailable) as refused:
        issue(app)
    assert refused.value.details == {"reason": "signer_unreachable"}
    assert "does not answer" in refused.value.message
