"""``potok marketplaces``: connect a marketplace account, see the connections' health,
poll one now, read the orders it kept aside."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from potok.cli.common import (
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    fail,
    handles_errors,
    open_potok,
    print_listing,
)

app = typer.Typer(
    help="Marketplace connections (Wildberries, Ozon FBS, Yandex Market FBS, Avito, RetailCRM): "
    "connect, health, poll now, journal.",
    no_args_is_help=True,
)

MARKETPLACES = ("wildberries", "ozon", "retailcrm", "yandex_market", "avito")


def _warehouses(pairs: list[str]) -> dict[str, str]:
    mapped: dict[str, str] = {}
    for pair in pairs:
        theirs, sep, ours = pair.partition("=")
        if not sep or not theirs.strip() or not ours.strip():
            raise fail(
                f"--warehouse takes THEIRS=OURS (the marketplace's warehouse id = a Potok "
                f"location code), not '{pair}'",
                3,
            )
        mapped[theirs.strip()] = ours.strip()
    return mapped


def _token(token_file: Path | None) -> str:
    if token_file is not None:
        return token_file.read_text(encoding="utf-8").strip()
    return str(typer.prompt("API token", hide_input=True)).strip()


@app.command()
@handles_errors
def connect(
    code: str = typer.Argument(..., help="A name for the connection, e.g. wb-main."),
    marketplace: str = typer.Option(
        ..., "--marketplace", "-m", help="wildberries, ozon, yandex_market, avito or retailcrm."
    ),
    channel: str = typer.Option(..., help="The sales channel its orders join."),
    warehouse: list[str] = typer.Option(
        [],
        "--warehouse",
        "-w",
        help="THEIRS=OURS: the marketplace's warehouse id and the Potok location that "
        "fulfils its orders; repeat for each warehouse.",
    ),
    url: str | None = typer.Option(
        None,
        help="The marketplace's API host (a sandbox or simulator); its real one if omitted. "
        "RetailCRM: the account's address, https://<account>.retailcrm.ru.",
    ),
    every: int = typer.Option(60, help="Poll every so many seconds (10-86400)."),
    client_id: str | None = typer.Option(
        None,
        help="Ozon's Client-Id; Yandex Market: the businessId; Avito: the Client ID (the "
        "token is the Client Secret); RetailCRM: the shop (site) code when the key has several.",
    ),
    token_file: Path | None = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        readable=True,
        help="Read the API token from this file; without it the token is asked for, unseen.",
    ),
) -> None:
    """Connect a marketplace account; the token is stored encrypted and never shown."""
    from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
    from potok.services.marketplaces import connect_marketplace

    if marketplace not in MARKETPLACES:
        raise fail(f"--marketplace must be one of {', '.join(MARKETPLACES)}", 3)
    mapped = _warehouses(warehouse)
    token = _token(token_file)
    potok = open_potok()
    try:
        kind = Marketplace(marketplace)
        connection = connect_marketplace(
            cli_uow(potok),
            ConnectionDraft(
                code=code,
                marketplace=kind,
                channel=channel,
                credentials=Credentials(token, client_id),
                base_url=url or potok.marketplaces.default_url(kind),
                warehouses=mapped,
                poll_every_s=every,
            ),
            cli_actor(),
        )
    finally:
        potok.close()
    console.print(
        f"connected {connection.code}: {connection.marketplace.value} → channel "
        f"{connection.channel_code}, {len(connection.warehouses)} warehouses mapped",
        highlight=False,
    )


@app.command()
@handles_errors
def update(
    code: str = typer.Argument(..., help="The connection."),
    new_token: bool = typer.Option(
        False, "--new-token", help="Replace the token (asked for unseen, or --token-file)."
    ),
    token_file: Path | None = typer.Option(
        None, exists=True, dir_okay=False, readable=True, help="Read the new token from this file."
    ),
    warehouse: list[str] = typer.Option(
        [], "--warehouse", "-w", help="THEIRS=OURS; given, they replace the whole map."
    ),
    url: str | None = typer.Option(None, help="Another API host."),
    every: int | None = typer.Option(None, help="Poll every so many seconds (10-86400)."),
    active: bool | None = typer.Option(None, "--active/--paused", help="Resume or pause polls."),
) -> None:
    """Change a connection: a new token after the marketplace refused the old one, the
    warehouse map, the host, the schedule; pause or resume it."""
    from potok.domain.marketplaces import ConnectionChanges, Credentials
    from potok.services.marketplaces import change_connection

    token = _token(token_file) if new_token or token_file is not None else None
    changes = ConnectionChanges(
        credentials=Credentials(token) if token is not None else None,
        base_url=url,
        warehouses=_warehouses(warehouse) if warehouse else None,
        poll_every_s=every,
        active=active,
    )
    if not changes.named:
        raise fail(
            "nothing to change: give --new-token, -w, --url, --every or --active/--paused", 3
        )
    potok = open_potok()
    try:
        connection = change_connection(cli_uow(potok), code, changes, cli_actor())
    finally:
        potok.close()
    console.print(f"{connection.code}: changed {', '.join(changes.named)}", highlight=False)


@app.command("list")
@handles_errors
def list_connections(output: Output = OUTPUT) -> None:
    """Every connection with its health: last success, lag, failures, rate-limit waits."""
    from potok.services.marketplaces import list_connections as listed

    potok = open_potok()
    try:
        found = listed(cli_uow(potok))
    finally:
        potok.close()
    now = datetime.now(UTC)
    rows = [
        {
            "code": c.code,
            "marketplace": c.marketplace.value,
            "channel": c.channel_code,
            "health": c.health.value,
            "last_success_at": c.last_success_at,
            "lag_s": int(lag.total_seconds()) if (lag := c.lag(now)) is not None else None,
            "failures": c.failures,
            "rate_limit_waits": c.rate_limit_waits,
            "imported": c.imported,
            "journal": c.open_journal,
            "last_error": c.last_error,
        }
        for c in found
    ]
    columns = [
        Column("code", "connection"),
        Column("marketplace"),
        Column("channel"),
        Column("health"),
        Column("last_success_at", "last success"),
        Column("lag_s", "lag, s", right=True),
        Column("failures", right=True),
        Column("rate_limit_waits", "429 waits", right=True),
        Column("imported", right=True),
        Column("journal", "kept aside", right=True),
        Column("last_error", "last error"),
    ]
    print_listing(rows, columns, output, empty="No marketplace connections yet.")


@app.command()
@handles_errors
def poll(code: str = typer.Argument(..., help="The connection.")) -> None:
    """Poll a connection now: import its new orders, follow the statuses of open ones."""
    from potok.services.marketplaces import poll_marketplace

    potok = open_potok()
    try:
        outcome = poll_marketplace(
            cli_uow(potok),
            potok.marketplaces,
            code,
            batch=potok.settings.marketplaces.import_batch,
        )
    finally:
        potok.close()
    console.print(
        f"{outcome.connection}: {outcome.seen} new on the marketplace, "
        f"{len(outcome.imported)} imported, {outcome.repeated} already here, "
        f"{len(outcome.kept_aside)} kept aside, {len(outcome.cancelled)} cancelled, "
        f"{len(outcome.packed)} told packed, {len(outcome.handed_over)} told handed over, "
        f"{len(outcome.push_failed)} refused there, {len(outcome.waiting)} waiting, "
        f"{len(outcome.returns_opened)} returns opened, {outcome.rate_limit_waits} rate-limit "
        "waits",
        highlight=False,
    )
    if outcome.crm_changes or outcome.crm_refused:
        console.print(
            f"changes made in the CRM: {len(outcome.crm_changes)} taken, "
            f"{len(outcome.crm_refused)} refused (see the journal)",
            highlight=False,
        )
    if outcome.error:
        raise fail(outcome.error, 6 if not outcome.refused else 3)


@app.command()
@handles_errors
def journal(
    code: str = typer.Argument(..., help="The connection."),
    everything: bool = typer.Option(False, "--all", help="Resolved entries too."),
    output: Output = OUTPUT,
) -> None:
    """Orders the connection kept aside (unknown SKU or warehouse, refused by intake)."""
    from potok.services.marketplaces import read_journal

    potok = open_potok()
    try:
        entries = read_journal(cli_uow(potok), code, open_only=not everything)
    finally:
        potok.close()
    rows = [
        {
            "external_id": e.external_id,
            "kind": e.kind.value,
            "detail": e.detail,
            "times_seen": e.times_seen,
            "last_seen_at": e.last_seen_at,
            "resolved_at": e.resolved_at,
        }
        for e in entries
    ]
    columns = [
        Column("external_id", "order"),
        Column("kind"),
        Column("detail"),
        Column("times_seen", "seen", right=True),
        Column("last_seen_at", "last seen"),
        Column("resolved_at", "resolved"),
    ]
    print_listing(rows, columns, output, empty="Nothing kept aside.")


@app.command("push-stock")
@handles_errors
def push_stock(
    code: str = typer.Argument(..., help="The connection."),
    sku: list[str] = typer.Option(
        [], "--sku", help="Push only this SKU (repeat); every mapped SKU when omitted."
    ),
    output: Output = OUTPUT,
) -> None:
    """Send the marketplace the stock it may sell now, at every mapped warehouse: a full
    re-sync (the worker otherwise pushes what stock events moved)."""
    from potok.services.marketplaces import push_stock as push

    potok = open_potok()
    try:
        outcome = push(
            cli_uow(potok),
            potok.marketplaces,
            code,
            skus=sku or None,
            reserve=potok.settings.marketplaces.stock_reserve,
        )
    finally:
        potok.close()
    console.print(
        f"{outcome.connection}: {outcome.positions} figures sent in {outcome.requests} "
        f"requests, {outcome.accepted} taken, {len(outcome.refused)} refused, "
        f"{len(outcome.unmapped)} SKUs not mapped, {outcome.rate_limit_waits} rate-limit waits",
        highlight=False,
    )
    if outcome.refused:
        rows = [{"position": where, "reason": reason} for where, reason in outcome.refused.items()]
        columns = [Column("position", "warehouse/SKU"), Column("reason")]
        print_listing(rows, columns, output, empty="")
    if outcome.unmapped:
        console.print("Not mapped: " + ", ".join(outcome.unmapped[:20]), highlight=False)
    if outcome.error:
        raise fail(outcome.error, 6 if not outcome.credentials_refused else 3)


@app.command()
@handles_errors
def items(
    code: str = typer.Argument(..., help="The connection."),
    after: str | None = typer.Option(None, help="Start after this SKU."),
    limit: int = typer.Option(1000, min=1, max=10_000, help="At most this many rows."),
    output: Output = OUTPUT,
) -> None:
    """The connection's item map: each Potok SKU and the marketplace's item."""
    from potok.services.marketplaces import list_items

    potok = open_potok()
    try:
        found = list_items(cli_uow(potok), code, after=after, limit=limit)
    finally:
        potok.close()
    rows = [
        {
            "sku": m.sku,
            "item": m.item,
            "product": m.product,
            "article": m.article,
            "barcode": m.barcode,
        }
        for m in found
    ]
    columns = [
        Column("sku", "SKU"),
        Column("item", "item (WB chrtId / Ozon sku)"),
        Column("product", "product (WB nmId / Ozon product_id)"),
        Column("article"),
        Column("barcode"),
    ]
    print_listing(rows, columns, output, empty="No SKU is mapped yet.")


@app.command("map")
@handles_errors
def map_item(
    code: str = typer.Argument(..., help="The connection."),
    sku: str = typer.Argument(..., help="The Potok SKU."),
    item: str = typer.Argument(
        ..., help="The marketplace's item: WB chrtId, Ozon sku, Market offerId."
    ),
    product: str | None = typer.Option(
        None, help="The product card: WB nmId, Ozon product_id (Ozon's stock needs it)."
    ),
    article: str | None = typer.Option(None, help="The seller's article there (offer_id)."),
    barcode: str | None = typer.Option(None, help="The item's barcode."),
) -> None:
    """Map one SKU to the marketplace's item (replacing what either was mapped to)."""
    from potok.domain.marketplaces import ItemMapping
    from potok.services.marketplaces import map_items

    row = ItemMapping(sku, item, product=product, article=article, barcode=barcode)
    potok = open_potok()
    try:
        map_items(cli_uow(potok), code, [row], cli_actor())
    finally:
        potok.close()
    console.print(f"{code}: {sku} is item {item}", highlight=False)


