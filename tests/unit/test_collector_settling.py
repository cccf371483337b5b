"""An API process's first full collections freeze what they leave
(``api/app.settle_what_first_requests_built``): later full passes no longer walk what the
first requests built for good, and cyclic garbage made later is still collected. Run in a
process of its own: the collector's state is the process's."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc
from potok.api.app import settle_what_first_requests_built

gc.disable()  # only the passes below: none started by allocations on the way
gc.collect()
gc.freeze()  # what start-up built, as settle_start_up_objects does
settle_what_first_requests_built(passes=2)
settle_what_first_requests_built(passes=2)  # a second application: no second callback
built = [{"n": [n]} for n in range(50_000)]  # what the first requests keep
frozen = gc.get_freeze_count()
gc.collect()
first = gc.get_freeze_count() - frozen
gc.collect()
more = [{"n": [n]} for n in range(10_000)]
gc.collect()  # the third full pass: passes=2 spent, nothing frozen
third = gc.get_freeze_count() - frozen - first


class Node:
    pass


a, b = Node(), Node()
a.other, b.other = b, a
del a, b
print(first, third, gc.collect())
"""


def test_the_first_full_passes_freeze_what_they_leave_and_later_garbage_is_collected() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, this test's script
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    first, third, collected = map(int, done.stdout.split())
    assert first >= 100_000  # the 50,000 dicts and their lists, frozen by the first pass
    assert third == 0
    assert collected >= 2  # the two nodes' cycle
