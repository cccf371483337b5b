"""``potok payments``: connect an own-shop channel to its ЮKassa shop, list and show the
gateway payments, and capture, cancel or read back one by hand. Services and adapters are
imported when a command runs, so that ``potok --help`` stays quick."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
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
    open_potok,
    print_listing,
)

if TYPE_CHECKING:
    from potok.bootstrap import Potok
    from potok.domain.payments import GatewayPayment
    from potok.services.outside import Outside

app = typer.Typer(
    help="Card payments through a gateway (ЮKassa) for own-shop channels: connect a channel, "
    "list, show, capture, cancel or read back a payment.",
    no_args_is_help=True,
)

COLUMNS = [
    Column("order_id", "order", right=True),
    Column("channel"),
    Column("status"),
    Column("amount", right=True),
    Column("captured", right=True),
    Column("refunded", right=True),
    Column("currency"),
    Column("gateway_payment_id", "gateway id"),
    Column("last_error", "last error"),
]


def _row(payment: GatewayPayment) -> dict[str, object]:
    return {
        "order_id": payment.order_id,
        "channel": payment.channel_code,
        "status": payment.status.value,
        "amount": payment.amount,
        "captured": payment.captured_amount,
        "refunded": payment.refunded_amount,
        "currency": payment.currency,
        "gateway_payment_id": payment.gateway_id,
        "last_error": payment.last_error or "",
    }


def _outside(potok: Potok) -> Outside:
    from potok.services.outside import Outside

    return Outside(lambda: cli_uow(potok), potok.carriers, gateways=potok.gateways)


@app.command()
@handles_errors
def connect(
    channel: str = typer.Argument(..., help="the own-shop channel's code"),
    shop_id: str = typer.Option(..., "--shop-id", help="the shop id ЮKassa shows"),
    return_url: str = typer.Option(..., "--return-url", help="where customers return after paying"),
    secret_key: str = typer.Option(
        "",
        "--secret-key",
        envvar="POTOK_YOOKASSA_SECRET_KEY",
        help="the shop's secret key (or POTOK_YOOKASSA_SECRET_KEY; empty keeps the stored one)",
    ),
    inactive: bool = typer.Option(False, "--inactive", help="keep it, but take no payments"),
) -> None:
    """Connect a channel to its ЮKassa shop (or change the account): its new orders get a
    two-stage payment. Marketplace channels are refused. The key is stored sealed."""
    from potok.domain.payments.accounts import AccountDraft
    from potok.services.payments.accounts import connect_channel

    potok = open_potok()
    try:
        draft = AccountDraft(channel, shop_id, secret_key, return_url, active=not inactive)
        account = connect_channel(cli_uow(potok), draft, cli_actor())
    finally:
        potok.close()
    state = "takes" if account.active else "is connected but takes no"
    console.print(f"channel {account.channel_code} {state} payments through shop {account.shop_id}")


@app.command("list")
@handles_errors
def list_payments(
    status: str | None = typer.Option(
        None, "--status", help="pending, waiting_for_capture, succeeded or canceled"
    ),
    limit: int = typer.Option(50, "--limit", min=1, max=500),
    output: Output = OUTPUT,
) -> None:
    """Gateway payments, newest first."""
    from potok.services.payments.reads import list_payments as read

    potok = open_potok()
    try:
        page = read(cli_uow(potok), status=status, limit=limit)
    finally:
        potok.close()
    print_listing(
        [_row(p) for p in page.items],
        COLUMNS,
        output,
        empty="No gateway payments.",
        more="more: narrow with --status or raise --limit" if page.next_cursor else None,
    )


@app.command()
@handles_errors
def show(order_id: int = typer.Argument(..., min=1), output: Output = OUTPUT) -> None:
    """An order's gateway payment and its refunds."""
    from potok.services.payments.reads import payment_of_order

    potok = open_potok()
    try:
        payment = payment_of_order(cli_uow(potok), order_id)
    finally:
        potok.close()
    _print(payment, output)


def _print(payment: GatewayPayment, output: Output) -> None:
    print_listing([_row(payment)], COLUMNS, output)
    if output is Output.TABLE:
        if payment.confirmation_url and payment.status.value == "pending":
            console.print(f"the customer pays at {payment.confirmation_url}")
        for refund in payment.refunds:
            console.print(
                f"refund for return {refund.return_number}: {refund.amount} "
                f"{payment.currency}, {refund.status.value}"
                + (f" ({refund.last_error})" if refund.last_error else "")
            )


@app.command()
@handles_errors
def capture(
    order_id: int = typer.Argument(..., min=1),
    amount: str | None = typer.Option(
        None, "--amount", help="less than the order owes (default: what it owes)"
    ),
    output: Output = OUTPUT,
) -> None:
    """Capture an authorised payment now (after a capture at hand-over failed)."""
    from potok.domain.errors import FieldError, InvalidInput
    from potok.services.payments.actions import capture_payment

    wanted = None
    if amount is not None:
        try:
            wanted = Decimal(amount)
        except InvalidOperation:
            wanted = None
        if wanted is None or wanted <= 0 or wanted != wanted.quantize(Decimal("0.01")):
            raise InvalidInput([FieldError("amount", "roubles and kopecks, e.g. 1490.50")])
    potok = open_potok()
    try:
        payment = capture_payment(_outside(potok), order_id, cli_actor(), amount=wanted)
    finally:
        potok.close()
    _print(payment, output)


@app.command()
@handles_errors
def cancel(order_id: int = typer.Argument(..., min=1), output: Output = OUTPUT) -> None:
    """Let an authorised payment go now (the customer's money is released)."""
    from potok.services.payments.actions import cancel_payment

    potok = open_potok()
    try:
        payment = cancel_payment(_outside(potok), order_id, cli_actor())
    finally:
        potok.close()
    _print(payment, output)


@app.command()
@handles_errors
def check(order_id: int = typer.Argument(..., min=1), output: Output = OUTPUT) -> None:
    """Read the payment and its pending refunds back from the gateway and apply what moved."""
    from potok.services.payments.actions import check_payment
    from potok.services.payments.reads import payment_of_order

    potok = open_potok()
    try:
        changed = check_payment(_outside(potok), order_id, cli_actor())
        payment = payment_of_order(cli_uow(potok), order_id)
    finally:
        potok.close()
    _print(payment, output)
    if output is Output.TABLE:
        console.print("moved since Potok last knew" if changed else "nothing moved")