@app.command()
@handles_errors
def unmap(
    code: str = typer.Argument(..., help="The connection."),
    sku: list[str] = typer.Argument(..., help="The SKUs to forget."),
) -> None:
    """Forget the marketplace items of these SKUs."""
    from potok.services.marketplaces import unmap_items

    potok = open_potok()
    try:
        removed = unmap_items(cli_uow(potok), code, sku, cli_actor())
    finally:
        potok.close()
    console.print(f"{code}: {removed} SKUs no longer mapped", highlight=False)


@app.command("import-items")
@handles_errors
def import_items(
    code: str = typer.Argument(..., help="The connection."),
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="A CSV file: " + "sku,item,..."
    ),
) -> None:
    """Map SKUs from a CSV file with the header sku,item[,product,article,barcode]; nothing
    is stored unless every line is right (each bad line is named)."""
    from potok.services.marketplaces import map_items
    from potok.services.marketplaces.item_files import parse_items

    with file.open(encoding="utf-8-sig", newline="") as lines:
        rows, names = parse_items(lines)
    potok = open_potok()
    try:
        mapped = map_items(cli_uow(potok), code, rows, cli_actor(), names=names)
    finally:
        potok.close()
    console.print(f"{code}: {mapped} SKUs mapped from {file.name}", highlight=False)


