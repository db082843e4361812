"""`resguardo calibres` lists the vocabulary; `check calibres` reports the values recorded
before it (known spellings and unknown ones), and trace matches a known spelling."""

from __future__ import annotations

import dataclasses
from datetime import date

from resguardo.domain.registry import FirearmInput, register_firearm
from resguardo.services import trace


def legacy(world, serial: str, calibre: str) -> None:  # type: ignore[no-untyped-def]
    """A weapon registered when the calibre was free text (the entry as it was then)."""
    with world.work("armero1") as uow:
        agency = uow.repo.org("MUN1")
        new = register_firearm(agency, FirearmInput(serial=serial, make="Glock",
                                                    calibre="9x19mm", kind="pistol"),
                               uow.repo.location(agency.id, "ARM1").id, date(2025, 3, 3))
        uow.append(dataclasses.replace(new, payload={**new.payload, "calibre": calibre}))
        uow.commit()


def test_the_list_and_the_check_of_stored_calibres(cli, world):
    listed = cli("calibres", "--json")
    assert listed.exit_code == 0 and "9 mm Luger" in listed.stdout and ".223 Rem" in listed.stdout
    assert cli("calibres").exit_code == 0
    assert cli("--as", "supervisor", "check", "calibres").exit_code == 0
    legacy(world, "OLD-1", "9 mm")
    legacy(world, "OLD-2", "9x21 IMI")
    checked = cli("--as", "supervisor", "check", "calibres", "--json")
    assert checked.exit_code == 1  # an unknown calibre is on record
    assert '"value": "9 mm"' in checked.stdout and '"calibre": "9x19mm"' in checked.stdout
    assert '"value": "9x21 IMI"' in checked.stdout
    plain = cli("--as", "supervisor", "check", "calibres")
    assert "9x21 IMI" in plain.stdout and "Unknown calibres" in plain.stdout
    # trace reads the old spelling as its calibre
    with world.work("investigador") as uow:
        found = trace.trace(uow, trace.TraceInput("OLD-1", calibre="9mm Parabellum"))
        uow.commit()
    assert [c["serial"] for c in found["candidates"]] == ["OLD-1"]
    assert "Example: resguardo --as supervisor check calibres" in \
        cli("check", "calibres", "--help").stdout
