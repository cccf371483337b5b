"""ISO codes Potok accepts: currencies (ISO 4217) and countries (ISO 3166-1 alpha-2).

The lists come from pycountry, which carries Debian's iso-codes data and follows each
amendment of the standards (a list copied here would go stale: ANG became XCG in 2025).
It is imported on first use, so that starting the command line does not pay for it.
"""

from __future__ import annotations

from functools import cache


@cache
def currencies() -> frozenset[str]:
    """Every current ISO 4217 alphabetic code."""
    import pycountry  # lazy: most commands never check one

    return frozenset(c.alpha_3 for c in pycountry.currencies)


@cache
def countries() -> frozenset[str]:
    """Every current ISO 3166-1 alpha-2 code."""
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries)


def is_currency(code: str) -> bool:
    return code in currencies()


def is_country(code: str) -> bool:
    return code in countries()
