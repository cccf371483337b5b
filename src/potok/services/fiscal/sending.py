"""Receipts sent to the cash-register provider by the worker, in order, each once.

The worker takes the queued receipts oldest first, a batch at a time: claimed together (a
row lock and a conditional update: still in the state read, its next attempt come), so of
two workers racing over a receipt one sends it; what the provider answered for the batch is
kept in one transaction;
its external id makes a repeat after a lost answer name the same receipt at the provider,
never print a second one. A provider that is down (or answers that it cannot take
receipts now) keeps the receipt queued and is asked again later, each wait twice the last;
the receipts after it on the same account wait for it, so they reach the register in the
order they were queued. A refusal fails the receipt with the provider's reason and raises
an operator alert. A sent receipt's result is read (``report``) until it is done - its
fiscal attributes are kept - or failed; the provider's callback only makes that read
happen sooner (:func:`check_receipt`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from potok.connectors.fiscal.interface import (
    CashRegister,
    Customer,
    FiscalRefused,
    FiscalUnavailable,
    Outcome,
    Progress,
    Refusal,
)
from potok.domain.alerts import AlertKind
from potok.domain.alerts.events import AlertRaised
from potok.domain.fiscal import Receipt, ReceiptNotFound, ReceiptState
from potok.domain.kernel import Clock, utc_now
from potok.services.fiscal.desk import FiscalDesk
from potok.services.unit_of_work import UnitOfWork, atomically, reading

BACKOFF = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=30)
LEASE = timedelta(minutes=5)  # a taken receipt that never reports back is due again then

Uows = Callable[[], UnitOfWork]


def wait_after(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … up to ``LONGEST_WAIT``, after ``attempts`` failed attempts."""
    wait: timedelta = BACKOFF * 2 ** min(max(attempts - 1, 0), 16)
    return min(wait, LONGEST_WAIT)


@dataclass(slots=True)
class FiscalRun:
    """What one run of the worker did."""

    sent: list[int] = field(default_factory=list)  # taken by the provider
    done: list[int] = field(default_factory=list)  # registered: attributes kept
    failed: list[int] = field(default_factory=list)  # refused: an operator acts
    waiting: list[int] = field(default_factory=list)  # the provider is down or still printing
    held: set[str] = field(default_factory=set)  # accounts whose queue waits for its head

    @property
    def busy(self) -> bool:
        return bool(self.sent or self.done or self.failed)


def work_the_queue(uows: Uows, desk: FiscalDesk, *, clock: Clock = utc_now) -> FiscalRun:
    """Send what is queued, then read the results of what was sent."""
    run = FiscalRun()
    if not desk.rules.enabled:
        return run
    send_queued(uows, desk, run, clock=clock)
    read_results(uows, desk, run, clock=clock)
    return run


def send_queued(uows: Uows, desk: FiscalDesk, run: FiscalRun, *, clock: Clock) -> None:
    """The queued receipts whose turn has come, taken in one claim, sent one by one in
    order, what each answered kept in one transaction."""
    now = clock()
    queued = reading(uows(), lambda uow: uow.fiscal.due([ReceiptState.QUEUED], None, desk.batch))
    turn: list[Receipt] = []
    for receipt in queued:
        account = _account(receipt)
        if account in run.held:
            continue  # an earlier receipt of the account waits: this one goes after it
        if receipt.next_attempt_at is not None and receipt.next_attempt_at > now:
            run.held.add(account)  # the head of the account's queue waits for its turn
            continue
        if account not in desk.registers:
            _fail(uows, receipt, Refusal(None, f"no provider account '{account}' is set up"), clock)
            run.failed.append(receipt.id or 0)
            continue
        turn.append(receipt)
    taken = _claim_in_order(uows, turn, now, run)
    if not taken:
        return
    orders = {r.order_id for r in taken}
    customers = reading(uows(), lambda uow: _customers(uow, orders))
    kept: list[tuple[Receipt, str]] = []  # (receipt, the provider's uuid)
    later: list[tuple[Receipt, str]] = []
    refused: list[tuple[Receipt, Refusal]] = []
    put_back: list[int] = []  # taken, but behind one the provider could not take now
    for receipt in taken:
        register = desk.registers[_account(receipt)]
        receipt_id = receipt.id or 0
        if register.name in run.held:
            put_back.append(receipt_id)
            continue
        customer = customers.get(receipt.order_id, Customer(None, None))
        try:
            outcome = register.register(receipt, customer, clock())
        except FiscalUnavailable as down:
            later.append((receipt, str(down.detail)))
            run.held.add(register.name)
            run.waiting.append(receipt_id)
            continue
        except FiscalRefused as error:
            refused.append((receipt, error.refusal))
            run.failed.append(receipt_id)
            continue
        kept.append((receipt, outcome.uuid))
        run.sent.append(receipt_id)

    def keep(uow: UnitOfWork) -> None:
        at = clock()
        for receipt, uuid in kept:
            sent = replace(receipt, events=[])
            sent.sent(uuid, at)
            sent.next_attempt_at = at + timedelta(seconds=desk.poll_after_s)
            uow.fiscal.save_moved(sent, [ReceiptState.QUEUED])  # unless moved meanwhile
        for receipt, why in later:
            uow.fiscal.retry_at(receipt.id or 0, at + wait_after(receipt.attempts), why, at)
        uow.fiscal.release(put_back, at)
        for receipt, refusal in refused:
            _failed(uow, receipt.id or 0, refusal, at)

    atomically(uows(), keep)