@app.command("match-catalogue")
@handles_errors
def match_catalogue(
    code: str = typer.Argument(..., help="The connection."),
    output: Output = OUTPUT,
) -> None:
    """Fill the item map from the marketplace's catalogue (Ozon): each listed item mapped to
    the SKU its article names, else to the product with one of its barcodes. The worker does
    this every few hours and before a connection's first poll."""
    from potok.services.marketplaces import map_from_catalogue

    potok = open_potok()
    try:
        outcome = map_from_catalogue(cli_uow(potok), potok.marketplaces, code, cli_actor())
    finally:
        potok.close()
    console.print(
        f"{outcome.connection}: {outcome.listed} items listed, {outcome.mapped} mapped now, "
        f"{outcome.unchanged} already mapped, {outcome.unmatched} match no SKU, "
        f"{outcome.conflicts} left as they were",
        highlight=False,
    )
    rows = [
        {"item": text, "why": "no SKU has its article or barcode"}
        for text in outcome.unmatched_items
    ]
    rows += [
        {"item": text.split(":", 1)[0], "why": text.split(": ", 1)[-1]}
        for text in outcome.conflict_notes
    ]
    if rows:
        print_listing(rows, [Column("item"), Column("why")], output, empty="")
    if outcome.error:
        raise fail(outcome.error, 6)


