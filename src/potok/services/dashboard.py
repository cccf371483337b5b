"""The operator's first screen: today's orders by status and channel, what needs action now,
open alerts and stock below its minimum - read in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from potok.domain.alerts import Alert, AlertState
from potok.domain.fulfilment import Shipment, ShipmentStatus
from potok.services.overdue_thresholds import thresholds_in
from potok.services.read_models import OrderCount, OrderFilter
from potok.services.replenishment import Suggestion, suggestion_for
from potok.services.unit_of_work import UnitOfWork, reading

NEEDS_ACTION = ("new", "on_hold", "backordered")
"""Statuses an operator has to move on: confirm by hand, release or settle, find stock."""


@dataclass(frozen=True, slots=True)
class Dashboard:
    today: list[OrderCount]  # orders created since the start of the day, by status and channel
    waiting: dict[str, int]  # orders of any day in the statuses of NEEDS_ACTION
    alerts: list[Alert]
    alerts_more: bool
    below_minimum: list[Suggestion]
    below_minimum_more: bool
    failed_deliveries: list[Shipment]  # shipments the carrier could not deliver, newest first
    failed_deliveries_more: bool
    overdue: list[Shipment]  # stuck in a stage past its threshold, oldest first
    overdue_more: bool


def dashboard(
    uow: UnitOfWork,
    flt: OrderFilter,
    *,
    since: datetime,
    warehouses: Sequence[str] | None = None,
    channel: str | None = None,
    limit: int = 10,
    now: datetime | None = None,
) -> Dashboard:
    """The figures for orders the filter lets through (the caller's scope), stock rules and
    failed deliveries at ``warehouses`` (None: every warehouse) and of ``channel``."""

    def work(uow: UnitOfWork) -> Dashboard:
        today = uow.queries.count_orders(replace(flt, created_from=since))
        waiting = dict.fromkeys(NEEDS_ACTION, 0)
        for row in uow.queries.count_orders(replace(flt, statuses=NEEDS_ACTION)):
            waiting[row.status] += row.count
        alerts, alerts_cursor = uow.alerts.list_page(
            state=AlertState.OPEN,
            order_id=None,
            cursor=None,
            limit=limit,
            within=flt if flt.channels or flt.warehouses else None,
        )
        rules = uow.stock_rules.page(
            warehouses=warehouses,
            sku=None,
            only_below=True,
            with_backorders=True,
            cursor=None,
            limit=limit,
        )
        failed = uow.shipments.list_page(
            warehouses_in=warehouses,
            statuses=[ShipmentStatus.FAILED_DELIVERY.value],
            order_id=None,
            channel=channel,
            wave=None,
            cursor=None,
            limit=limit,
        )
        moment = now or datetime.now(UTC)
        stuck: list[Shipment] = []
        stuck_more = False
        for threshold in thresholds_in(uow):  # each stage with its own threshold
            page = uow.shipments.list_page(
                warehouses_in=warehouses,
                statuses=[threshold.stage.value],
                order_id=None,
                channel=channel,
                wave=None,
                cursor=None,
                limit=limit,
                unchanged_since=moment - threshold.after,
            )
            stuck.extend(page.items)
            stuck_more = stuck_more or page.next_cursor is not None
        stuck.sort(key=lambda s: s.updated_at, reverse=True)  # the newest ``limit``, as before
        stuck_more = stuck_more or len(stuck) > limit
        del stuck[limit:]
        return Dashboard(
            today=today,
            waiting=waiting,
            alerts=alerts,
            alerts_more=alerts_cursor is not None,
            below_minimum=[suggestion_for(state) for state in rules.items],
            below_minimum_more=rules.next_cursor is not None,
            failed_deliveries=list(failed.items),
            failed_deliveries_more=failed.next_cursor is not None,
            overdue=sorted(stuck, key=lambda s: s.updated_at),
            overdue_more=stuck_more,
        )

    return reading(uow, work)
