"""Cash on delivery remitted by carriers, per registry and parcel."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from potok.db.tables import cod_remittances
from potok.services.cod_remittance_ports import RemittedParcel

T = cod_remittances.c


class CodRemittanceRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def known(self, carrier: str, registry_number: str, tracking_number: str) -> bool:
        return (
            self.connection.execute(
                sa.select(T.id).where(
                    T.carrier == carrier,
                    T.registry_number == registry_number,
                    T.tracking_number == tracking_number,
                )
            ).first()
            is not None
        )

    def add(self, parcel: RemittedParcel) -> None:
        self.connection.execute(
            sa.insert(cod_remittances).values(
                carrier=parcel.carrier,
                registry_number=parcel.registry_number,
                tracking_number=parcel.tracking_number,
                shipment_id=parcel.shipment_id,
                order_id=parcel.order_id,
                expected=parcel.expected,
                collected=parcel.collected,
                commission=parcel.commission,
                transferred=parcel.transferred,
                paid_on=parcel.paid_on,
                payment_order=parcel.payment_order,
                read_at=parcel.read_at,
            )
        )

    def for_order(self, order_id: int) -> list[RemittedParcel]:
        rows = self.connection.execute(
            sa.select(cod_remittances).where(T.order_id == order_id).order_by(T.id)
        )
        return [_parcel(r) for r in rows]


def _parcel(row: Any) -> RemittedParcel:
    return RemittedParcel(
        carrier=row.carrier,
        registry_number=row.registry_number,
        tracking_number=row.tracking_number,
        shipment_id=row.shipment_id,
        order_id=row.order_id,
        expected=row.expected,
        collected=row.collected,
        commission=row.commission,
        transferred=row.transferred,
        paid_on=row.paid_on,
        payment_order=row.payment_order,
        read_at=row.read_at,
    )
