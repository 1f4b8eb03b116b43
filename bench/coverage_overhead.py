"""What line coverage costs `make test`: one test file run with and without pytest-cov, in one run.

The two ways alternate (without, with, without, ...) so that a machine busy with other work slows both
alike; each is a fresh `python -m pytest` process, as `make test` starts one. With coverage, the processes
the tests start are measured too ([tool.coverage.run] patch = ["subprocess"] in pyproject.toml).

    python bench/coverage_overhead.py [TEST_FILE] [--rounds N]

Prints the median wall and CPU seconds (user + system, the processes the tests start included) of each,
and the ratios with / without (the anchor: the same tests without). On a machine shared with other work
the CPU ratio is the one to read: the wall clock there mostly measures the others.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(test_file: str, *, coverage: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "COVERAGE_FILE": str(Path(data) / ".coverage")}
        flags = ["--cov", "--cov-report="] if coverage else ["-p", "no:cov"]
        started, cpu = time.perf_counter(), _cpu()
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *flags, test_file],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"{test_file} failed ({'with' if coverage else 'without'} coverage):\n{done.stdout[-2000:]}")
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("test_file", nargs="?", default="tests/test_run.py")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    without, with_ = [], []
    for _ in range(args.rounds):
        without.append(_run(args.test_file, coverage=False))
        with_.append(_run(args.test_file, coverage=True))
    print(f"coverage overhead on {args.test_file} (median of {args.rounds}, alternating)")
    for i, what in enumerate(("wall", "CPU ")):
        plain, covered = statistics.median(r[i] for r in without), statistics.median(r[i] for r in with_)
        print(f"  {what} without coverage {plain:7.2f} s (anchor)   with coverage {covered:7.2f} s   "
              f"ratio {covered / plain:5.2f}x")


if __name__ == "__main__":
    main()
