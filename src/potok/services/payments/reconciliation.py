"""The reconciliation report: every order paid or refunded in a period, against its gateway
records and its fiscal receipts, with the differences listed (``domain/payments/
reconciliation.py`` says what counts as one)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from potok.domain.analytics import Period
from potok.domain.payments.reconciliation import OrderFacts, ReceiptFacts, Reconciled, reconcile
from potok.services.unit_of_work import UnitOfWork, reading

ReceiptReader = Callable[[UnitOfWork, Sequence[int]], dict[int, ReceiptFacts]]
"""The fiscal receipts of these orders, summed per order (absent: the order has none)."""


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    since: date
    until: date
    receipts_checked: bool  # whether fiscal receipts were set against the payments
    rows: list[Reconciled]

    @property
    def with_differences(self) -> list[Reconciled]:
        return [r for r in self.rows if r.differences]


def receipts_reader(prints_receipts: bool) -> ReceiptReader | None:
    """How to read the orders' fiscal receipts, when this installation prints them
    (``fiscal.enabled``); None otherwise - the report then says receipts were not checked."""
    if not prints_receipts:
        return None
    return lambda uow, order_ids: uow.payments.receipt_facts(order_ids)


def reconciliation_report(
    uow: UnitOfWork,
    since: date,
    until: date,
    *,
    receipts: ReceiptReader | None = None,
    only_differences: bool = False,
) -> ReconciliationReport:
    """The orders paid or refunded from ``since`` to ``until`` (UTC days, both included)."""
    period = Period(since, until)
    start = datetime.combine(period.since, time(), UTC)
    end = datetime.combine(period.until + timedelta(days=1), time(), UTC)

    def work(uow: UnitOfWork) -> list[Reconciled]:
        facts = uow.payments.reconciliation(start, end)
        if receipts is not None:
            printed = receipts(uow, [f.order_id for f in facts])
            facts = [_with_receipts(f, printed.get(f.order_id)) for f in facts]
        return [reconcile(f) for f in facts]

    rows = reading(uow, work)
    if only_differences:
        rows = [r for r in rows if r.differences]
    return ReconciliationReport(period.since, period.until, receipts is not None, rows)


def _with_receipts(facts: OrderFacts, found: ReceiptFacts | None) -> OrderFacts:
    return replace(facts, receipts=found or ReceiptFacts())


COLUMNS = (
    "order_id",
    "channel",
    "payment_status",
    "paid",
    "refunded",
    "currency",
    "gateway_status",
    "gateway_captured",
    "gateway_refunded",
    "receipts_sold",
    "receipts_refunded",
    "differences",
    "details",
)


def flat(row: Reconciled) -> dict[str, object]:
    """One order's line as plain values (the CSV's and the CLI's columns)."""
    facts, gateway, receipts = row.facts, row.facts.gateway, row.facts.receipts
    return {
        "order_id": facts.order_id,
        "channel": facts.channel,
        "payment_status": facts.payment_status,
        "paid": row.paid,
        "refunded": row.refunded,
        "currency": facts.currency,
        "gateway_status": gateway.status if gateway else "",
        "gateway_captured": gateway.captured if gateway else "",
        "gateway_refunded": gateway.refunded if gateway else "",
        "receipts_sold": receipts.sold if receipts else "",
        "receipts_refunded": sum(receipts.refunded.values()) if receipts else "",
        "differences": " ".join(d.code.value for d in row.differences),
        "details": "; ".join(d.detail for d in row.differences),
    }


def as_csv(report: ReconciliationReport) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        writer.writerow({k: str(v) for k, v in flat(row).items()})
    return buffer.getvalue()
