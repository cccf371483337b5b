"""Command-line start-up: how long a fresh ``potok`` process takes before it does anything.

    python benchmarks/cli_startup.py                          # this tree, 20 runs each
    python benchmarks/cli_startup.py --src /tmp/main/src --src src   # A/B, interleaved

Each case is run as a new process (``potok --help``, a command's help, ``potok --version``)
and its wall time measured; the median and the 90th percentile are printed per source
tree, with what ``python -X importtime -c 'import potok.cli.main'`` reports for the import
alone (its median over five runs). With several ``--src`` trees (checkouts of Potok whose
``src`` is put first on ``PYTHONPATH``, run by this interpreter) the runs are interleaved,
so that a busy machine slows every tree alike. The budget is 0.5 s for ``potok --help``.

The last line is machine-readable:

    cli_startup help_ms=160 import_ms=120
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASES = {
    "potok --help": ["--help"],
    "potok orders list --help": ["orders", "list", "--help"],
    "potok stock --help": ["stock", "--help"],
    "potok --version": ["--version"],
}
RUN = "from potok.cli.main import run; run()"
IMPORT = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| potok\.cli\.main$", re.MULTILINE)


def _environment(src: Path | None) -> dict[str, str]:
    env = dict(os.environ, COLUMNS="100")
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    return env


def _wall(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", RUN, *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _import_ms(env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import potok.cli.main"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    found = IMPORT.search(done.stderr)
    if found is None:
        raise SystemExit("python -X importtime did not report potok.cli.main")
    return int(found.group(1)) / 1000


def _p90(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.9 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="Runs of each case per tree.")
    parser.add_argument(
        "--src",
        type=Path,
        action="append",
        help="A source tree to put first on PYTHONPATH (repeat for an A/B); default: installed.",
    )
    options = parser.parse_args()
    trees: list[Path | None] = list(options.src or [None])
    for tree in trees:
        if tree is not None and not (tree / "potok" / "cli" / "main.py").exists():
            raise SystemExit(f"{tree} holds no potok/cli/main.py")
    envs = {tree: _environment(tree) for tree in trees}
    for env in envs.values():  # warm the byte-code caches once, uncounted
        _wall(["--help"], env)
    times: dict[tuple[Path | None, str], list[float]] = {}
    imports: dict[Path | None, list[float]] = {tree: [] for tree in trees}
    for run in range(options.runs):
        for name, args in CASES.items():
            for tree in trees:
                times.setdefault((tree, name), []).append(_wall(args, envs[tree]))
        if run < 5:
            for tree in trees:
                imports[tree].append(_import_ms(envs[tree]))
    print(f"load average {os.getloadavg()[0]:.2f}; {options.runs} runs per case, interleaved")
    for tree in trees:
        print(f"\n{tree or 'installed potok'}:")
        for name in CASES:
            values = times[(tree, name)]
            print(
                f"  {name:<28} median {statistics.median(values) * 1000:6.0f} ms"
                f"   p90 {_p90(values) * 1000:6.0f} ms"
            )
        print(f"  {'import potok.cli.main':<28} median {statistics.median(imports[tree]):6.0f} ms")
    last = trees[-1]
    print(
        f"\ncli_startup help_ms={statistics.median(times[(last, 'potok --help')]) * 1000:.0f} "
        f"import_ms={statistics.median(imports[last]):.0f}"
    )


if __name__ == "__main__":
    main()
