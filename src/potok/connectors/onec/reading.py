"""CommerceML 2 files from 1C read into the exchange's domain terms, safely and strictly.

The parser resolves no entities, loads no DTD and reaches no network (no XXE, no entity
bombs); a file with a DOCTYPE is refused outright. When a schema is given, the file is
checked against it before anything is read from it. Every refusal names the file, the
line and the element, so a 1C administrator finds what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from lxml import etree

from potok.domain.erp import (
    Catalogue,
    CatalogueGroup,
    CatalogueItem,
    CatalogueProperty,
    ExchangeFileRefused,
    Offer,
    OfferPackage,
    OfferPrice,
    OfferStock,
    OrderChange,
    PriceType,
)
from potok.domain.inventory.model import MAX_QUANTITY

NAMESPACE = "urn:1C.ru:commerceml_2"
ROOT = "КоммерческаяИнформация"
PIECE_UNITS = {
    "796": "шт",
    "778": "упак",
    "839": "компл",
    "704": "набор",
    "715": "пар",
}
"""ОКЕИ codes of units Potok counts in whole pieces; a product in kilograms or metres is refused."""
UNIT_WORDS = {word: code for code, word in PIECE_UNITS.items()} | {"штука": "796", "pce": "796"}
ROUBLES = frozenset({"руб", "руб.", "rub", "643", "rur"})
NO_VAT = frozenset({"без налога", "без ндс", "без ндс.", "нет"})
TRUE = frozenset({"true", "истина", "1", "да"})


def _parser() -> Any:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


@lru_cache(maxsize=4)
def schema_at(path: str) -> Any:
    """The XML schema in the file at ``path`` (read once per process)."""
    return etree.XMLSchema(etree.parse(path, _parser()))


def parse(content: bytes, file: str, *, schema: Any | None = None) -> Any:
    """The root element of a CommerceML file, checked against ``schema`` when given."""
    try:
        tree = etree.fromstring(content, _parser()).getroottree()
    except etree.XMLSyntaxError as error:
        line = error.lineno or 1
        raise ExchangeFileRefused(
            file=file, line=line, element="?", why=f"not well-formed XML: {error.msg}"
        ) from None
    if tree.docinfo.doctype:
        raise ExchangeFileRefused(
            file=file, line=1, element="!DOCTYPE", why="a DOCTYPE is not accepted in an exchange"
        )
    root = tree.getroot()
    if etree.QName(root).localname != ROOT:
        raise ExchangeFileRefused(
            file=file,
            line=root.sourceline or 1,
            element=etree.QName(root).localname,
            why=f"the root element must be <{ROOT}>",
        )
    if schema is not None and not schema.validate(tree):
        first = schema.error_log[0]
        raise ExchangeFileRefused(
            file=file,
            line=first.line,
            element=_element_of(first.message, first.path),
            why=f"does not match CommerceML 2.10: {_plain(first.message)}",
        )
    return root


def _element_of(message: str, path: str | None) -> str:
    named = re.search(r"Element '(?:\{[^}]*\})?([^']+)'", message)
    if named:
        return named.group(1)
    step = (path or "").rsplit("/", 1)[-1]
    step = step.split("[", 1)[0]
    if ":" in step:
        step = step.split(":", 1)[1]
    return step or "?"


def _plain(message: str) -> str:
    return message.replace("{" + NAMESPACE + "}", "")


class _Reader:
    """Finds children by their CommerceML names in the file's namespace."""

    def __init__(self, root: Any, file: str) -> None:
        self.ns = etree.QName(root).namespace
        self.file = file

    def tag(self, name: str) -> str:
        return f"{{{self.ns}}}{name}" if self.ns else name

    def child(self, element: Any, name: str) -> Any | None:
        return element.find(self.tag(name))

    def children(self, element: Any, *path: str) -> Iterator[Any]:
        return iter(element.iterfind("/".join(self.tag(step) for step in path)))

    def text(self, element: Any, name: str) -> str:
        found = self.child(element, name)
        return (found.text or "").strip() if found is not None else ""

    def required(self, element: Any, name: str) -> str:
        value = self.text(element, name)
        if not value:
            self.refuse(element, f"<{name}> is missing or empty", name)
        return value

    def refuse(self, element: Any, why: str, name: str | None = None) -> None:
        raise ExchangeFileRefused(
            file=self.file,
            line=element.sourceline or 1,
            element=name or etree.QName(element).localname,
            why=why,
        )

    def number(self, element: Any, text: str, name: str) -> Decimal:
        try:
            value = Decimal(text.replace(",", ".").replace(" ", "").replace("\u00a0", ""))
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            self.refuse(element, f"'{text}' is not a number", name)
        return value

    def whole(self, element: Any, text: str, name: str) -> int:
        value = self.number(element, text, name)
        if value != value.to_integral_value():
            self.refuse(element, f"{text} is not a whole number of pieces", name)
        count = max(int(value), 0)  # a negative balance in 1C: none to sell
        if count > MAX_QUANTITY:
            self.refuse(element, f"{text} is more than {MAX_QUANTITY}", name)
        return count


