"""Set-up and administration: init, users, organizations, locations, licences."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer

from resguardo.cli.context import AsUser, Json, deployment, read, refusals, report_event, write
from resguardo.cli.output import console, fail, print_json, print_table
from resguardo.domain.codes import LocationKind, OrgKind, Role
from resguardo.services import accounts, powers, registry, setup, users
from resguardo.storage.database import has_schema

user_app = typer.Typer(help="User accounts (admin only).", no_args_is_help=True)
org_app = typer.Typer(help="Organizations: the administrative tree down to agencies, and oversight.",
                      no_args_is_help=True)
location_app = typer.Typer(help="Locations where an agency keeps weapons.", no_args_is_help=True)
licence_app = typer.Typer(help="Collective carry licences (LOC).", no_args_is_help=True)
db_app = typer.Typer(help="Database schema, backup and restore.", no_args_is_help=True)


def _password(stdin: bool, prompt: str) -> str:
    if stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise fail("no password on standard input", code=2)
        return value
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=True)


@refusals
def init(
    admin: Annotated[str, typer.Option(help="Username of the first administrator.")] = "admin",
    admin_password_stdin: Annotated[bool, typer.Option(
        "--admin-password-stdin", help="Read the admin password from standard input.")] = False,
    root_code: Annotated[str, typer.Option(help="Code of the national authority (tree root).")] = "NACIONAL",
    root_name: Annotated[str, typer.Option(help="Name of the national authority.")] = "Autoridad nacional",
    as_json: Json = False,
) -> None:
    """Create the database schema, the national authority and the first admin.

    Example: echo 'a-long-secret' | resguardo init --admin-password-stdin
    """
    app = deployment()
    if has_schema(app.engine):
        with app.read(None) as uow:
            if uow.repo.log_size() > 0:
                raise fail(f"{app.settings.database_url} is already initialized")
    password = _password(admin_password_stdin, "Password for the first admin")
    result = setup.initialize(app, admin, password, root_code, root_name)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"Initialized {app.settings.database_url}: root {root_code}, admin {admin}.")
        for line in result.get("notes", []):
            typer.echo(line)


@db_app.command("upgrade")
@refusals
def db_upgrade() -> None:
    """Apply pending schema migrations. Example: resguardo db upgrade"""
    from resguardo.storage import schema
    schema.upgrade(deployment().engine)
    typer.echo(f"Schema at revision {schema.current_revision(deployment().engine)}.")


@user_app.command("add")
@refusals
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="Role of the account.")],
    scope: Annotated[str, typer.Option(help="Organization code the user sees (and below).")],
    name: Annotated[str | None, typer.Option(help="Full name.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="Read the password from standard input.")] = False,
    service: Annotated[bool, typer.Option(
        "--service", help="A service account for an integration: no password, tokens only, "
                          "never one of the two people of a two-person rule.")] = False,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Create a user account (one that only reads; or any account until the deployment
    has a second admin: after that, `user request account` and a second admin approves).

    Example: resguardo --as admin user add jperez --role auditor --scope NACIONAL --password-stdin
    """
    if service:
        user_id = write(as_user, accounts.add_service_account, username, role, scope, name)
        if as_json:
            print_json({"id": user_id, "username": username.lower(), "role": role.value,
                        "scope": scope, "kind": "service"})
        else:
            typer.echo(f"Service account {username.lower()} ({role.value}, scope {scope}) "
                       "created.")
        return
    password = _password(password_stdin, f"Password for {username}")
    user_id = write(as_user, users.add_user, username, password, role, scope, name)
    if as_json:
        print_json({"id": user_id, "username": username.lower(), "role": role.value,
                    "scope": scope})
    else:
        typer.echo(f"User {username.lower()} ({role.value}, scope {scope}) created.")


