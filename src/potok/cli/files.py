"""``potok files``: import and export CSV and XLSX files (stock levels, products, orders).

The format follows the file's extension (``.csv`` or ``.xlsx``). Imports are all or
nothing per file unless ``--skip-bad``; every bad row is listed by its row and column,
and ``--report`` writes them to a file in the same format for fixing in the spreadsheet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import typer

from potok.cli.common import cli_actor, cli_uow, console, errors, fail, handles_errors, open_potok

if TYPE_CHECKING:
    from potok.services.file_imports import ImportSummary, RowProblem
    from potok.services.order_imports import OrderImport
    from potok.spreadsheets import FileFormat

app = typer.Typer(
    help="CSV and XLSX files in and out: stock levels and rules, products, orders, movements.",
    no_args_is_help=True,
)
imports = typer.Typer(help="Import a CSV or XLSX file (all rows or none).", no_args_is_help=True)
exports = typer.Typer(help="Export to a CSV or XLSX file.", no_args_is_help=True)
app.add_typer(imports, name="import")
app.add_typer(exports, name="export")

BAD_FILE_EXIT = 3
SHOWN_PROBLEMS = 100


class ImportKind(StrEnum):
    STOCK_LEVELS = "stock-levels"
    PRODUCTS = "products"
    STOCK_RULES = "stock-rules"
    STORE_RECEIPTS = "store-receipts"


def _format(path: Path) -> FileFormat:
    from potok.spreadsheets import UnknownFormat, format_of

    try:
        return format_of(path.name)
    except UnknownFormat as error:
        raise fail(str(error), 2) from None


SOURCE_FILE = typer.Argument(
    ..., exists=True, dir_okay=False, readable=True, help="A .csv or .xlsx file."
)
SKIP_BAD = typer.Option(
    False, "--skip-bad", help="Import the good rows even if some are bad (still exits 3)."
)
REPORT = typer.Option(
    None,
    "--report",
    dir_okay=False,
    help="Write the bad rows to this file (.csv or .xlsx): row, column, value, problem.",
)


@imports.command("stock-levels")
@handles_errors
def import_stock_levels(
    file: Path = SOURCE_FILE,
    source: str = typer.Option("file", help="Named in the ledger as the levels' origin."),
    skip_bad: bool = SKIP_BAD,
    report: Path | None = REPORT,
) -> None:
    """Set on-hand levels: columns warehouse, sku, on_hand [, expected_on_hand, lot,
    produced_on, expires_on, serials] (or склад, артикул, остаток, ...).

    Each change is a ledger movement of type 'import'; a level already right changes nothing.
    """
    run_import(ImportKind.STOCK_LEVELS, file, skip_bad=skip_bad, report=report, source=source)


@imports.command("products")
@handles_errors
def import_products(
    file: Path = SOURCE_FILE, skip_bad: bool = SKIP_BAD, report: Path | None = REPORT
) -> None:
    """Create or replace products by SKU: columns sku, name, price, vat_rate, barcode,
    barcodes, weight_g, active, tracking, removal_strategy, unit_identifiers, parcel_group
    (or артикул, наименование, цена, ставка ндс, штрихкод, ...). Only sku is required;
    columns left out keep each product's values."""
    run_import(ImportKind.PRODUCTS, file, skip_bad=skip_bad, report=report)


@imports.command("stock-rules")
@handles_errors
def import_stock_rules(file: Path = SOURCE_FILE, report: Path | None = REPORT) -> None:
    """Create or change min/max rules: columns warehouse, sku, min, max [, safety_stock]
    (or склад, артикул, минимум, максимум, страховой запас). All rows or none; rules not in
    the file are kept."""
    run_import(ImportKind.STOCK_RULES, file, skip_bad=False, report=report)


@imports.command("store-receipts")
@handles_errors
def import_store_receipts(file: Path = SOURCE_FILE, report: Path | None = REPORT) -> None:
    """Record stores' till receipts: columns store, receipt, sku, quantity, price [, kind,
    sold_at, till, marking_codes] (or магазин, чек, артикул, количество, цена, ...), one
    row per receipt line. All rows or none; receipts Potok has already are left alone."""
    run_import(ImportKind.STORE_RECEIPTS, file, skip_bad=False, report=report)


