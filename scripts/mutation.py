"""`make mutation`: mutmut over the modules that decide a run's fate (pyproject's [tool.mutmut]), then one
line per module, ``score <module> <fraction> (<killed>/<total>)``, and the survivors.

Counting is strict: only mutants a test killed (a failing test, a timeout, or a type-check catch) count as
killed; survived, "no tests", skipped, not checked, suspicious and segfaulting mutants all count against
the score. Exit status 1 when a module scores below ``--min-score`` (0.90), 2 when mutmut itself failed.

    .venv/bin/python scripts/mutation.py [--min-score 0.9] [--jobs 2] [--module labelgate.run ...] [--report-only]

``--module`` (repeatable) runs and scores only those modules (`make mutation MUTATION_ARGS="--module
labelgate.run"`); the weekly workflow runs them all. docs/mutation.md keeps the last measured scores and the
reason each known survivor is equivalent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
SURVIVORS_DOC = "docs/mutation.md"  # the measured scores and why each known survivor is equivalent
# mutmut's exit codes for a mutant a test caught (mutmut.stats.status_by_exit_code): a failing test (1),
# a pytest internal error (3), a timeout (24, 36, 152, 255, -24), caught by the type checker (37)
KILLED = {1, 3, 24, 36, 152, 255, -24, 37}
EXAMPLE_DATA = (ROOT.parent / "shared" / "data" / "youtube-spam", ROOT / "data" / "youtube-spam")


def targets() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]


def prepare() -> None:
    """Tests find the example where `make data` puts it, under the root they run from (mutants/)."""
    place = MUTANTS / "data" / "youtube-spam"
    if place.exists() or place.is_symlink():
        return
    found = next((p for p in EXAMPLE_DATA if p.is_dir()), None)
    if found is not None:
        place.parent.mkdir(parents=True, exist_ok=True)
        place.symlink_to(found.resolve())


def mutmut_env() -> dict[str, str]:
    """mutmut forks each mutant's test run from one process that has already run torch: with OpenMP's
    thread pool started before the fork the child can hang (seen as "timeouts"); one thread avoids it."""
    return {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **os.environ, "PYTHONUNBUFFERED": "1"}


def registry_template() -> Path:
    """An empty MLflow registry database the tests copy (tests/conftest.py's ``LABELGATE_TEST_REGISTRY_TEMPLATE``):
    each mutant runs a pytest session of its own, and creating the tables once per session took most of it."""
    db = MUTANTS / "registry-template.db"
    db.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-c", "import sys; from labelgate.champion import open_client; "
                    "open_client(f'sqlite:///{sys.argv[1]}').search_experiments()", str(db)], check=True, cwd=ROOT)
    return db


def run_mutmut(jobs: int, modules: list[str]) -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    log = MUTANTS / "mutmut.log"
    MUTANTS.mkdir(exist_ok=True)
    env = {**mutmut_env(), "LABELGATE_TEST_REGISTRY_TEMPLATE": str(registry_template())}
    print(f"mutation: running mutmut over {len(modules) or len(targets())} modules ({jobs} jobs); log: {log}",
          flush=True)
    with log.open("w") as out:
        proc = subprocess.run([str(mutmut), "run", "--max-children", str(jobs), *(f"{m}.*" for m in modules)], cwd=ROOT, stdout=out,
                              stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").replace("\r", "\n").splitlines()[-30:]
        print("\n".join(tail), file=sys.stderr)
    return proc.returncode


def module_name(target: str) -> str:
    return target.removeprefix("src/").removesuffix(".py").replace("/", ".")


def scores(modules: list[str]) -> list[tuple[str, int, int, list[str]]]:
    """(module, killed, total, survivors) for each target module (or those in ``modules``), from mutmut's
    result files."""
    rows = []
    for target in targets():
        if modules and module_name(target) not in modules:
            continue
        meta = MUTANTS / f"{target}.meta"
        results = json.loads(meta.read_text())["exit_code_by_key"] if meta.is_file() else {}
        survivors = sorted(name for name, code in results.items() if code not in KILLED)
        rows.append((module_name(target), len(results) - len(survivors), len(results), survivors))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-score", type=float, default=0.90)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--module", action="append", default=[], help="only this module (repeatable)")
    parser.add_argument("--report-only", action="store_true", help="read the last run's results; run nothing")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.module) - {module_name(t) for t in targets()})
    if unknown:
        parser.error(f"--module {unknown}: not in pyproject's [tool.mutmut] only_mutate "
                     f"({', '.join(module_name(t) for t in targets())})")
    if not args.report_only:
        prepare()
        if run_mutmut(args.jobs, args.module) != 0:
            print("mutation: mutmut failed (see the log above); no score", file=sys.stderr)
            return 2
    low = []
    any_survivor = False
    for module, killed, total, survivors in scores(args.module):
        fraction = killed / total if total else 0.0
        print(f"score {module} {fraction:.3f} ({killed}/{total})")
        if fraction < args.min_score:
            low.append(module)
        for name in survivors:
            any_survivor = True
            print(f"    survived: {name}   (see: mutmut show {name})")
    if any_survivor:
        print(f"mutation: survivors known to be equivalent, and why, are listed in {SURVIVORS_DOC}; "
              "any other survivor needs a test")
    if low:
        print(f"mutation: below {args.min_score:.2f}: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
