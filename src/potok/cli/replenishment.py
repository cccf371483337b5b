"""``potok stock rules`` and ``potok stock replenishment``: min/max rules and what to reorder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from potok.cli.common import (
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

if TYPE_CHECKING:
    from potok.domain.errors import FieldError
    from potok.domain.inventory.replenishment import SetStockRule
    from potok.services.stock_files import BadRow

RULES_HEADER = "warehouse,sku,min,max,safety_stock"  # services.rule_files.HEADER, read lazily

rules = typer.Typer(help="Min/max rules per warehouse and SKU.", no_args_is_help=True)


@rules.command("import")
@handles_errors
def import_rules(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help=f"CSV with a header: {RULES_HEADER} (safety_stock may be left out)",
    ),
) -> None:
    """Create or change min/max rules from a CSV file: all rows, or none.

    Every row is checked first - whole numbers, a known warehouse and SKU, max at least min,
    no repeated (warehouse, sku) - and every bad row is reported by its line; with any bad
    row nothing is changed (exit 3). Rules not in the file are kept.
    """
    from potok.domain.inventory.replenishment import SetStockRule
    from potok.services import replenishment
    from potok.services.rule_files import parse_rules
    from potok.services.stock_files import BadHeader, BadRow

    with file.open(newline="", encoding="utf-8-sig") as handle:
        try:
            parsed = list(parse_rules(handle))
        except BadHeader as error:
            errors.print(f"[bold red]error:[/] {file}: {error}", highlight=False)
            raise typer.Exit(3) from None
    good = [(n, r) for n, r in parsed if isinstance(r, SetStockRule)]
    bad = [r for _, r in parsed if isinstance(r, BadRow)]
    potok = open_potok()
    try:
        if good:
            found = replenishment.check_rule_rows(cli_uow(potok), [r for _, r in good])
            bad.extend(_line_of(e, good) for e in found)
        if not parsed:
            errors.print(f"[bold red]error:[/] {file}: no rows under the header", highlight=False)
            raise typer.Exit(3)
        if bad:
            _report_bad(bad)
            errors.print(
                f"nothing imported: {len({b.line for b in bad})} bad rows of {len(parsed)}; "
                "fix them and import the whole file again",
                highlight=False,
            )
            raise typer.Exit(3)
        applied = replenishment.import_rules(cli_uow(potok), [r for _, r in good], cli_actor())
    finally:
        potok.close()
    unchanged = applied.rows - applied.created - applied.changed
    console.print(
        f"imported {applied.rows} rules: {applied.created} new, {applied.changed} changed, "
        f"{unchanged} unchanged"
    )


RULE_COLUMNS = [
    Column("warehouse"),
    Column("sku"),
    Column("min", right=True),
    Column("max", right=True),
    Column("safety_stock", "safety", right=True),
    Column("projected", right=True),
    Column("below_minimum", "below"),
]


@rules.command("list")
@handles_errors
def list_rules(
    warehouse: list[str] = typer.Option(
        [], "--warehouse", "-w", help="Only this warehouse (repeat for several)."
    ),
    sku: str | None = typer.Option(None, help="Only this SKU."),
    below: bool = typer.Option(False, "--below", help="Only rules below their minimum now."),
    limit: int = typer.Option(100, min=1, max=1000, help="At most this many rules."),
    output: Output = OUTPUT,
) -> None:
    """Min/max rules with the projected level they are judged by."""
    from potok.services import replenishment

    potok = open_potok()
    try:
        page = replenishment.list_rules(
            cli_uow(potok),
            warehouses=warehouse or None,
            sku=sku,
            below_minimum=below,
            limit=limit,
        )
    finally:
        potok.close()
    rows = []
    for state in page.items:
        level = replenishment.projected(state)
        rows.append(
            {
                "warehouse": state.warehouse,
                "sku": state.sku,
                "min": state.min_level,
                "max": state.max_level,
                "safety_stock": state.safety_stock,
                "projected": level,
                "below_minimum": level < state.min_level,
            }
        )
    print_listing(
        rows,
        RULE_COLUMNS,
        output,
        more="more rules exist; narrow the filters or raise --limit" if page.next_cursor else None,
    )


@rules.command("set")
@handles_errors
def set_rule(
    warehouse: str = typer.Argument(..., help="Warehouse code."),
    sku: str = typer.Argument(..., help="SKU."),
    low: int = typer.Option(
        ..., "--min", min=0, max=1_000_000_000, help="Reorder below this projected level."
    ),
    high: int = typer.Option(
        ..., "--max", min=0, max=1_000_000_000, help="Order up to this level (at least --min)."
    ),
    safety: int = typer.Option(
        0, "--safety-stock", min=0, max=1_000_000_000, help="Held back from channels."
    ),
) -> None:
    """Create or change one min/max rule."""
    from potok.domain.inventory.replenishment import SetStockRule
    from potok.services import replenishment

    potok = open_potok()
    try:
        state = replenishment.set_rule(
            cli_uow(potok), SetStockRule(warehouse, sku, low, high, safety), cli_actor()
        )
    finally:
        potok.close()
    console.print(
        f"{state.warehouse}/{state.sku}: min {state.min_level}, max {state.max_level}, "
        f"safety stock {state.safety_stock}; projected {replenishment.projected(state)}"
    )


def _line_of(error: FieldError, rows: list[tuple[int, SetStockRule]]) -> BadRow:
    from potok.services.stock_files import BadRow

    if not error.field.startswith("rows["):
        return BadRow(0, error.message)
    index = int(error.field.split("[")[1].split("]")[0])
    column = error.field.split("].", 1)[1] if "]." in error.field else ""
    return BadRow(rows[index][0], f"{column}: {error.message}" if column else error.message)


def _report_bad(bad: list[BadRow]) -> None:
    from rich.table import Table

    table = Table("line", "problem", title=f"{len(bad)} problems", title_justify="left")
    for row in sorted(bad, key=lambda b: b.line)[:200]:
        table.add_row(str(row.line), row.message)
    errors.print(table)
    if len(bad) > 200:
        errors.print(f"… and {len(bad) - 200} more")


REPORT_COLUMNS = [
    Column("warehouse"),
    Column("sku"),
    Column("on_hand", "on hand", right=True),
    Column("reserved", right=True),
    Column("unavailable", "unavail.", right=True),
    Column("incoming", right=True),
    Column("projected", right=True),
    Column("min", right=True),
    Column("max", right=True),
    Column("safety_stock", "safety", right=True),
    Column("backordered", "backord.", right=True),
    Column("suggested_quantity", "suggested", right=True, show="[bold]{}[/]".format),
]


@handles_errors
def report(
    warehouse: list[str] = typer.Option(
        [], "--warehouse", "-w", help="Only this warehouse (repeat for several)."
    ),
    sku: str | None = typer.Option(None, help="Only this SKU."),
    limit: int = typer.Option(1000, min=1, max=100_000, help="At most this many lines."),
    output: Output = OUTPUT,
    as_json: bool = typer.Option(False, "--json", hidden=True, help="Same as --output json."),
) -> None:
    """What to reorder: SKUs whose projected level is below their minimum.

    projected = on hand - reserved - unavailable + incoming (summed over lots);
    suggested = max(0, max - projected + backordered).
    """
    from potok.services import replenishment
    from potok.services.replenishment import Suggestion

    potok = open_potok()
    lines: list[Suggestion] = []
    cursor: str | None = None
    try:
        while len(lines) < limit:
            page = replenishment.replenishment_report(
                cli_uow(potok),
                warehouses=warehouse or None,
                sku=sku,
                cursor=cursor,
                limit=min(1000, limit - len(lines)),
            )
            lines.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    finally:
        potok.close()
    rows = [
        {
            "warehouse": line.state.warehouse,
            "sku": line.state.sku,
            "min": line.state.min_level,
            "max": line.state.max_level,
            "safety_stock": line.state.safety_stock,
            "on_hand": line.state.on_hand,
            "reserved": line.state.reserved,
            "unavailable": line.state.unavailable,
            "incoming": line.state.incoming,
            "projected": line.projected,
            "backordered": line.state.backordered,
            "suggested_quantity": line.suggested_quantity,
        }
        for line in lines
    ]
    print_listing(
        rows,
        REPORT_COLUMNS,
        Output.JSON if as_json else output,
        title=f"{len(lines)} SKUs to reorder",
        empty="[green]nothing to reorder[/]: every rule's projected level is at or above its "
        "minimum",
    )
