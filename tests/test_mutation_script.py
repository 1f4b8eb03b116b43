"""scripts/mutation.py's counting: only a mutant a test caught counts as killed (a failing test, a timeout,
a type-check catch); survived, untested, skipped and not-yet-run mutants count against the score, and
the output points at the file that says why each known survivor is equivalent."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("mutation_script", ROOT / "scripts" / "mutation.py")
mutation = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutation)


def _results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, codes: dict[str, int | None]) -> None:
    monkeypatch.setattr(mutation, "MUTANTS", tmp_path)
    monkeypatch.setattr(mutation, "targets", lambda: ["src/labelgate/run.py", "src/labelgate/validation/verdict.py"])
    meta = tmp_path / "src" / "labelgate" / "run.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))


def test_only_caught_mutants_count_as_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    # failing test, timeout, type check: killed; survived (0), no tests (33), skipped (34), not run (None): not
    codes = {"m1": 1, "m2": 24, "m3": 37, "m4": 0, "m5": 33, "m6": 34, "m7": None, "m8": 1}
    _results(tmp_path, monkeypatch, codes)
    assert mutation.main(["--report-only", "--module", "labelgate.run"]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "score labelgate.run 0.500 (4/8)"
    assert [line.split()[1] for line in lines[1:5]] == ["m4", "m5", "m6", "m7"]
    assert "docs/mutation.md" in lines[5] and "below 0.90: labelgate.run" in err
    assert (ROOT / "docs" / "mutation.md").is_file()


def test_a_module_at_the_minimum_passes_and_one_never_run_scores_zero(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _results(tmp_path, monkeypatch, {f"m{i}": (0 if i == 0 else 1) for i in range(10)})
    assert mutation.main(["--report-only", "--module", "labelgate.run", "--min-score", "0.9"]) == 0
    assert capsys.readouterr().out.startswith("score labelgate.run 0.900 (9/10)\n")
    assert mutation.main(["--report-only"]) == 1
    assert "score labelgate.validation.verdict 0.000 (0/0)" in capsys.readouterr().out
