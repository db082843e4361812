"""Import from a spreadsheet: upload, preview (a dry run), map columns, see the
refused rows with their line and column (and download them as a CSV with an
``error`` column, to fix and upload again), then commit.

The uploaded file waits on the server between the preview and the commit,
under a random name bound to the person who uploaded it, and is deleted once
imported or after a couple of hours. The import itself is
``services.imports.import_file``: the same checks, events and report as the
``resguardo import`` command.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from resguardo.domain.codes import OrgKind
from resguardo.domain.errors import DomainError, NotFound, ValidationFailed
from resguardo.reports import import_template as template_files
from resguardo.services import import_firearms, import_roster, imports
from resguardo.services.import_gate import gate
from resguardo.sheets import template
from resguardo.sheets.schema import fold_header
from resguardo.web.i18n import N_
from resguardo.web.site import Ctx, Site, form_data, form_value

UPLOADS = Path(tempfile.gettempdir()) / "resguardo-web-imports"
KEEP_SECONDS = 2 * 3600
MAX_UPLOAD = 64 * 1024 * 1024
SHOWN_PROBLEMS = 200
SCHEMAS = {**import_firearms.SCHEMAS, **import_roster.SCHEMAS}
KIND_LABELS = {"firearms": N_("Firearms"), "officers": N_("Officers"),
               "locations": N_("Locations")}
#: How a column is read besides as one of the fields.
NOTE, IGNORE = "note", "ignore"
IMPORT_FIELDS = {
    "serial": N_("Serial"), "make": N_("Make"), "model": N_("Model"), "calibre": N_("Calibre"),
    "kind": N_("Kind"), "folio": N_("Registration folio"), "status": N_("Status"),
    "location": N_("Location"), "custodian": N_("Held by (badge)"), "agency": N_("Agency"),
    "acquired": N_("Acquired on"), "barrel_serial": N_("Barrel serial"),
    "ballistic_id": N_("Ballistic identification"), "licence": N_("Licence"),
    "supplier": N_("Supplier"), "purchase_ref": N_("Purchase reference"), "badge": N_("Badge"),
    "name": N_("Name"), "cuip": N_("CUIP"), "credential_folio": N_("Carry credential folio"),
    "credential_expiry": N_("Credential valid until"),
    "qualification_expiry": N_("Qualification valid until"), "code": N_("Code"),
    NOTE: N_("Keep as a note"), IGNORE: N_("Leave out"),
}


def _sweep() -> None:
    UPLOADS.mkdir(mode=0o700, parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for path in UPLOADS.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def _store(upload: UploadFile, username: str, kind: str) -> str:
    """Keep an uploaded file for the preview and the commit; returns its token."""
    _sweep()
    token = secrets.token_urlsafe(24)
    target = UPLOADS / token
    with target.open("wb") as out:
        copied = 0
        while chunk := upload.file.read(1 << 20):
            copied += len(chunk)
            if copied > MAX_UPLOAD:
                out.close()
                target.unlink(missing_ok=True)
                raise ValidationFailed("the file is larger than 64 MB; import it with the "
                                       "`resguardo import` command", field="file")
            out.write(chunk)
    name = Path(upload.filename or "import").name[:200]
    (UPLOADS / f"{token}.json").write_text(json.dumps(
        {"user": username, "name": name, "kind": kind}), encoding="utf-8")
    return token


def _stored(token: str, username: str) -> tuple[Path, dict[str, Any]]:
    """The file behind a token, only for the person who uploaded it."""
    if not token or not all(c.isalnum() or c in "-_" for c in token):
        raise NotFound("the uploaded file is no longer here; upload it again")
    path, meta_path = UPLOADS / token, UPLOADS / f"{token}.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotFound("the uploaded file is no longer here; upload it again") from None
    if meta.get("user") != username or not path.exists():
        raise NotFound("the uploaded file is no longer here; upload it again")
    return path, meta


def _discard(token: str) -> None:
    for path in (UPLOADS / token, UPLOADS / f"{token}.json"):
        path.unlink(missing_ok=True)


def _options(form: FormData, meta: dict[str, Any], dry_run: bool) -> imports.ImportOptions:
    mapping = {}
    for key, value in form.multi_items():
        if key.startswith("map:") and isinstance(value, str) and value:
            mapping[key[4:]] = value
    return imports.ImportOptions(
        agency=form_value(form, "agency") or None, dry_run=dry_run,
        skip_invalid=form_value(form, "mode") == "skip_invalid",
        update=form_value(form, "update") == "yes",
        location=form_value(form, "location") or None, mapping=mapping or None,
        name=meta["name"])


#: The choices of the upload form, carried from the preview to the commit.
CHOSEN = ("kind", "agency", "location", "mode", "update")


def _chosen(form: FormData) -> dict[str, str]:
    return {key: form_value(form, key) for key in CHOSEN}


def _form_page(site: Site, ctx: Ctx, *, status: int = 200, error: str | None = None,
               **values: Any) -> Response:
    with site.rg.read(ctx.actor) as uow:
        agencies = uow.repo.orgs(OrgKind.AGENCY)
        locations = uow.repo.locations()
    values.setdefault("report", None)
    values.setdefault("token", "")
    values.setdefault("chosen", {})
    values.setdefault("result", None)
    queue = gate().state(ctx.actor.username)
    return ctx.render("imports.html", status=status, error=error, agencies=agencies, queue=queue,
                      locations=locations, kinds=KIND_LABELS, fields=IMPORT_FIELDS,
                      schemas=SCHEMAS, shown=SHOWN_PROBLEMS, chosen_keys=CHOSEN,
                      accepted=accepted(ctx), **values)


def _run(site: Site, ctx: Ctx, path: Path, kind: str,
         options: imports.ImportOptions) -> imports.ImportReport:
    with gate().slot(ctx.actor.username), site.rg.work(ctx.actor) as uow:
        report = imports.import_file(uow, kind, path, options)
        if report.commit:
            uow.commit()
    return report


#: The template's file name for each kind of sheet (Spanish: what the agency sees).
TEMPLATE_NAMES = {"firearms": "plantilla-armas", "officers": "plantilla-elementos",
                  "locations": "plantilla-ubicaciones"}


def titles(ctx: Ctx) -> dict[str, str]:
    """Each field's header as the page names it, in the visitor's language."""
    return {name: ctx.lang.gettext(text) for name, text in IMPORT_FIELDS.items()}


def _others(head: str, field: Any) -> list[str]:
    """The field's other accepted headers, one spelling each (``barrel serial``, not also
    ``barrel_serial``: the same header once case, spaces and underscores are folded)."""
    seen = {fold_header(head)}
    others = []
    for alias in (*field.aliases, field.name):
        if fold_header(alias) not in seen:
            seen.add(fold_header(alias))
            others.append(alias)
    return others


def accepted(ctx: Ctx) -> dict[str, list[dict[str, Any]]]:
    """Per kind of sheet: each column's header, whether it is required, and the other
    headers the importer accepts for it (from the same schema the importer reads)."""
    named = titles(ctx)
    listed: dict[str, list[dict[str, Any]]] = {}
    for kind, schema in SCHEMAS.items():
        heads = template.headers(schema, named)
        listed[kind] = [
            {"header": head, "required": f.required, "aliases": _others(head, f)}
            for f, head in zip(schema.fields, heads, strict=True)]
    return listed


def register(router: APIRouter, site: Site) -> None:

    @router.get("/import/template/{kind}.{fmt}")
    def import_template(request: Request, kind: str, fmt: str) -> Response:
        """A blank sheet with the accepted headers, required ones marked (XLSX or CSV)."""
        ctx = site.viewer(request)
        if kind not in SCHEMAS or fmt not in ("xlsx", "csv"):
            raise NotFound("no such template")
        schema, _ = SCHEMAS[kind], ctx.lang.gettext
        if fmt == "csv":
            body = template_files.template_csv(schema, titles(ctx))
            media = "text/csv; charset=utf-8"
        else:
            body = template_files.template_xlsx(
                schema, titles(ctx), sheet=_(KIND_LABELS[kind]), guide=_("Columns"),
                guide_headers=(_("Column"), _("Required"), _("Also accepted")),
                yes=_("Yes"), no=_("No"))
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(body, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="{TEMPLATE_NAMES[kind]}.{fmt}"'})

    @router.get("/import")
    def import_page(request: Request) -> Response:
        ctx = site.viewer(request)
        return _form_page(site, ctx)

    @router.post("/import/preview")
    def preview(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        kind = form_value(form, "kind")
        chosen = _chosen(form)
        try:
            if kind not in SCHEMAS:
                raise ValidationFailed("choose what the file holds", field="kind")
            token = form_value(form, "token")
            upload = form.get("file")
            if isinstance(upload, UploadFile) and upload.filename:
                if token:
                    _discard(token)
                token = _store(upload, ctx.actor.username, kind)
            elif not token:
                raise ValidationFailed("choose the file to import", field="file")
            path, meta = _stored(token, ctx.actor.username)
            report = _run(site, ctx, path, kind, _options(form, meta, dry_run=True))
        except DomainError as exc:
            return _form_page(site, ctx, status=422, error=ctx.explain(exc), chosen=chosen)
        return _form_page(site, ctx, report=report, token=token, chosen=chosen)

    @router.post("/import/commit")
    def commit(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        kind = form_value(form, "kind")
        token = form_value(form, "token")
        chosen = _chosen(form)
        try:
            if kind not in SCHEMAS:
                raise ValidationFailed("choose what the file holds", field="kind")
            path, meta = _stored(token, ctx.actor.username)
            options = _options(form, meta, dry_run=False)
            if form_value(form, "only_valid") == "yes":  # the preview's "import only the valid"
                options = dataclasses.replace(options, skip_invalid=True)
            report = _run(site, ctx, path, kind, options)
        except DomainError as exc:
            return _form_page(site, ctx, status=422, error=ctx.explain(exc), chosen=chosen)
        if report.commit:
            _discard(token)
            return _form_page(site, ctx, result=report, chosen=chosen)
        return _form_page(site, ctx, status=422, report=report, token=token, chosen=chosen)

    @router.post("/import/rejects")
    def rejected_rows(request: Request, form: FormData = Depends(form_data)) -> Response:
        """The refused rows of the previewed file as a CSV: its header plus ``error``."""
        ctx = site.viewer(request, form)
        kind = form_value(form, "kind")
        try:
            if kind not in SCHEMAS:
                raise ValidationFailed("choose what the file holds", field="kind")
            path, meta = _stored(form_value(form, "token"), ctx.actor.username)
            # a dry run: nothing is committed
            with gate().slot(ctx.actor.username), site.rg.work(ctx.actor) as uow:
                refused = imports.rejected_rows(uow, kind, path,
                                                _options(form, meta, dry_run=True),
                                                ctx.lang.code, "web")
        except DomainError as exc:
            return _form_page(site, ctx, status=422, error=ctx.explain(exc),
                              chosen=_chosen(form))
        return Response(refused.content, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{refused.filename}"'})
