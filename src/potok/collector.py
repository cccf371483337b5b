"""Python's cycle collector held off while a window of events is being reacted to.

A window's objects - the orders read, their facts, the events and rows written - live
until its transaction ends, then go at once (reference counts free them). While they
live, the collector's younger generations see them survive and move them to the oldest
one, whose collections walk every object of the process (a worker's are some 200,000:
about 0.1 s each): the rules' reaction paid for one every few hundred orders, a third
of its CPU, for objects that were never garbage. Held off for the window, the collector
finds them gone when it runs next.

Windows are bounded (``events.batch_size``), so the cyclic garbage one leaves waits at
most that long. The worker's threads share the one collector: it is held off while any
of them is in a window and comes back when the last one leaves - only if it was on
before the first came in.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holding = 0  # threads in a window now
_was_on = False  # whether the collector ran before the first of them came in


@contextmanager
def collector_held() -> Iterator[None]:
    """Hold Python's cycle collector off for the block (see the module's docstring)."""
    global _holding, _was_on
    with _lock:
        if _holding == 0:
            _was_on = gc.isenabled()
            gc.disable()
        _holding += 1
    try:
        yield
    finally:
        with _lock:
            _holding -= 1
            if _holding == 0 and _was_on:
                gc.enable()
