"""Fixing a receipt that failed or was registered wrong.

- A receipt the provider refused (or Potok could not send: no settings for its seller) is
  fixed by a **correction receipt** of the same direction and lines (``sell_correction``
  for a sale, ``sell_refund_correction`` for a refund), under the seller's current
  settings - the way 54-ФЗ has a missed receipt printed late - or, when nothing reached
  the register and the cause was Potok's own settings, **sent again** as it is (a new
  external id, so the provider takes it afresh).
- A receipt registered wrong is **reversed** by a correction of the opposite direction with
  the lines it printed; the right one is then printed by a correction of its own.

A correction's basis is the seller's own finding (``self``) or a tax office's order
(``instruction``, with its number), dated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.fiscal import (
    Operation,
    Receipt,
    ReceiptKind,
    ReceiptNotCorrectable,
    ReceiptNotFound,
    ReceiptState,
)
from potok.domain.kernel import Actor, Clock, utc_now
from potok.services.fiscal.desk import FiscalDesk
from potok.services.fiscal.queueing import seller_of
from potok.services.idempotency import Once, atomically_once
from potok.services.unit_of_work import UnitOfWork, atomically

SAME = {
    Operation.SELL: Operation.SELL_CORRECTION,
    Operation.SELL_REFUND: Operation.SELL_REFUND_CORRECTION,
}
OPPOSITE = {
    Operation.SELL: Operation.SELL_REFUND_CORRECTION,
    Operation.SELL_REFUND: Operation.SELL_CORRECTION,
    Operation.SELL_CORRECTION: Operation.SELL_REFUND_CORRECTION,
    Operation.SELL_REFUND_CORRECTION: Operation.SELL_CORRECTION,
}
TYPES = ("self", "instruction")


@dataclass(frozen=True, slots=True)
class CorrectReceipt:
    """Correct receipt ``receipt_id``: on the seller's own finding or an order, dated."""

    receipt_id: int
    type: str = "self"
    basis_on: date | None = None  # the date of the finding or the order; today when None
    basis_number: str | None = None  # the order's number (instruction)
    reverse: bool = False  # undo a receipt that was registered wrong

    def check(self) -> None:
        problems = []
        if self.type not in TYPES:
            problems.append(FieldError("type", "self or instruction", "unknown-type"))
        if self.type == "instruction" and not self.basis_number:
            problems.append(
                FieldError("basis_number", "an order's correction names its number", "required")
            )
        if self.basis_number is not None and not 1 <= len(self.basis_number) <= 32:
            problems.append(FieldError("basis_number", "1 to 32 characters", "out-of-range"))
        if problems:
            raise InvalidInput(problems)


def correct_receipt(
    uow: UnitOfWork,
    desk: FiscalDesk,
    command: CorrectReceipt,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[Receipt] | None = None,
) -> Receipt:
    """Queue the correction receipt; the worker sends it like any other."""
    command.check()

    def work(uow: UnitOfWork) -> Receipt:
        at = clock()
        original = uow.fiscal.get(command.receipt_id, lock=True)
        if original is None:
            raise ReceiptNotFound(receipt=command.receipt_id)
        operation = _operation(original, command.reverse)
        seller = seller_of(uow, desk.rules, original.channel)
        if seller.problem is not None:
            raise ReceiptNotCorrectable(
                receipt=original.id, state=original.state.value, why=seller.problem
            )
        made = sum(
            1 for r in uow.fiscal.of_order(original.order_id) if r.corrects_id == original.id
        )
        basis_on = command.basis_on or at.date()
        correction = Receipt(
            id=None,
            order_id=original.order_id,
            kind=ReceiptKind.CORRECTION,
            operation=operation,
            basis=f"correction:receipt:{original.id}:{made + 1}",
            state=ReceiptState.QUEUED,
            channel=original.channel,
            currency=original.currency,
            payment_type=original.payment_type,
            lines=original.lines,
            created_at=at,
            updated_at=at,
            company=seller.company,
            corrects_id=original.id,
            correction_type=command.type,
            correction_basis_on=basis_on.strftime("%d.%m.%Y"),
            correction_basis_number=command.basis_number,
            shipment_id=original.shipment_id,
            return_number=original.return_number,
        )
        uow.fiscal.add(correction)
        correction.announce(at)
        uow.record(*correction.take_events())
        _note(uow, correction, original, at, str(actor))
        return correction

    return atomically_once(uow, once, work)


def _operation(original: Receipt, reverse: bool) -> Operation:
    state = original.state
    if state is ReceiptState.SKIPPED:
        why = "the marketplace (or another till) prints this order's receipts"
    elif state is ReceiptState.FAILED and not reverse:
        if original.operation in SAME:
            return SAME[original.operation]
        return original.operation  # a correction that failed is corrected as it was
    elif state is ReceiptState.FAILED:
        why = "it was never registered, so there is nothing to reverse"
    elif state is ReceiptState.DONE and reverse:
        return OPPOSITE[original.operation]
    elif state is ReceiptState.DONE:
        why = "it is registered: a correction reverses it (reverse), then prints the right one"
    else:
        why = "it is still with the provider; wait for its result"
    raise ReceiptNotCorrectable(receipt=original.id, state=state.value, why=why)


def resend_receipt(
    uow: UnitOfWork, desk: FiscalDesk, receipt_id: int, actor: Actor, *, clock: Clock = utc_now
) -> Receipt:
    """A failed receipt is queued again as it is (a new external id), under the seller's
    current settings - after the settings were fixed, say."""

    def work(uow: UnitOfWork) -> Receipt:
        at = clock()
        found = uow.fiscal.get(receipt_id, lock=True)
        if found is None:
            raise ReceiptNotFound(receipt=receipt_id)
        if found.state is not ReceiptState.FAILED:
            raise ReceiptNotCorrectable(
                receipt=receipt_id,
                state=found.state.value,
                why="only a failed receipt is sent again",
            )
        seller = seller_of(uow, desk.rules, found.channel)
        if seller.problem is not None:
            raise ReceiptNotCorrectable(
                receipt=receipt_id, state=found.state.value, why=seller.problem
            )
        found.company = seller.company
        found.resend(at)
        uow.fiscal.save(found)
        uow.record(*found.take_events())
        _note(uow, found, None, at, str(actor))
        return found

    return atomically(uow, work)


def _note(
    uow: UnitOfWork, receipt: Receipt, original: Receipt | None, at: datetime, actor: str
) -> None:
    """The order's history says what was done about its receipt."""
    order = uow.orders.get(receipt.order_id, lock=True)
    if order is None:
        return
    if original is None:
        order.note_fiscal(
            at, actor, "receipt_resent", f"receipt {receipt.id} sent again", receipt_id=receipt.id
        )
    else:
        words = (
            f"receipt {original.id} corrected by receipt {receipt.id} ({receipt.operation.value})"
        )
        order.note_fiscal(
            at, actor, "receipt_corrected", words, receipt_id=receipt.id, corrects=original.id
        )
    uow.orders.save(order)
