"""The console speaks Russian whole: every text of its pages has a translation with the same
placeholders, plurals follow Russian rules, money and dates are written the Russian way."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from potok.web.i18n import LOCALE_DIR, Formats, translations

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "potok" / "web"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def texts() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for _file, _line, message, _comments, _context in extract_from_dir(
        WEB, method_map, options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def test_every_text_of_the_console_has_a_russian_translation_with_the_same_placeholders() -> None:
    with (LOCALE_DIR / "ru" / "LC_MESSAGES" / "console.po").open("rb") as source:
        catalogue = read_po(source, locale="ru")
    wanted = texts()
    assert len(wanted) > 250
    missing, broken = [], []
    for text in wanted:
        message = catalogue.get(text if isinstance(text, str) else text[0])
        if message is None or not message.string or not all(message.string):
            missing.append(text)
            continue
        source_text = text if isinstance(text, str) else text[1]
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        for form in forms:
            if set(PLACEHOLDER.findall(form)) != set(PLACEHOLDER.findall(source_text)):
                broken.append((text, form))
    assert missing == []
    assert broken == []


def test_russian_plurals_take_three_forms() -> None:
    ru = translations("ru")
    words = {n: ru.ngettext("%(num)s order", "%(num)s orders", n) for n in (1, 2, 5, 11, 21, 22)}
    assert words == {
        1: "%(num)s заказ",
        2: "%(num)s заказа",
        5: "%(num)s заказов",
        11: "%(num)s заказов",
        21: "%(num)s заказ",
        22: "%(num)s заказа",
    }


def test_money_dates_and_rates_are_written_per_language() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    ru, en = Formats("ru", moscow), Formats("en", moscow)
    assert ru.money(Decimal("3270.5")) == "3\xa0270,50\xa0₽"
    assert en.money(Decimal("3270.5")) == "RUB3,270.50"
    assert ru.percent("22.00") == "22\xa0%"
    assert en.percent("10") == "10%"
    moment = datetime(2026, 3, 1, 21, 30, tzinfo=UTC)  # past midnight in Moscow
    assert ru.moment(moment) == "02.03.2026, 00:30"
    assert ru.day(moment) == "2 мар. 2026\u202fг."  # CLDR: a narrow no-break space
