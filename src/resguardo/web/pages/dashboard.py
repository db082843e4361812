"""The dashboard: what each role should look at first, with charts where a
picture reads faster than a table."""

from __future__ import annotations

from collections import Counter
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resguardo.domain.codes import FirearmStatus, OrgKind
from resguardo.domain.policy import Action, may
from resguardo.services import alerts as alert_service
from resguardo.services import inspections
from resguardo.storage import web_queries
from resguardo.web import charts, labels
from resguardo.web.site import Ctx, Site

ORDER = [s.value for s in FirearmStatus]


def months_back(today: date, count: int) -> list[date]:
    """The first day of each of the last ``count`` months, oldest first."""
    out = []
    y, m = today.year, today.month
    for _ in range(count):
        out.append(date(y, m, 1))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return list(reversed(out))


def open_alerts(site: Site, uow) -> list:  # type: ignore[no-untyped-def]
    settings = site.rg.settings
    return alert_service.open_alerts(uow, loss_deadline=settings.loss_notify_deadline,
                                     shift_length=settings.shift_length)


def build(site: Site, ctx: Ctx) -> dict:
    lang = ctx.lang
    _ = lang.gettext
    with site.rg.read(ctx.actor, may_lag=True) as uow:
        counts = uow.repo.status_counts()
        agencies = {o.id: o for o in uow.repo.orgs(OrgKind.AGENCY)}
        found = open_alerts(site, uow)
        losses = uow.repo.loss_reports()
        pending = uow.repo.requests("pending")
        incoming = web_queries.transfers_in_transit(uow.repo, incoming=True, limit=100)
        now = uow.now()
        today = uow.today(ctx.actor.scope.id, now)  # the viewer's own day (the charts)
        # a planned revista is overdue once its day is over where the agency is
        uow.zones_of(agencies)
        days = {a.code: uow.today(a.id, now) for a in agencies.values()}
    with site.rg.work(ctx.actor) as uow:
        # a read of a sealed inspection is itself recorded, so this commits
        planned = inspections.list_(uow)
        due = (inspections.due(uow, site.rg.settings.revista_months)
               if may(ctx.actor, Action.INSPECTION_ORDER) else [])
        uow.commit()
    agency_names = {o.code: o.name for o in agencies.values()}
    upcoming = sorted((i for i in planned if i["state"] == "planned"),
                      key=lambda i: i["planned_on"])
    for item in planned:
        item["agency_name"] = agency_names.get(item["agency"], item["agency"])
        item["overdue"] = (item["state"] == "planned"
                           and item["planned_on"] < days.get(item["agency"], today).isoformat())
    by_status: Counter[str] = Counter()
    by_agency: dict[int, dict[str, int]] = {}
    for (agency_id, status), n in counts.items():
        by_status[status] += n
        by_agency.setdefault(agency_id, {})[status] = n
    total = sum(by_status.values())
    status_names = {s: _(labels.label(labels.STATUS, s)) for s in ORDER}
    legend = [(status_names[s], charts.swatch(charts.STATUS_COLOURS[s]), by_status.get(s, 0))
              for s in ORDER if by_status.get(s)]
    donut = charts.donut([(status_names[s], by_status.get(s, 0), charts.STATUS_COLOURS[s])
                          for s in ORDER], _("Weapons by status"), lang.number(total))
    rows = sorted(((agencies[a].name if a in agencies else "?", parts)
                   for a, parts in by_agency.items()), key=lambda r: -sum(r[1].values()))
    agency_chart = (charts.stacked_bars(rows[:15], ORDER, charts.STATUS_COLOURS,
                                        _("Weapons by agency and status"), lang.number,
                                        status_names) if len(rows) > 1 else None)
    months = months_back(today, 12)
    per_month: Counter[date] = Counter()
    for report in losses:
        occurred = date.fromisoformat(str(report["occurred_on"])[:10])
        per_month[date(occurred.year, occurred.month, 1)] += 1
    loss_chart = charts.columns(
        [(lang.month_name(m), per_month.get(m, 0)) for m in months],
        _("Losses and thefts per month"), lang.number,
        sublabels=[str(m.year) if i == 0 or m.month == 1 else "" for i, m in enumerate(months)])
    alert_kinds = Counter(a.kind.value for a in found)
    open_losses = [r for r in losses if r["recovered_at"] is None]
    unnotified = [r for r in open_losses if r["notified_at"] is None]
    return {
        "total": total, "by_status": by_status, "legend": legend, "donut": donut,
        "agency_chart": agency_chart, "loss_chart": loss_chart,
        "losses_year": sum(per_month.get(m, 0) for m in months),
        "alerts": found[:8], "alert_count": len(found), "alert_kinds": alert_kinds,
        "open_losses": len(open_losses), "unnotified": len(unnotified),
        "pending": pending, "agency_count": len(agencies), "incoming": len(incoming),
        "open_inspections": [i for i in planned if i["state"] == "open"],
        "upcoming": upcoming[:8], "overdue": sum(1 for i in upcoming if i["overdue"]),
        "open_findings": alert_kinds.get("open_finding", 0),
        "agency_names": {a.id: a.name for a in agencies.values()},
        "due": due, "due_months": site.rg.settings.revista_months,
    }


def register(router: APIRouter, site: Site) -> None:

    @router.get("/")
    def dashboard(request: Request) -> Response:
        ctx = site.viewer(request)
        return ctx.render("dashboard.html", **build(site, ctx))
