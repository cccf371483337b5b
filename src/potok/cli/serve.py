"""``potok serve``: the HTTP API (and, by default, the timed jobs) in this process."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

import typer

from potok.cli.common import (
    WAIT_FOR_DATABASE_HELP,
    console,
    errors,
    handles_errors,
    open_potok,
    schema_current_once_reachable,
    settings,
)

if TYPE_CHECKING:
    from potok.bootstrap import Potok


@handles_errors
def serve(
    host: str | None = typer.Option(
        None, help="Interface to listen on (POTOK_API__HOST).", show_default="127.0.0.1"
    ),
    port: int | None = typer.Option(
        None, min=1, max=65535, help="Port (POTOK_API__PORT).", show_default="8000"
    ),
    workers: int | None = typer.Option(
        None, min=1, max=64, help="Worker processes (POTOK_API__WORKERS).", show_default="1"
    ),
    jobs: bool = typer.Option(
        True,
        "--jobs/--no-jobs",
        help="Also run the timed jobs and deliver webhooks (a worker in this process).",
    ),
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="One log line per request."
    ),
    wait_for_database: float = typer.Option(60.0, min=0, max=3600, help=WAIT_FOR_DATABASE_HELP),
) -> None:
    """Serve the API with its interactive documentation at /docs."""
    import uvicorn

    from potok.security.access_log import mask_access_log
    from potok.worker.dispatcher import start_in_background as start_dispatcher
    from potok.worker.jobs import start_in_background

    config = settings()
    host = host or config.api.host
    port = port or config.api.port
    workers = workers or config.api.workers
    potok = open_potok()
    try:
        if not schema_current_once_reachable(potok, wait_for_database):
            errors.print(
                "[bold red]error:[/] the database schema is not current; run "
                "'potok db upgrade' first",
                highlight=False,
            )
            raise typer.Exit(6)
        _report_missing_keys(potok)
        if jobs:
            start_in_background(potok)
            start_dispatcher(potok)
        console.print(
            f"Potok API on [bold]http://{host}:{port}[/] - docs at "
            f"http://{host}:{port}/docs ({workers} worker{'s' if workers > 1 else ''}, "
            f"{potok.engine.url.render_as_string(hide_password=True)})"
        )
        os.environ.setdefault("POTOK_DB__URL", config.db.url)
        os.environ["POTOK_API__WORKERS"] = str(workers)  # each API process knows it is one of N
        mask_access_log()  # the API processes install it too, in create_app
        spread = _connection_table(workers)  # several processes: connections kept even
        uvicorn.run(
            "potok.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            log_level="info",
            timeout_graceful_shutdown=10,
            http="potok.api.spread:SpreadHttp" if spread else "auto",
        )
    finally:
        potok.close()
        if spread:
            shutil.rmtree(spread, ignore_errors=True)


def _connection_table(workers: int) -> str | None:
    """For several worker processes, the directory of the table in which they share their
    connection counts (``potok/api/spread.py``), named to them in the environment."""
    if workers < 2 or importlib.util.find_spec("httptools") is None:
        return None
    from potok.api import spread

    directory = tempfile.mkdtemp(prefix="potok-spread-")  # the processes' user's alone
    path = os.path.join(directory, "connections")
    spread.make_table(path, slots=2 * workers)  # room for replacements of dead workers
    os.environ[spread.ENVIRONMENT] = path
    return directory


def _report_missing_keys(potok: Potok) -> None:
    """Say at start when sealed data needs keys this process lacks (readiness says it too)."""
    missing = potok.key_check.missing()
    if not missing:
        return
    names = ", ".join(f"'{key_id}'" for key_id in missing)
    errors.print(
        f"[bold red]error:[/] personal data in this database was sealed with key {names}, "
        "which this process cannot open: records sealed with it answer "
        "'personal-data-key-missing' and /api/v1/health/ready reports not-ready until the "
        "process gets the keys the data was written with (POTOK_SECURITY__DATA_KEYS, or the "
        "key file POTOK_SECURITY__KEY_FILE)",
        highlight=False,
    )
