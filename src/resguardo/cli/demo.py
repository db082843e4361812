"""`resguardo demo`: build the demonstration deployment and print the logins."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from resguardo.cli.context import Json, refusals, set_deployment
from resguardo.cli.output import console, fail, print_json, print_table
from resguardo.config import Settings
from resguardo.domain.timefmt import utcnow
from resguardo.services import demo as demo_data
from resguardo.services.app import Resguardo
from resguardo.storage.database import has_schema, make_engine

DEFAULT_FILE = "resguardo-demo.db"


@refusals
def demo(
    force: Annotated[bool, typer.Option("--force", help="Replace a database that already holds data.")] = False,
    days: Annotated[int, typer.Option(min=7, max=730, help="Days of daily issue and return.")] = 365,
    password: Annotated[str | None, typer.Option(
        help="One password for every demo login (default: a random one each).")] = None,
    as_json: Json = False,
) -> None:
    """Build a realistic demo deployment and print one login per role.

    Writes to RESGUARDO_DATABASE_URL when set, else to ./resguardo-demo.db.
    Example: resguardo demo --days 90
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
            from resguardo.storage.tables import metadata
            metadata.drop_all(engine)
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    app = Resguardo(build_settings, engine=engine)
    with Progress(TextColumn("{task.description:24}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), disable=as_json, transient=True,
                  console=console) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        result = demo_data.build(app, days=days, password=password, progress=progress)
    engine.dispose()
    app = Resguardo(settings)
    app.clock = utcnow
    set_deployment(app)
    if as_json:
        print_json({"database": url, "firearms": result.firearms, "officers": result.officers,
                    "events": result.events, "days": result.days, "notes": result.notes,
                    "logins": [{"username": u, "password": p, "role": r, "scope": s}
                               for u, p, r, s in result.logins]})
        return
    typer.echo(f"Demo deployment in {url}: {result.firearms} firearms, {result.officers} "
               f"officers, {result.events} events over {result.days} days.")
    for line in result.notes:
        typer.echo(f"  - {line}")
    print_table("Logins (one per role)", ["username", "password", "role", "scope"], result.logins)
    typer.echo(f"Try: RESGUARDO_DATABASE_URL={url} resguardo --as jefe alerts")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
