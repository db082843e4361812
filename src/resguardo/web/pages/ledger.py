"""The ledger: the latest signed checkpoint (to read, copy or download), a
button that verifies the whole log now, and signing a new checkpoint."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from resguardo.domain.errors import DomainError, NotFound
from resguardo.domain.policy import Action, may
from resguardo.domain.visibility import may_see_log_shape
from resguardo.services import ledger, ledger_freshness, ledger_proofs, ledger_verify, witnessing
from resguardo.web.i18n import N_, Lang
from resguardo.web.site import Ctx, Site, form_data

#: The verification's notes (``VerifyReport.notes``, English for the CLI and JSON), as the
#: page says them.
_NOTES = (
    (re.compile(r"^entries (?P<a>\d+)\.\.(?P=a) are not covered by a checkpoint yet$"),
     N_("Entry %(a)s is not covered by a checkpoint yet.")),
    (re.compile(r"^entries (?P<a>\d+)\.\.(?P<b>\d+) are not covered by a checkpoint yet$"),
     N_("Entries %(a)s to %(b)s are not covered by a checkpoint yet.")),
    (re.compile(r"^no checkpoint has been signed: nothing vouches for the log yet$"),
     N_("No checkpoint has been signed: nothing vouches for the log yet.")),
    (re.compile(r"^(?P<label>.+) could not be checked: an entry below (?P<size>\d+) is gone "
                r"from both the log and the tree$"),
     N_("%(label)s could not be checked: an entry it covers is gone from both the log and "
        "the tree.")),
)


def translated(patterns: tuple[tuple[re.Pattern[str], str], ...], text: str, lang: Lang,
               convert: Callable[[str, Any], Any] = lambda _name, value: value) -> str | None:
    """The message of the first pattern ``text`` matches, in the visitor's language, its
    named parts passed through ``convert(name, value)``; None when none matches."""
    for pattern, message in patterns:
        m = pattern.match(text)
        if m:
            return lang.gettext(message, **{k: convert(k, v) for k, v in m.groupdict().items()})
    return None


def note(text: str, lang: Lang) -> str:
    """A note of the verification report in the visitor's language."""
    said = translated(_NOTES, text, lang,
                      lambda _name, value: lang.number(int(value)) if value.isdigit() else value)
    return text if said is None else said


#: Findings that fault the file a visitor uploaded, not the log: it is not a checkpoint, is
#: not signed by this log's key, or was signed for another log.
FILE_FAULTS = frozenset({"supplied_signature", "supplied_origin"})


def _why(finding: Any) -> str:
    """Why an uploaded file is not a valid checkpoint of this log (a message id)."""
    if finding.kind == "supplied_origin":
        return N_("It is a checkpoint of another log (another deployment signed it).")
    if "is not a signed checkpoint" in finding.message:
        return N_("It is not a signed checkpoint: another file, or its text was changed.")
    if "public key is not available" in finding.message:
        return N_("It cannot be checked: this deployment's public key is not available.")
    return N_("Its signature is not this log's: it was altered or another key signed it.")


def _judged(report: Any) -> dict[str, Any]:
    """The report split in two: what it says of the log, and what of the uploaded files.

    A file that is not a valid checkpoint of this log says nothing of the log; a valid one
    the log no longer extends does (``supplied_root``, ``supplied_inconsistent``...)."""
    if report is None:
        return {"log_ok": None, "log_findings": [], "log_omitted": {}, "bad_files": {}}
    log_findings = [f for f in report.findings if f.kind not in FILE_FAULTS]
    log_omitted = {k: n for k, n in report.omitted.items() if k not in FILE_FAULTS}
    bad_files = {str((f.detail or {}).get("source")): _why(f) for f in report.findings
                 if f.kind in FILE_FAULTS}
    return {"log_ok": not log_findings and not log_omitted, "log_findings": log_findings,
            "log_omitted": log_omitted, "bad_files": bad_files}


def _state(site: Site, ctx: Ctx) -> dict[str, Any]:
    listed = site.rg.settings.witnesses
    cosigned: list[str] = []
    if not may_see_log_shape(ctx.actor):  # the log's size is for oversight roles
        return {"shape": False, "size": None, "latest": None, "root": None,
                "can_verify": False, "witnesses": listed, "cosigned": cosigned}
    with site.rg.read(ctx.actor) as uow:
        size = uow.repo.log_size()
        try:
            latest = ledger.latest(uow)
        except NotFound:
            latest = None
        if latest is not None and listed.witnesses:
            cosigned = witnessing.quorum_witnesses(
                ledger_proofs.cosigned(uow, latest.id).cosignatures, listed.witnesses)
    return {"shape": True, "size": size, "latest": latest,
            "root": ledger.b64(latest.root) if latest else None,
            "can_verify": may(ctx.actor, Action.LEDGER_VERIFY),
            "witnesses": listed, "cosigned": cosigned}


def _page(site: Site, ctx: Ctx, *, status: int = 200, report: Any = None,
          error: str | None = None) -> Response:
    return ctx.render("ledger.html", status=status, report=report, error=error,
                      note=note, **_judged(report), **_state(site, ctx))


def register(router: APIRouter, site: Site) -> None:
    ledger.attach(site.rg)  # appends made through these pages sign checkpoints when due

    @router.get("/ledger")
    def ledger_page(request: Request) -> Response:
        ctx = site.viewer(request)
        return _page(site, ctx)

    @router.get("/ledger/checkpoint.txt")
    def download_checkpoint(request: Request) -> Response:
        ctx = site.viewer(request)
        with site.rg.read(ctx.actor) as uow:
            latest = ledger.latest(uow)
        return Response(latest.note, media_type="text/plain; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="checkpoint-{latest.size}.txt"'})

    @router.post("/ledger/verify")
    async def verify(request: Request, form: FormData = Depends(form_data)) -> Response:
        from starlette.concurrency import run_in_threadpool
        supplied = []
        upload = form.get("kept")
        if isinstance(upload, UploadFile) and upload.filename:
            body = (await upload.read(64 * 1024)).decode("utf-8", "replace")
            supplied.append((upload.filename, body))
        return await run_in_threadpool(_verify, site, request, form, supplied)

    @router.post("/ledger/checkpoint")
    def sign_checkpoint(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        key = ledger.LedgerKey.of(site.rg.settings)
        try:
            with site.rg.work(ctx.actor) as uow:
                ledger.checkpoint(uow, key)
                uow.commit()
        except DomainError as exc:
            return _page(site, ctx, status=422, error=ctx.explain(exc))
        return ctx.redirect("/ledger", "checkpoint_signed")


def _verify(site: Site, request: Request, form: FormData,
            supplied: list[tuple[str, str]]) -> Response:
    ctx = site.viewer(request, form)
    key = ledger.LedgerKey.of(site.rg.settings)
    try:
        verifier = key.verifier()
    except DomainError:
        verifier = None
    options: dict[str, Any] = {}
    if "workers" in inspect.signature(ledger_verify.verify).parameters:
        options["workers"] = 1  # hash in this process: a web worker does not fork helpers
    with site.rg.read(ctx.actor) as uow:
        report = ledger_verify.verify(
            uow, verifier=verifier, origin=key.origin, supplied=supplied, projection=True,
            freshness=ledger_freshness.FreshnessPolicy.of(site.rg.settings), **options)
    judged = _judged(report)
    # the log first: a bad upload must not make a sound log look broken, nor hide a broken one
    status = 409 if not judged["log_ok"] else 422 if judged["bad_files"] else 200
    return _page(site, ctx, status=status, report=report)
