"""``potok carriers``: the carriers Potok knows, subscribing to a carrier's webhooks, and a
booked shipment's label as the carrier prints it. Services and adapters are imported when a
command runs, so that ``potok --help`` stays quick."""

from __future__ import annotations

from pathlib import Path

import typer

from potok.cli.common import cli_uow, console, handles_errors, open_potok

app = typer.Typer(
    help="Carriers: list them, subscribe to their webhooks, fetch their labels.",
    no_args_is_help=True,
)


@app.command("list")
@handles_errors
def list_carriers() -> None:
    """The carriers this configuration enables (the sandbox always)."""
    potok = open_potok()
    try:
        for code in potok.carriers.codes:
            console.print(code)
    finally:
        potok.close()


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
    from potok.connectors.carriers.interface import LabelPrinter
    from potok.domain.fulfilment.errors import CarrierPrintsNoLabels
    from potok.services.fulfilment import tracking

    potok = open_potok()
    try:
        code, booked = tracking.booking_of(cli_uow(potok), shipment_id)
        adapter = potok.carriers.get(code)
        if not isinstance(adapter, LabelPrinter):
            raise CarrierPrintsNoLabels(carrier=code)
        out.write_bytes(adapter.label_pdf(booked))
    finally:
        potok.close()
    console.print(f"{out}: {code} label of {booked.tracking_number}")
