"""``inspection plan --date`` and ``inspection close --present-by DATE`` speak of the
inspected agency's day: at 17:50 in Hermosillo (00:50 UTC tomorrow) today is still
plannable, and the 8th as a deadline ends at 23:59:59 there (06:59:59 UTC on the 9th)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from resguardo.services import registry

from world import do


def test_plan_and_present_by_on_the_agencys_calendar(cli, world, clock):
    clock.now = datetime(2026, 12, 7, 0, 50, tzinfo=UTC)
    do(world, "admin", registry.set_place, "MUN2", time_zone="America/Hermosillo")
    past = cli("--as", "inspector", "inspection", "plan", "--agency", "MUN2",
               "--date", "2026-12-05")
    assert past.exit_code == 1 and "in the past" in past.stderr
    planned = cli("--as", "inspector", "inspection", "plan", "--agency", "MUN2",
                  "--date", "2026-12-06", "--json")
    assert planned.exit_code == 0, planned.output
    number = str(json.loads(planned.stdout)["position"])
    opened = cli("--as", "inspector", "inspection", "open", number)
    assert opened.exit_code == 0, opened.output
    closed = cli("--as", "inspector", "inspection", "close", number, "--present-by",
                 "2026-12-08", "--json")
    assert closed.exit_code == 0, closed.output
    assert json.loads(closed.stdout)["present_by"] == "2026-12-09T06:59:59.000000Z"
