"""The functional core stays pure and only storage talks to the database."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "resguardo"


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def test_the_domain_core_imports_nothing_but_the_standard_library_and_itself():
    forbidden = ("sqlalchemy", "fastapi", "typer", "jinja2", "rich", "psycopg", "httpx",
                 "resguardo.storage", "resguardo.services", "resguardo.api", "resguardo.web",
                 "resguardo.cli")
    offenders = {
        str(path.relative_to(SRC)): sorted(m for m in imports_of(path) if m.startswith(forbidden))
        for path in modules("domain")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_storage_package_imports_sqlalchemy():
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] in ("storage",):
            continue
        if any(m == "sqlalchemy" or m.startswith("sqlalchemy.") for m in imports_of(path)):
            offenders.append(str(rel))
    assert sorted(offenders) == []


@pytest.mark.slow
def test_no_module_registers_itself_into_another_modules_list_when_imported():
    """Wiring is explicit (``services.app.Wiring``): a module-level statement that adds to
    a list, dict or set of another module (``other.HOOKS.append(...)``) would make what
    runs depend on what happened to be imported."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            call = node.value if isinstance(node, ast.Expr) else None
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr in {"append", "extend", "add", "update", "register",
                                           "setdefault", "insert"}
                    and isinstance(call.func.value, ast.Attribute)):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def test_every_setting_the_code_reads_is_in_the_readmes_configuration():
    """A RESGUARDO_* variable read anywhere in src/ is documented in the README."""
    import re
    readme = (SRC.parents[1] / "README.md").read_text(encoding="utf-8")
    used = set()
    for path in SRC.rglob("*.py"):
        # whole names only: "RESGUARDO_IMPORT_" + a limit's name is a prefix, not a setting
        used.update(re.findall(r"RESGUARDO_[A-Z_]+[A-Z](?![A-Z_])", path.read_text(encoding="utf-8")))
    assert sorted(name for name in used if f"`{name}`" not in readme) == []
