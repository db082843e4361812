"""The calibre vocabulary, and the check of the calibres stored on weapons."""

from __future__ import annotations

import typer

from resguardo.cli.context import AsUser, Json, read, refusals
from resguardo.cli.output import print_json, print_table
from resguardo.domain import calibres
from resguardo.services import calibres as service


def list_calibres(as_json: Json = False) -> None:
    """The calibres a weapon is registered with: the canonical name, its Spanish and English
    names, and the spellings an import or a form accepts for it.

    Example: resguardo calibres
    """
    if as_json:
        print_json([{"calibre": c.code, "es": c.es, "en": c.en, "aliases": list(c.aliases)}
                    for c in calibres.CALIBRES])
        return
    print_table("Calibres", ["calibre", "español", "English", "also written"],
                [(c.code, c.es, c.en, ", ".join(c.aliases)) for c in calibres.CALIBRES])


@refusals
def check_calibres(as_user: AsUser = None, as_json: Json = False) -> None:
    """Calibres stored on weapons that are not names of the list: spellings it knows (and
    maps, as trace does) and unknown ones with the closest names. Exit 1 when any is
    unknown.

    Example: resguardo --as supervisor check calibres
    """
    result = read(as_user, service.check)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{result['canonical_weapons']} weapons carry a calibre of the list")
        if result["known_spellings"]:
            print_table("Known spellings (read as their calibre)", ["stored", "weapons", "calibre"],
                        [(r["value"], r["weapons"], r["calibre"])
                         for r in result["known_spellings"]])
        if result["unknown"]:
            print_table("Unknown calibres", ["stored", "weapons", "closest"],
                        [(r["value"], r["weapons"], ", ".join(r["closest"]) or "-")
                         for r in result["unknown"]])
    if result["unknown"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    from resguardo.cli.trace import check_app

    app.command("calibres")(list_calibres)
    check_app.command("calibres")(check_calibres)
