"""Commands that load only their own module: ``resguardo import`` starts without the PDF,
label and server modules it never uses (about a second of CPU before a large import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from resguardo.cli.main import STANDALONE, _alone, _command

PROBE = """
import json, sys
sys.argv = ["resguardo", *json.loads(sys.argv[1])]
import resguardo.cli.main as main
commands = sorted(group.name or "" for group in main.app.registered_groups)
print(json.dumps({"labels": "resguardo.reports.labels" in sys.modules,
                  "fpdf": "fpdf" in sys.modules, "groups": commands}))
"""


def probe(*argv: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], check=True,
                         capture_output=True, text=True, env={**os.environ}).stdout
    return json.loads(out)


def test_the_command_is_the_first_word_after_the_roots_option() -> None:
    assert _command(["--as", "armero", "import", "firearms", "x.csv"]) == "import"
    assert _command(["--as=armero", "import", "--help"]) == "import"
    assert _command(["import", "firearms"]) == "import"
    assert _command(["--as", "import", "issue", "A1"]) == "issue"  # a user named "import"
    assert _command(["--help"]) is None
    assert _command([]) is None
    assert STANDALONE["import"] == "resguardo.cli.imports"


def test_an_import_loads_neither_the_pdf_nor_the_label_modules() -> None:
    alone = probe("--as", "armero", "import", "firearms", "inventario.csv")
    assert alone["groups"] == ["import"]
    assert not alone["labels"] and not alone["fpdf"]
    # any other command line loads every command, as before
    every = probe("--as", "armero", "firearms", "list")
    assert "import" in every["groups"] and len(every["groups"]) > 1
    assert every["labels"]


def test_only_resguardo_itself_is_told_by_its_arguments() -> None:
    """A test runner's ``-k import`` once left a process with the import command only."""
    assert _alone(["/usr/local/bin/resguardo", "import", "x.csv"]) == "resguardo.cli.imports"
    assert _alone(["/src/resguardo/cli/main.py", "reconcile", "a", "b"]) == STANDALONE["reconcile"]
    assert _alone(["/venv/lib/pytest/__main__.py", "-k", "import"]) is None
    assert _alone(["pytest", "import"]) is None
    assert _alone([]) is None
