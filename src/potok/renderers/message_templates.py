"""Customer messages from Jinja2 templates, one per topic, language and medium: an e-mail
has a subject, a plain-text part and an HTML part (``renderers/messages/<language>/
<topic>.j2``, sharing ``_base.j2``), an SMS one short text (``.../sms/<topic>.j2``).
The HTML part is rendered with autoescaping, the others as written.

Templates run in Jinja's immutable sandbox, shipped ones and administrators' alike: a
template reaches only the values it is given. An administrator's template replaces the
shipped one of its topic, language and medium; it may extend the shipped ``_base.j2``.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from potok.domain.notifications import Language, Topic
from potok.domain.notifications.templates import Medium

log = logging.getLogger("potok.notifications")

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
    "pickup_hours": "пн-вс 10:00-21:00",
    "storage_until": "2026-12-17 21:00 UTC",
    "reason": "",
    "return_number": "RT-000001",
    "refund_amount": "2 490.00",
    "tracking_url": "https://shop.example/track/sample",
    "shop": "Potok",
}
"""A made-up order every template must render against (previews, checks); its keys are
the variables a template may use."""


class BrokenTemplate(ValueError):
    """A template that does not render."""


def environment(*, html: bool, strict: bool = False) -> ImmutableSandboxedEnvironment:
    """The sandbox templates render in (``strict``: an undefined value is an error, for
    checks)."""
    return _environment(html, strict)


@lru_cache(maxsize=4)
def _environment(html: bool, strict: bool) -> ImmutableSandboxedEnvironment:
    from jinja2 import StrictUndefined, Undefined

    return ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(FOLDER),
        autoescape=html,  # the plain-text parts are not HTML; the HTML part escapes
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined if strict else Undefined,
    )


def default_name(topic: Topic, language: Language, medium: Medium = Medium.EMAIL) -> str:
    """The shipped template of a topic, language and medium."""
    if medium is Medium.SMS:
        return f"{language.value}/sms/{topic.value}.j2"
    return f"{language.value}/{topic.value}.j2"


def default_source(topic: Topic, language: Language, medium: Medium = Medium.EMAIL) -> str:
    """The text of the shipped template (what an administrator starts from)."""
    return (FOLDER / default_name(topic, language, medium)).read_text(encoding="utf-8")


@lru_cache(maxsize=256)
def compiled(source: str, html: bool, strict: bool = False) -> Template:
    """An administrator's template, compiled once per text."""
    return _environment(html, strict).from_string(source)


def rendered(
    template: str | None,
    name: str,
    context: dict[str, Any],
    *,
    html: bool,
    strict: bool = False,
) -> str:
    """``template`` (an administrator's text) or else the shipped template ``name``,
    rendered with every known variable present."""
    defaults = dict.fromkeys(SAMPLE, "")
    if template is None:
        found = _environment(html, strict).get_template(name)
    else:
        found = compiled(template, html, strict)
    return found.render({**defaults, **context})


def split_email(text: str, name: str) -> list[str]:
    parts = text.split(SEPARATOR)
    if len(parts) != 3:
        raise BrokenTemplate(f"{name}: subject, text and HTML parts expected")
    return parts


def _email(name: str, source: str | None, context: dict[str, Any]) -> tuple[str, str, str]:
    try:
        subject, text, _ = split_email(rendered(source, name, context, html=False), name)
        _, _, html = split_email(rendered(source, name, context, html=True), name)
    except TemplateError as error:
        raise BrokenTemplate(f"{name}: {error}") from error
    return " ".join(subject.split()), text.strip() + "\n", html.strip() + "\n"


def render(
    topic: Topic,
    language: Language,
    context: dict[str, Any],
    *,
    source: str | None = None,
) -> tuple[str, str, str]:
    """The subject (one line), the plain text and the HTML of an e-mail: from ``source``
    (an administrator's template) when given, else the shipped one. A stored template
    that fails for this order (it passed its check against the sample) gives way to the
    shipped one, so that the customer still hears."""
    name = default_name(topic, language)
    if source is not None:
        try:
            return _email(name, source, context)
        except (BrokenTemplate, TemplateError, ArithmeticError, TypeError, ValueError) as error:
            log.warning("the stored template %s failed, the shipped one is used: %s", name, error)
    return _email(name, None, context)


def render_short(
    topic: Topic,
    language: Language,
    context: dict[str, Any],
    *,
    source: str | None = None,
) -> str:
    """The one-part text of an SMS or messenger message (whitespace runs made single)."""
    name = default_name(topic, language, Medium.SMS)
    if source is not None:
        try:
            return " ".join(rendered(source, name, context, html=False).split())
        except (TemplateError, ArithmeticError, TypeError, ValueError) as error:
            log.warning("the stored template %s failed, the shipped one is used: %s", name, error)
    try:
        return " ".join(rendered(None, name, context, html=False).split())
    except TemplateError as error:
        raise BrokenTemplate(f"{name}: {error}") from error


def check_all() -> None:
    """Every shipped e-mail template in every language renders against the sample
    (refused otherwise)."""
    for topic in Topic:
        for language in Language:
            render(topic, language, SAMPLE)
