"""Printing for the CLI: JSON for scripts, Rich tables for people, one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from resguardo.domain.errors import DomainError

console = Console()
err_console = Console(stderr=True)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "__json__"):
        return value.__json__()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(data: Any, *, indent: int | None = 2) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False, indent=indent)


def print_json(data: Any) -> None:
    sys.stdout.write(dumps(data) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*["" if v is None else escape(str(v)) for v in row])
    console.print(table)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line reason on stderr and return the Exit to raise."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def domain_failure(exc: DomainError) -> typer.Exit:
    return fail(f"{exc.message} [{exc.code}]")
