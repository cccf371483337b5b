"""``potok sourcing``: shipping tariffs, routing rules, and why an order is sourced as it is."""

from __future__ import annotations

import json
from math import inf
from pathlib import Path

import typer

from potok.cli.common import (
    MAX_ID,
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    errors,
    handles_errors,
    open_potok,
    print_listing,
)
from potok.domain.errors import FieldError, InvalidInput

DEFAULT_CHANNEL = "default"  # as domain.sourcing.setup names them, which is imported lazily
ANY_ORDER_TYPE = "*"
TARIFFS_HEADER = "warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days"

app = typer.Typer(
    help="Shipping tariffs, routing rules and sourcing decisions.", no_args_is_help=True
)
tariffs = typer.Typer(help="The shipping tariff table.", no_args_is_help=True)
rules = typer.Typer(
    help="Routing rules per channel (`default`: the network's).", no_args_is_help=True
)
app.add_typer(tariffs, name="tariffs")
app.add_typer(rules, name="rules")


@tariffs.command("import")
@handles_errors
def import_tariffs(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help=f"CSV with a header: {TARIFFS_HEADER}"
    ),
) -> None:
    """Replace the tariff table with a CSV file, as a new version: all rows or none.

    Every bad cell is reported by line and column; with any, nothing changes (exit 3).
    """
    from potok.services import sourcing
    from potok.services.tariff_files import TariffFileError

    text = file.read_text(encoding="utf-8-sig")
    potok = open_potok()
    try:
        version = sourcing.import_tariffs(
            cli_uow(potok), text, cli_actor(), source=f"cli:{file.name}"
        )
    except TariffFileError as error:
        for item in error.problems:
            errors.print(f"  - {item}", highlight=False)
        errors.print(
            f"[bold red]error:[/] {file}: nothing imported, {len(error.problems)} problem(s)",
            highlight=False,
        )
        raise typer.Exit(3) from None
    finally:
        potok.close()
    console.print(f"imported {version.tariffs} tariffs as version {version.version}")


TARIFF_COLUMNS = [
    Column("warehouse"),
    Column("destination"),
    Column("region", table=False),
    Column("min_km", table=False),
    Column("max_km", table=False),
    Column("fixed", "fixed ₽", right=True, show="{:.2f}".format),
    Column("per_kg", "₽/kg", right=True, show=lambda rate: f"{rate.normalize():f}"),
    Column("per_km", "₽/km", right=True, show=lambda rate: f"{rate.normalize():f}"),
    Column("days", right=True),
    Column("version", table=False),
]


@tariffs.command("list")
@handles_errors
def list_tariffs(output: Output = OUTPUT) -> None:
    """The tariff table in force."""
    from potok.services import sourcing

    potok = open_potok()
    try:
        version, found = sourcing.list_tariffs(potok.uow())
    finally:
        potok.close()
    if version is None and output is Output.TABLE:
        console.print("no tariffs yet: import a file with `potok sourcing tariffs import`")
        return
    rows = [
        {
            "warehouse": t.warehouse,
            "destination": t.describe(),
            "region": t.region,
            "min_km": t.min_km,
            "max_km": None if t.max_km == inf else t.max_km,
            "fixed": t.fixed,
            "per_kg": t.per_kg,
            "per_km": t.per_km,
            "days": t.days,
            "version": version.version if version else None,
        }
        for t in found
    ]
    title = (
        f"Shipping tariffs, version {version.version} "
        f"({version.created_by}, {version.created_at:%Y-%m-%d %H:%M} UTC)"
        if version
        else None
    )
    print_listing(rows, TARIFF_COLUMNS, output, title=title)


@rules.command("show")
@handles_errors
def show_rules(
    channel: str = typer.Argument(DEFAULT_CHANNEL, help="A channel code, or default."),
    order_type: str = typer.Option(
        ANY_ORDER_TYPE, "--order-type", help="courier, pickup, marketplace or *."
    ),
    version: int | None = typer.Option(None, min=0, max=MAX_ID, help="An older version."),
    history: bool = typer.Option(False, "--history", help="List every version with who set it."),
) -> None:
    """The routing rules a channel follows now (or an older version), as JSON."""
    from rich.table import Table

    from potok.domain.sourcing import setup as sourcing_setup
    from potok.services import sourcing

    potok = open_potok()
    try:
        uow = potok.uow()
        if history:
            versions = sourcing.rule_versions(uow, channel, order_type=order_type)
        found = sourcing.get_rules(uow, channel, order_type=order_type, version=version)
    finally:
        potok.close()
    if history:
        table = Table(title=f"Routing rules of {channel} ({order_type})")
        for column in ("version", "set by", "at"):
            table.add_column(column)
        for v in versions:
            table.add_row(str(v.version), v.created_by, f"{v.created_at:%Y-%m-%d %H:%M} UTC")
        console.print(table)
        return
    owner = found.channel or sourcing_setup.DEFAULT_CHANNEL
    where = "built-in" if found.version == 0 else f"{owner} version {found.version}"
    console.print(f"[bold]{channel}[/] ({order_type}) follows {where}", highlight=False)
    if found.version:
        console.print(f"set by {found.created_by} at {found.created_at:%Y-%m-%d %H:%M} UTC")
    console.print_json(json.dumps(found.rules, ensure_ascii=False))


