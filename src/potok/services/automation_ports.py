"""What the automation use cases need from storage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from potok.domain.automation.model import CheckedRule, Firing, Rule


@dataclass(frozen=True, slots=True)
class RuleVersion:
    rule_id: int
    version: int
    body: dict[str, Any]
    saved_at: datetime
    saved_by: str


@dataclass(frozen=True, slots=True)
class OrderContext:
    """What a condition may ask about an order beyond the order itself."""

    customer_orders: int  # orders of the same customer, the order included
    customer_returns: int
    tags: frozenset[str]
    queues: frozenset[str]  # queues holding an unfinished task of the order
    categories: frozenset[str] = frozenset()  # of its products, with those above them


class AutomationStore(Protocol):
    def active_rules(self) -> dict[str, tuple[Rule, ...]]: ...
    def firings_of(
        self, order_ids: Iterable[int], event_ids: Iterable[str], times: Iterable[datetime]
    ) -> tuple[set[tuple[int, str]], dict[tuple[int, datetime], list[Firing]]]: ...
    def add_firings(self, firings: Iterable[Firing]) -> None: ...
    def contexts(self, order_ids: Iterable[int]) -> dict[int, OrderContext]: ...
    def all_rules(self) -> list[Rule]: ...
    def get(self, rule_id: int, *, lock: bool = False) -> Rule | None: ...
    def add(self, rule: CheckedRule, at: datetime, actor: str) -> Rule: ...
    def save(self, rule: Rule, at: datetime, actor: str) -> None: ...
    def versions(self, rule_id: int) -> list[RuleVersion]: ...
    def due_schedules(self, now: datetime) -> list[tuple[Rule, datetime | None]]: ...
    def claim_schedule(
        self, rule_id: int, version: int, due: datetime | None, next_run_at: datetime
    ) -> bool: ...
    def open_order_ids(self, *, after: int, limit: int, closed: Iterable[str]) -> list[int]: ...
    def firings_for_order(self, order_id: int) -> list[Firing]: ...
    def retag(self, tags: Mapping[int, tuple[Set[str], Set[str]]], at: datetime) -> None: ...
    def order_ids(
        self, *, since: datetime | None, until: datetime | None, limit: int
    ) -> list[int]: ...
