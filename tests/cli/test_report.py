import os

import pytest

from labelgate.cli import main
from labelgate.cli.report import find_report, run_directory
from labelgate.errors import LabelgateError


def _fake_run(root, name, with_index=True):
    task = root / name / "labelgate-training-2026" / "evaluate"
    task.mkdir(parents=True)
    (task / "blessing").write_text("{}")
    (task / "report").write_text("<html></html>")
    if with_index:
        (task / "report_files").mkdir()
        (task / "report_files" / "index.html").write_text("<html></html>")
    return task


def test_report_command_prints_the_browsable_report_of_a_run(tmp_path, capsys):
    task = _fake_run(tmp_path, "run-1")
    assert main(["report", "run-1", "--runs-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str((task / "report_files" / "index.html").resolve())


def test_latest_and_direct_paths_resolve(tmp_path):
    _fake_run(tmp_path, "old", with_index=False)
    newest = _fake_run(tmp_path, "new", with_index=False)
    os.utime(tmp_path / "old", (1_000_000, 1_000_000))
    os.utime(newest / "report", (2_000_000, 2_000_000))
    assert find_report(run_directory("latest", tmp_path)) == newest / "report"
    assert find_report(run_directory(str(tmp_path / "new"), "elsewhere")) == newest / "report"


def test_a_run_without_a_report_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "run-2" / "x").mkdir(parents=True)
    with pytest.raises(LabelgateError, match="no run report under"):
        find_report(run_directory("run-2", tmp_path))
    assert main(["report", "nope", "--runs-dir", str(tmp_path)]) == 1
    assert "no run 'nope'" in capsys.readouterr().err
