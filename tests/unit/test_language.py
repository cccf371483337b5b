"""Choosing Russian or English for problem documents from the Accept-Language header."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from potok.api.i18n import language_of


def request_with(accept_language: str | None) -> Request:
    headers = [] if accept_language is None else [(b"accept-language", accept_language.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_without_the_header_the_language_is_english() -> None:
    assert language_of(request_with(None)) == "en"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("ru", "ru"),
        ("RU", "ru"),
        ("ru-RU", "ru"),
        ("en", "en"),
        ("en-GB", "en"),
        ("", "en"),
        (" , ,", "en"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),  # a Russian browser
        ("en-US,en;q=0.9,ru;q=0.8", "en"),  # an English browser that also reads Russian
        ("de-DE,de;q=0.9,ru;q=0.5,en;q=0.3", "ru"),  # German first, then Russian
        ("de-DE,de;q=0.9,en;q=0.5,ru;q=0.3", "en"),
        ("en;q=0.5, ru;q=0.8", "ru"),  # order does not matter, quality does
        ("ru; q=0.4, en; q=0.6", "en"),  # spaces around the parameter
        ("fr-FR,fr;q=0.9", "en"),  # neither: English
        ("*", "en"),
        ("uk,ru;q=0.8", "ru"),
        ("ru,en", "ru"),  # equal quality: the first one wins
        ("en,ru", "en"),
        ("en;q=abc, ru;q=0.1", "ru"),
    ],
)
def test_the_preferred_supported_language_wins(header: str, language: str) -> None:
    assert language_of(request_with(header)) == language


def test_a_language_refused_with_q_zero_is_not_chosen() -> None:
    assert language_of(request_with("ru;q=0")) == "en"
