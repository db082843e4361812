"""Printable documents: QR labels (one weapon or a whole list) and the custody receipt.

Labels are printed on the stock chosen on the print page (``/firearms/labels`` for
a list, ``/firearms/{id}/label`` for one weapon): a sheet of A4 or US Letter, or a
thermal printer's roll. The last size chosen is remembered in a cookie, so an
armory that always prints on its roll finds it chosen next time.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from resguardo.domain.codes import FirearmStatus
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.timefmt import local
from resguardo.reports.labels import DEFAULT_SIZE, SIZES, LabelData, label_size, labels_pdf
from resguardo.reports.receipt import ReceiptData, receipt_pdf
from resguardo.services import accounts
from resguardo.web import labels
from resguardo.web.pages.firearms import FILTERS, MAX_LABELS, list_firearms
from resguardo.web.paging import clean_params
from resguardo.web.site import Ctx, Site

SIZE_COOKIE = "label_size"


def _pdf(body: bytes, filename: str) -> Response:
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"'})


def _labels_response(body: bytes, filename: str, size: str) -> Response:
    response = _pdf(body, filename)
    response.set_cookie(SIZE_COOKIE, size, max_age=365 * 24 * 3600, samesite="lax",
                        httponly=True)
    return response


def _chosen(request: Request) -> str:
    """The size asked for, else the one printed last, else the default."""
    asked = request.query_params.get("size")
    if asked:
        return label_size(asked).code  # an unknown size is refused, naming the sizes
    kept = request.cookies.get(SIZE_COOKIE, "")
    return kept if kept in SIZES else DEFAULT_SIZE


def _filters(params: QueryParams) -> list[tuple[str, str]]:
    return [(k, v) for k, v in params.multi_items() if k in FILTERS and v]


def _label(ctx: Ctx, f, agency: str) -> LabelData:  # type: ignore[no-untyped-def]
    return LabelData(serial=f.serial, make=f.make, model=f.model, calibre=f.calibre,
                     kind=ctx._(labels.label(labels.KIND, f.kind.value)), agency=agency,
                     folio=f.folio)


def register(router: APIRouter, site: Site) -> None:

    @router.get("/firearms/{firearm_id:int}/label")
    def firearm_label_page(request: Request, firearm_id: int) -> Response:
        ctx = site.viewer(request)
        with site.rg.read(ctx.actor) as uow:
            f = uow.repo.firearm_by_id(firearm_id)
        return ctx.render("firearms/labels.html", firearm=f, count=1, filters=[],
                          action=f"/firearms/{f.id}/label.pdf", sizes=list(SIZES.values()),
                          chosen=_chosen(request), max_labels=None)

    @router.get("/firearms/{firearm_id:int}/label.pdf")
    def firearm_label(request: Request, firearm_id: int) -> Response:
        ctx = site.viewer(request)
        size = _chosen(request)
        with site.rg.read(ctx.actor) as uow:
            f = uow.repo.firearm_by_id(firearm_id)
            agency = uow.repo.org_unscoped(f.agency_id).name
        body = labels_pdf([_label(ctx, f, agency)], title=ctx._("QR label"), size=size)
        return _labels_response(body, f"label-{f.serial_key}.pdf", size)

    @router.get("/firearms/labels")
    def batch_labels_page(request: Request) -> Response:
        ctx = site.viewer(request)
        params = clean_params(request.query_params, FILTERS)
        data = list_firearms(site, ctx, params, 1, per_page=1)
        return ctx.render("firearms/labels.html", firearm=None, count=data["total"],
                          filters=_filters(request.query_params), action="/firearms/labels.pdf",
                          sizes=list(SIZES.values()), chosen=_chosen(request),
                          max_labels=MAX_LABELS)

    @router.get("/firearms/labels.pdf")
    def batch_labels(request: Request) -> Response:
        ctx = site.viewer(request)
        size = _chosen(request)
        params = clean_params(request.query_params, FILTERS)
        data = list_firearms(site, ctx, params, 1, per_page=MAX_LABELS)
        if data["total"] > MAX_LABELS:
            raise ValidationFailed(
                f"narrow the list before printing labels (up to {MAX_LABELS} at a time)",
                field="labels", limit=MAX_LABELS)
        items = [_label(ctx, r["f"], r["agency"].name if r["agency"] else "")
                 for r in data["rows"]]
        body = labels_pdf(items, title=ctx._("QR labels"), size=size)
        return _labels_response(body, "labels.pdf", size)

    @router.get("/firearms/{firearm_id:int}/receipt.pdf")
    def custody_receipt(request: Request, firearm_id: int) -> Response:
        ctx = site.viewer(request)
        lang = ctx.lang
        with site.rg.read(ctx.actor) as uow:
            f = uow.repo.firearm_by_id(firearm_id)
            if f.status != FirearmStatus.ISSUED or f.custodian_id is None:
                raise ValidationFailed("the weapon is not issued to anyone now", field="status")
            events = uow.repo.firearm_history(f.id)
            issue = [e for e in events if e.type == "custody.issued"][-1]
            officer = uow.repo.officer_by_id(f.custodian_id)
            of_record = uow.repo.weapons_of_record(officer.id)
            agency = uow.repo.org_unscoped(f.agency_id)
            licences = {row["id"]: row["number"] for row in uow.repo.licences()}
            origin = issue.payload.get("from_location_id")
            taken = uow.repo.location_by_id(origin) if origin is not None else None
            now = uow.now()
            issuer = accounts.signer(uow, issue.actor)  # full name and post, not a username
            zone = str(uow.repo.place(f.agency_id)["time_zone"])
        credential = None
        if officer.credential_folio or officer.credential_expiry:
            credential = " · ".join(x for x in (
                officer.credential_folio,
                lang.gettext("valid until %(date)s", date=lang.date(officer.credential_expiry))
                if officer.credential_expiry else None) if x)
        data = ReceiptData(
            agency=agency.name, badge=officer.badge, officer_name=officer.name,
            cuip=officer.cuip, credential=credential, serial=f.serial, make=f.make,
            model=f.model, calibre=f.calibre,
            kind=lang.gettext(labels.label(labels.KIND, f.kind.value)), folio=f.folio,
            licence=licences.get(f.licence_id) if f.licence_id else None,
            issued_at=local(issue.at, zone), issued_by=issuer,
            taken_from=f"{taken.code} · {taken.name}" if taken else None,
            entry=issue.position, printed_at=local(now, zone),
            of_record=", ".join(
                f"{w.serial} ({w.make} {w.calibre})"
                + (" · " + lang.gettext("this weapon") if w.id == f.id else "")
                for w in of_record) or None)
        return _pdf(receipt_pdf(data, lang.gettext), f"resguardo-{f.serial_key}.pdf")
