"""The operator's first screen: today's orders by status and channel, what needs action now,
open alerts and stock below its minimum - read in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from potok.domain.alerts import Alert, AlertState
from potok.domain.fulfilment import Shipment, ShipmentStatus
from potok.domain.fulfilment.overdue import WAREHOUSE_STAGES, Threshold
from potok.domain.orders import NEEDS_ACTION as WAITING
from potok.services.overdue_thresholds import thresholds_in
from potok.services.read_models import OrderCount, OrderFilter
from potok.services.replenishment import Suggestion, suggestion_for
from potok.services.unit_of_work import UnitOfWork, reading

NEEDS_ACTION = tuple(status.value for status in WAITING)
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
    late_with_carrier: list[Shipment]  # handed over and stuck in a later stage, oldest first
    late_with_carrier_more: bool


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
        in_force = thresholds_in(uow)
        overdue, overdue_more = _stuck(
            uow,
            [t for t in in_force if t.stage in WAREHOUSE_STAGES],
            moment,
            warehouses=warehouses,
            channel=channel,
            limit=limit,
        )
        late, late_more = _stuck(
            uow,
            [t for t in in_force if t.stage not in WAREHOUSE_STAGES],
            moment,
            warehouses=warehouses,
            channel=channel,
            limit=limit,
        )
        return Dashboard(
            today=today,
            waiting=waiting,
            alerts=alerts,
            alerts_more=alerts_cursor is not None,
            below_minimum=[suggestion_for(state) for state in rules.items],
            below_minimum_more=rules.next_cursor is not None,
            failed_deliveries=list(failed.items),
            failed_deliveries_more=failed.next_cursor is not None,
            overdue=overdue,
            overdue_more=overdue_more,
            late_with_carrier=late,
            late_with_carrier_more=late_more,
        )

    return reading(uow, work)


def _stuck(
    uow: UnitOfWork,
    thresholds: Sequence[Threshold],
    moment: datetime,
    *,
    warehouses: Sequence[str] | None,
    channel: str | None,
    limit: int,
) -> tuple[list[Shipment], bool]:
    """Shipments unchanged in one of these stages for longer than the stage's threshold: the
    newest ``limit`` of them, shown oldest first, and whether there are more."""
    stuck: list[Shipment] = []
    more = False
    for threshold in thresholds:  # each stage with its own threshold
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
        more = more or page.next_cursor is not None
    stuck.sort(key=lambda s: s.updated_at, reverse=True)  # the newest ``limit``, as before
    more = more or len(stuck) > limit
    del stuck[limit:]
    return sorted(stuck, key=lambda s: s.updated_at), more
