"""What every command shares: the consoles, settings, the Potok instance, listings in three
formats, and errors as exit codes.

Nothing heavy is imported here or at the top of any command module: ``potok --help`` has
to start in well under half a second, so SQLAlchemy, pydantic, FastAPI, the services and the
solver are imported inside the commands that use them
(``tests/unit/test_cli_startup.py`` holds every module to that).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console, ConsoleDimensions
from rich.text import Text

from potok.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PotokError,
    Rejected,
    Unavailable,
)
from potok.domain.kernel import Actor, ActorKind

if TYPE_CHECKING:
    from rich.table import Table
    from sqlalchemy.engine import Engine

    from potok.bootstrap import Potok
    from potok.db.unit_of_work import SqlUnitOfWork
    from potok.settings import Settings

UNBOUNDED = 100_000
"""The width a console assumes away from a terminal: wide enough that nothing is cut."""


class _Console(Console):
    """Rich's console, except that away from a terminal (a file, a pipe, cron) lines and
    tables are printed whole: no wrapping at 80 columns, no cut cells, no ellipsis."""

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        return size if self.is_terminal else ConsoleDimensions(UNBOUNDED, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


console = _Console()
errors = _Console(stderr=True)

P = ParamSpec("P")
T = TypeVar("T")

EXIT_CODES: list[tuple[type[PotokError], int]] = [
    (InvalidInput, 3),
    (Rejected, 3),
    (NotFound, 4),
    (Conflict, 5),
    (Unavailable, 6),
]
NO_DATABASE = 6  # as Unavailable: the database cannot be reached
MAX_ID = 2**63 - 1  # ids are 64-bit signed integers in both databases


def exit_code_for(error: PotokError) -> int:
    """The one table from error kind to exit code (1 for anything else)."""
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1


def report(error: PotokError) -> None:
    errors.print(f"[bold red]error:[/] {error.title}: {error.detail}", highlight=False)
    if isinstance(error, InvalidInput):
        if len(error.errors) == 1 and error.errors[0].message in error.detail:
            return  # the one problem is the detail already
        for item in error.errors[:50]:
            errors.print(f"  - {item.field}: {item.message}", highlight=False)
        if len(error.errors) > 50:
            errors.print(f"  … and {len(error.errors) - 50} more", highlight=False)


def fail(message: str, code: int) -> typer.Exit:
    """Print a plain error on stderr; the caller raises the returned exit."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _failure_below(error: Exception) -> PotokError | typer.Exit | None:
    """Errors raised below the use cases, or None for anything else. A module that was never
    imported cannot have raised, so nothing is imported just to ask."""
    if "potok.security.data" in sys.modules:
        from potok.security.data import DataKeyError

        if isinstance(error, DataKeyError):  # the wrong keys for this database
            return fail(str(error), 2)
    if "sqlalchemy" in sys.modules:
        import sqlalchemy as sa

        if isinstance(error, sa.exc.DBAPIError):  # outside a unit of work (schema commands)
            from potok.db.unit_of_work import translate_error

            return translate_error(error)
    return None


def handles_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Turn Potok's errors into a plain message on stderr and a non-zero exit."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except PotokError as error:
            report(error)
            raise typer.Exit(exit_code_for(error)) from None
        except Exception as error:
            known = _failure_below(error)
            if known is None:
                raise
            if isinstance(known, typer.Exit):
                raise known from None
            report(known)
            raise typer.Exit(exit_code_for(known)) from None

    return wrapper


def settings() -> Settings:
    from pydantic import ValidationError

    from potok.settings import get_settings

    try:
        return get_settings()
    except ValidationError as error:
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"])
            errors.print(f"[bold red]error:[/] setting {where}: {item['msg']}", highlight=False)
        raise typer.Exit(2) from None


def use_database(url: str | None) -> None:
    """``--db`` wins over POTOK_DB__URL; worker processes inherit it through the environment."""
    if url:
        os.environ["POTOK_DB__URL"] = url
        loaded = sys.modules.get("potok.settings")
        if loaded is not None:  # read before in this process (tests run many commands)
            loaded.get_settings.cache_clear()


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for other databases and in-memory ones."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or parsed.query.get("uri"):
        return None  # a SQLite URI: its own mode decides
    return Path(database)


def refuse_missing_database(url: str) -> None:
    """A command that reads or changes a database must not create an empty SQLite file
    (``potok.db`` left behind by a typo or a missing ``--db``); only the commands that make
    a database (``db upgrade``, ``demo``, ``backup restore``) may."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise fail(
            f"there is no database at {path.resolve()}: create it with 'potok db upgrade', "
            "or name another with --db",
            NO_DATABASE,
        )


def open_potok(*, create: bool = False) -> Potok:
    """Potok on the configured database; ``create`` lets a new SQLite file be made."""
    from potok.bootstrap import bootstrap

    config = settings()
    if not create:
        refuse_missing_database(config.db.url)
    return bootstrap(config)


def schema_current_once_reachable(potok: Potok, wait_s: float) -> bool:
    """Whether the database's schema is current, asked until the database answers or
    ``wait_s`` has passed: a process started while the database restarts (or is not up yet)
    waits for it instead of exiting; past the wait, the error is raised as before."""
    import time

    import sqlalchemy as sa

    from potok.db import migrate

    deadline = time.monotonic() + wait_s
    told = False
    while True:
        try:
            return migrate.is_up_to_date(potok.engine)
        except sa.exc.OperationalError as error:
            if time.monotonic() >= deadline:
                raise
            if not told:
                first = str(error.orig or error).strip().splitlines()[0]
                errors.print(
                    f"waiting for the database (up to {wait_s:.0f} s): {first}", highlight=False
                )
                told = True
            time.sleep(1.0)


WAIT_FOR_DATABASE_HELP = (
    "Seconds to wait at start for a database that cannot be reached yet (0: fail at once)."
)


def open_engine(*, create: bool = False) -> Engine:
    """Only the configured database, without Potok's data keys (backups need none)."""
    from potok.db.engine import create_engine

    config = settings()
    if not create:
        refuse_missing_database(config.db.url)
    return create_engine(config.db)


