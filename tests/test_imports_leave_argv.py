"""Importing any labelgate module leaves the command line alone (KServe parses sys.argv when imported)."""

import subprocess
import sys

CODE = """
import importlib, pkgutil, sys
sys.argv = ["pytest", "--co", "-q"]
import labelgate
names = sorted(m.name for m in pkgutil.walk_packages(labelgate.__path__, "labelgate.")
               if not m.name.endswith("__main__"))
for name in names:
    importlib.import_module(name)
assert sys.argv == ["pytest", "--co", "-q"], sys.argv
print(len(names), "modules")
"""


def test_every_module_imports_with_foreign_flags_on_the_command_line():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[0]) > 50


def test_pytest_collect_only_works():
    done = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "tests/serving/test_serving_model.py"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "test_" in done.stdout
