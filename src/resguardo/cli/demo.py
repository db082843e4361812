"""`resguardo demo`: build the demonstration deployment and print the logins."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from resguardo.cli.context import Json, refusals, set_deployment
from resguardo.cli.output import console, fail, print_json, print_table
from resguardo.config import Settings
from resguardo.domain.timefmt import utcnow
from resguardo.services import demo as demo_data
from resguardo.services.app import Resguardo
from resguardo.storage.database import has_schema, make_engine

DEFAULT_FILE = "resguardo-demo.db"
#: Officers of the demo armorer's agency who get a desk PIN (the first badges of its roll).
DESK_PIN = "2580"
PIN_OFFICERS = 12


@refusals
def demo(
    force: Annotated[bool, typer.Option("--force", help="Replace a database that already holds data.")] = False,
    days: Annotated[int, typer.Option(min=7, max=730, help="Days of daily issue and return.")] = 365,
    password: Annotated[str | None, typer.Option(
        help="One password for every demo login (default: a random one each).")] = None,
    serve: Annotated[bool, typer.Option(
        "--serve/--no-serve", help="Serve the web interface (and the API) when built.")] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8000,
    as_json: Json = False,
) -> None:
    """Build a realistic demo deployment, print one login per role and serve the site.

    Writes to RESGUARDO_DATABASE_URL when set, else to ./resguardo-demo.db, then
    serves the web interface and the API on http://127.0.0.1:8000 until Ctrl+C
    (--no-serve only builds).
    Example: resguardo demo --days 90 --port 8080
    """
    settings = Settings.from_env()
    if not os.environ.get("RESGUARDO_DATABASE_URL"):
        settings = dataclasses.replace(settings, database_url=f"sqlite:///{DEFAULT_FILE}",
                                       signing_key=Path(DEFAULT_FILE + ".key"))
    url = settings.database_url
    build_settings = dataclasses.replace(settings, sqlite_synchronous="OFF")
    engine = make_engine(url, synchronous="OFF")
    if has_schema(engine):
        if not force:
            raise fail(f"{url} already holds a Resguardo database; use --force to replace it")
        if url.startswith("sqlite:///"):
            engine.dispose()
            path = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            settings.signing_key.unlink(missing_ok=True)
            engine = make_engine(url, synchronous="OFF")
        else:
            from resguardo.storage import web_tables  # noqa: F401  (its tables join the metadata)
            from resguardo.storage.tables import metadata
            metadata.drop_all(engine)
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    app = Resguardo(build_settings, engine=engine)
    with Progress(TextColumn("{task.description:24}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), disable=as_json, transient=True,
                  console=console) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        result = demo_data.build(app, days=days, password=password, progress=progress)
        pinned = _desk_pins(app)
    engine.dispose()
    app = Resguardo(settings)
    app.clock = utcnow
    set_deployment(app)
    url_shown = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/"
    if as_json:
        print_json({"database": url, "firearms": result.firearms, "officers": result.officers,
                    "events": result.events, "days": result.days, "notes": result.notes,
                    "site": url_shown if serve else None,
                    "desk_pin": {"pin": DESK_PIN, "badges": pinned},
                    "logins": [{"username": u, "password": p, "role": r, "scope": s}
                               for u, p, r, s in result.logins]})
    else:
        typer.echo(f"Demo deployment in {url}: {result.firearms} firearms, {result.officers} "
                   f"officers, {result.events} events over {result.days} days.")
        for line in result.notes:
            typer.echo(f"  - {line}")
        print_table("Logins (one per role)", ["username", "password", "role", "scope"],
                    result.logins)
        if pinned:
            typer.echo(f"Shift desk: officers {', '.join(pinned)} confirm with PIN {DESK_PIN}.")
        typer.echo(f"Try: RESGUARDO_DATABASE_URL={url} resguardo --as jefe alerts")
    if not serve:
        return
    typer.echo(f"Web interface and API at {url_shown} (Ctrl+C stops).")
    _serve(app, host, port)


def _desk_pins(app: Resguardo) -> list[str]:
    """Give the first officers of the demo armorer's agency a desk PIN (set by its chief)."""
    from resguardo.services import pins

    agency = next(scope for _user, role, scope, _name in demo_data.ROLES if role == "armorer")
    chief = next(user for user, role, scope, _name in demo_data.ROLES
                 if role == "chief" and scope == agency)
    with app.read(None) as uow:
        roll = uow.repo.officers(agency_id=uow.repo.org(agency).id, status="active",
                                 limit=PIN_OFFICERS).items
    badges = [officer.badge for officer in roll]
    with app.work(chief) as uow:
        for badge in badges:
            pins.set_pin(uow, agency, badge, DESK_PIN)
        uow.commit()
    return badges


def _web_app(app: Resguardo):  # type: ignore[no-untyped-def]
    """The API with the web interface mounted, or the interface alone without the API."""
    from resguardo import web
    try:
        from resguardo.api import create_app
    except ImportError:
        return web.create_site(app)
    served = create_app(app)
    web.mount(served, app)
    return served


def _serve(app: Resguardo, host: str, port: int) -> None:
    import uvicorn
    try:
        uvicorn.run(_web_app(app), host=host, port=port, log_level="warning")
    except OSError as exc:  # pragma: no cover - the port is taken
        raise fail(f"cannot serve on {host}:{port}: {exc}; try --port") from None


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
