"""`resguardo correct` of a serial is a request; `approve correction` and `reject correction`
decide it; the armorer who asked cannot approve."""

from __future__ import annotations

import json

from world import look


def test_a_serial_correction_waits_for_the_chief(cli, world):
    fid = look(world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    asked = cli("--as", "armero1", "correct", str(fid), "serial=ZZ999999",
                "--reason", "Serie mal capturada")
    assert asked.exit_code == 0, asked.output
    assert "requested" in asked.stdout and "approve correction" in asked.stdout
    shown = json.loads(cli("--as", "armero1", "firearm", "show", "GLK-A100", "--json").stdout)
    assert shown["serial"] == "GLK-A100"
    own = cli("--as", "armero1", "approve", "correction", "GLK-A100")
    assert own.exit_code == 1 and "may not" in own.stderr
    approved = cli("--as", "jefe1", "approve", "correction", "GLK-A100", "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["type"] == "entry.corrected"
    assert cli("--as", "armero1", "firearm", "show", "ZZ999999").exit_code == 0


def test_a_chief_rejects_an_identity_correction(cli, world):
    fid = look(world, None, lambda uow: uow.repo.firearm("GLK-A200").id)
    assert cli("--as", "armero1", "correct", str(fid), "calibre=.40 S&W",
               "--reason", "Calibre erróneo").exit_code == 0
    rejected = cli("--as", "jefe1", "reject", "correction", "GLK-A200", "--reason", "Es 9 mm")
    assert rejected.exit_code == 0, rejected.output
    assert "Correction of GLK-A200 rejected" in rejected.stdout
    assert cli("--as", "jefe1", "reject", "repair", "GLK-A200", "--reason", "x").exit_code == 2
