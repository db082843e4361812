"""Bulk import over HTTP: upload a spreadsheet, preview it with a column mapping, commit it.

For the import page of the web interface (and any script):

1. ``POST /imports/{firearms|officers|locations}`` with the file as the raw
   body (``?filename=`` names it) stores the upload for its user, checks it
   (hostile files are refused like on the command line) and answers its id,
   headers, the columns as they would be read, and the first rows;
2. ``POST /imports/.../preview`` runs the whole import as a dry run with an
   optional column mapping and answers the report: every refused row with
   its line, column and reason, in Spanish or English; nothing is written;
3. ``POST /imports/.../commit`` imports it in one transaction (all or
   nothing unless ``skip_invalid``); a refused import answers 422 with the
   report in the error's details.

``POST /imports/.../rejects`` answers, as a dry run, the refused rows as a CSV
file: the header as read plus an ``error`` column, to fix and upload again.

Uploads are kept on the server's disk (``RESGUARDO_IMPORT_DIR``, a temporary
directory by default) for a day, readable only by the user who sent them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.responses import Response

from resguardo.api.dependencies import Caller, Reader, Writer
from resguardo.api.errors import error_responses
from resguardo.api.routing import AgencyFilter, needs, router
from resguardo.api.schemas.common import PRINTABLE, Code, Name, _Encodable
from resguardo.domain.errors import T_, AuthenticationFailed, NotFound, ValidationFailed
from resguardo.domain.policy import Action, authorize
from resguardo.services import imports as import_service
from resguardo.services.import_gate import gate
from resguardo.services.imports import ImportOptions, ImportReport, agency_for, file_sha256
from resguardo.sheets import SheetSchema, open_sheet
from resguardo.sheets.guard import SheetLimits, check_file
from resguardo.storage.uow import UnitOfWork

imports = router("/imports", "imports")

#: How long an upload is kept.
KEEP_SECONDS = 24 * 3600
#: Rows shown with an upload.
SAMPLE_ROWS = 5
#: Problems an API report lists (all are counted).
MAX_PROBLEMS = 500

ACTIONS = {"firearms": Action.FIREARM_REGISTER, "officers": Action.OFFICER_MANAGE,
           "locations": Action.LOCATION_MANAGE}
T = TypeVar("T")
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
_CHUNK = 1 << 20

RAW_BODY = {"requestBody": {"required": True, "description": (
    "The spreadsheet itself, as the raw body: a CSV (any common delimiter and encoding) "
    "or an XLSX workbook."), "content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}}}}

UploadId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{22}$"),
                     Field(description="The id an upload answered with.")]
Header = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PRINTABLE),
                   _Encodable]
Target = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$"),
                   Field(description="A field name, `note` or `ignore`.")]
FileName = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f/\\]*$",
                                       description="The file's name (its extension says "
                                                   "whether it is .csv or .xlsx).")]


class FieldOut(BaseModel):
    name: str
    required: bool
    aliases: list[str]


class UploadOut(BaseModel):
    """A stored upload: what the import will read."""

    upload: str = Field(description="Give this to preview and commit.")
    kind: str
    file: str
    sha256: str
    size: int
    format: Literal["csv", "xlsx"]
    agency: str
    headers: list[str]
    mapping: dict[str, str] = Field(description="Header -> the field it is read as "
                                                "(`note`: kept as a note).")
    missing: list[str] = Field(description="Required fields no column is read as yet: map "
                                           "a column to each before importing.")
    fields: list[FieldOut] = Field(description="The fields a column may be mapped to.")
    sample: list[list[str]] = Field(description="The first data rows, as read.")


class ImportIn(BaseModel):
    """How to import an upload."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"upload": "Q2xpZW50VXBsb2FkMDAwMQ", "mapping": {"Núm. de arma": "serial"},
         "location": "ARM1", "skip_invalid": True, "lang": "es"}]})

    upload: UploadId
    mapping: dict[Header, Target] | None = Field(
        None, max_length=200, description="Header as written -> field, `note` or `ignore`.")
    location: Code | None = Field(None, description="Location for rows that name none.")
    sheet: Name | None = Field(None, description="Sheet of a workbook (default: the first).")
    month_first: bool = False
    update: bool = False
    skip_invalid: bool = False
    create_missing: bool = False
    lang: Literal["es", "en"] = "es"


