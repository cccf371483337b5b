"""What every command shares: settings, the Potok instance, and errors as exit codes."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
import typer
from pydantic import ValidationError
from rich.console import Console

from potok.bootstrap import Potok, bootstrap
from potok.db.unit_of_work import SqlUnitOfWork, translate_error
from potok.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PotokError,
    Rejected,
    Unavailable,
)
from potok.domain.kernel import Actor, ActorKind
from potok.security.data import DataKeyError
from potok.services.ports import AuditContext
from potok.settings import Settings, get_settings

console = Console()
errors = Console(stderr=True)

P = ParamSpec("P")
T = TypeVar("T")

EXIT_CODES: list[tuple[type[PotokError], int]] = [
    (InvalidInput, 3),
    (Rejected, 3),
    (NotFound, 4),
    (Conflict, 5),
    (Unavailable, 6),
]


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


def handles_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Turn Potok's errors into a plain message on stderr and a non-zero exit."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except PotokError as error:
            report(error)
            raise typer.Exit(exit_code_for(error)) from None
        except DataKeyError as error:  # the wrong keys for this database
            errors.print(f"[bold red]error:[/] {error}", highlight=False)
            raise typer.Exit(2) from None
        except sa.exc.DBAPIError as failure:  # outside a unit of work (schema commands)
            translated = translate_error(failure)
            report(translated)
            raise typer.Exit(exit_code_for(translated)) from None

    return wrapper


def settings() -> Settings:
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
        get_settings.cache_clear()


def open_potok() -> Potok:
    return bootstrap(settings())


def cli_actor() -> Actor:
    return Actor(ActorKind.CLI, os.environ.get("USER") or os.environ.get("USERNAME") or "operator")


def cli_uow(potok: Potok) -> SqlUnitOfWork:
    """A unit of work whose audit trail names the person at the command line."""
    return potok.uow(AuditContext(actor=str(cli_actor()), via="cli"))