@rules.command("set")
@handles_errors
def set_rules(
    channel: str = typer.Argument(..., help="A channel code, or default."),
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="JSON rules."
    ),
    order_type: str = typer.Option(
        ANY_ORDER_TYPE, "--order-type", help="courier, pickup, marketplace or *."
    ),
) -> None:
    """Give a channel new routing rules from a JSON file, as a new version."""
    from potok.services import sourcing

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InvalidInput([FieldError(str(file), f"is not JSON: {error}")]) from None
    if not isinstance(data, dict):
        raise InvalidInput([FieldError(str(file), "must hold a JSON object")])
    potok = open_potok()
    try:
        found = sourcing.set_rules(
            cli_uow(potok), channel, data, cli_actor(), order_type=order_type
        )
    finally:
        potok.close()
    console.print(f"{channel} ({order_type}) routing rules: version {found.version}")


@app.command("explain")
@handles_errors
def explain(
    order_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The order's number."),
) -> None:
    """Why the order was sourced as it was, and what the engine would choose now (a dry run
    that reserves nothing)."""
    from rich.table import Table

    from potok.services import sourcing

    potok = open_potok()
    try:
        found = sourcing.explain_order(potok.uow(), order_id)
    finally:
        potok.close()
    console.print(f"[bold]Order {order_id}[/]")
    if found.stored:
        for s in found.stored:
            why = f" ({s.trigger})" if s.trigger else ""
            cost = f", {s.total_cost} ₽" if s.total_cost is not None else ""
            console.print(
                f"{s.occurred_at:%Y-%m-%d %H:%M} {s.action}{why} by {s.actor}{cost}: "
                f"{s.explanation}",
                highlight=False,
            )
            if s.record is not None:
                console.print(
                    f"  rules {s.record.rules_version}, tariffs version "
                    f"{s.record.tariffs_version}, {len(s.record.candidates)} candidates",
                    highlight=False,
                )
    else:
        console.print("no sourcing decision stored yet")
    record = found.record
    console.print()
    console.print(f"[bold]Now[/] ({found.outcome}): {found.explanation}", highlight=False)
    if record is None:
        return
    console.print(
        f"rules {record.rules_version}, tariffs version {record.tariffs_version}, "
        f"{record.order_type}{', express' if record.express else ''}"
        + (f", promised {record.promised_on}" if record.promised_on else ""),
        highlight=False,
    )
    table = Table()
    for column in (
        "",
        "warehouse",
        "kind",
        "covers",
        "km",
        "cost ₽",
        "days",
        "score",
        "cost",
        "distance",
        "time",
        "last units",
        "priority",
        "why not",
    ):
        table.add_column(
            column,
            justify="right"
            if column not in ("warehouse", "kind", "covers", "why not", "")
            else "left",
        )
    for c in record.candidates:
        parts = c.breakdown() if c.parts else {}
        table.add_row(
            "✓" if c.chosen else "",
            f"{c.code} ({c.city})",
            c.kind,
            c.coverage or ("" if c.excluded else "all" if c.covers else "part"),
            "" if c.distance_km is None or c.distance_km == inf else f"{c.distance_km:.0f}",
            "" if c.cost is None else f"{'≈' if c.estimate else ''}{c.cost:.2f}",
            "" if c.days is None else str(c.days),
            "" if c.score is None else f"{c.score:.2f}",
            *(
                f"{parts[p]:.2f}" if p in parts else ""
                for p in ("cost", "distance", "time", "last_units", "priority")
            ),
            "" if c.chosen else (c.why_not or c.excluded or "not chosen"),
        )
    console.print(table)


@app.command("replan")
@handles_errors
def replan(
    channel: str | None = typer.Option(None, "--channel", help="This channel's orders only."),
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="Only the orders holding stock at this location."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Report what would change; change nothing."
    ),
    time_limit: float = typer.Option(
        30.0, "--time-limit", min=1, max=300, help="The solver's time budget, in seconds."
    ),
    limit: int = typer.Option(
        10_000, "--limit", min=1, max=100_000, help="At most this many orders, most urgent first."
    ),
    held: float | None = typer.Option(
        None,
        "--held",
        min=1,
        max=24 * 60,
        help="Re-plan the held orders instead: those placed within this many minutes and not "
        "released, together, with the stock priced; one may get dearer when its trade saves.",
    ),
) -> None:
    """Re-plan open orders for the least shipping cost with the batch optimiser; move only
    the ones it can ship for less while keeping their promised date (with --held: the held
    orders together, trades kept when shipping plus stock value falls)."""
    from rich.table import Table

    from potok.services import replanning

    potok = open_potok()
    try:
        with console.status(f"re-planning {'held' if held else 'open'} orders..."):
            run = replanning.replan(
                cli_uow(potok),
                channel=channel,
                warehouse=warehouse,
                limit=limit,
                time_limit_s=time_limit,
                apply=not dry_run,
                held_minutes=held,
                actor=cli_actor(),
            )
    finally:
        potok.close()
    verb = "would change" if dry_run else "changed"
    if run.changes:
        table = Table(title=f"Re-plan run {run.id}{' (dry run)' if dry_run else ''}")
        for column in ("order", "outcome", "from", "to", "before ₽", "after ₽", "note"):
            table.add_column(column, justify="right" if "₽" in column else "left")
        for c in run.changes:
            table.add_row(
                str(c.order_id),
                c.outcome,
                ", ".join(c.from_warehouses),
                ", ".join(c.to_warehouses),
                "" if c.cost_before is None else f"{c.cost_before:.2f}",
                "" if c.cost_after is None else f"{c.cost_after:.2f}",
                c.note if c.outcome == "skipped" or held else "",
            )
        console.print(table)
    console.print(
        f"run {run.id}: {run.orders_considered} orders considered, {run.orders_changed} "
        f"{verb} ({run.backorders_reserved} backorders reserved), {run.orders_skipped} "
        f"skipped; shipping {run.cost_before:.2f} ₽ → {run.cost_after:.2f} ₽ "
        f"(saves {run.cost_before - run.cost_after:.2f} ₽); {run.method}, {run.seconds:.1f} s",
        highlight=False,
    )
    for note in run.notes:
        console.print(f"  {note}", highlight=False)