@imports.command("orders")
@handles_errors
def import_orders(
    file: Path = SOURCE_FILE,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check the file and say what would be taken; take nothing."
    ),
    report: Path | None = typer.Option(
        None,
        "--report",
        dir_okay=False,
        help="Write what became of each order (or, for a refused file, the bad rows) to "
        "this file (.csv or .xlsx).",
    ),
) -> None:
    """Take new orders: one row per line, columns channel, external_id, sku, quantity
    [, order_id, line_no, unit_price, vat_rate, delivery_method, pickup_point, city,
    address, customer_name, customer_phone, customer_email, payment_status, comment, ...]
    (or канал, внешний номер, артикул, количество, ...).

    The whole file is checked first (any bad cell and nothing changes); then each new
    order goes through intake as the API takes it. An order Potok has (same channel and
    external id, or an export's order_id) has its lines changed where the file's
    quantities differ (0 takes a line off; a row without line_no for another SKU adds
    one), else is left alone, so the same file twice changes nothing the second time.
    Exits 3 when an order is refused.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from potok.services import order_files, order_imports
    from potok.services.file_imports import FileRejected, open_table

    fmt = _format(file)
    report_format = _format(report) if report is not None else None
    potok = open_potok()
    try:
        with (
            file.open("rb") as handle,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            ) as bar,
        ):
            try:
                table = open_table(handle, fmt, order_files.COLUMNS)
                task = bar.add_task("reading", total=table.total)

                def advance(done: int) -> None:
                    bar.update(task, completed=done)

                rows = order_files.read_orders(table, progress=advance)
                bar.update(task, description="checking", total=None)
                plan = order_imports.plan_orders(cli_uow(potok), rows)
                bar.update(
                    task, description="taking", completed=0, total=len(plan.new) + len(plan.edits)
                )
                done = order_imports.take_orders(
                    cli_uow(potok), plan, cli_actor(), dry_run=dry_run, progress=advance
                )
            except FileRejected as error:
                bar.stop()
                _show_problems(error.problems, report, report_format)
                errors.print(
                    f"nothing taken: {error.context['bad_rows']} bad rows of "
                    f"{error.context['rows']}; fix them and import the file again",
                    highlight=False,
                )
                raise typer.Exit(BAD_FILE_EXIT) from None
    finally:
        potok.close()
    _show_outcomes(done)
    if report is not None and report_format is not None:
        with _replacing(report) as out:
            order_imports.write_outcomes(out, report_format, done)
        console.print(f"each order's outcome is in {report}", highlight=False)
    if done.count(order_imports.Outcome.REFUSED):
        raise typer.Exit(BAD_FILE_EXIT)


def _show_outcomes(done: OrderImport) -> None:
    from rich.table import Table

    from potok.services.order_imports import Outcome

    refused = [o for o in done.outcomes if o.outcome is Outcome.REFUSED]
    if refused:
        table = Table("row", "order", "problem", title=f"{len(refused)} orders refused")
        for outcome in refused[:SHOWN_PROBLEMS]:
            table.add_row(
                str(outcome.row), f"{outcome.channel}/{outcome.external_id}", outcome.problem
            )
        errors.print(table)
    if done.dry_run:
        console.print(
            f"dry run, nothing taken: {done.count(Outcome.WOULD_TAKE)} orders would be taken, "
            f"{done.count(Outcome.WOULD_CHANGE)} changed, {done.count(Outcome.EXISTING)} are "
            f"in Potok as the file says ({done.rows} rows)",
            highlight=False,
        )
        return
    console.print(
        f"{done.count(Outcome.TAKEN)} orders taken, {done.count(Outcome.CHANGED)} changed, "
        f"{done.count(Outcome.EXISTING)} in Potok as the file says, {len(refused)} refused "
        f"({done.rows} rows)",
        highlight=False,
    )


def run_import(
    kind: ImportKind,
    file: Path,
    *,
    skip_bad: bool,
    report: Path | None,
    source: str = "file",
) -> None:
    """Read, check and apply a file with progress bars; list and report bad rows."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from potok.services import catalogue_files, rule_files, stock_files, store_files
    from potok.services.file_imports import FileRejected, open_table, read_rows

    fmt = _format(file)
    report_format = _format(report) if report is not None else None
    potok = open_potok()
    try:
        with (
            file.open("rb") as handle,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            ) as bar,
        ):
            try:
                columns = {
                    ImportKind.STOCK_LEVELS: stock_files.COLUMNS,
                    ImportKind.PRODUCTS: catalogue_files.COLUMNS,
                    ImportKind.STOCK_RULES: rule_files.COLUMNS,
                    ImportKind.STORE_RECEIPTS: store_files.COLUMNS,
                }[kind]
                table = open_table(handle, fmt, columns)
                task = bar.add_task("reading", total=table.total)

                def advance(done: int) -> None:
                    bar.update(task, completed=done)

                if kind is ImportKind.STOCK_LEVELS:
                    levels = stock_files.read_levels(table, progress=advance)
                    bar.update(task, description="applying", total=None)
                    summary, problems = stock_files.apply_levels(
                        cli_uow(potok),
                        levels,
                        cli_actor(),
                        reference=file.name,
                        origin=source,
                        skip_bad=skip_bad,
                    )
                elif kind is ImportKind.PRODUCTS:
                    products = catalogue_files.read_products(table, progress=advance)
                    bar.update(task, description="applying", total=None)
                    summary, problems = catalogue_files.apply_products(
                        cli_uow(potok), products, skip_bad=skip_bad
                    )
                elif kind is ImportKind.STORE_RECEIPTS:
                    receipts = read_rows(
                        table, store_files.COLUMNS, store_files.receipt_row, id, progress=advance
                    )
                    bar.update(task, description="applying", total=None)
                    summary = store_files.apply_receipts(cli_uow(potok), receipts, cli_actor())
                    problems = []
                else:
                    rules = rule_files.read_rules(table, progress=advance)
                    bar.update(task, description="applying", total=None)
                    summary, problems = rule_files.apply_rules(cli_uow(potok), rules, cli_actor())
            except FileRejected as error:
                bar.stop()
                _show_problems(error.problems, report, report_format)
                errors.print(
                    f"nothing imported: {error.context['bad_rows']} bad rows of "
                    f"{error.context['rows']}; fix them"
                    + (" or pass --skip-bad" if error.context["rows"] else ""),
                    highlight=False,
                )
                raise typer.Exit(BAD_FILE_EXIT) from None
    finally:
        potok.close()
    if problems:
        _show_problems(problems, report, report_format)
    _print_summary(summary)
    if problems:
        raise typer.Exit(BAD_FILE_EXIT)


