"""Customer messages from Jinja2 templates, one per topic and language, each with a subject,
a plain-text part and an HTML part (``renderers/messages/<language>/<topic>.j2``, sharing
``_base.j2``). The HTML part is rendered with autoescaping, the others as written; a
template that does not render against the sample order is refused before it is used."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, TemplateError

from potok.domain.notifications import Language, Topic

FOLDER = Path(__file__).parent / "messages"
SEPARATOR = "---8<---"

SAMPLE: dict[str, Any] = {
    "order_id": 1042,
    "first_name": "Анна",
    "total": "4 990.00",
    "currency": "RUB",
    "carrier": "sandbox",
    "tracking_number": "SBX000123",
    "eta_on": "2026-12-10",
    "pickup_point": "MSK-P",
    "pickup_address": "Москва",
    "storage_until": "2026-12-17 21:00 UTC",
    "reason": "",
    "return_number": "RT-000001",
    "refund_amount": "2 490.00",
    "tracking_url": "https://shop.example/track/sample",
    "shop": "Potok",
}
"""A made-up order every template must render against (previews, checks)."""


class BrokenTemplate(ValueError):
    """A template that does not render."""


@lru_cache(maxsize=2)
def _environment(html: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(FOLDER),
        autoescape=html,  # noqa: S701 - the plain-text parts are not HTML; the HTML part escapes
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _parts(name: str, context: dict[str, Any], *, html: bool) -> list[str]:
    defaults = dict.fromkeys(SAMPLE, "")
    rendered = _environment(html).get_template(name).render({**defaults, **context})
    parts = rendered.split(SEPARATOR)
    if len(parts) != 3:
        raise BrokenTemplate(f"{name}: subject, text and HTML parts expected")
    return parts


def render(topic: Topic, language: Language, context: dict[str, Any]) -> tuple[str, str, str]:
    """The subject (one line), the plain text and the HTML of a message."""
    name = f"{language.value}/{topic.value}.j2"
    try:
        subject, text, _ = _parts(name, context, html=False)
        _, _, html = _parts(name, context, html=True)
    except TemplateError as error:
        raise BrokenTemplate(f"{name}: {error}") from error
    return " ".join(subject.split()), text.strip() + "\n", html.strip() + "\n"


def check_all() -> None:
    """Every topic in every language renders against the sample (refused otherwise)."""
    for topic in Topic:
        for language in Language:
            render(topic, language, SAMPLE)
