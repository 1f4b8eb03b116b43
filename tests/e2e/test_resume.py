"""`labelgate run --resume`: after a push that failed, only push runs again; after an LF change, the run
starts again from apply-lfs. Three pipeline runs on the example; the pages of the resumed run are opened in
headless Chromium."""

import os
import shutil
from pathlib import Path

import pytest
from chromium_pages import assert_renders

from labelgate.run import EXIT_ERROR, EXIT_OK, STEPS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

# Started with this folder on PYTHONPATH, every Python process (the CLI and each step) makes the push step fail
# as an unreachable registry would; the other steps are untouched.
FAIL_PUSH = '''
import importlib.abc, importlib.util, sys

class FailPush(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "labelgate.registry.step":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)

            def push_model(**kwargs):
                from labelgate.errors import LabelgateError
                raise LabelgateError("forced failure: the registry is unreachable")

            module.push_model = push_model

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, FailPush())
'''


def _steps(summary: dict) -> dict[str, str]:
    return {step["name"]: step["status"] for step in summary["steps"]}


def test_resume_runs_only_push_after_it_failed_and_from_apply_lfs_after_an_lf_change(labelgate_run, example_data,
                                                                                      tmp_path):
    registry = tmp_path / "registry"
    lfs = tmp_path / "lfs.py"
    shutil.copyfile(ROOT / "examples" / "youtube_spam" / "lfs.py", lfs)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FAIL_PUSH)

    first = labelgate_run("--data", str(example_data), "--lf-module", str(lfs), run_id="resume-1",
                          registry=registry,
                          env={"PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))})
    assert first.exit_code == EXIT_ERROR, first.output
    assert first.summary["failure"]["step"] == "push" and "forced failure" in first.summary["failure"]["message"]
    ran = [name for name, status in _steps(first.summary).items() if status == "ok"]
    assert set(STEPS) - {"push"} <= set(ran) | {"repair"}, first.summary["steps"]  # repair only when configured
    assert _steps(first.summary)["push"] == "FAILED"

    # Same inputs, the registry back: every step but push is the first run's; push runs and pushes.
    second = labelgate_run("--resume", "resume-1", run_id="resume-2", registry=registry)
    assert second.exit_code == EXIT_OK, second.output
    assert {name: _steps(second.summary)[name] for name in [*ran, "push"]} == \
        {**{name: "reused" for name in ran}, "push": "ok"}, second.output
    assert second.summary["resumed_from"] == "resume-1"
    assert second.summary["arguments"]["lf_module"] == str(lfs)  # the first run's flags
    # Its pages are the first run's files, opened from this run's folder as a person would.
    run_dir = Path(second.summary["location"])
    for name, styled in (("report.html", False), ("lf_analysis.html", False), ("validation.html", True)):
        page = assert_renders(run_dir / name, styled=styled)
        assert page["images"], f"{name} shows its plots"
    validation = assert_renders(run_dir / "validation.html", styled=True)
    assert "Passed with 1 warning(s)" in validation["text"]  # the example's warning-severity uniqueness check

    # A changed LF module: ingest and the two plans (they read the config only) are reused, everything else from
    # apply-lfs on runs again.
    lfs.write_text(lfs.read_text() + "\n# edited after the first run: the module's content changed\n")
    third = labelgate_run("--resume", "resume-2", run_id="resume-3", registry=registry)
    assert third.exit_code != EXIT_ERROR, third.output
    steps = _steps(third.summary)
    assert steps["ingest"] == steps["plan-shards"] == "reused", steps
    after = [name for name in STEPS[STEPS.index("apply-lfs"):] if (name in ran or name == "push")
             and name != "plan-search"]
    assert all(steps[name] != "reused" for name in after), steps
    assert steps["apply-lfs"] == "ok" and steps["weak-label"] == "ok", steps
