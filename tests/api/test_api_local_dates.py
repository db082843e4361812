"""The API speaks of the inspected agency's day as the CLI does (one rule, in the service):
a revista planned for its today in its evening, a deadline given as a day ends that night
on its clock, and a deadline with no offset is refused rather than guessed."""

from __future__ import annotations

from datetime import UTC, datetime

from resguardo.services import custody, inspections, registry

from world import do


def test_the_api_plans_for_the_agencys_today_and_ends_a_day_on_its_clock(api, clock):
    clock.now = datetime(2026, 12, 7, 0, 50, tzinfo=UTC)  # 17:50 on the 6th in Hermosillo
    do(api.app, "admin", registry.set_place, "MUN2", time_zone="America/Hermosillo")
    do(api.app, "armero2", custody.issue, "BER-B100", "Q1")
    planned = api.post("inspector", "/inspections", {"agency": "MUN2", "planned_on": "2026-12-06"})
    assert planned.status_code == 201, planned.text
    past = api.post("inspector", "/inspections", {"agency": "MUN2", "planned_on": "2026-12-05"})
    assert past.status_code == 422 and "in the past" in past.text
    iid = planned.json()["position"]
    do(api.app, "inspector", inspections.open_, iid)
    naive = api.post("inspector", f"/inspections/{iid}/close",
                     {"present_by": "2026-12-08T18:00:00"})
    assert naive.status_code == 422 and "present_by" in naive.text
    closed = api.post("inspector", f"/inspections/{iid}/close", {"present_by": "2026-12-08"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["present_by"] == "2026-12-09T06:59:59.000000Z"
