"""The console's languages: its translated texts (a gettext catalogue read at start-up),
and dates, money, numbers and plurals formatted per language with Babel.

The Russian texts live in ``locale/ru/LC_MESSAGES/console.po``, keyed by the English text;
``make messages`` refreshes the catalogue from the templates and this package, and a test
fails while any text has no Russian.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import NullTranslations, Translations
from fastapi import Request

from potok.api.i18n import language_of

LANGUAGES = ("ru", "en")
LANGUAGE_COOKIE = "potok_lang"
ZONE_COOKIE = "potok_tz"
LOCALE_DIR = Path(__file__).parent / "locale"
CATALOGUE = "console"


def console_language(request: Request) -> str:
    """The language the person chose (remembered in a cookie), else their browser's."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return language_of(request)


def console_zone(request: Request) -> ZoneInfo:
    """The person's time zone as their browser reported it; UTC until it has."""
    name = request.cookies.get(ZONE_COOKIE, "")
    if name and len(name) <= 64:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of ``language``, compiled in memory from its .po file."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{CATALOGUE}.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled, domain=CATALOGUE)


class Formats:
    """Numbers, money, dates and durations the way a reader of ``language`` writes them."""

    def __init__(self, language: str, zone: ZoneInfo) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self.zone = zone

    def money(self, amount: Decimal | str | None, currency: str = "RUB") -> str:
        if amount is None:
            return ""
        return format_currency(Decimal(amount), currency, locale=self.locale)

    def number(self, value: int | Decimal | None) -> str:
        return "" if value is None else format_decimal(value, locale=self.locale)

    def percent(self, value: Decimal | str | None) -> str:
        """A rate such as VAT, written in percent ("22 %" in Russian, "22%" in English)."""
        if value is None:
            return ""
        rate = Decimal(value).normalize() / 100
        return format_percent(rate, locale=self.locale, decimal_quantization=False)

    def moment(self, value: datetime | str | None, length: str = "short") -> str:
        """A moment in the reader's time zone."""
        if value is None:
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return format_datetime(value, length, tzinfo=self.zone, locale=self.locale)

    def day(self, value: date | str | None, length: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        return format_date(value, length, locale=self.locale)

    def ago(self, value: datetime | None, now: datetime) -> str:
        """How long ago, in words ("5 minutes")."""
        if value is None:
            return ""
        return format_timedelta(now - value, threshold=1.0, locale=self.locale)
