"""Every way CI services spell ``CI`` means CI, so PostgreSQL and Chromium cannot be skipped
there by a spelling; only an empty value or an explicit no means a developer's machine."""

from __future__ import annotations

import pytest

from tests.environment import under_ci


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1", "yes", "on", "woodpecker"])
def test_any_set_value_of_ci_means_ci(value: str) -> None:
    assert under_ci({"CI": value}) is True


@pytest.mark.parametrize("value", ["", "0", "false", "False", "no", "off", " "])
def test_an_empty_or_negative_ci_means_a_developer_machine(value: str) -> None:
    assert under_ci({"CI": value}) is False


def test_no_ci_variable_means_a_developer_machine() -> None:
    assert under_ci({}) is False
