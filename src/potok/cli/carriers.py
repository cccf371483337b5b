"""``potok carriers``: the carriers Potok knows, subscribing to a carrier's webhooks, and a
booked shipment's label as the carrier prints it. Services and adapters are imported when a
command runs, so that ``potok --help`` stays quick."""

from __future__ import annotations

from pathlib import Path

import typer

from potok.cli.common import (
    OUTPUT,
    Column,
    Output,
    cli_uow,
    console,
    fail,
    handles_errors,
    open_potok,
    print_listing,
)

app = typer.Typer(
    help="Carriers: list them, subscribe to their webhooks, fetch their labels, sync and "
    "search their pickup points, read their cash-on-delivery registries.",
    no_args_is_help=True,
)


@app.command("list")
@handles_errors
def list_carriers(output: Output = OUTPUT) -> None:
    """The carriers this configuration enables (the sandbox always)."""
    potok = open_potok()
    try:
        rows = [{"carrier": code} for code in potok.carriers.codes]
    finally:
        potok.close()
    print_listing(rows, [Column("carrier")], output, empty="No carrier is enabled.")


@app.command()
@handles_errors
def subscribe(
    carrier: str = typer.Argument(..., help="cdek"),
    url: str = typer.Option(
        ...,
        "--url",
        help="Potok's public webhook URL, e.g. https://oms.example.ru/api/v1/carriers/cdek/events",
    ),
) -> None:
    """Subscribe Potok's webhook URL to the carrier's status events (once: a subscription of
    the same URL is kept); the webhook secret is added to the URL."""
    from urllib.parse import urlencode

    from potok.connectors.carriers.cdek import WEBHOOK_SECRET, CdekCarrier
    from potok.domain.errors import FieldError, InvalidInput

    potok = open_potok()
    try:
        adapter = potok.carriers.get(carrier)
        if not isinstance(adapter, CdekCarrier):
            raise InvalidInput([FieldError("carrier", f"{carrier} has no webhook subscriptions")])
        if not adapter.webhook_secret:
            raise InvalidInput(
                [FieldError("carrier", "set POTOK_CARRIERS__CDEK_WEBHOOK_SECRET first")]
            )
        joined = "&" if "?" in url else "?"
        uuid = adapter.subscribe(
            f"{url}{joined}{urlencode({WEBHOOK_SECRET: adapter.webhook_secret})}"
        )
    finally:
        potok.close()
    console.print(f"{carrier}: ORDER_STATUS webhooks go to {url} (subscription {uuid})")


@app.command()
@handles_errors
def label(
    shipment_id: int = typer.Argument(..., min=1),
    out: Path = typer.Option(..., "--out", help="where to write the PDF"),
) -> None:
    """A booked shipment's label as its carrier prints it (PDF)."""
    from potok.services.fulfilment import labels

    potok = open_potok()
    try:
        code, number, pdf = labels.carrier_label(cli_uow(potok), potok.carriers, shipment_id)
        out.write_bytes(pdf)
    finally:
        potok.close()
    console.print(f"{out}: {code} label of {number}")


POINT_COLUMNS = [
    Column("carrier"),
    Column("code"),
    Column("kind"),
    Column("city"),
    Column("address"),
    Column("distance_km", "km", right=True),
    Column("hours"),
    Column("storage_days", "days", right=True),
    Column("cash_on_delivery", "cash", table=False),
    Column("latitude", table=False),
    Column("longitude", table=False),
]


@app.command("sync-points")
@handles_errors
def sync_points(
    carrier: str | None = typer.Argument(None, help="one carrier (all when left out)"),
) -> None:
    """Fetch the carriers' pickup points into Potok's directory (the worker does it on a
    schedule): new points added, changed ones updated, vanished ones closed."""
    from potok.services import carrier_points

    potok = open_potok()
    try:
        if carrier is not None:
            outcomes: list[object] = [
                carrier_points.sync_points(cli_uow(potok), potok.carriers, carrier)
            ]
        else:
            outcomes = list(carrier_points.sync_all(cli_uow(potok), potok.carriers))
    finally:
        potok.close()
    for outcome in outcomes:
        if isinstance(outcome, carrier_points.SyncOutcome):
            console.print(
                f"{outcome.carrier}: {outcome.seen} points, {outcome.added} new, "
                f"{outcome.updated} updated, {outcome.closed} closed"
            )
        else:
            console.print(f"{outcome[0]}: not synced - {outcome[1]}")  # type: ignore[index]


@app.command("remittances")
@handles_errors
def remittances(
    on: str | None = typer.Option(
        None, "--date", help="the registries paid on this day (YYYY-MM-DD) only"
    ),
    days: int = typer.Option(
        3, "--days", min=1, max=31, help="without --date: today and the days before it"
    ),
) -> None:
    """Read the carriers' cash-on-delivery registries (the worker does it on a schedule):
    orders paid on delivery whose parcels were all remitted in full become paid; a short
    payment raises an alert."""
    from datetime import date

    from potok.services.cod_remittances import read_remittances

    day = None
    if on is not None:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            raise fail(f"--date {on!r}: give a date as YYYY-MM-DD", 2) from None
    potok = open_potok()
    try:
        run = read_remittances(cli_uow(potok), potok.carriers, days=days, day=day)
    finally:
        potok.close()
    console.print(
        f"{run.listed} parcels listed: {len(run.recorded)} remitted, {run.repeated} read "
        f"before, {len(run.unknown)} unknown; {len(run.paid)} orders paid, "
        f"{len(run.short)} short paid (alerts raised)"
    )
    for carrier, error in sorted(run.errors.items()):
        console.print(f"{carrier}: not read - {error}")


@app.command("points")
@handles_errors
def points(
    city: str | None = typer.Option(None, "--city", help="in this city"),
    near: str | None = typer.Option(None, "--near", help="LATITUDE,LONGITUDE"),
    radius_km: float = typer.Option(5.0, "--radius-km", min=0.1, max=100),
    text: str | None = typer.Option(None, "--q", help="words of the address or name"),
    carrier: str | None = typer.Option(None, "--carrier"),
    limit: int = typer.Option(20, "--limit", min=1, max=200),
    output: Output = OUTPUT,
) -> None:
    """Pickup points from the directory, nearest first around --near."""
    from potok.domain.errors import FieldError, InvalidInput
    from potok.services import carrier_points

    centre = None
    if near is not None:
        try:
            lat, lon = (float(part) for part in near.split(","))
        except ValueError:
            raise InvalidInput([FieldError("near", "write it as LATITUDE,LONGITUDE")]) from None
        centre = (lat, lon)
    potok = open_potok()
    try:
        found = carrier_points.find_points(
            cli_uow(potok),
            carrier=carrier,
            city=city,
            near=centre,
            radius_km=radius_km,
            text=text,
            limit=limit,
        )
    finally:
        potok.close()
    rows = [
        {
            "carrier": f.point.carrier,
            "code": f.point.code,
            "kind": f.point.kind,
            "city": f.point.city,
            "address": f.point.address,
            "distance_km": round(f.distance_km, 2) if f.distance_km is not None else None,
            "hours": f.point.hours,
            "storage_days": f.point.storage_days,
            "cash_on_delivery": f.point.cash_on_delivery,
            "latitude": f.point.latitude,
            "longitude": f.point.longitude,
        }
        for f in found
    ]
    print_listing(rows, POINT_COLUMNS, output, empty="no pickup points found")