def _claim_in_order(
    uows: Uows, turn: list[Receipt], now: datetime, run: FiscalRun
) -> list[Receipt]:
    """Take the receipts in one claim. Of each account, only those before the first one
    another worker holds are kept (they go in order); the rest are let go again."""
    if not turn:
        return []
    claimed = atomically(uows(), lambda uow: uow.fiscal.claim_many(turn, now + LEASE, now))
    taken: list[Receipt] = []
    put_back: list[int] = []
    for receipt in turn:
        account = _account(receipt)
        if receipt.id not in claimed:
            run.held.add(account)  # another worker has it: the rest of the account waits
        elif account in run.held:
            put_back.append(receipt.id or 0)
        else:
            taken.append(receipt)
    if put_back:
        atomically(uows(), lambda uow: uow.fiscal.release(put_back, now))
    return taken


def read_results(uows: Uows, desk: FiscalDesk, run: FiscalRun, *, clock: Clock) -> None:
    """The results of the sent receipts whose look is due, taken in one claim, read one
    by one, kept in one transaction."""
    now = clock()
    sent = reading(
        uows(),
        lambda uow: uow.fiscal.due([ReceiptState.SENT, ReceiptState.WAIT], now, desk.batch),
    )
    turn = [r for r in sent if r.provider_uuid is not None and _account(r) in desk.registers]
    if not turn:
        return
    claimed = atomically(uows(), lambda uow: uow.fiscal.claim_many(turn, now + LEASE, now))
    outcomes: list[tuple[Receipt, Outcome]] = []
    later: list[tuple[Receipt, str]] = []
    for receipt in turn:
        if receipt.id not in claimed:
            continue
        assert receipt.provider_uuid is not None
        try:
            outcome = desk.registers[_account(receipt)].report(receipt.provider_uuid)
        except FiscalUnavailable as down:
            later.append((receipt, str(down.detail)))
            run.waiting.append(receipt.id or 0)
            continue
        outcomes.append((receipt, outcome))
        if outcome.progress is Progress.FAIL:
            run.failed.append(receipt.id or 0)
        else:
            (run.done if outcome.progress is Progress.DONE else run.waiting).append(receipt.id or 0)

    def keep(uow: UnitOfWork) -> None:
        at = clock()
        for receipt, outcome in outcomes:
            _kept(uow, receipt, outcome, at)
        for receipt, why in later:
            uow.fiscal.retry_at(receipt.id or 0, at + wait_after(receipt.attempts), why, at)

    atomically(uows(), keep)