RUN_COLUMNS = [
    Column("id", "run", right=True),
    Column("started_at", "started", show="{:%Y-%m-%d %H:%M} UTC".format),
    Column("actor", "by"),
    Column("applied", show=lambda applied: "yes" if applied else "dry run"),
    Column("method"),
    Column("orders_considered", "orders", right=True),
    Column("orders_changed", "changed", right=True),
    Column("orders_skipped", "skipped", right=True),
    Column("backorders_reserved", table=False),
    Column("cost_before", "before ₽", right=True, show="{:.2f}".format),
    Column("cost_after", "after ₽", right=True, show="{:.2f}".format),
    Column("seconds", "s", right=True, show="{:.1f}".format),
]


@app.command("replans")
@handles_errors
def replans(
    limit: int = typer.Option(20, "--limit", min=1, max=500, help="How many runs to list."),
    output: Output = OUTPUT,
) -> None:
    """Past runs of the batch optimiser, newest first."""
    from potok.services import replanning

    potok = open_potok()
    try:
        page = replanning.list_runs(potok.uow(), limit=limit)
    finally:
        potok.close()
    rows = [
        {
            "id": r.id,
            "started_at": r.started_at,
            "actor": r.actor,
            "applied": r.applied,
            "method": r.method,
            "orders_considered": r.orders_considered,
            "orders_changed": r.orders_changed,
            "orders_skipped": r.orders_skipped,
            "backorders_reserved": r.backorders_reserved,
            "cost_before": r.cost_before,
            "cost_after": r.cost_after,
            "seconds": r.seconds,
        }
        for r in page.items
    ]
    print_listing(
        rows,
        RUN_COLUMNS,
        output,
        title="Re-plan runs",
        empty="no re-plan runs yet: run one with `potok sourcing replan`",
        more="more runs exist; raise --limit" if page.next_cursor else None,
    )


PRICE_COLUMNS = [
    Column("warehouse", "warehouse"),
    Column("sku", "SKU"),
    Column("price", "₽ a unit", right=True, show="{:.2f}".format),
]


@app.command("price-stock")
@handles_errors
def price_stock(
    history_days: int = typer.Option(
        28, "--history-days", min=1, max=365, help="Days of orders to learn demand from."
    ),
    horizon_days: int = typer.Option(
        7, "--horizon-days", min=1, max=90, help="Days ahead: their demand against the stock."
    ),
    show: int = typer.Option(
        20, "--show", min=0, max=10_000, help="List this many of the dearest positions."
    ),
    output: Output = OUTPUT,
) -> None:
    """Price stock for the orders still to come: what one unit at each location is worth to
    the demand of the next days (their shipping, were it gone). Sourcing adds the price to
    taking the unit now, so a hub's last units are left to the orders only it serves
    cheaply; plentiful stock, or stock replenished in time, costs nothing."""
    from potok.services import stock_pricing

    potok = open_potok()
    try:
        with console.status("pricing stock..."):
            run = stock_pricing.price_stock(
                cli_uow(potok),
                history_days=history_days,
                horizon_days=horizon_days,
                actor=str(cli_actor()),
            )
        top = stock_pricing.priced_positions(potok.uow(), show) if show else []
    finally:
        potok.close()
    console.print(
        f"Stock priced: {run.priced} position(s) of {run.products} product(s) with demand in "
        f"the last {run.history_days} days, for the next {run.horizon_days}, in "
        f"{run.seconds:.1f} s."
    )
    if show:
        rows = [{"warehouse": w, "sku": sku, "price": price} for w, sku, price in top]
        print_listing(
            rows,
            PRICE_COLUMNS,
            output,
            title="Dearest positions",
            empty="no position is scarce for the horizon: every unit costs its shipping only",
            more="more positions are priced; raise --show" if run.priced > show else None,
        )
