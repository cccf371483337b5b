"""The cycle collector held off while a window is reacted to: back on after it (a
failure too), left off when it was off, and on again only when the last of the worker's
threads in a window leaves."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from potok.collector import collector_held


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_in_the_window_and_on_after_it() -> None:
    with collector_held():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_on_again_after_a_window_that_failed() -> None:
    with pytest.raises(ConnectionError), collector_held():
        raise ConnectionError("the database went away")
    assert gc.isenabled()


def test_a_collector_someone_switched_off_stays_off() -> None:
    gc.disable()
    with collector_held():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_the_collector_is_on_again_only_when_the_last_thread_leaves_its_window() -> None:
    """Two threads in windows at once: the first to leave must not switch it back on
    under the other, and the second leaves it on (it was on before either came in)."""
    inside, second_may_leave = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def second() -> None:
        with collector_held():
            inside.set()
            second_may_leave.wait(10)
            seen["second before leaving"] = gc.isenabled()

    other = threading.Thread(target=second)
    with collector_held():
        other.start()
        assert inside.wait(10)
    seen["after the first left"] = gc.isenabled()
    second_may_leave.set()
    other.join(10)

    assert seen == {"after the first left": False, "second before leaving": False}
    assert gc.isenabled()
