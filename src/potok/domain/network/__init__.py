"""The network: warehouses, stores and pickup points, where they are and whom they serve."""

from potok.domain.network.model import (
    Warehouse,
    WarehouseDraft,
    WarehouseNotFound,
    WarehouseType,
)

__all__ = ["Warehouse", "WarehouseDraft", "WarehouseNotFound", "WarehouseType"]
