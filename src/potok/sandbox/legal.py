"""The sandbox's seller and B2B buyers: fictitious companies with requisites whose check
digits are right (so the documents of the demo orders can be printed)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from contextlib import suppress

from potok.bootstrap import Potok
from potok.domain.documents import (
    BankAccount,
    DocumentKind,
    EntityRole,
    LegalEntityDraft,
    PersonName,
    Signatory,
    SignatoryRole,
)
from potok.domain.errors import PotokError
from potok.domain.fulfilment import ShipmentStatus
from potok.domain.kernel import Actor, Clock
from potok.services import documents, legal_entities

SELLER = LegalEntityDraft(
    code="potok-demo",
    role=EntityRole.SELLER,
    name="Общество с ограниченной ответственностью «Поток Демо»",
    short_name="ООО «Поток Демо»",
    inn="7709123453",
    kpp="770901001",
    ogrn="1027700123450",
    address="109004, г. Москва, ул. Николоямская, д. 40, стр. 1",
    phone="+7 495 100-20-30",
    bank_accounts=(
        BankAccount("АО «ТБанк»", "044525974", "30101810145250000974", "40702810610000012345"),
    ),
    signatories=(
        Signatory(
            SignatoryRole.HEAD,
            PersonName("Смирнов", "Алексей", "Викторович"),
            "Генеральный директор",
        ),
        Signatory(
            SignatoryRole.ACCOUNTANT,
            PersonName("Кузнецова", "Мария", "Игоревна"),
            "Главный бухгалтер",
        ),
        Signatory(SignatoryRole.DISPATCHER, PersonName("Волков", "Дмитрий"), "Кладовщик"),
    ),
    edo_id="2BM-7709123453-770901001",
    is_default=True,
)
BUYERS = (
    LegalEntityDraft(
        code="severny-veter",
        role=EntityRole.BUYER,
        name="Общество с ограниченной ответственностью «Северный ветер»",
        short_name="ООО «Северный ветер»",
        inn="7812345675",
        kpp="781201001",
        ogrn="1177847123453",
        address="190000, г. Санкт-Петербург, ул. Большая Морская, д. 10",
        bank_accounts=(
            BankAccount(
                "ПАО Сбербанк", "044030653", "30101810500000000653", "40702810755000012345"
            ),
        ),
        edo_id="2BE-7812345675",
    ),
    LegalEntityDraft(
        code="kazan-opt",
        role=EntityRole.BUYER,
        name="Общество с ограниченной ответственностью «Казанский опт»",
        short_name="ООО «Казанский опт»",
        inn="1655123453",
        kpp="165501001",
        ogrn="1161690123451",
        address="420111, Республика Татарстан, г. Казань, ул. Баумана, д. 5",
    ),
)


def register(
    potok: Potok, orders: Sequence[int], rng: random.Random, clock: Clock, actor: Actor
) -> int:
    """The seller and the buyers; one order in twenty is sold to a buyer, who gets its
    invoice (счёт на оплату), and so is the first order shipped by a carrier (to a buyer
    on ЭДО), whose shipment gets its УПД with the marking codes packed. Returns how many
    orders were sold."""
    legal_entities.create_legal_entity(potok.uow(), SELLER, clock=clock)
    for buyer in BUYERS:
        legal_entities.create_legal_entity(potok.uow(), buyer, clock=clock)
    shipped = _first_shipped(potok, orders)
    sold = 0
    with_edo = next(buyer for buyer in BUYERS if buyer.edo_id)
    for order_id in orders:
        chosen = rng.random() < 0.05
        if shipped and order_id == shipped[0]:
            buyer = with_edo  # its УПД can go to the buyer's ЭДО operator
        elif chosen:
            buyer = rng.choice(BUYERS)
        else:
            continue
        try:
            documents.set_order_buyer(potok.uow(), order_id, buyer.code, actor, clock=clock)
        except PotokError:  # a cancelled order keeps its customer
            continue
        documents.issue_document(potok.uow(), order_id, DocumentKind.INVOICE, actor, clock=clock)
        sold += 1
    if shipped:
        with suppress(PotokError):  # a document the sandbox cannot issue stops nothing
            documents.issue_shipment_document(
                potok.uow(), shipped[1], DocumentKind.UPD, actor, clock=clock
            )
    return sold


SHIPPED = frozenset(
    {
        ShipmentStatus.HANDED_OVER,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.READY_FOR_PICKUP,
        ShipmentStatus.DELIVERED,
    }
)


def _first_shipped(potok: Potok, orders: Sequence[int]) -> tuple[int, int] | None:
    """The first order (and its shipment) a carrier took with a tracking number: of these
    orders' shipments handed over, the one made first that has one."""
    with potok.uow().read() as uow:
        shipped = sorted(
            (shipment_id, order_id)
            for order_id in orders
            for shipment_id, status in uow.shipments.statuses(order_id).items()
            if status in SHIPPED
        )
        for shipment_id, order_id in shipped:
            shipment = uow.shipments.get(shipment_id)
            if shipment is not None and shipment.tracking_number:
                return order_id, shipment_id
    return None