class ProblemOut(BaseModel):
    line: int
    column: str | None
    column_letter: str | None
    code: str
    message: str


class CreatedOut(BaseModel):
    locations: list[str]
    officers: list[str]


class ReportOut(BaseModel):
    """What an import did (or, previewed, would do) and every row it refused."""

    kind: str
    file: str
    sha256: str
    agency: str
    dry_run: bool
    mode: Literal["all_or_nothing", "skip_invalid"]
    update: bool
    committed: bool
    rows: int
    imported: int
    updated: int
    unchanged: int
    rejected: int
    created: CreatedOut
    entry: int | None = Field(description="Position of the import's entry in the log.")
    headers: list[str]
    mapping: dict[str, str]
    problem_count: int
    problems: list[ProblemOut] = Field(description=f"The first {MAX_PROBLEMS} problems.")


# --- the stored uploads ------------------------------------------------------------------------


def upload_dir() -> Path:
    base = os.environ.get("RESGUARDO_IMPORT_DIR") or os.path.join(tempfile.gettempdir(),
                                                                  "resguardo-imports")
    path = Path(base)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _expire(directory: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for entry in directory.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
        except OSError:
            pass


def _stored(upload: str, user: str, kind: str) -> tuple[Path, dict[str, Any]]:
    """The upload's file and description, if ``user`` sent it for ``kind`` (else 404)."""
    missing = NotFound("upload not found (or expired)", upload=upload)
    if not _UPLOAD_ID.match(upload):
        raise missing
    directory = upload_dir()
    try:
        meta = json.loads((directory / f"{upload}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise missing from None
    data = directory / f"{upload}.data"
    if meta.get("user") != user or meta.get("kind") != kind or not data.is_file():
        raise missing
    return data, meta


def _remove(upload: str) -> None:
    for suffix in (".data", ".json"):
        with contextlib.suppress(OSError):
            (upload_dir() / f"{upload}{suffix}").unlink()


# --- the operations ------------------------------------------------------------------------------


def _unit(caller: Caller) -> UnitOfWork:
    return caller.work(write=True)


def _enter(uow: UnitOfWork) -> UnitOfWork:
    try:
        return uow.__enter__()
    except NotFound:
        raise AuthenticationFailed("the account behind this token is disabled") from None


def _allowed(caller: Caller, kind: str, agency: str | None) -> str:
    """The agency code the caller may import ``kind`` into (403/404 otherwise)."""
    uow = _enter(caller.app.work(caller.username, write=False))
    try:
        assert uow.actor is not None
        authorize(uow.actor, ACTIONS[kind])
        found = agency_for(uow, agency)
        authorize(uow.actor, ACTIONS[kind], found.path, "organization")
        if not found.holds_weapons:
            raise ValidationFailed(T_("%(code)s is not an agency; imports are per agency"),
                                   field="agency", code=found.code)
        return found.code
    finally:
        uow.__exit__(None, None, None)


def _gated_describe(user: str, path: Path, kind: str, name: str,
                    limits: SheetLimits) -> dict[str, Any]:
    with gate().slot(user):
        return _describe(path, kind, name, limits)


def _describe(path: Path, kind: str, name: str, limits: SheetLimits) -> dict[str, Any]:
    fmt = check_file(path, limits, name=name)
    schema = _schema(kind)
    with open_sheet(path, schema, max_columns=limits.max_columns, label=name,
                    require=False) as sheet:
        report = ImportReport(kind, name, "", "", True, False, False)
        import_service.describe(sheet, report)
        sample: list[list[str]] = []
        for _line, cells in sheet.rows():
            sample.append([c[:200] for c in cells[:sheet.width]])
            if len(sample) >= SAMPLE_ROWS:
                break
        fields = [{"name": f.name, "required": f.required, "aliases": list(f.aliases)}
                  for f in schema.fields]
        return {"format": fmt, "headers": report.headers, "mapping": report.mapping,
                "missing": list(sheet.missing), "fields": fields, "sample": sample}


def _schema(kind: str) -> SheetSchema:
    if kind == "firearms":
        from resguardo.services.import_firearms import SCHEMAS
    else:
        from resguardo.services.import_roster import SCHEMAS  # type: ignore[no-redef]
    return SCHEMAS[kind]


async def _upload(request: Request, caller: Caller, kind: str, agency: str | None,
                  filename: str | None) -> UploadOut:
    code = await run_in_threadpool(_allowed, caller, kind, agency)
    limits = SheetLimits.from_env()
    directory = upload_dir()
    await run_in_threadpool(_expire, directory)
    upload = secrets.token_urlsafe(16)
    data = directory / f"{upload}.data"
    size = 0
    try:
        with open(data, "wb") as out:
            os.chmod(data, 0o600)
            async for chunk in request.stream():
                size += len(chunk)
                if limits.max_bytes and size > limits.max_bytes:
                    raise ValidationFailed(
                        f"the file is larger than the limit of {limits.max_bytes:,} bytes",
                        field="body")
                out.write(chunk)
        if size == 0:
            raise ValidationFailed("the file is empty: send it as the request body",
                                   field="body")
        if filename is None:
            with open(data, "rb") as f:
                filename = f"upload.{'xlsx' if f.read(2) == b'PK' else 'csv'}"
        name = filename
        described = await run_in_threadpool(_gated_describe, caller.username, data, kind,
                                            name, limits)
        sha256 = await run_in_threadpool(file_sha256, data)
        meta = {"user": caller.username, "kind": kind, "agency": code, "file": name,
                "size": size, "sha256": sha256}
        (directory / f"{upload}.json").write_text(json.dumps(meta), encoding="utf-8")
    except BaseException:
        _remove(upload)
        raise
    return UploadOut(upload=upload, kind=kind, file=name, sha256=sha256, size=size,
                     agency=code, **described)


def _options(body: ImportIn, meta: dict[str, Any], dry_run: bool) -> ImportOptions:
    return ImportOptions(agency=meta["agency"], dry_run=dry_run,
                         skip_invalid=body.skip_invalid, update=body.update,
                         create_missing=body.create_missing, month_first=body.month_first,
                         location=body.location, sheet=body.sheet, mapping=body.mapping,
                         name=meta["file"], max_problems=MAX_PROBLEMS)


def _report(report: ImportReport, lang: str) -> ReportOut:
    return ReportOut.model_validate(report.as_dict(lang, "api"))


def _dry_run(caller: Caller, kind: str, body: ImportIn,
             work: Callable[[UnitOfWork, Path, ImportOptions], T]) -> T:
    """``work`` on an upload, with its options as a dry run, in a unit of work that is
    rolled back; in its turn in the import queue."""
    with gate().slot(caller.username):
        uow = _enter(_unit(caller))
        try:
            assert uow.actor is not None
            authorize(uow.actor, ACTIONS[kind])
            path, meta = _stored(body.upload, caller.username, kind)
            return work(uow, path, _options(body, meta, True))
        finally:
            uow.__exit__(None, None, None)  # a dry run writes nothing: rolled back


def _preview(caller: Caller, kind: str, body: ImportIn) -> ReportOut:
    return _report(_dry_run(caller, kind, body, lambda uow, path, options:
                            import_service.import_file(uow, kind, path, options)), body.lang)


def _rejects(caller: Caller, kind: str, body: ImportIn) -> Response:
    refused = _dry_run(caller, kind, body, lambda uow, path, options:
                       import_service.rejected_rows(uow, kind, path, options, body.lang, "api"))
    return Response(refused.content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{refused.filename}"',
                             "X-Rejected-Rows": str(refused.report.rejected)})


def _commit(caller: Caller, kind: str, body: ImportIn) -> Response:
    def run(uow: UnitOfWork) -> ImportReport:
        assert uow.actor is not None
        authorize(uow.actor, ACTIONS[kind])
        path, meta = _stored(body.upload, caller.username, kind)
        report = import_service.import_file(uow, kind, path, _options(body, meta, False))
        if report.failed:
            raise ValidationFailed(
                f"nothing was imported: {report.rejected} of {report.rows} rows were refused "
                "(all or nothing; set skip_invalid to import the valid ones)",
                report=report.as_dict(body.lang, "api"))
        return report

    with gate().slot(caller.username):
        response = caller.write(run, lambda uow, report: _report(report, body.lang), body=body)
    if response.status_code == 201:
        _remove(body.upload)
    return response


def _operations(kind: str, what: str) -> None:
    action = ACTIONS[kind]

    async def upload(request: Request, caller: Writer, agency: AgencyFilter = None,
                     filename: FileName = None) -> UploadOut:
        return await _upload(request, caller, kind, agency, filename)

    def preview(body: ImportIn, caller: Writer) -> ReportOut:
        return _preview(caller, kind, body)

    def commit(body: ImportIn, caller: Writer) -> Response:
        return _commit(caller, kind, body)

    def rejects(body: ImportIn, caller: Writer) -> Response:
        return _rejects(caller, kind, body)

    upload.__doc__ = (f"Upload {what} (CSV or XLSX, the raw request body): stored for you, "
                      "checked, and described (headers, columns, first rows).")
    preview.__doc__ = (f"Import an upload of {what} as a dry run, with an optional column "
                       "mapping: the report, every refused row with its line and column; "
                       "nothing is written.")
    commit.__doc__ = (f"Import an upload of {what} in one transaction (all or nothing unless "
                      "skip_invalid); refused: 422 with the report in the details.")
    _register(imports.post, f"/{kind}", upload, UploadOut, 201,
              {**needs(action), **RAW_BODY}, f"upload_{kind}")
    _register(imports.post, f"/{kind}/preview", preview, ReportOut, 200, needs(action),
              f"preview_{kind}_import")
    _register(imports.post, f"/{kind}/commit", commit, ReportOut, 201, needs(action),
              f"commit_{kind}_import")
    rejects.__doc__ = (f"The refused rows of an upload of {what} as a CSV file (a dry run): "
                       "the header as read plus an error column, to fix and upload again.")
    rejects.__name__ = f"{kind}_import_rejects"
    imports.post(f"/{kind}/rejects", response_class=Response, openapi_extra=needs(action),
                 name=rejects.__name__, responses={**error_responses(), 200: {
                     "content": {"text/csv": {}},
                     "description": "The refused rows, UTF-8 with a byte order mark; "
                                    "X-Rejected-Rows counts them."}})(rejects)


def _register(method: Callable[..., Any], path: str, endpoint: Callable[..., Any],
              model: type[BaseModel], status: int, extra: dict[str, Any], name: str) -> None:
    endpoint.__name__ = name
    method(path, response_model=model, status_code=status, openapi_extra=extra,
           name=name)(endpoint)


class QueueOut(BaseModel):
    """The server's import queue as it is now."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"running": 2, "waiting": 1, "slots": 2, "places": 8, "yours": [1]}]})

    running: int = Field(description="Imports being read now.")
    waiting: int = Field(description="Imports waiting for a slot.")
    slots: int = Field(description="Imports read at once (RESGUARDO_IMPORT_CONCURRENT).")
    places: int = Field(description="Places in the queue (RESGUARDO_IMPORT_QUEUE).")
    yours: list[int] = Field(description="Where your waiting requests stand (1 = next).")


@imports.get("/queue", response_model=QueueOut, name="import_queue",
             openapi_extra=needs("none"))
def import_queue(caller: Reader) -> QueueOut:
    """The import queue: how many imports are read now, how many wait, and where yours
    stand. An upload, preview, rejects or commit that finds every slot taken waits here."""
    state = gate().state(caller.username)
    return QueueOut(running=state.running, waiting=state.waiting, slots=state.slots,
                    places=state.places, yours=list(state.mine))


_operations("firearms", "an agency's firearms")
_operations("officers", "an agency's officers")
_operations("locations", "an agency's locations")
