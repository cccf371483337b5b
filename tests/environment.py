"""Where the tests run: under CI a missing part (PostgreSQL, Chromium, the FNS schema) is a
failure, elsewhere a skip. CI services set ``CI`` to ``true``, ``1``, ``yes`` or anything
else; only an empty value or an explicit no (``0``, ``false``, ``no``, ``off``) means a
developer's machine, so no spelling of CI can quietly skip half of the suite."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NoReturn

import pytest

NOT_CI = frozenset({"", "0", "false", "no", "off", "n", "f"})


def under_ci(environ: Mapping[str, str] | None = None) -> bool:
    """True when the ``CI`` variable says these tests run in continuous integration."""
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in NOT_CI


def missing(reason: str) -> NoReturn:
    """A part the tests need is not there: fail under CI, skip elsewhere."""
    if under_ci():
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)
