"""`resguardo credential`: assign, show, print (PDF and QR text), key; checked by the script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "verify_credential.py"


def test_a_chief_assigns_prints_and_the_script_checks_it_offline(cli, tmp_path):
    assert cli("--as", "jefe1", "officer", "renew", "P1", "--credential-folio",
               "CRED-JAL-7").exit_code == 0
    refused = cli("--as", "armero1", "credential", "assign", "P1", "GLK-A100")
    assert refused.exit_code == 1
    done = cli("--as", "jefe1", "credential", "assign", "P1", "GLK-A100")
    assert done.exit_code == 0, done.stdout + done.stderr
    shown = cli("--as", "armero1", "credential", "show", "P1")
    assert "GLK-A100" in shown.stdout and "CRED-JAL-7" in shown.stdout
    issued_to_other = cli("--as", "armero1", "issue", "GLK-A100", "--to", "P2")
    assert issued_to_other.exit_code == 1
    assert "weapon of record of P1" in issued_to_other.stdout + issued_to_other.stderr

    pdf = tmp_path / "credencial.pdf"
    printed = cli("--as", "jefe1", "credential", "print", "P1", "--out", str(pdf))
    assert printed.exit_code == 0, printed.stdout + printed.stderr
    assert len(PdfReader(pdf).pages) == 1  # the credential is one page, footer included
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    assert "Credencial y resguardo de armas de cargo" in text
    assert "GLK-A100" in text and "CRED-JAL-7" in text and "Ana Ruiz" in text

    payload = cli("--as", "jefe1", "credential", "print", "P1").stdout.strip()
    vkey = cli("--as", "jefe1", "credential", "key").stdout.strip()
    ok = subprocess.run([sys.executable, str(SCRIPT), payload, "--vkey", vkey, "--on",
                         "2025-03-03"], capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0 and "GLK-A100" in ok.stdout, ok.stdout + ok.stderr
    assert "Example: resguardo --as jefe1 credential print" in \
        cli("credential", "print", "--help").stdout