@app.command("push-url")
@handles_errors
def push_url(
    code: str = typer.Argument(..., help="The Ozon or Yandex Market connection."),
    base: str = typer.Option(
        ...,
        "--base",
        help="Potok's address as the marketplace reaches it, e.g. https://potok.example.ru",
    ),
) -> None:
    """The URL to give the marketplace for its notifications (Ozon: Settings →
    Notifications; Yandex Market: Settings → API and modules → API notifications, Market
    calls POST <URL>/notification), with the connection's secret in it."""
    from potok.domain.marketplaces import ConnectionNotFound, Marketplace
    from potok.services.marketplaces import get_connection
    from potok.services.marketplaces.notifications import push_path

    if not base.startswith(("https://", "http://")):
        raise fail("--base must start with https:// (or http:// for a test stand)", 2)
    potok = open_potok()
    try:
        connection = get_connection(cli_uow(potok), code)
        if connection.marketplace not in (Marketplace.OZON, Marketplace.YANDEX_MARKET):
            raise ConnectionNotFound(connection=code)  # no notifications: a plain error
        path = push_path(potok.protector, code, connection.marketplace)
    finally:
        potok.close()
    console.print(base.rstrip("/") + path, highlight=False, soft_wrap=True)


@app.command("shipments")
@handles_errors
def first_mile_shipments(
    code: str = typer.Argument(..., help="A Yandex Market connection."),
    since: str = typer.Option("", "--since", help="From this day, YYYY-MM-DD (today)."),
    until: str = typer.Option("", "--until", help="To this day, at most 30 after (--since)."),
    campaign: str = typer.Option("", "--campaign", help="Only this campaign."),
    output: Output = OUTPUT,
) -> None:
    """Yandex Market's first-mile shipments planned for those days, read from Market now."""
    from datetime import date

    from potok.services.marketplaces.first_mile import list_first_mile

    try:
        first = date.fromisoformat(since) if since else date.today()
        last = date.fromisoformat(until) if until else first
    except ValueError:
        raise fail("--since and --until are days: YYYY-MM-DD", 2) from None
    potok = open_potok()
    try:
        found = list_first_mile(
            cli_uow(potok), potok.marketplaces, code, first, last, campaign=campaign or None
        )
    finally:
        potok.close()
    rows = [
        {
            "id": s.id,
            "campaign": s.campaign,
            "status": s.status,
            "plan_from": s.plan_from,
            "plan_to": s.plan_to,
            "kind": s.kind,
            "orders": len(s.order_ids),
            "signed": s.signed,
            "warehouse_to": s.warehouse_to,
        }
        for s in found
    ]
    columns = [
        Column("id", "shipment"),
        Column("campaign"),
        Column("status"),
        Column("plan_from", "from"),
        Column("plan_to", "to"),
        Column("kind"),
        Column("orders", right=True),
        Column("signed"),
        Column("warehouse_to", "to where"),
    ]
    print_listing(rows, columns, output, empty="No shipments planned for those days.")