def _print_summary(summary: ImportSummary) -> None:
    console.print(
        f"imported {summary.rows - summary.skipped} of {summary.rows} rows: "
        f"{summary.changed} changed, {summary.created} new, "
        f"{summary.rows - summary.skipped - summary.changed} already right; "
        f"{summary.skipped} bad rows skipped",
        highlight=False,
    )


def _show_problems(
    problems: list[RowProblem], report: Path | None, report_format: FileFormat | None
) -> None:
    from rich.table import Table

    from potok.services.file_imports import write_report

    rows = len({p.row for p in problems})
    table = Table("row", "column", "problem", title=f"{rows} bad rows", title_justify="left")
    for problem in problems[:SHOWN_PROBLEMS]:
        shown = problem.message + (f" ('{problem.value}')" if problem.value else "")
        table.add_row(str(problem.row), problem.column or "", shown)
    errors.print(table)
    if len(problems) > SHOWN_PROBLEMS:
        errors.print(f"… and {len(problems) - SHOWN_PROBLEMS} more", highlight=False)
    if report is not None and report_format is not None:
        with _replacing(report) as out:
            write_report(out, report_format, problems)
        errors.print(f"the problems are in {report}", highlight=False)


@contextmanager
def _replacing(path: Path) -> Iterator[IO[bytes]]:
    """A file written beside its destination and moved over it when complete."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        with temporary.open("wb") as handle:
            yield handle
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


TARGET_FILE = typer.Argument(..., dir_okay=False, help="Where to write: a .csv or .xlsx file.")


@exports.command("stock-levels")
@handles_errors
def export_stock_levels(
    file: Path = TARGET_FILE,
    warehouse: str | None = typer.Option(None, help="Only this location."),
    sku: str | None = typer.Option(None, help="Only this SKU."),
) -> None:
    """Stock positions per warehouse and lot: on hand, reserved, unavailable, available,
    incoming. Edit on_hand and import the file back with `potok files import stock-levels`."""
    from potok.services import file_exports

    fmt = _format(file)

    def write(potok: Any, out: Any, progress: Any) -> int:
        return file_exports.export_stock(
            cli_uow(potok), out, fmt, warehouses=(warehouse,), sku=sku, progress=progress
        )

    _run_export(file, write)


@exports.command("stock-rules")
@handles_errors
def export_stock_rules(
    file: Path = TARGET_FILE,
    warehouse: str | None = typer.Option(None, help="Only this location."),
    sku: str | None = typer.Option(None, help="Only this SKU."),
) -> None:
    """Min/max rules with their positions' figures; edit min, max or safety_stock and import
    the file back with `potok files import stock-rules`."""
    from potok.services import file_exports

    fmt = _format(file)

    def write(potok: Any, out: Any, progress: Any) -> int:
        return file_exports.export_rules(
            cli_uow(potok),
            out,
            fmt,
            warehouses=[warehouse] if warehouse else None,
            sku=sku,
            progress=progress,
        )

    _run_export(file, write)


@exports.command("movements")
@handles_errors
def export_movements(
    file: Path = TARGET_FILE,
    warehouse: str | None = typer.Option(None, help="Only this location."),
    sku: str | None = typer.Option(None, help="Only this SKU."),
    movement_type: str | None = typer.Option(
        None, "--type", help="Only this type: receipt, write_off, count, import, shipment, ..."
    ),
    since: datetime | None = typer.Option(
        None, "--from", help="At or after (UTC unless a zone is given)."
    ),
) -> None:
    """The stock ledger, newest first: every change of on-hand with its reason and author."""
    from potok.services import file_exports

    fmt = _format(file)

    def write(potok: Any, out: Any, progress: Any) -> int:
        return file_exports.export_movements(
            cli_uow(potok),
            out,
            fmt,
            warehouses=(warehouse,),
            sku=sku,
            movement_type=movement_type,
            since=_utc(since),
            progress=progress,
        )

    _run_export(file, write)


@exports.command("orders")
@handles_errors
def export_orders(
    file: Path = TARGET_FILE,
    status: list[str] = typer.Option([], "--status", "-s", help="Repeat for several."),
    channel: list[str] = typer.Option([], "--channel", "-c", help="Repeat for several."),
    warehouse: list[str] = typer.Option([], "--warehouse", "-w", help="Reserved at."),
    payment_status: list[str] = typer.Option([], "--payment-status", help="Repeat for several."),
    since: datetime | None = typer.Option(
        None, "--from", help="Created at or after (UTC unless a zone is given)."
    ),
    until: datetime | None = typer.Option(
        None, "--to", help="Created before (UTC unless a zone is given)."
    ),
    search: str | None = typer.Option(
        None, "--search", "-q", help="Number, external id, phone, e-mail or full name."
    ),
    customer: bool = typer.Option(
        False, "--customer", help="Add the customer's name, phone and e-mail (personal data)."
    ),
) -> None:
    """Orders with their lines, one row per line, with the filters of `potok orders list`."""
    from potok.services import file_exports
    from potok.services.read_models import OrderFilter

    fmt = _format(file)
    flt = OrderFilter(
        statuses=status,
        channels=channel,
        warehouses=warehouse,
        payment_statuses=payment_status,
        created_from=_utc(since),
        created_to=_utc(until),
        text=search,
    )

    def write(potok: Any, out: Any, progress: Any) -> int:
        return file_exports.export_orders(
            cli_uow(potok), out, fmt, flt, customer=customer, progress=progress
        )

    _run_export(file, write)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@exports.command("products")
@handles_errors
def export_products(
    file: Path = TARGET_FILE,
    active: bool | None = typer.Option(
        None, "--active/--inactive", help="Only active (or inactive) products."
    ),
) -> None:
    """The catalogue with barcodes and tracking, in the columns `potok files import products`
    reads."""
    from potok.services import file_exports

    fmt = _format(file)

    def write(potok: Any, out: Any, progress: Any) -> int:
        return file_exports.export_products(
            cli_uow(potok), out, fmt, active=active, progress=progress
        )

    _run_export(file, write)


def _run_export(file: Path, write: Any) -> None:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    potok = open_potok()
    try:
        with (
            Progress(
                SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
            ) as bar,
            _replacing(file) as out,
        ):
            task = bar.add_task("exporting")

            def advance(done: int) -> None:
                bar.update(task, description=f"exporting: {done} rows")

            count = write(potok, out, advance)
    finally:
        potok.close()
    console.print(f"wrote {count} rows to {file}", highlight=False)
