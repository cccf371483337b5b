"""``potok db``: the schema."""

from __future__ import annotations

import typer

from potok.cli.common import console, errors, handles_errors, open_potok

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
