"""The ledger library stays self-contained: standard library and `cryptography` only
(and python-pkcs11 in the module that talks to a token, for deployments that use one)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import resguardo.ledger

LEDGER = Path(resguardo.ledger.__file__).parent
ALLOWED = set(sys.stdlib_module_names) | {"cryptography"}
#: Optional dependencies, each imported only where it is needed, only when used.
OPTIONAL = {"pkcs11.py": {"pkcs11"}}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_ledger_imports_only_the_standard_library_and_cryptography() -> None:
    modules = sorted(LEDGER.glob("*.py"))
    assert modules
    for module in modules:
        assert imported_roots(module) <= ALLOWED | OPTIONAL.get(module.name, set()), module.name


def test_the_witness_tool_does_not_import_resguardo() -> None:
    tool = Path(__file__).resolve().parents[3] / "tools" / "witness.py"
    assert imported_roots(tool) <= ALLOWED
