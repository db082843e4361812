"""Every read of an aggregate starts from its one scoped base (``storage/scoped.py``).

Reads the source of ``src/resguardo/storage`` and fails when a function selects
from an aggregate's table (``select(t.firearms...)``, ``.select_from``, a join
that brings the table in without a base, ``t.firearms.select()``, or plain SQL
``FROM firearms``) without starting from the aggregate's base and without
saying so in its name (``..._unscoped``). Modules that are the system's own
(the projector, the ledger, the import's batch writer...) are listed below with
their reason; every ``_unscoped`` read and every such module is named in
docs/architecture.md ("Scoped reads"), where a reviewer sees why.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from resguardo.storage import scoped

ROOT = Path(__file__).resolve().parents[2]
STORAGE = ROOT / "src" / "resguardo" / "storage"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

#: aggregate table -> the functions of ``scoped`` that are its base
TABLES = {table: bases for table, bases in scoped.BASES.values()}
BASE_FUNCTIONS = {name for bases in TABLES.values() for name in bases}

#: Modules whose reads ignore scope by design, and why (each named in docs/architecture.md).
SYSTEM_MODULES = {
    "scoped.py": "the bases themselves",
    "tables.py": "the table definitions",
    "projector.py": "folds every entry into the projection, whoever recorded it",
    "rebuild.py": "rebuilds the projection from the whole log",
    "ledger_store.py": "the ledger's own storage: verify and checkpoints read the whole log",
    "import_batch.py": "the import's batch writer checks and writes its own rows",
    "bulk.py": "the import's bulk writer derives its own weapons' rows",
    "backup.py": "copies the whole database",
}

_NAMES = "|".join(sorted(TABLES))
#: plain SQL over an aggregate's table (the code writes SQL keywords in capitals, which
#: keeps prose such as "read from officers" out)
_RAW = re.compile(rf"\b(?:FROM|JOIN)\s+({_NAMES})\b")


def _table_of(node: ast.AST) -> str | None:
    """The aggregate table ``node`` is (``t.firearms``), or None."""
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "t" and node.attr in TABLES):
        return node.attr
    return None


class _Function(ast.NodeVisitor):
    """The reads one function (or the module's top level) makes of aggregate tables."""

    def __init__(self, where: str, allowed: bool, aliases: dict[str, str]) -> None:
        self.where = where
        self.allowed = allowed
        self.aliases = dict(aliases)   # local name -> aggregate table it stands for
        self.found: list[str] = []
        self.joins: list[str] = []
        self.uses_base = False

    def tables_in(self, node: ast.AST) -> set[str]:
        out = set()
        for sub in ast.walk(node):
            table = _table_of(sub)
            if table is not None:
                out.add(table)
            elif isinstance(sub, ast.Name) and sub.id in self.aliases:
                out.add(self.aliases[sub.id])
        return out

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts, strict=False))
            else:
                pairs = [(target, node.value)]
            for name, value in pairs:
                tables = self.tables_in(value)
                if isinstance(name, ast.Name) and len(tables) == 1 and not isinstance(
                        value, ast.Call):
                    self.aliases[name.id] = tables.pop()
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        pass  # functions are checked on their own (``_check_module``)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else (
            func.attr if isinstance(func, ast.Attribute) else "")
        if name in BASE_FUNCTIONS and isinstance(func, ast.Attribute) and isinstance(
                func.value, ast.Name) and func.value.id == "scoped":
            self.uses_base = True
        if name == "select" and isinstance(func, ast.Name):
            tables = set().union(*(self.tables_in(a) for a in node.args)) if node.args else set()
            for table in sorted(tables):
                self.found.append(f"{self.where}: select() over {table} (line {node.lineno})")
            if _columnless(node.args):
                for table in sorted(self.implicit_from(node)):
                    self.found.append(f"{self.where}: select() whose WHERE brings in {table} "
                                      f"(line {node.lineno})")
        elif name == "select" and isinstance(func, ast.Attribute):
            for table in sorted(self.tables_in(func.value)):
                self.found.append(f"{self.where}: {table}.select() (line {node.lineno})")
        elif name == "select_from" and node.args:
            for table in sorted(self.tables_in(node.args[0])):
                self.found.append(f"{self.where}: select_from({table}) (line {node.lineno})")
        elif name in ("join", "outerjoin", "join_from") and node.args:
            for table in sorted(self.tables_in(node.args[0])):
                self.joins.append(f"{self.where}: joins {table} without starting from a base "
                                  f"(line {node.lineno})")
        self.generic_visit(node)

    def implicit_from(self, node: ast.Call) -> set[str]:
        """Aggregate tables a ``select(func.count()).where(f.status == ...)`` chain reads
        without naming them in its columns (SQLAlchemy adds them to the FROM)."""
        chain: list[tuple[str, list[ast.expr]]] = []
        current: ast.AST = node
        while True:
            attribute = getattr(current, "parent", None)
            call = getattr(attribute, "parent", None)
            if not (isinstance(attribute, ast.Attribute) and isinstance(call, ast.Call)
                    and call.func is attribute):
                break
            chain.append((attribute.attr, list(call.args)))
            current = call
        if any(method in ("select_from", "join", "outerjoin", "join_from")
               for method, _ in chain):
            return set()
        return set().union(*(self.tables_in(arg) for method, args in chain
                             if method in ("where", "filter", "having") for arg in args))

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            for table in sorted(set(_RAW.findall(node.value))):
                self.found.append(f"{self.where}: plain SQL reads {table} (line {node.lineno})")

    def problems(self) -> list[str]:
        if self.allowed:
            return []
        return self.found + ([] if self.uses_base else self.joins)


