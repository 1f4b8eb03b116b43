"""`needs(...)`: a missing tool or file skips with its reason, and under CI=true fails instead; `make test`
prints the skip reasons and the line coverage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
NEEDY = '''
from ci_needs import needs

def test_needs_a_tool():
    needs(False, "frobnicate not on PATH")
'''


def _pytest(tmp_path: Path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_needy.py").write_text(NEEDY)
    env = {**os.environ, "CI": ci, "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "no:cov",
                           str(tmp_path / "test_needy.py")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_missing_need_skips_with_its_reason(tmp_path):
    done = _pytest(tmp_path, ci="")
    assert done.returncode == 0, done.stdout
    assert "SKIPPED" in done.stdout and "frobnicate not on PATH" in done.stdout


def test_under_ci_a_missing_need_fails(tmp_path):
    done = _pytest(tmp_path, ci="true")
    assert done.returncode == 1, done.stdout
    assert "CI=true but frobnicate not on PATH" in done.stdout and "1 failed" in done.stdout


def _make_test(*args: str) -> str:
    # Not the variables of a `make test PYTEST_ARGS=...` this suite may run under (make passes them on in MAKEFLAGS).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTEST_ARGS",
                                                            "COVERAGE", "TEST_JOBS")}
    done = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "test", *args], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60, env=env)
    return done.stdout.strip().splitlines()[-1]


def test_make_test_prints_skip_reasons_and_coverage():
    command = _make_test()
    assert "-m pytest" in command and " -rs" in command
    assert "--cov" in command and "--cov-report=term:skip-covered" in command and "--cov-fail-under=" in command
    assert "--cov-fail-under=" in _make_test("PYTEST_ARGS=--durations=12")  # CI's whole suite: held to it
    subset = _make_test("PYTEST_ARGS=-m 'not e2e'")  # a subset reports coverage, holds no floor
    assert "--cov " in subset and "--cov-fail-under" not in subset


def test_make_test_runs_test_files_in_workers_unless_told_not_to():
    assert " -n 2 --dist loadfile " in _make_test()
    assert " -n 4 --dist loadfile " in _make_test("TEST_JOBS=4")
    assert " -n " not in _make_test("TEST_JOBS=0") and "--dist" not in _make_test("TEST_JOBS=0")