def check_receipt(uows: Uows, desk: FiscalDesk, uuid: str, *, clock: Clock = utc_now) -> Receipt:
    """The provider says a receipt's result is ready (its callback): read it from the
    provider - the callback's body is never taken for the result - and keep it."""
    receipt = reading(uows(), lambda uow: uow.fiscal.get_by_uuid(uuid))
    if receipt is None:
        raise ReceiptNotFound(receipt=uuid)
    if receipt.state in (ReceiptState.SENT, ReceiptState.WAIT) and receipt.company is not None:
        register = desk.registers.get(receipt.company.account)
        if register is not None:
            _read(uows, register, receipt, FiscalRun(), clock)
    found = reading(uows(), lambda uow: uow.fiscal.get(receipt.id or 0))
    assert found is not None
    return found


def _read(
    uows: Uows, register: CashRegister, receipt: Receipt, run: FiscalRun, clock: Clock
) -> None:
    """Read one receipt's result now (the provider's callback said it is ready)."""
    assert receipt.provider_uuid is not None
    try:
        outcome = register.report(receipt.provider_uuid)
    except FiscalUnavailable as down:
        _later(uows, receipt, str(down.detail), clock)
        run.waiting.append(receipt.id or 0)
        return
    atomically(uows(), lambda uow: _kept(uow, receipt, outcome, clock()))


def _kept(uow: UnitOfWork, receipt: Receipt, outcome: Outcome, at: datetime) -> None:
    """What the provider says of a sent receipt (as read), kept: done with its fiscal
    attributes, failed with its reason (operators told), or still waiting (looked at again
    later) - unless it moved meanwhile (a callback and the poll at once)."""
    if outcome.progress is Progress.FAIL:
        _failed(uow, receipt.id or 0, outcome.refusal or Refusal(None, "no reason given"), at)
        return
    if receipt.state not in (ReceiptState.SENT, ReceiptState.WAIT):
        return
    found = replace(receipt, events=[])
    if outcome.progress is Progress.DONE and outcome.attributes is not None:
        found.registered(outcome.attributes, at)
    else:
        found.waiting(at)
        found.next_attempt_at = at + wait_after(found.attempts)
    if uow.fiscal.save_moved(found, [ReceiptState.SENT, ReceiptState.WAIT]):
        uow.record(*found.take_events())


def _later(uows: Uows, receipt: Receipt, why: str, clock: Clock) -> None:
    at = clock()
    later = at + wait_after(receipt.attempts)
    atomically(uows(), lambda uow: uow.fiscal.retry_at(receipt.id or 0, later, why, at))


def _fail(uows: Uows, receipt: Receipt, refusal: Refusal, clock: Clock) -> None:
    atomically(uows(), lambda uow: _failed(uow, receipt.id or 0, refusal, clock()))


def _failed(uow: UnitOfWork, receipt_id: int, refusal: Refusal, at: datetime) -> None:
    found = uow.fiscal.get(receipt_id, lock=True)
    if found is None or found.state in (ReceiptState.DONE, ReceiptState.FAILED):
        return
    found.failed(refusal.text, refusal.code, at)
    uow.fiscal.save(found)
    uow.record(*found.take_events())
    raise_failure_alert(uow, found, at)


def _account(receipt: Receipt) -> str:
    return receipt.company.account if receipt.company is not None else ""


def raise_failure_alert(uow: UnitOfWork, receipt: Receipt, at: datetime) -> None:
    """Operators are told which receipt of which order failed, and the provider's words."""
    code = f" (code {receipt.error_code})" if receipt.error_code is not None else ""
    message = (
        f"fiscal receipt {receipt.id} ({receipt.kind.value}, {receipt.total} "
        f"{receipt.currency}) failed{code}: {receipt.reason}; correct it "
        f"(potok receipts correct {receipt.id}) or send it again once fixed"
    )[:2000]
    alert = uow.alerts.add(AlertKind.FISCAL_RECEIPT_FAILED, receipt.order_id, message, at)
    uow.record(
        AlertRaised(
            occurred_at=at,
            alert_id=alert.id,
            kind=alert.kind.value,
            order_id=receipt.order_id,
            message=message,
        )
    )


def _customers(uow: UnitOfWork, order_ids: set[int]) -> dict[int, Customer]:
    """Where the provider sends each order's customer their copy."""
    return {
        order.id or 0: Customer(order.contact.email or None, order.contact.phone or None)
        for order in uow.orders.get_many(sorted(order_ids))
    }
