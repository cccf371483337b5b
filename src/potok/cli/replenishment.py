"""``potok stock rules`` and ``potok stock replenishment``: min/max rules and what to reorder."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from potok.cli.common import cli_actor, cli_uow, console, errors, handles_errors, open_potok
from potok.domain.errors import FieldError
from potok.domain.inventory.replenishment import SetStockRule
from potok.services import replenishment
from potok.services.replenishment import Suggestion
from potok.services.rule_files import HEADER, parse_rules
from potok.services.stock_files import BadHeader, BadRow

rules = typer.Typer(help="Min/max rules per warehouse and SKU.", no_args_is_help=True)


@rules.command("import")
@handles_errors
def import_rules(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help=f"CSV with a header: {HEADER} (safety_stock may be left out)",
    ),
) -> None:
    """Create or change min/max rules from a CSV file: all rows, or none.

    Every row is checked first - whole numbers, a known warehouse and SKU, max at least min,
    no repeated (warehouse, sku) - and every bad row is reported by its line; with any bad
    row nothing is changed (exit 3). Rules not in the file are kept.
    """
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


@rules.command("list")
@handles_errors
def list_rules(
    warehouse: list[str] = typer.Option(
        [], "--warehouse", "-w", help="Only this warehouse (repeat for several)."
    ),
    sku: str | None = typer.Option(None, help="Only this SKU."),
    below: bool = typer.Option(False, "--below", help="Only rules below their minimum now."),
    limit: int = typer.Option(100, min=1, max=1000),
) -> None:
    """Show min/max rules with the projected level they are judged by."""
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
    table = Table("warehouse", "sku", "min", "max", "safety", "projected", "below")
    for state in page.items:
        level = replenishment.projected(state)
        table.add_row(
            state.warehouse,
            state.sku,
            str(state.min_level),
            str(state.max_level),
            str(state.safety_stock),
            str(level),
            "yes" if level < state.min_level else "",
        )
    console.print(table)


@rules.command("set")
@handles_errors
def set_rule(
    warehouse: str = typer.Argument(..., help="Warehouse code."),
    sku: str = typer.Argument(..., help="SKU."),
    low: int = typer.Option(..., "--min", help="Reorder below this projected level."),
    high: int = typer.Option(..., "--max", help="Order up to this level."),
    safety: int = typer.Option(0, "--safety-stock", help="Held back from channels."),
) -> None:
    """Create or change one min/max rule."""
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
    if not error.field.startswith("rows["):
        return BadRow(0, error.message)
    index = int(error.field.split("[")[1].split("]")[0])
    column = error.field.split("].", 1)[1] if "]." in error.field else ""
    return BadRow(rows[index][0], f"{column}: {error.message}" if column else error.message)


def _report_bad(bad: list[BadRow]) -> None:
    table = Table("line", "problem", title=f"{len(bad)} problems", title_justify="left")
    for row in sorted(bad, key=lambda b: b.line)[:200]:
        table.add_row(str(row.line), row.message)
    errors.print(table)
    if len(bad) > 200:
        errors.print(f"… and {len(bad) - 200} more")


@handles_errors
def report(
    warehouse: list[str] = typer.Option(
        [], "--warehouse", "-w", help="Only this warehouse (repeat for several)."
    ),
    sku: str | None = typer.Option(None, help="Only this SKU."),
    limit: int = typer.Option(1000, min=1, max=100_000, help="At most this many lines."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """What to reorder: SKUs whose projected level is below their minimum.

    projected = on hand - reserved - unavailable + incoming (summed over lots);
    suggested = max(0, max - projected + backordered).
    """
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
    if as_json:
        typer.echo(json.dumps([_plain(line) for line in lines], ensure_ascii=False, indent=2))
        return
    if not lines:
        console.print(
            "[green]nothing to reorder[/]: every rule's projected level is at or above its minimum"
        )
        return
    table = Table(
        "warehouse",
        "sku",
        "on hand",
        "reserved",
        "unavail.",
        "incoming",
        "projected",
        "min",
        "max",
        "safety",
        "backord.",
        "suggested",
        title=f"{len(lines)} SKUs to reorder",
        title_justify="left",
    )
    for line in lines:
        s = line.state
        table.add_row(
            s.warehouse,
            s.sku,
            str(s.on_hand),
            str(s.reserved),
            str(s.unavailable),
            str(s.incoming),
            str(line.projected),
            str(s.min_level),
            str(s.max_level),
            str(s.safety_stock),
            str(s.backordered),
            f"[bold]{line.suggested_quantity}[/]",
        )
    console.print(table)


def _plain(line: Suggestion) -> dict[str, object]:
    s = line.state
    return {
        "warehouse": s.warehouse,
        "sku": s.sku,
        "min": s.min_level,
        "max": s.max_level,
        "safety_stock": s.safety_stock,
        "on_hand": s.on_hand,
        "reserved": s.reserved,
        "unavailable": s.unavailable,
        "incoming": s.incoming,
        "projected": line.projected,
        "backordered": s.backordered,
        "suggested_quantity": line.suggested_quantity,
    }
