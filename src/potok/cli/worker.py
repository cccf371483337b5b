"""``potok worker``: the outbox dispatcher (webhook deliveries) and the timed jobs, in a
process of their own; several may run at once on PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from potok.cli.common import (
    WAIT_FOR_DATABASE_HELP,
    console,
    errors,
    open_potok,
    schema_current_once_reachable,
)

if TYPE_CHECKING:
    from potok.worker.dispatcher import Dispatcher


def worker(
    jobs: bool = typer.Option(
        True, "--jobs/--no-jobs", help="Also run the timed jobs (payment deadlines, hold expiry)."
    ),
    once: bool = typer.Option(
        False, "--once", help="One round of deliveries, then exit (for scripts and checks)."
    ),
    wait_for_database: float = typer.Option(60.0, min=0, max=3600, help=WAIT_FOR_DATABASE_HELP),
) -> None:
    """Deliver events to webhook subscriptions until stopped (SIGTERM or Ctrl+C)."""
    import signal
    import threading

    from potok.worker.dispatcher import Dispatcher, new_client

    potok = open_potok()
    try:
        if not schema_current_once_reachable(potok, wait_for_database):
            errors.print(
                "[bold red]error:[/] the database schema is not current; run "
                "'potok db upgrade' first",
                highlight=False,
            )
            raise typer.Exit(6)
        with new_client() as client:
            dispatcher = Dispatcher(potok, client)
            if once:
                report = dispatcher.run_round()
                dispatcher.shut()
                console.print(
                    f"placed {report.sequenced} events in order; delivered {report.delivered}, "
                    f"failed {report.failed}, dead letters {report.dead}"
                )
                return
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            if jobs:
                from potok.worker import jobs as timed_jobs  # a quick start without them

                timed_jobs.start_in_background(potok)
            console.print(f"Potok worker {dispatcher.name} delivering events (Ctrl+C stops)")
            try:
                dispatcher.run_forever(stop)
            except KeyboardInterrupt:
                stop.set()
            finally:
                dispatcher.shut()
                _print_costs(dispatcher)
    finally:
        potok.close()


def _print_costs(dispatcher: Dispatcher) -> None:
    """What each after-commit reaction cost this worker since it started, dearest first
    (one plain line each, for people and for ``benchmarks/events.py``)."""
    from potok.worker.costs import cost_lines

    lines = cost_lines(dispatcher.costs.snapshot())
    if lines:
        console.print("what the reactions cost this worker since it started:", highlight=False)
        for line in lines:
            console.print(line, highlight=False, soft_wrap=True)
