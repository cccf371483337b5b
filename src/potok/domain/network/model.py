"""Warehouses, stores and pickup points: places that keep stock or hand parcels over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from potok.domain.errors import Conflict, InvalidInput, NotFound
from potok.domain.kernel import RemovalStrategy, WarehouseId
from potok.domain.validation import Problems

MAX_RESERVATION_HOURS = 24 * 90


class WarehouseType(StrEnum):
    """What a location is: a warehouse ships, a store sells and ships, a pickup point hands over."""

    WAREHOUSE = "warehouse"
    STORE = "store"
    PICKUP_POINT = "pickup_point"


class WarehouseNotFound(NotFound):
    code = "warehouse-not-found"
    title = "Warehouse not found"
    template = "There is no warehouse, store or pickup point with code '{warehouse}'."


class WarehouseCodeTaken(Conflict):
    code = "warehouse-code-taken"
    title = "The warehouse code already exists"
    template = "A warehouse with code '{warehouse}' already exists."


class WarehouseInUse(Conflict):
    code = "warehouse-in-use"
    title = "The warehouse is in use"
    template = "Warehouse '{warehouse}' {why}; deactivate it instead of deleting it."


@dataclass(frozen=True, slots=True)
class WarehouseDraft:
    """What a caller gives to create or replace a location; checked by :meth:`validate`."""

    code: str
    name: str
    type: WarehouseType
    city: str
    latitude: float
    longitude: float
    address: str = ""
    priority: int = 0
    active: bool = True
    channels: tuple[str, ...] = ()
    removal_strategy: RemovalStrategy = RemovalStrategy.FEFO
    region: str | None = None  # "Москва", "Свердловская область": region tariffs and rules
    reservation_hours: int | None = None  # a store must pick within so many hours, else re-sourced

    def validate(self) -> None:
        problems = Problems()
        problems.code("code", self.code)
        problems.text("name", self.name)
        problems.text("city", self.city, max_length=120)
        if self.region is not None:
            problems.text("region", self.region, max_length=120)
        if self.reservation_hours is not None and not (
            1 <= self.reservation_hours <= MAX_RESERVATION_HOURS
        ):
            problems.add(
                "reservation_hours",
                f"must be between 1 and {MAX_RESERVATION_HOURS} hours",
                "out-of-range",
            )
        problems.text("address", self.address, max_length=500, required=False)
        problems.coordinates("", self.latitude, self.longitude)
        if not -1000 <= self.priority <= 1000:
            problems.add("priority", "must be between -1000 and 1000", "out-of-range")
        if len(set(self.channels)) != len(self.channels):
            problems.add("channels", "lists a channel twice", "duplicate")
        if problems:
            raise InvalidInput(problems.errors)


@dataclass(frozen=True, slots=True)
class Warehouse:
    """A location in the network with its coordinates, priority and the channels it serves."""

    id: WarehouseId
    code: str
    name: str
    type: WarehouseType
    city: str
    address: str
    latitude: float
    longitude: float
    priority: int
    active: bool
    channels: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    removal_strategy: RemovalStrategy = RemovalStrategy.FEFO  # for products without their own
    region: str | None = None
    reservation_hours: int | None = None

    @property
    def hands_over_to_customers(self) -> bool:
        """Stores and pickup points can be chosen as an order's pickup point."""
        return self.type in (WarehouseType.STORE, WarehouseType.PICKUP_POINT)
