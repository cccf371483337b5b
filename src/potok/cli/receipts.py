"""``potok receipts``: fiscal receipts (54-ФЗ) of orders - listed, shown with their lines
and fiscal attributes."""

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

if TYPE_CHECKING:
    from potok.domain.fiscal import Receipt

app = typer.Typer(
    help="Fiscal receipts (54-ФЗ): sale, settlement, refund and correction receipts of orders.",
    no_args_is_help=True,
)

COLUMNS = [
    Column("id", right=True),
    Column("order_id", "order", right=True),
    Column("kind"),
    Column("operation", table=False),
    Column("state"),
    Column("total", right=True),
    Column("currency", table=False),
    Column("account"),
    Column("fn_number", "ФН"),
    Column("fiscal_document_number", "ФД", right=True),
    Column("fiscal_document_attribute", "ФПД", right=True),
    Column("registered_at", "registered"),
    Column("reason"),
    Column("created_at", table=False),
]


def _row(r: Receipt) -> dict[str, object]:
    a = r.attributes
    return {
        "id": r.id,
        "order_id": r.order_id,
        "kind": r.kind.value,
        "operation": r.operation.value,
        "state": r.state.value,
        "total": r.total,
        "currency": r.currency,
        "account": r.company.account if r.company else "",
        "fn_number": a.fn_number if a else "",
        "fiscal_document_number": a.fiscal_document_number if a else None,
        "fiscal_document_attribute": a.fiscal_document_attribute if a else None,
        "registered_at": a.registered_at if a else None,
        "reason": r.reason or "",
        "created_at": r.created_at,
    }


@app.command("list")
@handles_errors
def list_receipts(
    state: str | None = typer.Option(None, help="queued, sent, wait, done, failed or skipped."),
    kind: str | None = typer.Option(None, help="sale, settlement, refund or correction."),
    order: int | None = typer.Option(None, min=1, help="The receipts of this order."),
    channel: str | None = typer.Option(None, help="Of orders of this channel (its code)."),
    account: str | None = typer.Option(None, help="Printed through this provider account."),
    limit: int = typer.Option(50, min=1, max=500, help="At most this many receipts."),
    output: Output = OUTPUT,
) -> None:
    """Fiscal receipts, newest first."""
    from potok.services.fiscal import reading
    from potok.services.fiscal_ports import ReceiptFilter

    where = ReceiptFilter(state=state, kind=kind, order_id=order, channel=channel, account=account)
    potok = open_potok()
    try:
        page = reading.list_receipts(cli_uow(potok), where, cursor=None, limit=limit)
    finally:
        potok.close()
    print_listing(
        [_row(r) for r in page.items],
        COLUMNS,
        output,
        empty="no receipts",
        more="more receipts exist; narrow the filters or raise --limit"
        if page.next_cursor
        else None,
    )


@app.command("show")
@handles_errors
def show_receipt(
    receipt: int = typer.Argument(..., min=1, max=2**63 - 1, help="The receipt's id."),
) -> None:
    """One receipt with its lines and fiscal attributes."""
    from potok.services.fiscal import reading

    potok = open_potok()
    try:
        found = reading.get_receipt(cli_uow(potok), receipt)
    finally:
        potok.close()
    _print(found)


def _print(r: Receipt) -> None:
    from rich.table import Table

    company = r.company
    console.print(
        f"receipt {r.id} · order {r.order_id} · {r.kind.value} ({r.operation.value}) · "
        f"{r.state.value} · {money(r.total)} {r.currency} · paid {r.payment_type.value}"
    )
    console.print(f"basis: {r.basis}")
    if company is not None:
        console.print(
            f"seller: {company.legal_entity} (ИНН {company.inn}, {company.taxation.value}) "
            f"through {company.account} · {company.payment_address}"
        )
    if r.reason:
        console.print(f"reason: {r.reason}" + (f" (code {r.error_code})" if r.error_code else ""))
    if r.provider_uuid:
        console.print(f"provider uuid: {r.provider_uuid} · external id: {r.external_id}")
    a = r.attributes
    if a is not None:
        console.print(
            f"ФН {a.fn_number} · ФД {a.fiscal_document_number} · ФПД "
            f"{a.fiscal_document_attribute} · {a.registered_at.isoformat()} · РН ККТ "
            f"{a.register_number} · receipt {a.fiscal_receipt_number}, shift {a.shift_number}"
        )
    if r.corrects_id is not None:
        console.print(f"corrects receipt {r.corrects_id} ({r.correction_type})")
    table = Table("name", "price", "qty", "amount", "VAT", "method", "object", "marking code")
    for line in r.lines:
        table.add_row(
            line.name,
            money(line.price),
            str(line.quantity),
            money(line.amount),
            line.vat.value,
            line.payment_method.value,
            line.payment_object.value,
            (line.mark_code or "")[:31],
        )
    console.print(table)


@app.command("correct")
@handles_errors
def correct_receipt(
    receipt: int = typer.Argument(..., min=1, max=2**63 - 1, help="The receipt to correct."),
    type_: str = typer.Option(
        "self", "--type", help="self (the seller's own finding) or instruction (an order)."
    ),
    basis_date: str | None = typer.Option(
        None, help="The date of the finding or the order, YYYY-MM-DD (default: today)."
    ),
    basis_number: str | None = typer.Option(None, help="The order's number."),
    reverse: bool = typer.Option(False, "--reverse", help="Undo a receipt registered wrong."),
) -> None:
    """Queue a correction receipt for a failed receipt (or undo a wrong one, --reverse)."""
    from datetime import date

    from potok.domain.errors import FieldError, InvalidInput
    from potok.services.fiscal.corrections import CorrectReceipt
    from potok.services.fiscal.corrections import correct_receipt as correct

    basis_on = None
    if basis_date is not None:
        try:
            basis_on = date.fromisoformat(basis_date)
        except ValueError:
            raise InvalidInput(
                [FieldError("basis_date", f"'{basis_date}': write YYYY-MM-DD", "invalid")]
            ) from None
    command = CorrectReceipt(
        receipt, type=type_, basis_on=basis_on, basis_number=basis_number, reverse=reverse
    )
    potok = open_potok()
    try:
        made = correct(cli_uow(potok), potok.fiscal, command, cli_actor())
    finally:
        potok.close()
    console.print(
        f"receipt {made.id} ({made.operation.value}, {money(made.total)} {made.currency}) "
        f"queued: corrects receipt {receipt}"
    )


@app.command("resend")
@handles_errors
def resend_receipt(
    receipt: int = typer.Argument(..., min=1, max=2**63 - 1, help="The failed receipt."),
) -> None:
    """Send a failed receipt again as it is (once its seller's settings are fixed)."""
    from potok.services.fiscal.corrections import resend_receipt as resend

    potok = open_potok()
    try:
        again = resend(cli_uow(potok), potok.fiscal, receipt, cli_actor())
    finally:
        potok.close()
    console.print(f"receipt {again.id} queued again as {again.external_id}")
