"""A simulated 1C:Enterprise on the site side of its exchange: it writes CommerceML 2.10
files (the catalogue, the offers) as 1C does, and drives the conversation 1C holds with a
site: checkauth with Basic credentials, init, uploads in parts of the size the site asks
for (zipped when asked), import, and for orders query and success.

Every file it writes is checked against the CommerceML 2.10 schema in shared/specs before
it is sent, so a test cannot pass on a file 1C would never write.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import httpx
from lxml import etree

NAMESPACE = "urn:1C.ru:commerceml_2"
REPOSITORY = Path(__file__).resolve().parents[2]
XSD = "commerceml-2.10.xsd"


@cache
def commerceml_schema_path() -> str:
    """The CommerceML 2.10 XSD in shared/specs/1c beside the repository."""
    for parent in REPOSITORY.parents:
        candidate = parent / "shared" / "specs" / "1c" / XSD
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError(f"{XSD} is not in ../shared/specs/1c")


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(commerceml_schema_path()))


def schema_errors(xml: bytes) -> list[str]:
    """What the CommerceML 2.10 schema finds wrong with a document (empty: valid)."""
    schema = _schema()
    if schema.validate(etree.fromstring(xml).getroottree()):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def _head(body: str) -> bytes:
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<КоммерческаяИнформация xmlns="{NAMESPACE}" ВерсияСхемы="2.10" '
        'ДатаФормирования="2026-12-06T10:00:00">\n' + body + "</КоммерческаяИнформация>\n"
    )
    return text.encode()


def _e(value: object) -> str:
    return escape(str(value))


@dataclass(frozen=True)
class Item:
    """A product of 1C's catalogue."""

    onec_id: str
    article: str
    name: str
    barcode: str | None = None
    vat: str = "22"
    unit: str = "796"
    groups: tuple[str, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()
    deleted: bool = False


@dataclass(frozen=True)
class OfferLine:
    """A product's price and stock per warehouse in 1C's offers."""

    onec_id: str
    name: str
    price: Decimal
    stock: tuple[tuple[str, int], ...] = ()


OWNER = (
    "<Владелец><Ид>org-1</Ид><Наименование>ООО Поток</Наименование>"
    "<ОфициальноеНаименование>ООО «Поток»</ОфициальноеНаименование>"
    "<ИНН>7701234567</ИНН><КПП>770101001</КПП></Владелец>"
)
UNIT_NAMES = {"796": ("Штука", "PCE", "шт"), "166": ("Килограмм", "KGM", "кг")}


def catalogue_xml(
    items: Sequence[Item],
    *,
    groups: Sequence[tuple[str, str, str | None]] = (),
    properties: Sequence[tuple[str, str, dict[str, str]]] = (),
    only_changes: bool = False,
) -> bytes:
    """``import.xml``: the classifier (groups: id, name, parent; properties: id, name,
    choices) and the catalogue's products."""
    out = [
        "<Классификатор><Ид>cls-1</Ид><Наименование>Классификатор (Основной)</Наименование>" + OWNER
    ]
    out.append("<Группы>" if groups else "")
    roots = [g for g in groups if g[2] is None]

    def group(onec_id: str, name: str) -> str:
        children = [g for g in groups if g[2] == onec_id]
        inner = "".join(group(c[0], c[1]) for c in children)
        nested = f"<Группы>{inner}</Группы>" if children else ""
        head = f"<Группа><Ид>{_e(onec_id)}</Ид><Наименование>{_e(name)}</Наименование>"
        return f"{head}{nested}</Группа>"

    out.append("".join(group(g[0], g[1]) for g in roots))
    out.append("</Группы>" if groups else "")
    if properties:
        out.append("<Свойства>")
        for onec_id, name, choices in properties:
            options = "".join(
                f"<Справочник><ИдЗначения>{_e(k)}</ИдЗначения><Значение>{_e(v)}</Значение></Справочник>"
                for k, v in choices.items()
            )
            out.append(
                f"<Свойство><Ид>{_e(onec_id)}</Ид><Наименование>{_e(name)}</Наименование>"
                f"<ТипЗначений>Справочник</ТипЗначений><ВариантыЗначений>{options}"
                "</ВариантыЗначений></Свойство>"
            )
        out.append("</Свойства>")
    out.append("</Классификатор>\n")
    flag = "true" if only_changes else "false"
    out.append(
        f'<Каталог СодержитТолькоИзменения="{flag}"><Ид>cat-1</Ид>'
        "<ИдКлассификатора>cls-1</ИдКлассификатора><Наименование>Каталог товаров</Наименование>"
        + OWNER
        + "<Товары>\n"
    )
    for item in items:
        status = ' Статус="Удален"' if item.deleted else ""
        full, intl, short = UNIT_NAMES.get(item.unit, ("Единица", "XXX", "ед"))
        parts = [f"<Товар{status}><Ид>{_e(item.onec_id)}</Ид>"]
        if item.barcode:
            parts.append(f"<Штрихкод>{_e(item.barcode)}</Штрихкод>")
        parts.append(
            f"<Артикул>{_e(item.article)}</Артикул><Наименование>{_e(item.name)}</Наименование>"
        )
        parts.append(
            f"<БазоваяЕдиница Код={quoteattr(item.unit)} НаименованиеПолное={quoteattr(full)} "
            f"МеждународноеСокращение={quoteattr(intl)}>{short}</БазоваяЕдиница>"
        )
        if item.groups:
            parts.append(
                "<Группы>" + "".join(f"<Ид>{_e(g)}</Ид>" for g in item.groups) + "</Группы>"
            )
        if item.properties:
            parts.append(
                "<ЗначенияСвойств>"
                + "".join(
                    f"<ЗначенияСвойства><Ид>{_e(k)}</Ид><Значение>{_e(v)}</Значение></ЗначенияСвойства>"
                    for k, v in item.properties
                )
                + "</ЗначенияСвойств>"
            )
        parts.append(
            "<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование>"
            f"<Ставка>{_e(item.vat)}</Ставка></СтавкаНалога></СтавкиНалогов>"
        )
        parts.append(
            "<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование>"
            "<Значение>Товар</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>"
        )
        parts.append("</Товар>\n")
        out.append("".join(parts))
    out.append("</Товары></Каталог>\n")
    return _head("".join(out))


def offers_xml(
    offers: Sequence[OfferLine],
    *,
    warehouses: Sequence[tuple[str, str]],
    price_types: Sequence[tuple[str, str]] = (("pt-retail", "Розничная"),),
) -> bytes:
    """``offers.xml``: price types, warehouses and each product's price and stock."""
    out = [
        '<ПакетПредложений СодержитТолькоИзменения="false"><Ид>cat-1#</Ид>'
        "<Наименование>Пакет предложений (Каталог товаров)</Наименование>"
        "<ИдКаталога>cat-1</ИдКаталога><ИдКлассификатора>cls-1</ИдКлассификатора>"
        + OWNER
        + "<ТипыЦен>"
    ]
    for onec_id, name in price_types:
        out.append(
            f"<ТипЦены><Ид>{_e(onec_id)}</Ид><Наименование>{_e(name)}</Наименование>"
            "<Валюта>RUB</Валюта><Налог><Наименование>НДС</Наименование>"
            "<УчтеноВСумме>true</УчтеноВСумме></Налог></ТипЦены>"
        )
    out.append("</ТипыЦен><Склады>")
    for onec_id, name in warehouses:
        out.append(f"<Склад><Ид>{_e(onec_id)}</Ид><Наименование>{_e(name)}</Наименование></Склад>")
    out.append("</Склады><Предложения>\n")
    for offer in offers:
        prices = "".join(
            f"<Цена><Представление>{offer.price} RUB за шт</Представление>"
            f"<ИдТипаЦены>{_e(pt)}</ИдТипаЦены><ЦенаЗаЕдиницу>{price}</ЦенаЗаЕдиницу>"
            "<Валюта>RUB</Валюта><Единица>796</Единица><Коэффициент>1</Коэффициент></Цена>"
            for pt, price in zip(
                [p[0] for p in price_types],
                [offer.price] + [offer.price * 2 for _ in price_types[1:]],
                strict=True,
            )
        )
        total = sum(q for _, q in offer.stock)
        places = "".join(
            f"<Склад ИдСклада={quoteattr(w)} КоличествоНаСкладе={quoteattr(str(q))}/>"
            for w, q in offer.stock
        )
        out.append(
            f"<Предложение><Ид>{_e(offer.onec_id)}</Ид><Наименование>{_e(offer.name)}</Наименование>"
            '<БазоваяЕдиница Код="796" НаименованиеПолное="Штука" '
            'МеждународноеСокращение="PCE">шт</БазоваяЕдиница>'
            f"<Цены>{prices}</Цены><Количество>{total}</Количество>{places}</Предложение>\n"
        )
    out.append("</Предложения></ПакетПредложений>\n")
    return _head("".join(out))


def zipped(files: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content)
    return buffer.getvalue()


@dataclass
class Exchange:
    """What one conversation said: each step and the site's answer's lines."""

    steps: list[tuple[str, list[str]]] = field(default_factory=list)

    def last(self, mode: str) -> list[str]:
        return next(lines for step, lines in reversed(self.steps) if step == mode)


class OneC:
    """1C's side of the exchange with a site at ``url`` (Potok's /api/v1/exchange/1c)."""

    def __init__(
        self, base_url: str, user: str, password: str, *, path: str = "/api/v1/exchange/1c"
    ) -> None:
        self.http = httpx.Client(base_url=base_url, auth=(user, password), timeout=60)
        self.path = path
        self.cookie: tuple[str, str] | None = None
        self.zip = False
        self.file_limit = 0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> OneC:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def call(
        self, kind: str, mode: str, *, filename: str | None = None, body: bytes | None = None
    ) -> httpx.Response:
        params = {"type": kind, "mode": mode}
        if filename:
            params["filename"] = filename
        headers = {}
        if self.cookie is not None:
            headers["Cookie"] = f"{self.cookie[0]}={self.cookie[1]}"
        if body is None:
            return self.http.get(self.path, params=params, headers=headers)
        headers["Content-Type"] = "application/octet-stream"
        return self.http.post(self.path, params=params, headers=headers, content=body)

    def step(self, exchange: Exchange, kind: str, mode: str, **kwargs: object) -> list[str]:
        answer = self.call(kind, mode, **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == 200, (mode, answer.status_code, answer.text)
        lines = answer.text.splitlines()
        exchange.steps.append((mode, lines))
        return lines

    def start(self, exchange: Exchange, kind: str) -> None:
        """checkauth and init, as 1C opens every exchange."""
        self.cookie = None
        lines = self.step(exchange, kind, "checkauth")
        assert lines[0] == "success", lines
        self.cookie = (lines[1], lines[2])
        settings = dict(
            line.split("=", 1) for line in self.step(exchange, kind, "init") if "=" in line
        )
        self.zip = settings.get("zip") == "yes"
        self.file_limit = int(settings["file_limit"])

    def upload(
        self, exchange: Exchange, kind: str, name: str, content: bytes, *, parts: int | None = None
    ) -> None:
        """Send a file in parts no larger than the site's file_limit (only the first
        ``parts`` of them, to break an upload off)."""
        chunks = [content[i : i + self.file_limit] for i in range(0, len(content), self.file_limit)]
        for chunk in chunks[:parts]:
            lines = self.step(exchange, kind, "file", filename=name, body=chunk)
            assert lines[0] == "success", lines

    def send_catalogue(
        self, files: Sequence[tuple[str, bytes]], *, broken_after: int | None = None
    ) -> Exchange:
        """One catalogue exchange: every file uploaded (one zip when the site asks for it),
        then each imported in turn; ``broken_after`` stops after that many parts uploaded."""
        for name, content in files:
            assert schema_errors(content) == [], (name, schema_errors(content)[:3])
        exchange = Exchange()
        self.start(exchange, "catalog")
        if self.zip:
            self.upload(exchange, "catalog", "import_files.zip", zipped(files), parts=broken_after)
        else:
            for name, content in files:
                self.upload(exchange, "catalog", name, content, parts=broken_after)
        if broken_after is not None:
            return exchange
        for name, _ in files:
            while True:
                lines = self.step(exchange, "catalog", "import", filename=name)
                if lines[0] != "progress":
                    break
        return exchange


@dataclass(frozen=True)
class OrderNews:
    """What 1C says of an order it took: cancelled, or paid on a date."""

    order_id: int
    total: Decimal
    cancelled: bool = False
    paid_on: str = ""


def order_changes_xml(news: Sequence[OrderNews]) -> bytes:
    """1C's ``Заказ товара`` documents back to the site, with the requisites sites read."""
    out = []
    for item in news:
        values = [("Отменен", "true" if item.cancelled else "false"), ("Проведен", "true")]
        if item.paid_on:
            values += [("Дата оплаты по 1С", item.paid_on), ("Номер оплаты по 1С", "ПП-17")]
        requisites = "".join(
            f"<ЗначениеРеквизита><Наименование>{_e(k)}</Наименование>"
            f"<Значение>{_e(v)}</Значение></ЗначениеРеквизита>"
            for k, v in values
        )
        out.append(
            f"<Документ><Ид>{item.order_id}</Ид><Номер>{item.order_id}</Номер>"
            "<Дата>2026-12-06</Дата><ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль>"
            f"<Валюта>RUB</Валюта><Курс>1</Курс><Сумма>{item.total}</Сумма><Контрагенты>"
            "<Контрагент><Ид>c-1</Ид><Наименование>Покупатель</Наименование>"
            "<ПолноеНаименование>Покупатель</ПолноеНаименование><Роль>Покупатель</Роль>"
            "</Контрагент></Контрагенты><Время>12:00:00</Время>"
            f"<ЗначенияРеквизитов>{requisites}</ЗначенияРеквизитов></Документ>\n"
        )
    return _head("".join(out))


def orders_in(xml: bytes) -> list[dict[str, object]]:
    """The orders of a site's ``query`` answer: id, total, lines (Ид, article, quantity,
    price) and requisites."""
    ns = {"c": NAMESPACE}
    root = etree.fromstring(xml)
    found = []
    for document in root.iterfind("c:Документ", ns):
        found.append(
            {
                "id": document.findtext("c:Ид", namespaces=ns),
                "sum": document.findtext("c:Сумма", namespaces=ns),
                "buyer": document.findtext(
                    "c:Контрагенты/c:Контрагент/c:Наименование", namespaces=ns
                ),
                "lines": [
                    (
                        item.findtext("c:Ид", namespaces=ns),
                        item.findtext("c:Артикул", namespaces=ns),
                        item.findtext("c:Количество", namespaces=ns),
                        item.findtext("c:ЦенаЗаЕдиницу", namespaces=ns),
                    )
                    for item in document.iterfind("c:Товары/c:Товар", ns)
                ],
                "requisites": {
                    value.findtext("c:Наименование", namespaces=ns): value.findtext(
                        "c:Значение", namespaces=ns
                    )
                    for value in document.iterfind("c:ЗначенияРеквизитов/c:ЗначениеРеквизита", ns)
                },
            }
        )
    return found


def take_orders(onec: OneC, *, confirm: bool = True) -> tuple[Exchange, bytes]:
    """One orders exchange as 1C runs it: checkauth, init, query, then success unless
    ``confirm`` is False (1C broke off before saying it took them)."""
    exchange = Exchange()
    onec.start(exchange, "sale")
    answer = onec.call("sale", "query")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    exchange.steps.append(("query", [f"{len(answer.content)} bytes"]))
    if confirm:
        assert onec.step(exchange, "sale", "success")[0] == "success"
    return exchange, answer.content


def send_order_news(onec: OneC, news: Sequence[OrderNews]) -> list[str]:
    """1C's changes of orders, uploaded in an orders exchange: the site's answer."""
    content = order_changes_xml(news)
    assert schema_errors(content) == [], schema_errors(content)[:3]
    exchange = Exchange()
    onec.start(exchange, "sale")
    return onec.step(exchange, "sale", "file", filename="orders-1c.xml", body=content)
