"""``potok returns``: units of shipped orders coming back - asked for, decided, received at
any warehouse, inspected unit by unit, refunded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from potok.cli.common import (
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    handles_errors,
    money,
    open_potok,
    print_listing,
)
from potok.domain.errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from potok.bootstrap import Potok
    from potok.domain.returns import Return
    from potok.services.returns.policy import ReturnPolicy

app = typer.Typer(
    help="Returns (RMA): request, approve or decline, receive, inspect, refund, close.",
    no_args_is_help=True,
)


def _policy(potok: Potok) -> ReturnPolicy:
    from potok.services.returns.policy import ReturnPolicy

    settings = potok.settings.returns
    return ReturnPolicy.of(
        settings.reasons, settings.shipping_refund, settings.shipping_refund_by_channel
    )


def _bad(field: str, index: int, text: str, hint: str) -> InvalidInput:
    return InvalidInput([FieldError(f"{field}[{index}]", f"'{text}': write {hint}", "invalid")])


def _number(field: str, index: int, text: str, hint: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 2**31:
        raise _bad(field, index, text, hint)
    return int(text)


def _print(ret: Return) -> None:
    from rich.table import Table

    table = Table(
        "line",
        "order line",
        "sku",
        "lot",
        "asked",
        "reason",
        "received",
        "restocked",
        "unavailable",
        "written off",
        title=f"{ret.number} · order {ret.order_id} · {ret.status.value} · {ret.source.value}"
        + (f" · at {ret.warehouse}" if ret.warehouse else "")
        + f" · refund {money(ret.refund_amount)} {ret.currency} ({ret.refund_status.value})",
        title_justify="left",
    )
    for line in ret.lines:
        table.add_row(
            str(line.line_no),
            str(line.order_line_no),
            line.sku,
            line.lot or "",
            str(line.quantity),
            line.reason,
            "" if line.received is None else str(line.received),
            str(line.restocked),
            str(line.kept_unavailable),
            str(line.written_off),
        )
    console.print(table)


COLUMNS = [
    Column("number"),
    Column("order_id", "order", right=True),
    Column("status"),
    Column("source"),
    Column("warehouse"),
    Column("units", right=True),
    Column("refund_amount", "refund", right=True),
    Column("refund_status", "refund status"),
    Column("created_at", table=False),
]


@app.command("list")
@handles_errors
def list_returns(
    status: str | None = typer.Option(
        None, help="requested, approved, declined, received, inspected or closed."
    ),
    order: int | None = typer.Option(None, min=1, help="The returns of this order."),
    limit: int = typer.Option(50, min=1, max=500, help="At most this many returns."),
    output: Output = OUTPUT,
) -> None:
    """Returns, newest first."""
    from potok.services.returns import requests

    potok = open_potok()
    try:
        page = requests.list_returns(cli_uow(potok), status=status, order_id=order, limit=limit)
    finally:
        potok.close()
    rows = [
        {
            "number": r.number,
            "order_id": r.order_id,
            "status": r.status.value,
            "source": r.source.value,
            "warehouse": r.warehouse or "",
            "units": r.units,
            "refund_amount": r.refund_amount,
            "refund_status": r.refund_status.value,
            "created_at": r.created_at,
        }
        for r in page.items
    ]
    print_listing(
        rows,
        COLUMNS,
        output,
        more="more returns exist; narrow the filters or raise --limit"
        if page.next_cursor
        else None,
    )


@app.command("show")
@handles_errors
def show_return(number: str) -> None:
    """One return with its lines and refund."""
    from potok.services.returns import requests

    potok = open_potok()
    try:
        _print(requests.get_return(cli_uow(potok), number))
    finally:
        potok.close()


@app.command("reasons")
@handles_errors
def reasons() -> None:
    """The reasons a return line may give (POTOK_RETURNS__REASONS)."""
    potok = open_potok()
    try:
        for reason in _policy(potok).reasons:
            console.print(reason)
    finally:
        potok.close()


@app.command("request")
@handles_errors
def request_return(
    order: int = typer.Argument(..., min=1, help="The order the units come from."),
    lines: list[str] = typer.Argument(
        ..., help="LINE=QTY:REASON per order line, e.g. 1=2:wrong_size."
    ),
    unit: list[str] = typer.Option(
        [], "--unit", help="LINE=CODE: a serial number or marking code coming back (repeat)."
    ),
    comment: str = typer.Option(""),
    approve: bool = typer.Option(False, "--approve", help="Approve it at once."),
) -> None:
    """Ask units of a shipped order back."""
    from potok.services.returns import requests

    units: dict[int, list[str]] = {}
    for index, text in enumerate(unit):
        key, sep, code = text.partition("=")
        if not sep or not code:
            raise _bad("unit", index, text, "LINE=CODE")
        units.setdefault(_number("unit", index, key, "LINE=CODE"), []).append(code)
    asked = []
    for index, text in enumerate(lines):
        key, sep, rest = text.partition("=")
        quantity, colon, reason = rest.partition(":")
        if not sep or not colon or not reason:
            raise _bad("lines", index, text, "LINE=QTY:REASON")
        line_no = _number("lines", index, key, "LINE=QTY:REASON")
        asked.append(
            requests.ReturnLineRequest(
                line_no,
                _number("lines", index, quantity, "LINE=QTY:REASON"),
                reason,
                tuple(units.get(line_no, ())),
            )
        )
    potok = open_potok()
    try:
        ret = requests.request_return(
            cli_uow(potok),
            requests.RequestReturn(order, asked, comment, approve),
            cli_actor(),
            policy=_policy(potok),
        )
        console.print(f"requested {ret.number}")
        _print(ret)
    finally:
        potok.close()


@app.command("approve")
@handles_errors
def approve_return(number: str, note: str | None = typer.Option(None)) -> None:
    """Let the customer send the units back."""
    from potok.services.returns import requests

    potok = open_potok()
    try:
        _print(requests.approve_return(cli_uow(potok), number, cli_actor(), note=note))
    finally:
        potok.close()


@app.command("decline")
@handles_errors
def decline_return(number: str, reason: str = typer.Option(..., help="Why.")) -> None:
    """Refuse a requested return."""
    from potok.services.returns import requests

    potok = open_potok()
    try:
        _print(requests.decline_return(cli_uow(potok), number, cli_actor(), reason=reason))
    finally:
        potok.close()


@app.command("receive")
@handles_errors
def receive_return(
    number: str,
    warehouse: str = typer.Argument(..., help="Where the parcel arrived (any warehouse)."),
    lines: list[str] = typer.Argument(
        None, help="LINE=QTY for lines that arrived short; the others arrived in full."
    ),
) -> None:
    """The parcel arrived: its units enter the warehouse set aside until inspected."""
    from potok.services.returns import handling

    received = {}
    for index, text in enumerate(lines or []):
        key, sep, quantity = text.partition("=")
        if not sep or not quantity.isdigit():
            raise _bad("lines", index, text, "LINE=QTY")
        received[_number("lines", index, key, "LINE=QTY")] = int(quantity)
    potok = open_potok()
    try:
        ret = handling.receive_return(
            cli_uow(potok),
            number,
            warehouse,
            cli_actor(),
            received=received,
            policy=_policy(potok),
        )
        console.print(f"received {ret.number} at {warehouse}")
        _print(ret)
    finally:
        potok.close()


@app.command("inspect")
@handles_errors
def inspect_return(
    number: str,
    decisions: list[str] = typer.Argument(
        ...,
        help="LINE=OUTCOME:QTY with OUTCOME restock, unavailable or write_off, "
        "e.g. 1=restock:1 1=unavailable:1; every received unit once.",
    ),
) -> None:
    """Decide each received unit: sellable again, kept aside, or written off."""
    from potok.domain.returns import Decision, Outcome
    from potok.services.returns import handling

    verdicts = []
    for index, text in enumerate(decisions):
        key, sep, rest = text.partition("=")
        outcome, colon, quantity = rest.partition(":")
        if not sep or not colon or outcome not in {o.value for o in Outcome}:
            raise _bad("decisions", index, text, "LINE=OUTCOME:QTY")
        verdicts.append(
            Decision(
                _number("decisions", index, key, "LINE=OUTCOME:QTY"),
                Outcome(outcome),
                _number("decisions", index, quantity, "LINE=OUTCOME:QTY"),
            )
        )
    potok = open_potok()
    try:
        _print(handling.inspect_return(cli_uow(potok), number, verdicts, cli_actor()))
    finally:
        potok.close()


@app.command("refund")
@handles_errors
def settle_refund(
    number: str,
    status: str = typer.Argument(
        ..., help="paid, failed, or pending (a failed refund owed again: the gateway is asked)."
    ),
    note: str | None = typer.Option(None),
) -> None:
    """The refund was paid (within what the order's payment has left), or failed, or - a
    failed one - is owed again."""
    from potok.domain.returns import RefundStatus
    from potok.services.returns import requests

    if status not in ("paid", "failed", "pending"):
        raise InvalidInput([FieldError("status", "paid, failed or pending", "unknown-status")])
    potok = open_potok()
    try:
        _print(
            requests.settle_refund(
                cli_uow(potok), number, RefundStatus(status), cli_actor(), note=note
            )
        )
    finally:
        potok.close()


@app.command("close")
@handles_errors
def close_return(number: str, note: str | None = typer.Option(None)) -> None:
    """Close an inspected return."""
    from potok.services.returns import requests

    potok = open_potok()
    try:
        _print(requests.close_return(cli_uow(potok), number, cli_actor(), note=note))
    finally:
        potok.close()


@app.command("exchange")
@handles_errors
def exchange_return(
    number: str,
    lines: list[str] = typer.Argument(
        None, help="SKU=QTY the customer gets instead; none: the same SKUs and quantities."
    ),
) -> None:
    """Send a replacement order for an approved return; its worth leaves the refund."""
    from potok.services.returns import exchanges

    wanted = []
    for index, text in enumerate(lines or []):
        sku, sep, quantity = text.rpartition("=")
        if not sep or not sku:
            raise _bad("lines", index, text, "SKU=QTY")
        wanted.append(exchanges.ExchangeLine(sku, _number("lines", index, quantity, "SKU=QTY")))
    potok = open_potok()
    try:
        done = exchanges.exchange_return(cli_uow(potok), number, cli_actor(), lines=wanted)
        console.print(f"replacement order {done.order.id} for {done.ret.number}")
        _print(done.ret)
    finally:
        potok.close()
