"""Python's cycle collector held off while a bounded batch of short-lived objects is
alive: a window of events being reacted to, a file's rows being read and applied.

Such objects - the orders read, their facts, the events and rows written, a file's
100,000 rows - make no cycles and go at once when the batch ends (reference counts free
them). While they live, the collector's younger generations see them survive and move
them to the oldest one, whose collections walk every object of the process (a worker's
are some 200,000: about 0.1 s each): the rules' reaction paid for one every few hundred
orders, a third of its CPU, and reading a 100,000-row file a fifth of its CPU, for
objects that were never garbage. Held off for the batch, the collector finds them gone
when it runs next.

The batches are bounded (``events.batch_size``, one file), so the cyclic garbage one
leaves waits at most that long. A process's threads share the one collector: it is held
off while any of them is in a batch and comes back when the last one leaves - only if it
was on before the first came in.
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
