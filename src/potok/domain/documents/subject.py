"""What a document is about, as every renderer takes it: parties, lines, totals, shipping.

A :class:`Subject` is a snapshot: the seller's and the buyer's requisites as they were when
the document was issued, the lines with their VAT, each unit's marking codes, and the
shipment's data. It is built once (from an order today, from a shipment once they exist)
and stored with the document, so that the same subject always renders the same bytes.
Prices include VAT, as Russian retail prices do; the VAT inside is split out per line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from potok.domain.documents.parties import (
    BankAccount,
    EntityKind,
    LegalEntityDraft,
    PersonName,
    Signatory,
    SignatoryRole,
)
from potok.domain.events import plain
from potok.domain.kernel import round_money, vat_included

ZERO = Decimal("0.00")


class PartyKind(StrEnum):
    ORGANISATION = "organisation"
    ENTREPRENEUR = "entrepreneur"
    PERSON = "person"  # a private customer


@dataclass(frozen=True, slots=True)
class Party:
    """A participant as the document prints it."""

    kind: PartyKind
    name: str
    short_name: str = ""
    inn: str | None = None
    kpp: str | None = None
    ogrn: str | None = None
    okpo: str | None = None
    address: str = ""
    phone: str = ""
    bank: BankAccount | None = None
    edo_id: str | None = None
    head: Signatory | None = None
    accountant: Signatory | None = None
    dispatcher: Signatory | None = None
    vat_payer: bool = True
    code: str | None = None  # the legal entity's code in Potok, when it is one

    @classmethod
    def of_entity(cls, entity: LegalEntityDraft, *, address: str | None = None) -> Party:
        """A legal entity as it stands now (``address`` replaces its own, for shipping)."""
        kind = (
            PartyKind.ORGANISATION
            if entity.kind is EntityKind.ORGANISATION
            else PartyKind.ENTREPRENEUR
        )
        return cls(
            kind=kind,
            name=entity.name,
            short_name=entity.short_name,
            inn=entity.inn,
            kpp=entity.kpp,
            ogrn=entity.ogrn,
            okpo=entity.okpo,
            address=entity.address if address is None else address,
            phone=entity.phone,
            bank=entity.account,
            edo_id=entity.edo_id,
            head=entity.signatory(SignatoryRole.HEAD),
            accountant=entity.signatory(SignatoryRole.ACCOUNTANT),
            dispatcher=entity.signatory(SignatoryRole.DISPATCHER),
            vat_payer=entity.vat_payer,
            code=entity.code,
        )

    @classmethod
    def person(cls, name: str, *, address: str = "", phone: str = "") -> Party:
        """A private customer: a name and where the goods go."""
        return cls(kind=PartyKind.PERSON, name=name, address=address, phone=phone)

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def is_company(self) -> bool:
        """An organisation or an entrepreneur: someone with requisites, not a private person."""
        return self.kind is not PartyKind.PERSON

    @property
    def tax_ids(self) -> str:
        """«ИНН/КПП 7707083893/773601001» as the forms print it; empty for a private person."""
        if not self.inn:
            return ""
        return f"{self.inn}/{self.kpp}" if self.kpp else self.inn

    @property
    def bank_line(self) -> str:
        if self.bank is None:
            return ""
        return (
            f"р/с {self.bank.account} в {self.bank.bank_name}, БИК {self.bank.bik}, "
            f"к/с {self.bank.correspondent_account}"
        )

    def requisites(self, *, with_bank: bool = True) -> str:
        """Name, tax numbers, address, phone and bank in one line (ТОРГ-12's party rows)."""
        parts = [self.name]
        if self.inn:
            parts.append(f"ИНН {self.inn}")
        if self.kpp:
            parts.append(f"КПП {self.kpp}")
        if self.address:
            parts.append(self.address)
        if self.phone:
            parts.append(f"тел. {self.phone}")
        if with_bank and self.bank is not None:
            parts.append(self.bank_line)
        return ", ".join(parts)

    @property
    def person_name(self) -> PersonName | None:
        """An entrepreneur's own name (the 'head' who signs); None for others."""
        if self.kind is PartyKind.ENTREPRENEUR and self.head is not None:
            return self.head.name
        return None


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of measure with its ОКЕИ code."""

    code: str
    name: str


PIECE = Unit("796", "шт")
SERVICE_UNIT = Unit("876", "усл. ед.")


@dataclass(frozen=True, slots=True)
class Line:
    """One line: what, how many, at what price (VAT included), and the VAT rate.

    ``vat_rate`` is None when the seller charges no VAT at all («без НДС»), which is
    not the same as a 0 % rate.
    """

    no: int
    sku: str
    name: str
    quantity: int
    price: Decimal
    vat_rate: Decimal | None
    unit: Unit = PIECE
    service: bool = False
    gtin: str | None = None
    weight_g: int = 0  # one unit's weight, 0 when unknown
    marking_codes: tuple[str, ...] = ()
    marked: bool = False  # Честный ЗНАК goods: every unit needs its code on an УПД

    @property
    def codes_missing(self) -> int:
        """Units of a marked line whose codes were not captured."""
        return max(self.quantity - len(self.marking_codes), 0) if self.marked else 0

    @property
    def total(self) -> Decimal:
        """What the line costs with VAT."""
        return round_money(self.price * self.quantity)

    @property
    def vat(self) -> Decimal:
        if self.vat_rate is None:
            return ZERO
        return vat_included(self.total, self.vat_rate)

    @property
    def net(self) -> Decimal:
        """What the line costs without VAT."""
        return self.total - self.vat

    @property
    def net_price(self) -> Decimal:
        """One unit without VAT, rounded to kopecks (the forms' «цена»)."""
        return round_money(self.net / self.quantity)

    @property
    def weight_total_g(self) -> int:
        return self.weight_g * self.quantity

    @property
    def rate_label(self) -> str:
        """«22%», «0%» or «без НДС»."""
        if self.vat_rate is None:
            return "без НДС"
        return f"{self.vat_rate.normalize():f}%"


@dataclass(frozen=True, slots=True)
class RateTotal:
    """The sums of every line at one VAT rate."""

    rate: Decimal | None
    net: Decimal
    vat: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    """The sums of some lines: without VAT, VAT, with VAT, units and weight."""

    net: Decimal = ZERO
    vat: Decimal = ZERO
    total: Decimal = ZERO
    quantity: int = 0
    weight_g: int = 0
    lines: int = 0

    @classmethod
    def of(cls, lines: Iterable[Line]) -> Totals:
        net = vat = total = ZERO
        quantity = weight = count = 0
        for line in lines:
            net += line.net
            vat += line.vat
            total += line.total
            quantity += line.quantity
            weight += line.weight_total_g
            count += 1
        return cls(net, vat, total, quantity, weight, count)

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.net + other.net,
            self.vat + other.vat,
            self.total + other.total,
            self.quantity + other.quantity,
            self.weight_g + other.weight_g,
            self.lines + other.lines,
        )


def totals_by_rate(lines: Iterable[Line]) -> list[RateTotal]:
    """VAT per rate, highest rate first, «без НДС» last (an invoice's «в том числе НДС»)."""
    sums: dict[Decimal | None, tuple[Decimal, Decimal, Decimal]] = {}
    for line in lines:
        net, vat, total = sums.get(line.vat_rate, (ZERO, ZERO, ZERO))
        sums[line.vat_rate] = (net + line.net, vat + line.vat, total + line.total)
    ordered = sorted(sums, key=lambda rate: Decimal(-1) if rate is None else rate, reverse=True)
    return [RateTotal(rate, *sums[rate]) for rate in ordered]


@dataclass(frozen=True, slots=True)
class Reference:
    """A document the subject rests on: «Заказ № 42 от 01.12.2026»."""

    title: str
    number: str
    on: date

    def __str__(self) -> str:
        return f"{self.title} № {self.number} от {self.on:%d.%m.%Y}"


@dataclass(frozen=True, slots=True)
class Shipping:
    """The shipment the goods leave with (empty until shipments exist)."""

    shipped_on: date | None = None
    places: int = 0  # parcels
    carrier: str = ""
    tracking_number: str = ""
    warehouse: str = ""


@dataclass(frozen=True, slots=True)
class Subject:
    """Everything a document of an order or a shipment says, frozen at issue."""

    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    basis: Reference
    consignor: Party | None = None  # None: the seller itself («он же»)
    consignee: Party | None = None  # None: the buyer itself
    currency: str = "RUB"
    shipping: Shipping = field(default_factory=Shipping)

    @property
    def goods(self) -> tuple[Line, ...]:
        """The lines that are goods (ТОРГ-12 lists only these; services stay out)."""
        return tuple(line for line in self.lines if not line.service)

    @property
    def totals(self) -> Totals:
        return Totals.of(self.lines)

    def to_data(self) -> dict[str, Any]:
        """JSON-ready data, stored with the issued document."""
        data: dict[str, Any] = plain(self)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Subject:
        """The subject as :meth:`to_data` stored it."""
        return cls(
            seller=_party(data["seller"]),
            buyer=_party(data["buyer"]),
            lines=tuple(_line(item) for item in data["lines"]),
            basis=Reference(
                data["basis"]["title"],
                data["basis"]["number"],
                date.fromisoformat(data["basis"]["on"]),
            ),
            consignor=_party(data["consignor"]) if data.get("consignor") else None,
            consignee=_party(data["consignee"]) if data.get("consignee") else None,
            currency=data["currency"],
            shipping=_shipping(data.get("shipping") or {}),
        )


def _signatory(data: dict[str, Any] | None) -> Signatory | None:
    if not data:
        return None
    return Signatory(
        role=SignatoryRole(data["role"]),
        name=PersonName(**data["name"]),
        position=data["position"],
        basis=data.get("basis", ""),
    )


def _party(data: dict[str, Any]) -> Party:
    return Party(
        kind=PartyKind(data["kind"]),
        name=data["name"],
        short_name=data.get("short_name", ""),
        inn=data.get("inn"),
        kpp=data.get("kpp"),
        ogrn=data.get("ogrn"),
        okpo=data.get("okpo"),
        address=data.get("address", ""),
        phone=data.get("phone", ""),
        bank=BankAccount(**data["bank"]) if data.get("bank") else None,
        edo_id=data.get("edo_id"),
        head=_signatory(data.get("head")),
        accountant=_signatory(data.get("accountant")),
        dispatcher=_signatory(data.get("dispatcher")),
        vat_payer=data.get("vat_payer", True),
        code=data.get("code"),
    )


def _line(data: dict[str, Any]) -> Line:
    rate = data.get("vat_rate")
    return Line(
        no=data["no"],
        sku=data["sku"],
        name=data["name"],
        quantity=data["quantity"],
        price=Decimal(data["price"]),
        vat_rate=None if rate is None else Decimal(rate),
        unit=Unit(**data["unit"]),
        service=data.get("service", False),
        gtin=data.get("gtin"),
        weight_g=data.get("weight_g", 0),
        marking_codes=tuple(data.get("marking_codes", ())),
        marked=data.get("marked", False),
    )


def _shipping(data: dict[str, Any]) -> Shipping:
    shipped = data.get("shipped_on")
    return Shipping(
        shipped_on=date.fromisoformat(shipped) if shipped else None,
        places=data.get("places", 0),
        carrier=data.get("carrier", ""),
        tracking_number=data.get("tracking_number", ""),
        warehouse=data.get("warehouse", ""),
    )


def local_date(moment: datetime, zone: str) -> date:
    """The calendar day ``moment`` falls on in the seller's time zone (documents are dated so)."""
    return moment.astimezone(ZoneInfo(zone)).date()