def _columnless(args: list[ast.expr]) -> bool:
    """Whether a ``select``'s columns name no table (``func.count()``, a literal): its FROM
    then comes from what the rest of the chain names."""
    return all(n.id in _NO_TABLE for a in args for n in ast.walk(a) if isinstance(n, ast.Name))


_NO_TABLE = {"func", "literal", "literal_column", "true", "false", "null", "text"}


def _unscoped(name: str) -> bool:
    return name.lower().endswith("_unscoped")


def violations(source: str, module: str) -> list[str]:
    """Reads of an aggregate in ``source`` that neither start from its base nor are named
    unscoped."""
    tree = ast.parse(source)
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            child.parent = parent  # type: ignore[attr-defined]
    top = _Function(module, False, {})
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [n.id for tgt in targets for n in ast.walk(tgt) if isinstance(n, ast.Name)]
            check = _Function(f"{module}:{','.join(names)}", any(map(_unscoped, names)),
                              top.aliases)
            check.visit(node)
            top.aliases.update(check.aliases)
            top.found += check.problems()
    out = list(top.found)

    def walk(node: ast.AST, prefix: str, allowed: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                ok = allowed or _unscoped(child.name)
                check = _Function(f"{module}:{prefix}{child.name}", ok, top.aliases)
                for stmt in child.body:
                    check.visit(stmt)
                for default in child.args.defaults:
                    check.visit(default)
                out.extend(check.problems())
                walk(child, f"{prefix}{child.name}.", ok)
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.", allowed)
    walk(tree, "", False)
    return out


def _modules() -> list[Path]:
    return sorted(p for p in STORAGE.glob("*.py") if p.name not in SYSTEM_MODULES)


def test_every_read_of_an_aggregate_starts_from_its_base_or_says_unscoped():
    found = [v for path in _modules() for v in violations(path.read_text(), path.name)]
    assert found == [], "\n" + "\n".join(found)


def test_the_check_catches_a_read_that_forgets_scope():
    bad = '''
from sqlalchemy import select
from resguardo.storage import scoped
from resguardo.storage import tables as t

RAW = "SELECT * FROM firearms WHERE id = ?"
RAW_UNSCOPED = "SELECT * FROM firearms WHERE id = ?"

def firearms_by_id(repo, ids):
    f = t.firearms.c
    return repo.conn.execute(select(f.id, f.serial).where(f.id.in_(ids)))

def officer_rows(repo):
    return repo.conn.execute(select(t.officers))

def count(repo):
    return select(func.count()).select_from(t.loss_reports)

def issued(repo):
    f = t.firearms.c
    return select(func.count()).where(f.status == "issued")

def counted(repo):
    f = t.firearms.c
    return select(func.count()).select_from(scoped.firearms(repo.scope).subquery()).where(
        f.status == "issued")

def pending(repo):
    r, o = t.requests, t.organizations.c
    return select(o.code).join(r, r.c.agency_id == o.id)

def legacy(repo):
    return t.firearms.select()

def history(repo, firearm_id):
    e = t.events.c
    return repo.conn.execute(select(t.events).where(e.subject_id == firearm_id))

def scans_seen(repo, inspection_id):
    return select(func.count()).where(t.inspection_scans.c.inspection_id == inspection_id)

def covered(repo, licence_id):
    la = t.licence_agencies.c
    return select(la.agency_id).where(la.licence_id == licence_id)

def history_in_scope(repo, firearm_id):
    e = t.events.c
    return repo.conn.execute(scoped.entries(repo.scope).where(e.subject_id == firearm_id))

class Repo:
    def firearm(self, serial):
        return self.raw.first("SELECT * FROM firearms WHERE serial_key = ?", (serial,))

def names_unscoped(repo, ids):
    return repo.conn.execute(select(t.firearms.c.serial).where(t.firearms.c.id.in_(ids)))

def scoped_rows(repo):
    f, o = t.firearms.c, t.organizations.c
    return (scoped.firearms(repo.scope, f.id, o.code).join(t.organizations, o.id == f.agency_id)
            .outerjoin(t.officers, t.officers.c.id == f.custodian_id))
'''
    found = violations(bad, "bad.py")
    flagged = sorted({v.split(":")[1] for v in found})
    assert flagged == ["RAW", "Repo.firearm", "count", "covered", "firearms_by_id", "history",
                       "issued", "legacy", "officer_rows", "pending", "scans_seen"], found


def test_no_layer_but_storage_writes_sql_over_an_aggregate():
    """Services, the API, the web, the reports and the CLI read through storage: a plain
    ``SELECT ... FROM firearms`` anywhere else would skip the bases."""
    found = []
    for path in sorted((ROOT / "src" / "resguardo").rglob("*.py")):
        if STORAGE in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += [f"{path.relative_to(ROOT)}:{node.lineno} reads {table}"
                          for table in _RAW.findall(node.value)]
    assert found == [], "\n" + "\n".join(found)


#: Places outside storage that read as the system inside a person's unit of work
#: (``Repositories(conn, None)``), each reviewed in docs/architecture.md.
SYSTEM_READS = {
    "services/auth.py:session_actor": "who a session's user is, before any scope exists",
    "services/custody.py:_org_anywhere": "a transfer may go to an agency outside the scope",
    "services/custody.py:receive_transfer": "the receiving agency books in a weapon that is "
                                            "still the sender's until then",
    "services/custody.py:_last_transfer": "the transfer that weapon is on",
}


def test_a_person_reads_as_the_system_only_where_reviewed():
    found = set()
    for path in sorted((ROOT / "src" / "resguardo").rglob("*.py")):
        if STORAGE in path.parents:
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "Repositories" and len(node.args) > 1
                        and isinstance(node.args[1], ast.Constant)
                        and node.args[1].value is None):
                    rel = path.relative_to(ROOT / "src" / "resguardo")
                    found.add(f"{rel}:{function.name}")
    assert found == set(SYSTEM_READS)


def test_every_unscoped_read_and_system_module_is_named_in_the_architecture_page():
    page = ARCHITECTURE.read_text()
    section = page[page.index("## Scoped reads"):]
    names = set()
    for path in STORAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _unscoped(node.name):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(n.id for n in node.targets
                             if isinstance(n, ast.Name) and _unscoped(n.id))
    missing = sorted(n for n in names if not re.search(rf"`[\w.]*\b{n}`", section))
    assert missing == [], f"unscoped reads not reviewed in docs/architecture.md: {missing}"
    modules = sorted(m for m in SYSTEM_MODULES if f"`{m}`" not in section)
    assert modules == [], f"system modules not named in docs/architecture.md: {modules}"
    for module in SYSTEM_MODULES:
        assert (STORAGE / module).exists(), module


def test_each_aggregate_has_one_base_per_read_path():
    for table, bases in TABLES.items():
        assert table in {"firearms", "officers", "loss_reports", "requests", "inspections",
                         "locations", "licences", "imports", "events", "inspection_scans",
                         "inspection_rounds", "inspection_findings", "inspection_actas",
                         "licence_agencies"}
        for name in bases:
            assert callable(getattr(scoped, name)), name
