"""Weapons of record and the signed credential through the API (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "verify_credential.py"


def officer_id(api, badge: str) -> int:  # type: ignore[no-untyped-def]
    return next(o["id"] for o in api.get("jefe1", f"/officers?q={badge}").json()["items"]
                if o["badge"] == badge)


def test_a_chief_assigns_a_weapon_of_record_and_signs_a_credential_the_script_accepts(api):
    p1 = officer_id(api, "P1")
    assert api.post("jefe1", f"/officers/{p1}/renew",
                    {"credential_folio": "CRED-JAL-1"}).status_code == 201
    refused = api.post("armero1", f"/officers/{p1}/weapons-of-record", {"serial": "GLK-A100"})
    assert refused.status_code == 403
    done = api.post("jefe1", f"/officers/{p1}/weapons-of-record",
                    {"serial": "GLK-A100", "reason": "Arma de cargo"})
    assert done.status_code == 201 and done.json()["type"] == "firearm.assigned_of_record"
    listed = api.get("armero1", f"/officers/{p1}/weapons-of-record").json()
    assert [(f["serial"], f["officer_of_record"]) for f in listed] == [("GLK-A100", "P1")]
    other = api.post("jefe1", f"/officers/{p1}/weapons-of-record", {"serial": "BER-B100"})
    assert other.status_code == 404  # another agency's weapon: as if it did not exist

    card = api.post("jefe1", f"/officers/{p1}/credential")
    assert card.status_code == 201, card.text
    body = card.json()
    assert [w["serial"] for w in body["weapons_of_record"]] == ["GLK-A100"]
    checked = subprocess.run([sys.executable, str(SCRIPT), body["payload"], "--vkey",
                              body["vkey"], "--on", "2025-03-03"],
                             capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0 and "GLK-A100" in checked.stdout, checked.stdout

    withdrawn = api.post("jefe1", f"/officers/{p1}/weapons-of-record/withdraw",
                         {"serial": "GLK-A100", "reason": "Cambio de adscripción"})
    assert withdrawn.status_code == 201
    assert api.get("jefe1", f"/officers/{p1}/weapons-of-record").json() == []
