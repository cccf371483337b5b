"""``potok db``: the schema."""

from __future__ import annotations

import typer

from potok.cli.common import (
    OUTPUT,
    Column,
    Output,
    console,
    errors,
    handles_errors,
    open_potok,
    print_listing,
)

app = typer.Typer(
    help="Database schema: upgrade, show the revision, check for drift.", no_args_is_help=True
)


@app.command()
@handles_errors
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Bring the database schema up to date (creates a SQLite file if there is none)."""
    from potok.db import migrate

    potok = open_potok(create=True)
    try:
        migrate.upgrade(potok.engine, revision)
        console.print(
            f"schema at [bold]{migrate.current_revision(potok.engine)}[/] "
            f"({potok.engine.url.render_as_string(hide_password=True)})"
        )
    finally:
        potok.close()


@app.command()
@handles_errors
def current() -> None:
    """Show the schema revision of the database and the newest one Potok knows."""
    from potok.db import migrate

    potok = open_potok()
    try:
        now = migrate.current_revision(potok.engine)
        head = migrate.head_revision(potok.engine)
        console.print(f"database: {now or 'empty'}; newest: {head}")
        if now != head:
            raise typer.Exit(1)
    finally:
        potok.close()


@app.command()
@handles_errors
def check() -> None:
    """Fail if the migrated schema differs from the tables in code."""
    from potok.db import migrate

    potok = open_potok()
    try:
        drift = migrate.schema_drift(potok.engine)
        if drift:
            for item in drift:
                errors.print(f"drift: {item}")
            raise typer.Exit(1)
        console.print("schema matches the code")
    finally:
        potok.close()


partitions_app = typer.Typer(
    help="PostgreSQL's monthly partitions of the history, audit trail, stock ledger and "
    "sourcing decisions: list them, make months ahead, drop old months per retention.",
    no_args_is_help=True,
)
app.add_typer(partitions_app, name="partitions")


@partitions_app.command("list")
@handles_errors
def list_partitions(output: Output = OUTPUT) -> None:
    """Every month of every partitioned table, with its estimated rows."""
    from potok.db import partitions

    potok = open_potok()
    try:
        with potok.engine.connect() as connection:
            found = partitions.partitions(connection)
    finally:
        potok.close()
    rows = [
        {
            "table": p.table,
            "partition": p.name,
            "month": p.month.strftime("%Y-%m") if p.month else "default",
            "rows": max(p.rows, 0),
        }
        for p in found
    ]
    print_listing(
        rows,
        [Column("table"), Column("partition"), Column("month"), Column("rows", right=True)],
        output,
        empty="no partitioned tables (SQLite keeps plain tables)",
    )


@partitions_app.command("create")
@handles_errors
def create_partitions(
    months: int | None = typer.Option(
        None, min=1, max=24, help="Months ahead of this one (default: db.partitions.ahead_months)."
    ),
) -> None:
    """Make the months from this one to N months ahead where they are missing (the worker
    does this every day)."""
    from datetime import UTC, datetime

    from potok.db import partitions

    potok = open_potok()
    try:
        ahead = months or potok.settings.db.partitions.ahead_months
        made, _ = partitions.maintain(potok.engine, datetime.now(UTC).date(), ahead=ahead, keep={})
    finally:
        potok.close()
    console.print(f"made {len(made)} partitions" + (f": {', '.join(made)}" if made else ""))


@partitions_app.command("drop")
@handles_errors
def drop_partitions(
    table: str | None = typer.Option(
        None, help="Only this table (order_history, audit_log, stock_movements, ...)."
    ),
    keep_months: int | None = typer.Option(
        None,
        min=1,
        max=1200,
        help="Whole months kept before this one (default: the table's retention setting).",
    ),
) -> None:
    """Detach and drop the months older than retention keeps (the worker does this every
    day for the tables with a retention setting); their rows are gone for good."""
    from datetime import UTC, datetime

    from potok.db import partitions

    if table is not None and table not in partitions.PARTITIONED:
        errors.print(
            f"error: '{table}' is not partitioned; use one of {', '.join(partitions.PARTITIONED)}"
        )
        raise typer.Exit(2)
    potok = open_potok()
    try:
        keep = potok.settings.db.partitions.keep()
        if table is not None:
            keep = {table: keep[table]}
        if keep_months is not None:
            keep = dict.fromkeys(keep, keep_months)
        _, dropped = partitions.maintain(potok.engine, datetime.now(UTC).date(), ahead=1, keep=keep)
    finally:
        potok.close()
    console.print(
        f"dropped {len(dropped)} partitions" + (f": {', '.join(dropped)}" if dropped else "")
    )
