"""`resguardo ammo issue` refuses rounds to an officer who may not hold a weapon, and
lets them through under the chief's written override."""

from __future__ import annotations

import json

ISSUE = ("ammo", "issue", "30", "--to", "P1", "--calibre", "9x19mm", "--lot", "L-1",
         "--location", "ARM1")


def test_rounds_to_a_suspended_officer_exit_one_until_the_chief_overrides(cli):
    assert cli("--as", "armero1", "ammo", "receive", "500", "--calibre", "9x19mm",
               "--lot", "L-1", "--location", "ARM1").exit_code == 0
    assert cli("--as", "jefe1", "officer", "suspend", "P1",
               "--reason", "Investigación interna").exit_code == 0
    refused = cli("--as", "armero1", *ISSUE)
    assert refused.exit_code == 1
    assert "cannot issue 30 rounds of 9x19mm to P1" in refused.stderr
    assert "suspended" in refused.stderr
    assert cli("--as", "jefe1", "override", "P1",
               "--reason", "Operativo especial autorizado").exit_code == 0
    allowed = cli("--as", "armero1", *ISSUE, "--json")
    assert allowed.exit_code == 0, allowed.output
    event = json.loads(allowed.stdout)
    assert event["type"] == "ammunition.issued" and event["payload"]["override_id"]
