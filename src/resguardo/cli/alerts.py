"""Open alerts and acknowledging them."""

from __future__ import annotations

from typing import Annotated

import typer

from resguardo.cli.context import AsUser, Json, deployment, read, refusals, report_event, write
from resguardo.cli.output import print_json, print_table
from resguardo.services import alerts as alert_service


@refusals
def alerts(
    ack: Annotated[str | None, typer.Option(help="Acknowledge the alert with this key.")] = None,
    note: Annotated[str | None, typer.Option(help="What was done (with --ack).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include acknowledged alerts.")] = False,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """List open alerts in your scope, or acknowledge one.

    Example: resguardo --as chief1 alerts --json
    Example: resguardo --as chief1 alerts --ack loss_unnotified:118 --note "Oficio enviado a la zona militar"
    """
    settings = deployment().settings
    limits = {"loss_deadline": settings.loss_notify_deadline,
              "shift_length": settings.shift_length}
    if ack:
        ev = write(as_user, alert_service.acknowledge, ack, note or "", **limits)
        report_event(ev, as_json, f"Alert {ack} acknowledged")
        return
    found = read(as_user, alert_service.open_alerts, include_acknowledged=all_, **limits)
    if as_json:
        print_json([a.as_dict() for a in found])
        return
    if not found:
        typer.echo("No open alerts.")
        return
    print_table(f"Open alerts ({len(found)})", ["key", "kind", "agency", "subject", "message",
                                                "since"],
                [(a.key, a.kind.value, a.agency, a.subject, a.message,
                  a.since.strftime("%Y-%m-%d %H:%M")) for a in found])


def register(app: typer.Typer) -> None:
    app.command("alerts")(alerts)
