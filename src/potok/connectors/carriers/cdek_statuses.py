"""СДЭК's order statuses (its «Приложение 1») in Potok's shipment words.

A direct order's statuses move the shipment to the customer; the statuses of the return
order СДЭК opens when the customer does not take the parcel (``is_return``) bring it back.
Statuses Potok need not act on before the parcel leaves (accepted, created, removed,
invalid) are none of tracking's business: they map to ``None``.
"""

from __future__ import annotations

from potok.connectors.carriers.interface import TrackingStatus

T = TrackingStatus

WORDS: dict[str, str] = {
    "ACCEPTED": "Принят",
    "CREATED": "Создан",
    "REMOVED": "Удален",
    "RECEIVED_AT_SHIPMENT_WAREHOUSE": "Принят на склад отправителя",
    "DELIVERED": "Вручен",
    "NOT_DELIVERED": "Не вручен",
    "READY_FOR_SHIPMENT_IN_SENDER_CITY": "Готов к отправке в городе-отправителе",
    "TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY": "Сдан перевозчику в городе-отправителе",
    "SENT_TO_RECIPIENT_CITY": "Отправлен в город-получатель",
    "ACCEPTED_IN_RECIPIENT_CITY": "Встречен в городе-получателе",
    "ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE": "Принят на склад доставки",
    "TAKEN_BY_COURIER": "Выдан на доставку",
    "ACCEPTED_AT_PICK_UP_POINT": "Принят на склад до востребования",
    "ACCEPTED_AT_TRANSIT_WAREHOUSE": "Принят на склад транзита",
    "RETURNED_TO_SENDER_CITY_WAREHOUSE": "Возвращен на склад отправителя",
    "RETURNED_TO_TRANSIT_WAREHOUSE": "Возвращен на склад транзита",
    "RETURNED_TO_RECIPIENT_CITY_WAREHOUSE": "Возвращен на склад доставки",
    "READY_FOR_SHIPMENT_IN_TRANSIT_CITY": "Выдан на отправку в городе-транзите",
    "TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY": "Сдан перевозчику в городе-транзите",
    "SENT_TO_TRANSIT_CITY": "Отправлен в город-транзит",
    "ACCEPTED_IN_TRANSIT_CITY": "Встречен в городе-транзите",
    "SENT_TO_SENDER_CITY": "Отправлен в город-отправитель",
    "ACCEPTED_IN_SENDER_CITY": "Встречен в городе-отправителе",
    "ENTERED_TO_TRANSIT_WAREHOUSE": "Поступил в город транзита",
    "ENTERED_TO_RECIPIENT_CITY_WAREHOUSE": "Поступил на склад доставки",
    "ENTERED_TO_PICK_UP_POINT": "Поступил на склад до востребования",
    "IN_CUSTOMS_INTERNATIONAL": "Таможенное оформление в стране отправления",
    "SHIPPED_TO_DESTINATION": "Отправлено в страну назначения",
    "PASSED_TO_TRANSIT_CARRIER": "Передано транзитному перевозчику",
    "IN_CUSTOMS_LOCAL": "Таможенное оформление в стране назначения",
    "CUSTOMS_COMPLETE": "Таможенное оформление завершено",
    "POSTOMAT_POSTED": "Заложен в постамат",
    "POSTOMAT_SEIZED": "Изъят из постамата курьером",
    "POSTOMAT_RECEIVED": "Изъят из постамата клиентом",
    "INVALID": "Некорректный заказ",
}

BEFORE_HAND_OVER = frozenset({"ACCEPTED", "CREATED", "REMOVED", "INVALID"})
AT_PICKUP_POINT = frozenset(
    {"ACCEPTED_AT_PICK_UP_POINT", "ENTERED_TO_PICK_UP_POINT", "POSTOMAT_POSTED"}
)
HANDED_TO_CUSTOMER = frozenset({"DELIVERED", "POSTOMAT_RECEIVED"})
NOT_TAKEN = frozenset({"NOT_DELIVERED", "POSTOMAT_SEIZED", "RETURNED_TO_RECIPIENT_CITY_WAREHOUSE"})
BACK_HOME = frozenset({"SENT_TO_SENDER_CITY", "ACCEPTED_IN_SENDER_CITY"})


def tracking_status(code: str, *, is_return: bool) -> TrackingStatus | None:
    """What a СДЭК status means for the shipment; None when tracking ignores it."""
    if code in BEFORE_HAND_OVER:
        return None
    if is_return:
        return T.RETURNED_TO_SENDER if code in HANDED_TO_CUSTOMER else T.RETURNING
    if code in AT_PICKUP_POINT:
        return T.READY_FOR_PICKUP
    if code in HANDED_TO_CUSTOMER:
        return T.DELIVERED
    if code in NOT_TAKEN:
        return T.FAILED_DELIVERY
    if code in BACK_HOME:
        return T.RETURNING
    return T.IN_TRANSIT  # every hub, transit city and customs step, and unknown new codes


def describe(code: str, name: str | None = None) -> str:
    """СДЭК's wording of a status, with its code kept beside it."""
    return f"{name or WORDS.get(code, code)} ({code})"