def database_option(url: str) -> str:
    """``--db URL`` as the user would type it to reach the same database again."""
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    return f"--db {shown}"


def cli_actor() -> Actor:
    return Actor(ActorKind.CLI, os.environ.get("USER") or os.environ.get("USERNAME") or "operator")


def cli_uow(potok: Potok) -> SqlUnitOfWork:
    """A unit of work whose audit trail names the person at the command line."""
    from potok.services.ports import AuditContext

    return potok.uow(AuditContext(actor=str(cli_actor()), via="cli"))


# ---------------------------------------------------------------------- listings


class Output(StrEnum):
    """How a listing is printed: a table for people, JSON or CSV for scripts."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


OUTPUT = typer.Option(
    Output.TABLE,
    "--output",
    "-o",
    case_sensitive=False,
    help="table (for people); json (a list of objects) or csv (a header row, then one row "
    "each) for scripts, with the same keys every time.",
)


@dataclass(frozen=True, slots=True)
class Column:
    """One field of a listing: its key in JSON and CSV, its heading and look in the table."""

    key: str
    header: str = ""
    right: bool = False  # numbers: right-aligned and never wrapped
    show: Callable[[Any], str] | None = None  # the table's rendering (may hold rich markup)
    table: bool = True  # shown in the table (JSON and CSV carry it either way)
    data: bool = True  # carried in JSON and CSV (False: a cell composed for people)

    @property
    def heading(self) -> str:
        return self.header or self.key.replace("_", " ")


def plain(value: object) -> object:
    """A value as JSON has it: Decimal as an exact string, times in UTC ISO 8601."""
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    return value


def csv_cell(value: object) -> str:
    """A value as a CSV cell; text a spreadsheet would run as a formula (``=``, ``+``, ``-``,
    ``@``, tab, CR first) behind an apostrophe, numbers as they are."""
    from potok.spreadsheets.writing import safe_text

    text = _csv_text(value)
    shown = value.value if isinstance(value, Enum) else value
    return safe_text(text) if isinstance(shown, str | list | tuple | set | frozenset) else text


def _csv_text(value: object) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_csv_text(item) for item in value)
    return str(value)


def styled(style: str, text: str) -> str:
    """``text`` (escaped) in a rich style, or as it is without one."""
    from rich.markup import escape

    return f"[{style}]{escape(text)}[/]" if style else escape(text)


def money(amount: Decimal | None) -> str:
    """An amount as tables show it: 1 234 567.50."""
    return "" if amount is None else f"{amount:,.2f}".replace(",", " ")


def when(moment: datetime | None) -> str:
    """A moment in the machine's time zone, to the minute, as tables show it."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def _table_cell(column: Column, value: object) -> str | Text:
    if column.show is not None:
        return column.show(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, list | tuple):
        value = ", ".join(str(plain(item)) for item in value)
    return Text(str(plain(value)))  # as it is: a customer's '[b]' is no markup


def listing_table(
    rows: Iterable[Mapping[str, object]], columns: Sequence[Column], *, title: str | None = None
) -> Table:
    from rich.table import Table

    shown = [column for column in columns if column.table]
    table = Table(title=title, title_justify="left" if title else "center")
    for column in shown:
        table.add_column(
            column.heading, justify="right" if column.right else "left", no_wrap=column.right
        )
    for row in rows:
        table.add_row(*(_table_cell(column, row.get(column.key)) for column in shown))
    return table


def print_listing(
    rows: Sequence[Mapping[str, object]],
    columns: Sequence[Column],
    output: Output,
    *,
    title: str | None = None,
    empty: str | None = None,
    more: str | None = None,
) -> None:
    """Print a listing as a table, JSON or CSV.

    JSON is a list of objects and CSV a header row and one row each, with the columns'
    keys in every case (an empty listing is ``[]`` or the header alone). ``empty`` is said
    instead of an empty table; ``more`` (more rows exist) goes under the table, or to stderr
    beside JSON and CSV so that what a script reads stays clean.
    """
    carried = [column for column in columns if column.data]
    if output is Output.JSON:
        data = [{c.key: plain(row.get(c.key)) for c in carried} for row in rows]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif output is Output.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c.key for c in carried])
        writer.writerows([csv_cell(row.get(c.key)) for c in carried] for row in rows)
        typer.echo(buffer.getvalue(), nl=False)
    elif not rows and empty:
        console.print(empty, highlight=False)
    else:
        console.print(listing_table(rows, columns, title=title))
    if more:
        (console if output is Output.TABLE else errors).print(f"[dim]{more}[/]", highlight=False)