@user_app.command("profile")
@refusals
def user_profile(
    username: str,
    name: Annotated[str | None, typer.Option(help="Full name, as documents print it.")] = None,
    post: Annotated[str | None, typer.Option(help="Post (cargo), as documents print it.")] = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Set an account's full name and post (cargo): receipts, trace requests and actas
    print them instead of the username. An admin of the account's scope sets them.

    Example: resguardo --as admin user profile armero --name "Juan Pérez López" --post "Armero de la Policía Municipal"
    """
    found = write(as_user, accounts.set_profile, username, name=name, post=post)
    if as_json:
        print_json(found)
    else:
        typer.echo(f"{found['username']}: {found['name']}, {found['post'] or '(no post)'}")


@user_app.command("list")
@refusals
def user_list(as_user: AsUser = None, as_json: Json = False) -> None:
    """List user accounts in your scope. Example: resguardo --as admin user list"""
    rows = read(as_user, lambda uow: uow.repo.users())
    if as_json:
        print_json(rows)
    else:
        print_table("Users", ["username", "name", "role", "scope", "active"],
                    [(r["username"], r["display_name"], r["role"], r["scope"], r["active"])
                     for r in rows])


Reason = Annotated[str, typer.Option(help="Why (kept in the log).")]


@user_app.command("disable")
@refusals
def user_disable(username: str, reason: Reason, as_user: AsUser = None,
                 as_json: Json = False) -> None:
    """Disable an account: it cannot sign in; its sessions and tokens stop at once.

    Example: resguardo --as admin user disable armero1 --reason "Dejó la corporación"
    """
    row = write(as_user, accounts.disable, username, reason)
    if as_json:
        print_json({"username": row["username"], "active": False})
    else:
        typer.echo(f"User {row['username']} disabled; its sessions and tokens stopped.")


@user_app.command("enable")
@refusals
def user_enable(username: str, reason: Reason, as_user: AsUser = None,
                as_json: Json = False) -> None:
    """Enable a disabled account again (it signs in afresh).

    Example: resguardo --as admin user enable armero1 --reason "Reingresó"
    """
    row = write(as_user, accounts.enable, username, reason)
    if as_json:
        print_json({"username": row["username"], "active": True})
    else:
        typer.echo(f"User {row['username']} enabled.")


@user_app.command("sign-out")
@refusals
def user_sign_out(username: Annotated[str | None, typer.Argument(
                      help="The account (default: your own).")] = None,
                  as_user: AsUser = None, as_json: Json = False) -> None:
    """End every session of an account, web and API: your own, or (admin) one you manage.

    Example: resguardo --as admin user sign-out armero1
    """
    ended = write(as_user, accounts.sign_out_everywhere, username)
    if as_json:
        print_json({"sessions": ended})
    else:
        typer.echo(f"{ended} session(s) ended.")


@user_app.command("request")
@refusals
def user_request(
    kind: Annotated[str, typer.Argument(
        help="account, role, password_reset or service_account.")],
    username: str,
    role: Annotated[Role | None, typer.Option(help="The role (account, role, service_account).")] = None,
    scope: Annotated[str | None, typer.Option(help="Organization code.")] = None,
    name: Annotated[str | None, typer.Option(help="Full name (account).")] = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Ask for a grant of power; a second admin approves it (`user approve`).

    Example: resguardo --as admin user request account armero9 --role armorer --scope MUN-01
    """
    found = write(as_user, powers.request, kind, username,
                  role=role.value if role else None, scope=scope, display_name=name)
    if as_json:
        print_json(found)
    else:
        typer.echo(f"Request {found['id']} ({kind}, {found['username']}) awaits a second "
                   "admin.")


@user_app.command("requests")
@refusals
def user_requests(as_user: AsUser = None, as_json: Json = False) -> None:
    """Grants of power awaiting a second admin. Example: resguardo --as admin2 user requests"""
    rows = read(as_user, powers.pending)
    if as_json:
        print_json(rows)
    else:
        print_table("Requests", ["id", "kind", "user", "details", "requested"],
                    [(r["id"], r["kind"], r["username"],
                      ", ".join(f"{k}={v}" for k, v in r["details"].items()),
                      r["requested_at"]) for r in rows])


@user_app.command("approve")
@refusals
def user_approve(request_id: int, as_user: AsUser = None, as_json: Json = False) -> None:
    """Approve another admin's request; a reset or a new account prints its one-time
    password (only now), which the person replaces at the next sign-in.

    Example: resguardo --as admin2 user approve 3
    """
    found = write(as_user, powers.approve, request_id)
    if as_json:
        print_json(found)
        return
    typer.echo(f"Request {request_id} approved ({found['kind']}, {found['username']}).")
    if found.get("one_time_password"):
        typer.echo(f"One-time password for {found['username']} (shown only now): "
                   f"{found['one_time_password']}")


@user_app.command("reject")
@refusals
def user_reject(request_id: int, reason: Reason, as_user: AsUser = None,
                as_json: Json = False) -> None:
    """Turn a request down.

    Example: resguardo --as admin2 user reject 3 --reason "No procede"
    """
    found = write(as_user, powers.reject, request_id, reason)
    if as_json:
        print_json(found)
    else:
        typer.echo(f"Request {request_id} rejected.")


TimeZone = Annotated[str | None, typer.Option(
    help="IANA time zone its documents print times in and its days are decided on, one "
         "of Mexico's (America/Hermosillo for Sonora).")]
City = Annotated[str | None, typer.Option(help="City (and state) of its armory.")]
Address = Annotated[str | None, typer.Option(help="Street address of its armory.")]


@org_app.command("add")
@refusals
def org_add(
    code: str,
    name: Annotated[str, typer.Option(help="Full name.")],
    kind: Annotated[OrgKind, typer.Option(help="Node kind.")],
    parent: Annotated[str, typer.Option(help="Code of the parent organization.")],
    time_zone: TimeZone = None,
    city: City = None,
    address: Address = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Add an organization below a parent.

    Example: resguardo --as admin org add MUN-HMO --name "Policía Municipal de Hermosillo" --kind agency --parent SSP-SON --time-zone America/Hermosillo --city "Hermosillo, Sonora" --address "Blvd. Luis Encinas 100"
    """
    ev = write(as_user, lambda uow: registry.add_organization(
        uow, code, name, kind, parent, time_zone=time_zone, city=city, address=address))
    report_event(ev, as_json, f"Organization {code} created")


@org_app.command("place")
@refusals
def org_place(
    code: str,
    time_zone: TimeZone = None,
    city: City = None,
    address: Address = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Set an organization's time zone (its actas, receipts and trace requests print
    times in it; an organization without one takes its parent's, and America/Mexico_City
    at the top) and the city and address of its armory (the place an acta names). Parts
    not given stay as they are.

    Example: resguardo --as admin org place MUN-HMO --time-zone America/Hermosillo --city "Hermosillo, Sonora" --address "Blvd. Luis Encinas 100, Col. Centro"
    """
    ev = write(as_user, lambda uow: registry.set_place(uow, code, time_zone=time_zone,
                                                       city=city, address=address))
    report_event(ev, as_json, f"Place of {code} set")


@org_app.command("oversee")
@refusals
def org_oversee(
    overseer: Annotated[str, typer.Argument(help="Code of the overseeing authority.")],
    agencies: Annotated[list[str], typer.Argument(help="Codes of the agencies it oversees.")],
    remove: Annotated[bool, typer.Option("--remove", help="End the oversight instead.")] = False,
    reason: Annotated[str, typer.Option(help="Why the oversight ends (with --remove).")] = "",
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Record that an authority (a military zone) oversees agencies, apart from the
    administrative tree: its inspectors and supervisors read and inspect them.

    Example: resguardo --as admin org oversee ZM-15 MUN-GDL MUN-ZAP
    """
    def run(uow):  # type: ignore[no-untyped-def]
        if remove:
            return [registry.remove_oversight(uow, overseer, code, reason) for code in agencies]
        return [registry.add_oversight(uow, overseer, code) for code in agencies]

    events = write(as_user, run)
    if as_json:
        print_json([{"entry": ev.position, "type": ev.type} for ev in events])
    else:
        verb = "no longer oversees" if remove else "oversees"
        console.print(f"{overseer} {verb} {', '.join(agencies)}")


@org_app.command("list")
@refusals
def org_list(as_user: AsUser = None, as_json: Json = False) -> None:
    """List organizations in your scope. Example: resguardo --as admin org list"""
    orgs, places = read(as_user, lambda uow: (
        orgs := uow.repo.orgs(), {o.id: uow.repo.place(o.id) for o in orgs}))
    if as_json:
        print_json([{"id": o.id, "code": o.code, "name": o.name, "kind": o.kind.value,
                     "parent_id": o.parent_id, "time_zone": places[o.id]["time_zone"],
                     "city": places[o.id]["city"], "address": places[o.id]["address"]}
                    for o in orgs])
    else:
        print_table("Organizations", ["code", "name", "kind", "depth", "time zone", "city"],
                    [(("  " * (o.path.count("/") - 2)) + o.code, o.name, o.kind.value,
                      o.path.count("/") - 1, places[o.id]["time_zone"],
                      places[o.id]["city"] or "") for o in orgs])


@location_app.command("add")
@refusals
def location_add(
    code: str,
    name: Annotated[str, typer.Option(help="Full name.")],
    agency: Annotated[str, typer.Option(help="Agency code.")],
    kind: Annotated[LocationKind, typer.Option(help="What kind of place.")] = LocationKind.ARMORY,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Add a location (armory, vault, station...) to an agency.

    Example: resguardo --as admin location add ARM-1 --name "Armería central" --agency MUN-01
    """
    ev = write(as_user, registry.add_location, agency, code, name, kind.value)
    report_event(ev, as_json, f"Location {code} created in {agency}")


@location_app.command("list")
@refusals
def location_list(agency: Annotated[str | None, typer.Option(help="Agency code.")] = None,
                  as_user: AsUser = None, as_json: Json = False) -> None:
    """List locations in your scope. Example: resguardo --as chief1 location list"""
    def run(uow):  # type: ignore[no-untyped-def]
        agency_id = uow.repo.org(agency).id if agency else None
        locs = uow.repo.locations(agency_id)
        names = uow.repo.org_names([loc.agency_id for loc in locs])
        return [{"agency": names[loc.agency_id], "code": loc.code, "name": loc.name,
                 "kind": loc.kind} for loc in locs]
    rows = read(as_user, run)
    if as_json:
        print_json(rows)
    else:
        print_table("Locations", ["agency", "code", "name", "kind"],
                    [tuple(r.values()) for r in rows])


@licence_app.command("add")
@refusals
def licence_add(
    number: str,
    holder: Annotated[str, typer.Option(help="Organization holding the licence.")],
    agency: Annotated[list[str], typer.Option(help="Agency covered (repeat the option).")],
    valid_from: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    valid_to: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD.")],
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Register a collective carry licence and the agencies it covers.

    Example: resguardo --as admin licence add LOC-042 --holder SSP-JAL --agency MUN-01 --valid-from 2024-01-01 --valid-to 2026-12-31
    """
    try:
        start, end = date.fromisoformat(valid_from), date.fromisoformat(valid_to)
    except ValueError:
        raise fail("--valid-from and --valid-to must be dates YYYY-MM-DD", code=2) from None
    ev = write(as_user, registry.add_licence, number, holder, agency, start, end)
    report_event(ev, as_json, f"Licence {number} registered")


@licence_app.command("list")
@refusals
def licence_list(as_user: AsUser = None, as_json: Json = False) -> None:
    """List licences in your scope. Example: resguardo --as supervisor1 licence list"""
    rows = read(as_user, lambda uow: uow.repo.licences())
    if as_json:
        print_json(rows)
    else:
        print_table("Licences", ["number", "valid from", "valid to"],
                    [(r["number"], r["valid_from"], r["valid_to"]) for r in rows])


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    from resguardo.cli.backup import db_backup, db_restore
    db_app.command("backup")(db_backup)
    db_app.command("restore")(db_restore)
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
    app.add_typer(org_app, name="org")
    app.add_typer(location_app, name="location")
    from resguardo.cli.licences import licence_attach, licence_detach, licence_report
    licence_app.command("attach")(licence_attach)
    licence_app.command("detach")(licence_detach)
    licence_app.command("report")(licence_report)
    app.add_typer(licence_app, name="licence")
