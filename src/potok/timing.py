"""Where one request's time goes, written to a file when ``POTOK_TIMING`` names one.

A tool for latency tails (docs/architecture.md, the intake notes): the hot route opens a
record when the request comes in, the layers it passes through mark the moments they
reach (queued for a thread, the thread started, the connection checked out, the snapshot
back, the commit queued, sent, committed, a retry), and when the answer has gone out the
record is written as one JSON line - the process id, the client's port, and each mark's
name with its milliseconds since the request came in - to ``POTOK_TIMING.<pid>``. The
cycle collector's passes are written to the same file with their start and length, so
that a slow request can be laid over them. ``benchmarks/intake_tail.py`` reads the files.

Off (the default), a mark is one module global's test. The record follows the request
into the intake thread as a context variable (the hand-off copies the context).
"""

from __future__ import annotations

import gc
import os
import threading
import time
from contextvars import ContextVar
from typing import Any, TextIO

import orjson

PATH = os.environ.get("POTOK_TIMING", "")
ENABLED = bool(PATH)

_record: ContextVar[list[Any] | None] = ContextVar("potok_timing", default=None)
_out: TextIO | None = None
_out_name = ""
_out_lock = threading.Lock()
_gc_started = 0.0
_gc_cpu = 0.0
_collections: list[dict[str, Any]] = []  # written with the next request's record


def begin(client_port: int | None) -> list[Any] | None:
    """Open the request's record (the hot route's entry); None when timing is off."""
    if not ENABLED:
        return None
    record: list[Any] = [time.perf_counter(), client_port]
    _record.set(record)
    return record


def mark(name: str, value: Any = None) -> None:
    """Note that the request reached ``name`` now (``value``: a figure that goes with it,
    such as a batch's size)."""
    if ENABLED:
        record = _record.get()
        if record is not None:
            record.append((name, time.perf_counter(), value))


def finish(record: list[Any] | None) -> None:
    """Write the request's record (after its answer went out)."""
    if record is None:
        return
    record.append(("end", time.perf_counter(), None))
    started, port = record[0], record[1]
    marks = [(name, round(1000 * (at - started), 3), value) for name, at, value in record[2:]]
    lines = [{"pid": os.getpid(), "port": port, "at": started, "marks": marks}]
    while True:  # appended by the collector's callback, which must not write itself
        try:
            lines.append(_collections.pop(0))
        except IndexError:
            break
    global _out, _out_name
    name = f"{PATH}.{os.getpid()}"  # each worker process its own file
    with _out_lock:
        if _out is None or _out_name != name:
            if _out is not None:
                _out.close()
            _out = open(name, "a", buffering=1 << 16)  # noqa: SIM115 - kept open
            _out_name = name
        for line in lines:
            _out.write(orjson.dumps(line).decode() + "\n")


def flush() -> None:
    """Write out what is buffered (the process's shutdown)."""
    with _out_lock:
        if _out is not None:
            _out.flush()


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    global _gc_started, _gc_cpu
    if phase == "start":
        _gc_started, _gc_cpu = time.perf_counter(), time.thread_time()
    elif _gc_started:
        ended, cpu = time.perf_counter(), time.thread_time()
        _collections.append(
            {
                "pid": os.getpid(),
                "gc": info.get("generation"),
                "at": _gc_started,
                "ms": round(1000 * (ended - _gc_started), 3),
                "cpu_ms": round(1000 * (cpu - _gc_cpu), 3),
                "collected": info.get("collected"),
            }
        )


def watch_collector() -> None:
    """Write the cycle collector's passes too (once per process)."""
    if ENABLED and _on_collection not in gc.callbacks:
        gc.callbacks.append(_on_collection)
