"""Potok's orders as CommerceML 2 documents (``Заказ товара``), the way 1C takes a site's
orders on ``query``: one ``Документ`` per order with its buyer, lines, VAT, delivery and
the requisites 1C reads (status, paid, cancelled)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from lxml import etree

from potok.domain.kernel import vat_included
from potok.domain.orders import OrderStatus, PaymentStatus
from potok.domain.orders.model import Order

NAMESPACE = "urn:1C.ru:commerceml_2"
DELIVERY_ID = "ORDER_DELIVERY"
"""The item id of the delivery line, as sites have long sent it to 1C."""
PAID = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED})


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


class _Writer:
    def __init__(self) -> None:
        self.root = etree.Element(f"{{{NAMESPACE}}}КоммерческаяИнформация", nsmap={None: NAMESPACE})

    def add(self, parent: etree._Element, name: str, text: object | None = None) -> etree._Element:
        element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
        if text is not None:
            element.text = str(text)
        return element

    def requisites(self, parent: etree._Element, values: Sequence[tuple[str, str]]) -> None:
        holder = self.add(parent, "ЗначенияРеквизитов")
        for name, value in values:
            requisite = self.add(holder, "ЗначениеРеквизита")
            self.add(requisite, "Наименование", name)
            self.add(requisite, "Значение", value)


def orders_document(
    orders: Sequence[Order],
    *,
    at: datetime,
    zone: str,
    item_ids: Mapping[str, str],
    personal: bool,
) -> bytes:
    """The orders as one CommerceML 2.10 file; ``item_ids`` gives 1C's Ид of each SKU that
    came from 1C, ``personal`` whether buyers' names and contacts may go out."""
    tz = ZoneInfo(zone)
    w = _Writer()
    w.root.set("ВерсияСхемы", "2.10")
    w.root.set(
        "ДатаФормирования", at.astimezone(tz).replace(tzinfo=None, microsecond=0).isoformat()
    )
    for order in orders:
        _document(w, order, tz, item_ids, personal)
    return bytes(etree.tostring(w.root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _document(
    w: _Writer, order: Order, tz: ZoneInfo, item_ids: Mapping[str, str], personal: bool
) -> None:
    created = order.created_at.astimezone(tz)
    doc = w.add(w.root, "Документ")
    w.add(doc, "Ид", order.id)
    w.add(doc, "Номер", order.id)
    w.add(doc, "Дата", created.date().isoformat())
    w.add(doc, "ХозОперация", "Заказ товара")
    w.add(doc, "Роль", "Продавец")
    w.add(doc, "Валюта", order.currency)
    w.add(doc, "Курс", 1)
    w.add(doc, "Сумма", _money(order.total.amount))
    parties = w.add(doc, "Контрагенты")
    buyer = w.add(parties, "Контрагент")
    name = (order.contact.name if personal else "") or f"Покупатель заказа {order.id}"
    w.add(buyer, "Ид", f"potok-customer-{order.customer_id or order.id}")
    w.add(buyer, "Наименование", name)
    w.add(buyer, "ПолноеНаименование", name)
    contacts = [
        (kind, value)
        for kind, value in (
            ("Почта", order.contact.email),
            ("Телефон мобильный", order.contact.phone),
        )
        if personal and value
    ]
    if contacts:
        holder = w.add(buyer, "Контакты")
        for kind, value in contacts:
            contact = w.add(holder, "Контакт")
            w.add(contact, "Тип", kind)
            w.add(contact, "Значение", value)
    w.add(buyer, "Роль", "Покупатель")
    w.add(doc, "Время", created.time().replace(microsecond=0, tzinfo=None).isoformat())
    if order.comment:
        w.add(doc, "Комментарий", order.comment[:3000])
    vat = sum((line.vat_amount for line in order.lines), Decimal(0))
    vat += vat_included(order.delivery.price, order.delivery.vat_rate)
    taxes = w.add(w.add(doc, "Налоги"), "Налог")
    w.add(taxes, "Наименование", "НДС")
    w.add(taxes, "УчтеноВСумме", "true")
    w.add(taxes, "Сумма", _money(vat))
    goods = w.add(doc, "Товары")
    for line in order.lines:
        _line(
            w,
            goods,
            item_id=item_ids.get(line.sku, line.sku),
            sku=line.sku,
            name=line.name,
            price=line.unit_price,
            quantity=line.quantity,
            total=line.total,
            vat_rate=line.vat_rate,
            vat=line.vat_amount,
            kind="Товар",
        )
    delivery = order.delivery
    if delivery.price > 0:
        _line(
            w,
            goods,
            item_id=DELIVERY_ID,
            sku=None,
            name="Доставка заказа",
            price=delivery.price,
            quantity=1,
            total=delivery.price,
            vat_rate=delivery.vat_rate,
            vat=vat_included(delivery.price, delivery.vat_rate),
            kind="Услуга",
        )
    status = order.status
    w.requisites(
        doc,
        [
            ("Статус заказа", status.value),
            ("Заказ оплачен", "true" if order.payment_status in PAID else "false"),
            ("Отменен", "true" if status is OrderStatus.CANCELLED else "false"),
            ("Канал продаж", order.channel_code),
            ("Внешний номер", order.external_id or ""),
            ("Способ доставки", delivery.method.value),
            ("Версия заказа", str(order.version)),
        ],
    )


def _line(
    w: _Writer,
    goods: etree._Element,
    *,
    item_id: str,
    sku: str | None,
    name: str,
    price: Decimal,
    quantity: int,
    total: Decimal,
    vat_rate: Decimal,
    vat: Decimal,
    kind: str,
) -> None:
    item = w.add(goods, "Товар")
    w.add(item, "Ид", item_id)
    if sku:
        w.add(item, "Артикул", sku)
    w.add(item, "Наименование", name[:255])
    unit = w.add(item, "БазоваяЕдиница", "шт")
    unit.set("Код", "796")
    unit.set("НаименованиеПолное", "Штука")
    unit.set("МеждународноеСокращение", "PCE")
    w.requisites(item, [("ВидНоменклатуры", kind), ("ТипНоменклатуры", kind)])
    w.add(item, "ЦенаЗаЕдиницу", _money(price))
    w.add(item, "Количество", quantity)
    w.add(item, "Сумма", _money(total))
    tax = w.add(w.add(item, "Налоги"), "Налог")
    w.add(tax, "Наименование", "НДС")
    w.add(tax, "УчтеноВСумме", "true")
    w.add(tax, "Сумма", _money(vat))
    w.add(tax, "Ставка", _rate(vat_rate))


def _rate(rate: Decimal) -> str:
    return str(rate.normalize()) if rate == rate.to_integral_value() else str(rate)
