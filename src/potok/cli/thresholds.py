"""``potok thresholds``: how long a shipment may sit in each stage before the dashboard names
it overdue - list them with their defaults and last change, set one (kept in the history)."""

from __future__ import annotations

import typer

from potok.cli.common import (
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    handles_errors,
    open_potok,
    print_listing,
)

app = typer.Typer(
    help="Overdue thresholds per shipment stage: list them, set one.",
    no_args_is_help=True,
)

COLUMNS = [
    Column("stage"),
    Column("minutes", right=True),
    Column("default", right=True),
    Column("changed_at", "changed"),
    Column("changed_by", "by"),
]


@app.command("list")
@handles_errors
def list_thresholds(output: Output = OUTPUT) -> None:
    """Every watched stage (the warehouse's, then the carrier's) with its threshold in
    minutes, its default, and who changed it last."""
    from potok.services import overdue_thresholds as thresholds

    potok = open_potok()
    try:
        found = thresholds.list_thresholds(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {
            "stage": t.stage.value,
            "minutes": t.minutes,
            "default": t.default,
            "changed_at": t.stored.created_at if t.stored else "",
            "changed_by": t.stored.created_by if t.stored else "",
        }
        for t in found
    ]
    print_listing(rows, COLUMNS, output)


@app.command("set")
@handles_errors
def set_threshold(
    stage: str = typer.Argument(
        ...,
        help="pending, picking, packed, handed_over, in_transit, ready_for_pickup, "
        "failed_delivery or returning.",
    ),
    minutes: int = typer.Argument(..., help="From 5 to 43200 (thirty days)."),
) -> None:
    """Change one stage's threshold; the older values stay in the history."""
    from potok.services import overdue_thresholds as thresholds

    chosen = thresholds.parse_stage(stage)  # a plain message before the database is opened
    potok = open_potok()
    try:
        saved = thresholds.save_threshold(cli_uow(potok), chosen, minutes, cli_actor())
    finally:
        potok.close()
    console.print(f"{saved.stage.value}: overdue after {saved.minutes} minutes", highlight=False)
