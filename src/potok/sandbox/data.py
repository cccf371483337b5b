"""The sandbox's fixed data: a Russian network with real coordinates, channels, a catalogue.

Names of people, phones and e-mails are invented; places and coordinates are real.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from potok.domain.channels import BackorderPolicy, ChannelDraft, ChannelType, ConfirmationPolicy
from potok.domain.fulfilment import UnitIdentifier
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.validation import gtin_check_digit

W, S, P = WarehouseType.WAREHOUSE, WarehouseType.STORE, WarehouseType.PICKUP_POINT
ONLINE = ("web", "ozon", "app")

CHANNELS = [
    ChannelDraft(
        "web",
        "Интернет-магазин",
        ChannelType.WEB,
        "RUB",
        ConfirmationPolicy.AUTO,
        BackorderPolicy.BACKORDER,
        0,
        60,
    ),
    ChannelDraft(
        "ozon",
        "Ozon FBS",
        ChannelType.MARKETPLACE,
        "RUB",
        ConfirmationPolicy.AUTO,
        BackorderPolicy.REJECT,
        2,
        None,
    ),
    ChannelDraft(
        "app",
        "Мобильное приложение",
        ChannelType.APP,
        "RUB",
        ConfirmationPolicy.WHEN_PAID,
        BackorderPolicy.BACKORDER,
        0,
        30,
    ),
    ChannelDraft(
        "pos",
        "Кассы магазинов",
        ChannelType.POS,
        "RUB",
        ConfirmationPolicy.MANUAL,
        BackorderPolicy.BACKORDER,
        0,
        None,
    ),
]

NETWORK = [
    WarehouseDraft(
        "MSK-1",
        "Склад Москва — Котельники",
        W,
        "Москва",
        55.6600,
        37.8630,
        "Котельники, Яничкин проезд, 3",
        10,
        True,
        ONLINE,
    ),
    WarehouseDraft(
        "SPB-1",
        "Склад Санкт-Петербург — Шушары",
        W,
        "Санкт-Петербург",
        59.8030,
        30.3800,
        "пос. Шушары, Московское шоссе, 70",
        8,
        True,
        ONLINE,
    ),
    WarehouseDraft(
        "KZN-1", "Склад Казань", W, "Казань", 55.7490, 49.2150, "ул. Тэцевская, 4", 5, True, ONLINE
    ),
    WarehouseDraft(
        "EKB-1",
        "Склад Екатеринбург",
        W,
        "Екатеринбург",
        56.7940,
        60.6380,
        "ул. Монтёрская, 8",
        5,
        True,
        ONLINE,
    ),
    WarehouseDraft(
        "NSK-1",
        "Склад Новосибирск — Толмачёво",
        W,
        "Новосибирск",
        55.0150,
        82.7100,
        "Толмачёвское шоссе, 51",
        5,
        True,
        ONLINE,
    ),
    WarehouseDraft(
        "KRD-1",
        "Склад Краснодар",
        W,
        "Краснодар",
        45.0520,
        39.0310,
        "ул. Ростовское шоссе, 14",
        4,
        True,
        ONLINE,
    ),
    WarehouseDraft(
        "RND-1",
        "Склад Ростов-на-Дону",
        W,
        "Ростов-на-Дону",
        47.2600,
        39.7900,
        "ул. Доватора, 148",
        3,
        True,
        ONLINE,
    ),
    WarehouseDraft(
        "NNV-1",
        "Склад Нижний Новгород",
        W,
        "Нижний Новгород",
        56.2480,
        43.8620,
        "ул. Коминтерна, 39",
        3,
        True,
        ONLINE,
    ),
    WarehouseDraft(
        "MSK-S1",
        "Магазин «Тверская»",
        S,
        "Москва",
        55.7648,
        37.6055,
        "ул. Тверская, 15",
        2,
        True,
        ("web", "app", "pos"),
    ),
    WarehouseDraft(
        "MSK-S2",
        "Магазин «Сокольники»",
        S,
        "Москва",
        55.7890,
        37.6790,
        "ул. Русаковская, 31",
        2,
        True,
        ("web", "app", "pos"),
    ),
    WarehouseDraft(
        "SPB-S1",
        "Магазин «Невский»",
        S,
        "Санкт-Петербург",
        59.9343,
        30.3351,
        "Невский проспект, 60",
        2,
        True,
        ("web", "app", "pos"),
    ),
    WarehouseDraft(
        "KZN-S1",
        "Магазин «Баумана»",
        S,
        "Казань",
        55.7887,
        49.1221,
        "ул. Баумана, 44",
        2,
        True,
        ("web", "app", "pos"),
    ),
    WarehouseDraft(
        "MSK-P1", "ПВЗ Москва, Арбат", P, "Москва", 55.7494, 37.5912, "ул. Арбат, 24", 0, True, ()
    ),
    WarehouseDraft(
        "MSK-P2",
        "ПВЗ Москва, Марьино",
        P,
        "Москва",
        55.6503,
        37.7440,
        "Люблинская ул., 169",
        0,
        True,
        (),
    ),
    WarehouseDraft(
        "SPB-P1",
        "ПВЗ Санкт-Петербург, Васильевский",
        P,
        "Санкт-Петербург",
        59.9417,
        30.2780,
        "6-я линия В.О., 25",
        0,
        True,
        (),
    ),
    WarehouseDraft(
        "EKB-P1",
        "ПВЗ Екатеринбург, Плотинка",
        P,
        "Екатеринбург",
        56.8380,
        60.6030,
        "проспект Ленина, 24",
        0,
        True,
        (),
    ),
    WarehouseDraft(
        "NSK-P1",
        "ПВЗ Новосибирск, Красный проспект",
        P,
        "Новосибирск",
        55.0302,
        82.9204,
        "Красный проспект, 25",
        0,
        True,
        (),
    ),
]

# The region each location stands in, named as in the tariff table below and in CITIES:
# the Moscow centre is in Kotelniki, outside the city, in the Moscow region.
REGIONS = {
    "MSK-1": "Московская область",
    "SPB-1": "Санкт-Петербург",
    "KZN-1": "Республика Татарстан",
    "EKB-1": "Свердловская область",
    "NSK-1": "Новосибирская область",
    "KRD-1": "Краснодарский край",
    "RND-1": "Ростовская область",
    "NNV-1": "Нижегородская область",
    "MSK-S1": "Москва",
    "MSK-S2": "Москва",
    "SPB-S1": "Санкт-Петербург",
    "KZN-S1": "Республика Татарстан",
    "MSK-P1": "Москва",
    "MSK-P2": "Москва",
    "SPB-P1": "Санкт-Петербург",
    "EKB-P1": "Свердловская область",
    "NSK-P1": "Новосибирская область",
}
NETWORK = [replace(draft, region=REGIONS[draft.code]) for draft in NETWORK]

# (sku prefix, name, price, VAT %, weight in grams)
CATALOGUE: list[tuple[str, str, str, str, int]] = [
    ("KET", "Чайник электрический 1,7 л", "2490", "22", 1200),
    ("KET", "Чайник стеклянный с подсветкой", "3290", "22", 1400),
    ("BLN", "Блендер погружной 800 Вт", "4590", "22", 1500),
    ("MWV", "Микроволновая печь 20 л", "7990", "22", 11000),
    ("COF", "Кофеварка капельная", "3990", "22", 2100),
    ("IRN", "Утюг с паром 2400 Вт", "3490", "22", 1600),
    ("VAC", "Пылесос беспроводной", "15990", "22", 2800),
    ("HDR", "Фен для волос 2000 Вт", "2990", "22", 700),
    ("PHN", 'Смартфон 6,5" 128 ГБ', "18990", "22", 210),
    ("PHN", 'Смартфон 6,7" 256 ГБ', "32990", "22", 230),
    ("HDP", "Наушники беспроводные", "4990", "22", 180),
    ("SPK", "Колонка портативная", "3490", "22", 550),
    ("PWB", "Внешний аккумулятор 20000 мА·ч", "2290", "22", 400),
    ("CBL", "Кабель USB-C 1 м", "490", "22", 60),
    ("CHG", "Зарядное устройство 65 Вт", "1990", "22", 150),
    ("WCH", "Умные часы", "8990", "22", 90),
    ("TAB", 'Планшет 10" 64 ГБ', "17990", "22", 480),
    ("KBD", "Клавиатура беспроводная", "1990", "22", 520),
    ("MOU", "Мышь беспроводная", "990", "22", 90),
    ("LMP", "Настольная лампа светодиодная", "1790", "22", 900),
    ("PAN", "Сковорода 28 см с антипригарным покрытием", "1890", "22", 1300),
    ("POT", "Кастрюля 4 л нержавеющая", "2190", "22", 1700),
    ("KNF", "Набор ножей, 5 предметов", "2990", "22", 1100),
    ("TWL", "Полотенце махровое 70×140", "890", "22", 500),
    ("BED", "Комплект постельного белья, евро", "3490", "22", 1800),
    ("PIL", "Подушка 50×70", "1290", "22", 900),
    ("CRM", "Крем для лица увлажняющий 50 мл", "690", "22", 90),
    ("SHP", "Шампунь восстанавливающий 400 мл", "390", "22", 450),
    ("TPS", "Зубная паста 100 мл", "190", "22", 130),
    ("SOP", "Мыло жидкое 500 мл", "220", "22", 560),
    ("DIA", "Подгузники, размер 4, 60 шт.", "1490", "10", 2200),
    ("BBF", "Детское питание, пюре яблоко 100 г", "65", "10", 120),
    ("TOY", "Конструктор детский, 500 деталей", "2490", "10", 900),
    ("TOY", "Мягкая игрушка «Медведь»", "990", "10", 300),
    ("BKS", "Книга «Азбука» для детей", "450", "10", 400),
    ("BKS", "Учебник математики, 5 класс", "690", "10", 600),
    ("TEA", "Чай чёрный листовой 200 г", "390", "22", 220),
    ("CFE", "Кофе в зёрнах 1 кг", "1590", "22", 1050),
    ("MLK", "Молоко ультрапастеризованное 1 л", "95", "10", 1050),
    ("BRD", "Хлебцы ржаные 200 г", "120", "10", 210),
    ("OIL", "Масло подсолнечное 1 л", "160", "10", 950),
    ("PST", "Макароны спагетти 500 г", "110", "10", 520),
    ("RCE", "Рис круглозёрный 900 г", "140", "10", 920),
    ("CHC", "Шоколад горький 100 г", "150", "22", 110),
    ("WTR", "Вода питьевая 1,5 л, 6 шт.", "299", "22", 9300),
    ("DTG", "Средство для мытья посуды 500 мл", "199", "22", 540),
    ("PWD", "Стиральный порошок 3 кг", "690", "22", 3050),
    ("BAT", "Батарейки AA, 4 шт.", "290", "22", 100),
    ("BLB", "Лампа светодиодная E27 10 Вт", "150", "22", 60),
    ("UMB", "Зонт складной", "1290", "22", 350),
    ("BAG", "Рюкзак городской 25 л", "2990", "22", 650),
    ("BTL", "Бутылка для воды 0,7 л", "590", "22", 150),
    ("MUG", "Кружка керамическая 350 мл", "390", "22", 330),
    ("CND", "Свеча ароматическая", "490", "22", 250),
    ("PLN", "Комнатное растение в горшке", "990", "22", 1500),
    ("NTB", "Ежедневник недатированный A5", "590", "22", 400),
    ("PEN", "Набор гелевых ручек, 10 шт.", "290", "22", 120),
    ("GLU", "Клей-карандаш, 3 шт.", "150", "22", 70),
    ("SOC", "Носки хлопковые, 5 пар", "590", "22", 250),
    ("TSH", "Футболка хлопковая", "990", "22", 200),
    ("JWL", "Кольцо, золото 585", "18990", "22", 4),
]

FIRST_NAMES = [
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Ирина",
    "Татьяна",
    "Светлана",
    "Александр",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Алексей",
    "Михаил",
    "Иван",
    "Павел",
]
LAST_NAMES = [
    "Смирнов",
    "Иванов",
    "Кузнецов",
    "Соколов",
    "Попов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Петров",
    "Волков",
    "Соловьёв",
    "Васильев",
    "Зайцев",
]

# (city, region, latitude, longitude, weight by population, streets)
CITIES: list[tuple[str, str, float, float, int, tuple[str, ...]]] = [
    (
        "Москва",
        "Москва",
        55.7558,
        37.6173,
        30,
        ("ул. Профсоюзная", "Ленинский проспект", "ул. Новый Арбат", "Кутузовский проспект"),
    ),
    (
        "Санкт-Петербург",
        "Санкт-Петербург",
        59.9311,
        30.3609,
        14,
        ("Московский проспект", "ул. Садовая", "Лиговский проспект"),
    ),
    ("Новосибирск", "Новосибирская область", 55.0084, 82.9357, 5, ("ул. Ленина", "ул. Кирова")),
    ("Екатеринбург", "Свердловская область", 56.8389, 60.6057, 5, ("ул. Малышева", "ул. Мира")),
    ("Казань", "Республика Татарстан", 55.7963, 49.1088, 5, ("ул. Пушкина", "ул. Декабристов")),
    ("Нижний Новгород", "Нижегородская область", 56.2965, 43.9361, 4, ("ул. Большая Покровская",)),
    ("Самара", "Самарская область", 53.1959, 50.1002, 4, ("ул. Куйбышева", "Московское шоссе")),
    ("Краснодар", "Краснодарский край", 45.0355, 38.9753, 4, ("ул. Красная", "ул. Северная")),
    ("Ростов-на-Дону", "Ростовская область", 47.2357, 39.7015, 4, ("Большая Садовая ул.",)),
    ("Тверь", "Тверская область", 56.8587, 35.9176, 2, ("Тверской проспект",)),
    ("Владимир", "Владимирская область", 56.1290, 40.4070, 2, ("ул. Большая Московская",)),
    ("Воронеж", "Воронежская область", 51.6720, 39.1843, 3, ("проспект Революции",)),
    ("Пермь", "Пермский край", 58.0105, 56.2502, 3, ("Комсомольский проспект",)),
    ("Уфа", "Республика Башкортостан", 54.7388, 55.9721, 3, ("проспект Октября",)),
    ("Омск", "Омская область", 54.9885, 73.3242, 3, ("ул. Ленина",)),
]


MARKED = frozenset({"TSH", "SOC", "BED", "TWL", "MLK", "WTR"})
"""Goods that carry a Честный ЗНАК code per unit: clothes, linen, dairy, water."""
WITH_IMEI = frozenset({"PHN"})
WITH_UIN = frozenset({"JWL"})
"""Jewellery: every piece has its ГИИС ДМДК number (UIN)."""
HEAVY = frozenset({"MWV", "WTR"})
"""Heavy goods travel in parcels of their own: a shipment of their own in each order."""


def parcel_group_of(sku: str) -> str:
    return "heavy" if sku.split("-", 1)[0] in HEAVY else ""


def identifiers_of(sku: str) -> frozenset[UnitIdentifier]:
    """What every unit of the product needs recorded at packing."""
    prefix = sku.split("-", 1)[0]
    if prefix in MARKED:
        return frozenset({UnitIdentifier.MARKING})
    if prefix in WITH_IMEI:
        return frozenset({UnitIdentifier.IMEI})
    if prefix in WITH_UIN:
        return frozenset({UnitIdentifier.UIN})
    return frozenset()


def barcode(number: int) -> str:
    """A valid EAN-13 in the Russian GS1 range (460-469)."""
    body = f"460{number:09d}"
    return body + str(gtin_check_digit(body))


def products() -> list[tuple[str, str, Decimal, Decimal, int, str]]:
    """(sku, name, price, vat_rate, weight_g, barcode) for the whole catalogue."""
    counters: dict[str, int] = {}
    result = []
    for index, (prefix, name, price, vat, weight) in enumerate(CATALOGUE, start=1):
        counters[prefix] = counters.get(prefix, 0) + 1
        sku = f"{prefix}-{counters[prefix]:03d}"
        result.append((sku, name, Decimal(price), Decimal(vat), weight, barcode(100000 + index)))
    return result


# Products kept by lot (groceries, cosmetics): (sku, name, price, vat, weight_g, lots), each
# lot (number, produced days ago, expires in days, {warehouse: units}). One lot of each is
# nearly expired, so that the expiry report and FEFO have something to show.
LOT_TRACKED: list[tuple[str, str, str, str, int, list[tuple[str, int, int, dict[str, int]]]]] = [
    (
        "MILK-L01",
        "Молоко ультрапастеризованное 3,2 %, 1 л",
        "94.90",
        "10",
        1050,
        [
            ("MILK-2611-A", 40, 2, {"MSK-1": 12}),
            ("MILK-2611-B", 20, 25, {"MSK-1": 40, "SPB-1": 30}),
            ("MILK-2611-C", 5, 80, {"MSK-1": 60, "SPB-1": 45}),
        ],
    ),
    (
        "YOGH-L01",
        "Йогурт греческий 2 %, 140 г",
        "79.00",
        "10",
        150,
        [
            ("YGT-1125-1", 10, 1, {"MSK-1": 8}),
            ("YGT-1125-2", 3, 14, {"MSK-1": 36, "SPB-1": 24}),
        ],
    ),
    (
        "HCRM-L01",
        "Крем для рук увлажняющий, 75 мл",
        "349.00",
        "22",
        95,
        [
            ("CRM-25-07", 150, 20, {"MSK-1": 6}),
            ("CRM-25-10", 60, 400, {"MSK-1": 50, "SPB-1": 35}),
        ],
    ),
]

# Serialised electronics: (sku, name, price, vat, weight_g, {warehouse: units}); serial
# numbers are made from the SKU.
SERIALISED: list[tuple[str, str, str, str, int, dict[str, int]]] = [
    ("PHONE-S01", "Смартфон Potok P1, 128 ГБ", "24990.00", "22", 190, {"MSK-1": 8, "SPB-1": 5}),
    ("HDPH-S01", "Наушники беспроводные с шумоподавлением", "8990.00", "22", 250, {"MSK-1": 6}),
]


# Shipping tariffs, roughly as a national courier prices B2C parcels in 2026: a fixed part per
# parcel, a part per kilogram, a part per kilometre and the days in transit, by distance band;
# a flat same-region rate from each distribution centre; stores ship locally only; pickup
# points do not ship. A centre's ``scale`` reflects its contract (Moscow ships the most).
TARIFF_BANDS = [
    # min_km, max_km, fixed ₽, ₽ per kg, ₽ per km, days
    (0, 300, Decimal("320"), Decimal("22"), Decimal("0.90"), 2),
    (300, 1000, Decimal("420"), Decimal("32"), Decimal("0.60"), 3),
    (1000, 2500, Decimal("520"), Decimal("45"), Decimal("0.45"), 5),
    (2500, None, Decimal("680"), Decimal("60"), Decimal("0.40"), 8),
]
CENTRES = {
    # code: (own region, scale)
    "MSK-1": ("Москва", Decimal("0.90")),
    "SPB-1": ("Санкт-Петербург", Decimal("0.95")),
    "KZN-1": ("Республика Татарстан", Decimal("1.00")),
    "EKB-1": ("Свердловская область", Decimal("1.05")),
    "NSK-1": ("Новосибирская область", Decimal("1.15")),
    "KRD-1": ("Краснодарский край", Decimal("1.00")),
    "RND-1": ("Ростовская область", Decimal("1.00")),
    "NNV-1": ("Нижегородская область", Decimal("1.00")),
}
STORES = ("MSK-S1", "MSK-S2", "SPB-S1", "KZN-S1")


def tariffs_csv() -> str:
    """The sandbox's shipping tariff table, as the CSV ``potok sourcing tariffs import`` reads."""
    cent = Decimal("0.01")
    rows = ["warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days"]
    for code, (region, scale) in CENTRES.items():
        rows.append(f"{code},{region},,,{(Decimal('250') * scale).quantize(cent)},12,0,1")
        for low, high, fixed, per_kg, per_km, days in TARIFF_BANDS:
            rows.append(
                f"{code},,{low},{'' if high is None else high},{(fixed * scale).quantize(cent)},"
                f"{(per_kg * scale).quantize(cent)},{per_km},{days}"
            )
    for code in STORES:
        rows.append(f"{code},,0,50,390,25,0,1")
        rows.append(f"{code},,50,150,520,30,1.20,2")
    return "\n".join(rows) + "\n"