@app.command("confirm-shipment")
@handles_errors
def confirm_shipment(
    code: str = typer.Argument(..., help="A Yandex Market connection."),
    campaign: str = typer.Argument(..., help="The shipment's campaign."),
    shipment: int = typer.Argument(..., min=1, help="Market's shipment id."),
    external_id: str = typer.Option("", "--external-id", help="Your own id for it."),
    signatory: str = typer.Option("", "--signatory", help="The Yandex ID login that signs."),
) -> None:
    """Confirm a first-mile shipment to Yandex Market (once its cutoff has come)."""
    from potok.services.marketplaces.first_mile import confirm_first_mile

    potok = open_potok()
    try:
        found = confirm_first_mile(
            cli_uow(potok),
            potok.marketplaces,
            code,
            campaign,
            shipment,
            external_id=external_id,
            signatory=signatory,
        )
    finally:
        potok.close()
    console.print(
        f"shipment {found.id}: {found.status}; may now: {', '.join(found.actions or ()) or '-'}",
        highlight=False,
    )


@app.command("shipment-document")
@handles_errors
def shipment_document(
    code: str = typer.Argument(..., help="A Yandex Market connection."),
    campaign: str = typer.Argument(..., help="The shipment's campaign."),
    shipment: int = typer.Argument(..., min=1, help="Market's shipment id."),
    kind: str = typer.Option("act", "--kind", help="act (PDF) or waybill (Excel)."),
    to: Path = typer.Option(..., "--to", "-o", help="Where to write the file."),
) -> None:
    """Save a confirmed shipment's acceptance act or transport waybill, as Market makes it."""
    from potok.services.marketplaces.first_mile import first_mile_document

    if kind not in ("act", "waybill"):
        raise fail("--kind is act or waybill", 2)
    potok = open_potok()
    try:
        data = first_mile_document(
            cli_uow(potok), potok.marketplaces, code, campaign, shipment, kind
        )
    finally:
        potok.close()
    to.write_bytes(data)
    console.print(f"{kind} of shipment {shipment}: {len(data)} bytes to {to}", highlight=False)


