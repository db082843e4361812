"""Printable documents: QR labels (one weapon or a whole list) and the custody receipt."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resguardo.domain.codes import FirearmStatus
from resguardo.domain.errors import ValidationFailed
from resguardo.reports.labels import LabelData, labels_pdf
from resguardo.reports.receipt import ReceiptData, receipt_pdf
from resguardo.web import labels
from resguardo.web.pages.firearms import FILTERS, MAX_LABELS, list_firearms
from resguardo.web.paging import clean_params
from resguardo.web.site import Ctx, Site


def _pdf(body: bytes, filename: str) -> Response:
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"'})


def _label(ctx: Ctx, f, agency: str) -> LabelData:  # type: ignore[no-untyped-def]
    return LabelData(serial=f.serial, make=f.make, model=f.model, calibre=f.calibre,
                     kind=ctx._(labels.label(labels.KIND, f.kind.value)), agency=agency,
                     folio=f.folio)


def register(router: APIRouter, site: Site) -> None:

    @router.get("/firearms/{firearm_id:int}/label.pdf")
    def firearm_label(request: Request, firearm_id: int) -> Response:
        ctx = site.viewer(request)
        with site.rg.read(ctx.actor) as uow:
            f = uow.repo.firearm_by_id(firearm_id)
            agency = uow.repo.org_unscoped(f.agency_id).name
        body = labels_pdf([_label(ctx, f, agency)], title=ctx._("QR label"))
        return _pdf(body, f"label-{f.serial_key}.pdf")

    @router.get("/firearms/labels.pdf")
    def batch_labels(request: Request) -> Response:
        ctx = site.viewer(request)
        params = clean_params(request.query_params, FILTERS)
        data = list_firearms(site, ctx, params, 1, per_page=MAX_LABELS)
        if data["total"] > MAX_LABELS:
            raise ValidationFailed(
                "narrow the list before printing labels (up to 20 sheets at a time)",
                field="labels", limit=MAX_LABELS)
        items = [_label(ctx, r["f"], r["agency"].name if r["agency"] else "")
                 for r in data["rows"]]
        return _pdf(labels_pdf(items, title=ctx._("QR labels")), "labels.pdf")

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
            issued_at=lang.datetime(issue.at), issued_by=issue.actor,
            taken_from=f"{taken.code} · {taken.name}" if taken else None,
            entry=issue.position, printed_at=lang.datetime(now),
            of_record=", ".join(
                f"{w.serial} ({w.make} {w.calibre})"
                + (" · " + lang.gettext("this weapon") if w.id == f.id else "")
                for w in of_record) or None)
        return _pdf(receipt_pdf(data, lang.gettext), f"resguardo-{f.serial_key}.pdf")
