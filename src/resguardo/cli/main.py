"""Entry point of the ``resguardo`` command.

Each command module exposes ``register(app)``; this file only assembles them
and turns refusals into exit code 1 with a one-line reason.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import typer

from resguardo.cli.output import domain_failure
from resguardo.domain.errors import DomainError

app = typer.Typer(
    name="resguardo",
    help="Resguardo: firearms registry, custody, inspections, trace and a tamper-evident ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

@app.callback()
def _root(
    as_user: str | None = typer.Option(
        None, "--as", metavar="USER",
        help="Act as this user for the command that follows (same as RESGUARDO_USER). "
             "On a server (RESGUARDO_CLI_SIGN_IN=1) the user proves it: the password is "
             "asked, or RESGUARDO_TOKEN_FILE names a token file of that user."),
) -> None:
    """Resguardo: firearms registry, custody, inspections, trace and a tamper-evident ledger.

    Every write acts as a named user and passes the same role and scope checks as
    the web interface and the API; on a server (RESGUARDO_CLI_SIGN_IN=1) the user
    signs in first. Example: resguardo --as armero1 issue ABC123 --to P-0142
    """
    # each command proves who acts afresh; ``reconcile`` alone never loads the context
    # (and with it the database machinery), so there is nothing to forget then
    context = sys.modules.get("resguardo.cli.context")
    if context is not None:
        context.forget_credentials()
    if as_user:
        # commands read their own --as option with RESGUARDO_USER as its default
        os.environ["RESGUARDO_USER"] = as_user


#: Command modules, each with a ``register(app)`` function.
COMMAND_MODULES: list[str] = [
    "resguardo.cli.admin",
    "resguardo.cli.registry",
    "resguardo.cli.custody",
    "resguardo.cli.ammo",
    "resguardo.cli.alerts",
    "resguardo.cli.ledger",
    "resguardo.cli.demo",
    "resguardo.cli.reconcile",
    "resguardo.cli.inspections",
    "resguardo.cli.serve",
    "resguardo.cli.imports",
    "resguardo.cli.exports",
    "resguardo.cli.trace",
    "resguardo.cli.credential",
    "resguardo.cli.calibres",
]


#: Commands that need no other module: run alone, ``resguardo reconcile`` (no database)
#: skips importing the rest (SQLAlchemy, FastAPI, ...), a second or two of start-up, and
#: ``resguardo import`` the PDF, label and server modules it never uses (about a second
#: of CPU before a large import starts).
STANDALONE: dict[str, str] = {"reconcile": "resguardo.cli.reconcile",
                              "import": "resguardo.cli.imports"}


def _command(argv: list[str]) -> str | None:
    """The command a command line names: its first word after the root's own option
    (``--as USER``), or None when it names none."""
    words = iter(argv)
    for word in words:
        if word == "--as":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _alone(argv: list[str]) -> str | None:
    """The one command module a process running ``argv`` needs, or None for all of them.
    Only a process started as ``resguardo`` (or ``python -m resguardo.cli.main``) is told
    by its arguments: another program that imports the command line (a test runner whose
    own arguments may hold the word ``import``) gets every command."""
    program = Path(argv[0]) if argv else Path()
    ours = program.name == "resguardo" or program.parts[-3:] == ("resguardo", "cli", "main.py")
    return STANDALONE.get(_command(argv[1:]) or "") if ours else None


def _load() -> None:
    alone = _alone(sys.argv)
    for name in [alone] if alone else COMMAND_MODULES:
        importlib.import_module(name).register(app)


_load()


def main() -> None:
    """Console-script entry point."""
    try:
        app(standalone_mode=True)
    except DomainError as exc:  # pragma: no cover - commands catch their own
        raise SystemExit(domain_failure(exc).exit_code) from exc


if __name__ == "__main__":  # pragma: no cover
    main()