@app.command("transfer-orders")
@handles_errors
def transfer_orders(
    code: str = typer.Argument(..., help="A Yandex Market connection."),
    campaign: str = typer.Argument(..., help="The shipment's campaign."),
    shipment: int = typer.Argument(..., min=1, help="Market's shipment id."),
    orders: list[str] = typer.Argument(..., help="Market's order numbers."),
) -> None:
    """Move orders that cannot be packed in time to the next first-mile shipment."""
    from potok.services.marketplaces.first_mile import transfer_first_mile

    potok = open_potok()
    try:
        moved = transfer_first_mile(
            cli_uow(potok), potok.marketplaces, code, campaign, shipment, orders, cli_actor()
        )
    finally:
        potok.close()
    console.print(
        f"{len(orders)} orders moved to the next shipment; Potok orders noted: "
        f"{', '.join(str(m) for m in moved) or 'none'}",
        highlight=False,
    )


def _backfill_listing(code: str, state: object, output: Output) -> None:
    from potok.services.crm_ports import Backfill

    assert isinstance(state, Backfill)
    rows = [
        {
            "connection": code,
            "state": state.state,
            "done_percent": state.percent,
            "sent": state.sent,
            "total": state.total,
            "created": state.created,
            "updated": state.updated,
            "refused": state.refused,
            "customers": state.customers,
            "after_order_id": state.after_order_id,
            "through_order_id": state.through_order_id,
            "last_error": state.last_error,
            "updated_at": state.updated_at,
        }
    ]
    columns = [
        Column("connection"),
        Column("state"),
        Column("done_percent", "done %", right=True),
        Column("sent", right=True),
        Column("total", right=True),
        Column("created", right=True),
        Column("updated", right=True),
        Column("refused", right=True),
        Column("customers", right=True),
        Column("after_order_id", "told up to order", right=True),
        Column("through_order_id", "last order", right=True),
        Column("last_error", "last error"),
        Column("updated_at", "updated"),
    ]
    print_listing(rows, columns, output)


@app.command()
@handles_errors
def backfill(
    code: str = typer.Argument(..., help="The CRM connection (RetailCRM)."),
    restart: bool = typer.Option(
        False, "--restart", help="Start from the first order again (the CRM keeps one of each)."
    ),
    output: Output = OUTPUT,
) -> None:
    """Tell the CRM every order of the other channels Potok has (with their customers), in
    batches of 50, with a progress bar; one cut off (or started from the API) goes on from
    where it stopped."""
    import os

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from potok.services.marketplaces import get_backfill, run_backfill, start_backfill

    potok = open_potok()
    try:
        uow = cli_uow(potok)
        started = start_backfill(uow, code, restart=restart)
        worker = f"cli/{cli_actor()}/{os.getpid()}"  # one runner: this process
        with Progress(
            TextColumn(f"telling {code} Potok's orders"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            disable=output is not Output.TABLE,
        ) as bar:
            task = bar.add_task("orders", total=started.backfill.total)
            bar.update(task, completed=started.backfill.sent)
            state = run_backfill(
                uow,
                potok.marketplaces,
                code,
                worker,
                progress=lambda now: bar.update(task, completed=now.sent),
            )
        found = state if state is not None else get_backfill(uow, code).backfill
    finally:
        potok.close()
    _backfill_listing(code, found, output)
    if state is None and found.state == "running":
        raise fail(
            f"another runner holds the back-fill of {code} (worker {found.worker}) until "
            f"{found.lease_until}; see 'potok marketplaces backfill-status {code}'",
            4,
        )
    if found.last_error:
        raise fail(f"the CRM could not be told: {found.last_error}; run it again to go on", 6)


@app.command("backfill-status")
@handles_errors
def backfill_status(
    code: str = typer.Argument(..., help="The CRM connection."), output: Output = OUTPUT
) -> None:
    """Where the connection's back-fill stands: told so far, created, updated, refused."""
    from potok.services.marketplaces import get_backfill

    potok = open_potok()
    try:
        view = get_backfill(cli_uow(potok), code)
    finally:
        potok.close()
    _backfill_listing(view.connection, view.backfill, output)
