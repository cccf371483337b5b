"""``potok security``: the keys that protect customers' personal data."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer

from potok.cli.common import cli_uow, console, errors, handles_errors, open_potok

if TYPE_CHECKING:
    from potok.bootstrap import Potok

app = typer.Typer(
    help="Personal data keys: make a new key, re-encrypt under the current one.",
    no_args_is_help=True,
)


def _open() -> Potok:
    from potok.security.data import DataKeyError

    try:
        return open_potok()
    except DataKeyError as error:
        _key_problem(str(error))


def _key_problem(message: str) -> NoReturn:
    errors.print(f"[bold red]error:[/] data keys: {message}", highlight=False)
    raise typer.Exit(2)


@app.command()
@handles_errors
def rotate(
    batch: int = typer.Option(1000, min=1, max=100_000, help="Rows per transaction."),
) -> None:
    """Re-encrypt every personal data value not under the current (first) data key.

    Values under an older key, and plaintext written before encryption was on, are
    encrypted under the current key and their search hashes recomputed, in batches of
    1,000 rows per transaction; the service may keep running. Keep the old keys configured
    (after the new one) until this has finished.
    """
    from cryptography.exceptions import InvalidTag
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from potok.security.data import SealedUnderMissingKey
    from potok.services import personal_data
    from potok.services.read_models import Rewrapped

    potok = _open()
    try:
        total = personal_data.pending_personal_data(cli_uow(potok))
        with Progress(
            TextColumn("re-encrypting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rows", total=total)

            def advance(done: Rewrapped) -> None:
                progress.advance(task, done.rows)

            try:
                rotation = personal_data.rewrap_personal_data(
                    cli_uow(potok), batch=batch, on_batch=advance
                )
            except SealedUnderMissingKey as error:  # an old key was removed before rotating
                _key_problem(
                    f"{error.detail} Add key '{error.key_id}' back after the current key and "
                    "run again"
                )
            except InvalidTag:
                _key_problem("a value does not open with the key of its id: the key was changed")
        console.print(
            f"{rotation.values} values re-encrypted under key "
            f"'{potok.protector.current_id}' in {rotation.rows} rows"
        )
    finally:
        potok.close()


@app.command("new-key")
def new_key(
    key_id: str = typer.Argument(
        ..., help="1-16 letters or digits, e.g. k2; stored with every value."
    ),
) -> None:
    """Print a fresh 256-bit data key as <id>:<base64>, the format of POTOK_SECURITY__DATA_KEYS.

    Put it first in the list (the current key), keep the old ones after it, restart, then
    run 'potok security rotate'.
    """
    from potok.security.data import new_key_text

    if not key_id.isalnum() or len(key_id) > 16:
        errors.print(
            "[bold red]error:[/] the key id must be 1-16 letters or digits", highlight=False
        )
        raise typer.Exit(3)
    typer.echo(new_key_text(key_id))