def kind_of(root: Any) -> str:
    """What a file carries: ``catalogue`` (import.xml), ``offers`` or ``documents``."""
    names = {etree.QName(child).localname for child in root}
    if "ПакетПредложений" in names or "ИзмененияПакетаПредложений" in names:
        return "offers"
    if "Каталог" in names or "Классификатор" in names:
        return "catalogue"
    if "Документ" in names:
        return "documents"
    return "empty"


# ---------------------------------------------------------------------- import.xml


def read_catalogue(root: Any, file: str) -> Catalogue:
    """The classifier's groups and properties and the catalogue's products of ``import.xml``."""
    r = _Reader(root, file)
    groups: list[CatalogueGroup] = []
    properties: list[CatalogueProperty] = []
    classifier = r.child(root, "Классификатор")
    if classifier is not None:
        for top in r.children(classifier, "Группы", "Группа"):
            _groups(r, top, None, groups)
        for prop in r.children(classifier, "Свойства", "Свойство"):
            choices = {
                r.required(choice, "ИдЗначения"): r.text(choice, "Значение")
                for choice in r.children(prop, "ВариантыЗначений", "Справочник")
            }
            properties.append(
                CatalogueProperty(
                    r.required(prop, "Ид"),
                    r.required(prop, "Наименование"),
                    choices,
                    prop.sourceline,
                )
            )
    items: list[CatalogueItem] = []
    only_changes = False
    catalogue = r.child(root, "Каталог")
    if catalogue is not None:
        only_changes = (catalogue.get("СодержитТолькоИзменения") or "").lower() in TRUE
        items = [_item(r, product) for product in r.children(catalogue, "Товары", "Товар")]
    return Catalogue(tuple(groups), tuple(properties), tuple(items), only_changes)


def _groups(r: _Reader, group: Any, parent: str | None, into: list[CatalogueGroup]) -> None:
    onec_id = r.required(group, "Ид")
    into.append(
        CatalogueGroup(onec_id, r.required(group, "Наименование"), parent, group.sourceline)
    )
    for child in r.children(group, "Группы", "Группа"):
        _groups(r, child, onec_id, into)


def _item(r: _Reader, product: Any) -> CatalogueItem:
    onec_id = r.required(product, "Ид")
    sku = r.text(product, "Артикул") or onec_id
    unit = _unit(r, product)
    vat: Decimal | None = None
    for rate in r.children(product, "СтавкиНалогов", "СтавкаНалога"):
        if "ндс" not in r.text(rate, "Наименование").lower():
            continue
        text = r.required(rate, "Ставка")
        if text.lower().rstrip("%").strip() in NO_VAT:
            vat = Decimal(0)
        else:
            vat = r.number(rate, text.rstrip("%").strip(), "Ставка")
    groups = tuple((element.text or "").strip() for element in r.children(product, "Группы", "Ид"))
    properties = {
        r.required(value, "Ид"): r.text(value, "Значение")
        for value in r.children(product, "ЗначенияСвойств", "ЗначенияСвойства")
    }
    status = (product.get("Статус") or "").lower()
    deleted = status == "удален" or _requisite(r, product, "ПометкаУдаления").lower() in TRUE
    return CatalogueItem(
        onec_id=onec_id,
        sku=sku,
        name=r.required(product, "Наименование"),
        unit=unit,
        line=product.sourceline,
        barcode=r.text(product, "Штрихкод") or None,
        vat_rate=vat,
        groups=tuple(g for g in groups if g),
        properties=properties,
        deleted=deleted,
    )


def _unit(r: _Reader, product: Any) -> str:
    unit = r.child(product, "БазоваяЕдиница")
    if unit is None:
        return "796"
    code = (unit.get("Код") or "").strip()
    word = (unit.text or "").strip().lower().rstrip(".")
    if not code:
        code = UNIT_WORDS.get(word, "")
    if code not in PIECE_UNITS:
        known = ", ".join(f"{c} ({w})" for c, w in PIECE_UNITS.items())
        r.refuse(
            unit,
            f"unit '{code or word}' is not counted in whole pieces; Potok takes {known}",
        )
    return code


