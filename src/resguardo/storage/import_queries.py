"""Reads of a sliced import's own rows, for taking it back (``services.imports``).

No user reads the ``imports`` table: a person sees an import through its entries
(``import.started``, ``import.completed``, ``import.voided``) and its weapons through
``scoped.firearms``. These reads are the system's own, after the entry point checked
who may import into the agency: they take back every weapon an import registered,
whoever started it, so each says ``_unscoped`` (docs/architecture.md, "Scoped reads").
They run on the driver's cursor (``fast.Raw``), in the import's own transaction.
"""

from __future__ import annotations

from resguardo.storage.fast import Raw


def import_agency_unscoped(raw: Raw, started: int) -> int | None:
    """The agency of the import started at entry ``started`` (None when there is none)."""
    found = raw.scalar("SELECT agency_id FROM imports WHERE id = ?", (started,))
    return None if found is None else int(found)


def import_weapons_unscoped(raw: Raw, started: int, limit: int) -> list[int]:
    """The first ``limit`` weapons (ids) still registered by the import started at
    ``started``, in order."""
    return [int(row.id) for row in raw.rows(
        "SELECT id FROM firearms WHERE import_id = ? ORDER BY id LIMIT ?", (started, limit))]


def unfinished_imports_unscoped(raw: Raw, agency_id: int | None = None) -> list[int]:
    """The imports (their ``import.started`` positions) still ``running`` or ``voiding``,
    at one agency or everywhere, oldest first."""
    sql = "SELECT id FROM imports WHERE state IN ('running', 'voiding')"
    params: tuple = ()
    if agency_id is not None:
        sql += " AND agency_id = ?"
        params = (agency_id,)
    return [int(row.id) for row in raw.rows(sql + " ORDER BY id", params)]
