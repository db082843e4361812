"""Ammunition commands."""

from __future__ import annotations

from typing import Annotated

import typer

from resguardo.cli.context import AsUser, Json, agency_of, read, refusals, report_event, write
from resguardo.cli.output import print_json, print_table
from resguardo.services import ammunition

ammo_app = typer.Typer(help="Ammunition counted by calibre and lot per location.",
                       no_args_is_help=True)
Agency = Annotated[str | None, typer.Option(help="Agency code (default: your own agency).")]
Location = Annotated[str, typer.Option(help="Location code.")]
Calibre = Annotated[str, typer.Option(help="Calibre, e.g. 9x19mm.")]
Lot = Annotated[str, typer.Option(help="Manufacturer's lot.")]


@ammo_app.command("receive")
@refusals
def receive(quantity: int, calibre: Calibre, lot: Lot, location: Location, agency: Agency = None,
            source: Annotated[str | None, typer.Option(help="Where it came from.")] = None,
            as_user: AsUser = None, as_json: Json = False) -> None:
    """Receive rounds into a location. Example: resguardo --as armero1 ammo receive 5000 --calibre 9x19mm --lot L-2291 --location ARM-1"""
    ev = write(as_user, lambda uow: ammunition.receive(uow, agency_of(uow, agency), location,
                                                       calibre, lot, quantity, source))
    report_event(ev, as_json, f"{quantity} rounds received")


@ammo_app.command("issue")
@refusals
def issue(quantity: int, to: Annotated[str, typer.Option("--to", help="Officer badge.")],
          calibre: Calibre, lot: Lot, location: Location, agency: Agency = None,
          as_user: AsUser = None, as_json: Json = False) -> None:
    """Issue rounds to an officer. Example: resguardo --as armero1 ammo issue 30 --to P-0142 --calibre 9x19mm --lot L-2291 --location ARM-1"""
    ev = write(as_user, lambda uow: ammunition.issue(uow, agency_of(uow, agency), location, to,
                                                     calibre, lot, quantity))
    report_event(ev, as_json, f"{quantity} rounds issued to {to.upper()}")


@ammo_app.command("return")
@refusals
def give_back(returned: int, by: Annotated[str, typer.Option("--by", help="Officer badge.")],
              calibre: Calibre, lot: Lot, location: Location, agency: Agency = None,
              consumed: Annotated[int, typer.Option(help="Rounds not returned (used).")] = 0,
              justification: Annotated[str | None, typer.Option(
                  help="training, duty_discharge or damaged (needed when consumed > 0).")] = None,
              incident: Annotated[str | None, typer.Option(help="Incident number (duty discharge).")] = None,
              as_user: AsUser = None, as_json: Json = False) -> None:
    """Take rounds back from an officer; justify any that were used.

    Example: resguardo --as armero1 ammo return 27 --by P-0142 --consumed 3 --justification duty_discharge --incident INC-881 --calibre 9x19mm --lot L-2291 --location ARM-1
    """
    ev = write(as_user, lambda uow: ammunition.give_back(
        uow, agency_of(uow, agency), location, by, calibre, lot, returned, consumed,
        justification, incident))
    report_event(ev, as_json, f"{returned} rounds returned by {by.upper()}")


@ammo_app.command("consume")
@refusals
def consume(quantity: int, calibre: Calibre, lot: Lot, location: Location,
            justification: Annotated[str, typer.Option(help="training, duty_discharge or damaged.")],
            incident: Annotated[str | None, typer.Option(help="Incident number.")] = None,
            agency: Agency = None, as_user: AsUser = None, as_json: Json = False) -> None:
    """Use rounds from stock with a justification. Example: resguardo --as armero1 ammo consume 500 --justification training --calibre 9x19mm --lot L-2291 --location ARM-1"""
    ev = write(as_user, lambda uow: ammunition.consume(uow, agency_of(uow, agency), location,
                                                       calibre, lot, quantity, justification,
                                                       incident))
    report_event(ev, as_json, f"{quantity} rounds consumed")


@ammo_app.command("balance")
@refusals
def balance(agency: Annotated[str | None, typer.Option(help="Agency code.")] = None,
            as_user: AsUser = None, as_json: Json = False) -> None:
    """Rounds in stock per location and held by officers. Example: resguardo --as chief1 ammo balance"""
    def run(uow):  # type: ignore[no-untyped-def]
        agency_id = uow.repo.org(agency).id if agency else None
        stock, held = uow.repo.ammo_stock(agency_id), uow.repo.ammo_held(agency_id)
        names = uow.repo.org_names([r["agency_id"] for r in stock + held])
        for r in stock + held:
            r["agency"] = names[r.pop("agency_id")]
        return {"stock": stock, "held": held}
    data = read(as_user, run)
    if as_json:
        print_json(data)
        return
    print_table("In stock", ["agency", "location", "calibre", "lot", "rounds"],
                [(r["agency"], r["location"], r["calibre"], r["lot"], r["quantity"])
                 for r in data["stock"]])
    print_table("Held by officers", ["agency", "badge", "calibre", "lot", "rounds"],
                [(r["agency"], r["badge"], r["calibre"], r["lot"], r["quantity"])
                 for r in data["held"]])


def register(app: typer.Typer) -> None:
    app.add_typer(ammo_app, name="ammo")