def _requisite(r: _Reader, element: Any, name: str) -> str:
    for value in r.children(element, "ЗначенияРеквизитов", "ЗначениеРеквизита"):
        if r.text(value, "Наименование") == name:
            return r.text(value, "Значение")
    return ""


# ---------------------------------------------------------------------- offers.xml


def read_offers(root: Any, file: str) -> OfferPackage:
    """The price types, warehouses and offers (prices, stock) of ``offers.xml``."""
    r = _Reader(root, file)
    package = r.child(root, "ПакетПредложений")
    if package is None:
        package = r.child(root, "ИзмененияПакетаПредложений")
    if package is None:
        return OfferPackage()
    price_types = tuple(
        PriceType(r.required(t, "Ид"), r.text(t, "Наименование"), r.text(t, "Валюта"))
        for t in r.children(package, "ТипыЦен", "ТипЦены")
    )
    warehouses = {
        r.required(w, "Ид"): r.text(w, "Наименование")
        for w in r.children(package, "Склады", "Склад")
    }
    offers = tuple(_offer(r, offer) for offer in r.children(package, "Предложения", "Предложение"))
    only_changes = (package.get("СодержитТолькоИзменения") or "").lower() in TRUE
    if etree.QName(package).localname == "ИзмененияПакетаПредложений":
        only_changes = True
    return OfferPackage(price_types, warehouses, offers, only_changes)


def _offer(r: _Reader, offer: Any) -> Offer:
    prices = []
    for price in r.children(offer, "Цены", "Цена"):
        currency = r.text(price, "Валюта") or "RUB"
        if currency.lower() not in ROUBLES:
            r.refuse(price, f"currency '{currency}': Potok takes prices in roubles", "Валюта")
        amount = r.number(price, r.required(price, "ЦенаЗаЕдиницу"), "ЦенаЗаЕдиницу")
        if amount < 0 or amount != amount.quantize(Decimal("0.01")):
            r.refuse(price, f"{amount} is not a price in roubles and kopecks", "ЦенаЗаЕдиницу")
        coefficient = r.text(price, "Коэффициент")
        if coefficient and r.number(price, coefficient, "Коэффициент") != 1:
            r.refuse(
                price, "a price per package (Коэффициент other than 1) is not taken", "Коэффициент"
            )
        prices.append(OfferPrice(r.required(price, "ИдТипаЦены"), amount, "RUB", price.sourceline))
    stock = []
    for place in r.children(offer, "Склад"):
        warehouse = (place.get("ИдСклада") or "").strip()
        if not warehouse:
            r.refuse(place, "ИдСклада is missing")
        quantity = r.whole(place, place.get("КоличествоНаСкладе") or "0", "Склад")
        stock.append(OfferStock(warehouse, quantity, place.sourceline))
    for rest in r.children(offer, "Остатки", "Остаток", "Склад"):  # the 2.09+ spelling
        warehouse = r.required(rest, "Ид")
        quantity = r.whole(rest, r.text(rest, "Количество") or "0", "Количество")
        stock.append(OfferStock(warehouse, quantity, rest.sourceline))
    total_text = r.text(offer, "Количество")
    total = r.whole(offer, total_text, "Количество") if total_text else None
    return Offer(r.required(offer, "Ид"), offer.sourceline, tuple(prices), tuple(stock), total)


# ---------------------------------------------------------------------- orders from 1C

PAID_REQUISITES = ("Дата оплаты по 1С", "Дата оплаты")
CANCELLED_REQUISITES = ("Отменен", "ПометкаУдаления")


def read_order_changes(root: Any, file: str) -> list[OrderChange]:
    """What 1C's documents say of Potok's orders: each one cancelled or paid (or neither)."""
    r = _Reader(root, file)
    changes = []
    for document in r.children(root, "Документ"):
        values = {
            r.text(value, "Наименование"): r.text(value, "Значение")
            for value in r.children(document, "ЗначенияРеквизитов", "ЗначениеРеквизита")
        }
        cancelled = any(values.get(name, "").lower() in TRUE for name in CANCELLED_REQUISITES)
        paid = values.get("Заказ оплачен", "").lower() in TRUE or any(
            values.get(name, "").strip() not in ("", "0001-01-01T00:00:00", "0001-01-01")
            for name in PAID_REQUISITES
        )
        changes.append(
            OrderChange(r.required(document, "Ид"), document.sourceline, cancelled, paid)
        )
    return changes
