import json
import sys
from pathlib import Path

from labelgate.cli import main
from labelgate.labeling import load_lfs

TICKETS = Path(__file__).resolve().parents[2] / "examples" / "support_tickets"
EXAMPLE_LFS = TICKETS.parent / "youtube_spam" / "lfs.py"
sys.path.insert(0, str(TICKETS))
import make_data  # noqa: E402


def test_lfs_command_prints_the_analysis_and_writes_artifacts(tmp_path, example_data, example_config, capsys):
    code = main(["lfs", "--data", str(example_data), "--config", str(example_config), "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "| lf | polarity | coverage" in out and "keyword_subscribe" in out
    for name in ("label_matrix.npy", "probs.parquet", "label_model.json", "lf_analysis.html",
                 "lf_coverage_accuracy.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_lfs_command_reports_a_broken_module_as_an_error(tmp_path, example_data, example_config, capsys):
    code = main(["lfs", "--data", str(example_data), "--config", str(example_config), "--out", str(tmp_path),
                 "--lf-module", str(tmp_path / "missing.py")])
    assert code == 1 and "LF module file not found" in capsys.readouterr().err


def test_the_analysis_names_lfs_that_depend_beyond_their_class(tmp_path, example_data, example_config, capsys):
    # The example's link rule fires on bare links, which its short-comment ham rule also fires on.
    code = main(["lfs", "--data", str(example_data), "--config", str(example_config), "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    header = next(line for line in out.splitlines() if "LF pairs dependent beyond their classes" in line)
    assert "keyword_link + short_comment" in header
    saved = json.loads((tmp_path / "label_model.json").read_text())
    names = [lf.name for lf in load_lfs(str(EXAMPLE_LFS))]
    assert [names.index("keyword_link"), names.index("short_comment")] in saved["contradicting_pairs"]


def test_with_more_classes_the_analysis_says_the_check_did_not_run(tmp_path, capsys):
    data = make_data.write(tmp_path / "data", train=300, dev=60, valid=60, test=80)
    code = main(["lfs", "--data", str(data), "--config", str(TICKETS / "config.yaml"), "--lf-module",
                 str(TICKETS / "lfs.py"), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "**LF pairs dependent beyond their classes**: not checked (two classes and label_model auto only)" in out
