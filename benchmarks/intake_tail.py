"""Where intake's slowest requests spend their time: reads the files an API process writes
with ``POTOK_TIMING`` set (``src/potok/timing.py``).

    POTOK_TIMING=/tmp/t/intake python benchmarks/intake.py --db postgresql --probe 0 ...
    python benchmarks/intake_tail.py /tmp/t/intake --skip 1000

Each request's time is split at its marks into segments named by the mark that ends
them (``thread``: waiting for an intake thread; ``connected``: the unit of work's set-up
with the connection's checkout; ``snapshot``: the snapshot's statement; ``commit_queued``:
the decision and the order's rows; ``commit_turn``: waiting behind another thread's
batch; ``commit_sent``: the own batch's statement; ``alone_sent``: a refused batch's
order sent again alone; ``retry``: an attempt lost to a conflict, up to its failure;
``back``: the event loop picking the finished work up; ``end``: the answer sent). It
prints the mean of every segment over all requests and over the slowest 1 % (by the
server's own time), what the slowest did (retries, refused batches, batch sizes), how
the requests and client connections spread over the processes, and the collector's
passes that overlapped the slowest requests. Last line:

    tail requests=N p50_ms=… p99_ms=… slowest_pct=1 top=segment:ms,segment:ms,…
"""

from __future__ import annotations

import argparse
import glob
import json
from collections import Counter, defaultdict
from typing import Any


def load(prefix: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    requests, collections = [], []
    for name in sorted(glob.glob(f"{prefix}.[0-9]*")):
        with open(name) as lines:
            for line in lines:
                record = json.loads(line)
                (collections if "gc" in record else requests).append(record)
    requests.sort(key=lambda r: r["at"])
    return requests, collections


def segments(request: dict[str, Any]) -> dict[str, float]:
    split: dict[str, float] = defaultdict(float)
    last = 0.0
    for name, at, _ in request["marks"]:
        split[name] += at - last
        last = at
    return split


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("prefix", help="the POTOK_TIMING path the server was given")
    parser.add_argument("--skip", type=int, default=0, help="first requests left out (warm-up)")
    parser.add_argument("--slowest", type=float, default=1.0, help="percent of requests")
    args = parser.parse_args()
    requests, collections = load(args.prefix)
    requests = requests[args.skip :]
    total = [r["marks"][-1][1] for r in requests]
    split = [segments(r) for r in requests]
    cut = pct(total, 1 - args.slowest / 100)
    slow = [i for i, t in enumerate(total) if t >= cut]
    names: list[str] = []
    for s in split:
        names.extend(n for n in s if n not in names)
    print(
        f"{len(requests)} requests; server time p50 {pct(total, 0.5):.1f} ms, "
        f"p95 {pct(total, 0.95):.1f}, p99 {pct(total, 0.99):.1f}, max {max(total):.1f}"
    )
    print(
        f"\nsegment          mean all   mean slowest {args.slowest:g} % ({len(slow)})   "
        "p99 of segment"
    )
    top = []
    for name in names:
        every = [s.get(name, 0.0) for s in split]
        slowest = [split[i].get(name, 0.0) for i in slow]
        mean_all = sum(every) / len(every)
        mean_slow = sum(slowest) / len(slowest)
        top.append((mean_slow, name))
        print(f"{name:16} {mean_all:8.2f}   {mean_slow:8.2f}   {pct(every, 0.99):8.2f}")
    marks_of = [Counter(m[0] for m in requests[i]["marks"]) for i in range(len(requests))]
    for label, chosen in (("all", range(len(requests))), ("slowest", slow)):
        chosen = list(chosen)
        retries = sum(marks_of[i]["retry"] for i in chosen)
        refused = sum(marks_of[i]["commit_refused"] for i in chosen)
        waited = sum(1 for i in chosen if split[i].get("commit_turn", 0) > 1)
        print(
            f"\n{label}: {len(chosen)} requests, {retries} retries, {refused} refused batches, "
            f"{waited} waited >1 ms behind another batch"
        )
        kinds = Counter(m[2] for i in chosen for m in requests[i]["marks"] if m[0] == "retry")
        if kinds:
            print(f"  retries by cause: {dict(kinds)}")
        sizes = Counter(m[2] for i in chosen for m in requests[i]["marks"] if m[0] == "commit_sent")
        print(f"  batch sizes sent by these requests' threads: {dict(sorted(sizes.items()))}")
    by_pid = Counter(r["pid"] for r in requests)
    ports = defaultdict(set)
    for r in requests:
        ports[r["pid"]].add(r["port"])
    print(
        "\nprocesses: "
        + ", ".join(
            f"{pid}: {n} requests on {len(ports[pid])} connections" for pid, n in by_pid.items()
        )
    )
    slow_by_pid = Counter(requests[i]["pid"] for i in slow)
    print(f"slowest by process: {dict(slow_by_pid)}")
    # in flight in the same process when each slowest request came in
    spans = defaultdict(list)
    for r, t in zip(requests, total, strict=True):
        spans[r["pid"]].append((r["at"], r["at"] + t / 1000))

    def in_flight(r: dict[str, Any]) -> int:
        return sum(1 for a, b in spans[r["pid"]] if a <= r["at"] < b)

    every_flight = [in_flight(r) for r in requests[:: max(1, len(requests) // 500)]]
    slow_flight = [in_flight(requests[i]) for i in slow]
    print(
        f"in flight in the process at arrival: all mean {sum(every_flight) / len(every_flight):.1f}, "
        f"slowest mean {sum(slow_flight) / len(slow_flight):.1f}"
    )
    gens = Counter()
    overlapped = 0
    for i in slow:
        r = requests[i]
        a, b = r["at"], r["at"] + total[i] / 1000
        hit = [c for c in collections if c["pid"] == r["pid"] and a <= c["at"] <= b]
        overlapped += bool(hit)
        gens.update(c["gc"] for c in hit)
    gen2 = [c["ms"] for c in collections if c["gc"] == 2]
    print(
        f"collections: {len(collections)} ({Counter(c['gc'] for c in collections)}), "
        f"gen 2 max {max(gen2, default=0):.1f} ms; slowest requests overlapping one: "
        f"{overlapped} (generations {dict(gens)})"
    )
    top.sort(reverse=True)
    print(
        f"tail requests={len(requests)} p50_ms={pct(total, 0.5):.0f} p99_ms={pct(total, 0.99):.0f} "
        f"slowest_pct={args.slowest:g} top=" + ",".join(f"{name}:{ms:.1f}" for ms, name in top[:5])
    )


if __name__ == "__main__":
    main()
