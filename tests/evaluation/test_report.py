import json

import pandas as pd
import pytest
from markupsafe import escape

from labelgate.evaluation import step as evaluation_step
from labelgate.evaluation.report import assets_dir
from labelgate.evaluation.step import run_evaluate
from labelgate.training.step import run_train
from labelgate.training.toy import write_toy_inputs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    paths = write_toy_inputs(root / "in")
    run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
              model_dir=str(root / "model"), lineage={"probs": {"lf_code_sha256": "feedbeef"}})
    (root / "lf.md").write_text("| LF | coverage |\n| --- | --- |\n| keyword_my | 0.25 |\n")
    (root / "validation.md").write_text("# Validation\nAll **12** expectations passed.\n")
    patch = pytest.MonkeyPatch()
    patch.setattr(evaluation_step, "find_champion", lambda registry_uri, model_name: ("1", root / "model"))
    run_evaluate(data_path=paths["data"], model_dir=str(root / "model"), lf_analysis_path=str(root / "lf.md"),
                 validation_report_path=str(root / "validation.md"), config_path=paths["config"],
                 registry_uri=f"sqlite:///{root}/registry/mlflow.db", model_name="toy-model", min_test_accuracy=0.5,
                 min_test_f1=0.5, champion_tolerance=-0.02, seed=0, report_path=str(root / "out" / "report"),
                 blessing_path=str(root / "out" / "blessing"), lineage={"data": {"fingerprint": "abc123", "roles": {
                     "test": {"rows": 17, "origin": "file test.csv"}}}})
    patch.undo()
    return root / "out" / "report"


def test_report_holds_decision_metrics_lf_analysis_validation_and_lineage(reported):
    html = reported.read_text()
    blessing = json.loads((reported.parent / "blessing").read_text())
    assert "Model gate: BLESSED" in html and str(escape(blessing["reason"])) in html
    assert "<table>" in html and "<td>keyword_my</td>" in html  # LF analysis markdown table rendered
    assert "<strong>12</strong>" in html
    assert "abc123" in html and "feedbeef" in html and blessing["lineage"]["config_sha256"] in html
    # each role's rows and origin, and how precision/recall/F1 are averaged
    assert "<h2>Data roles</h2>" in html and "<td>file test.csv</td>" in html
    assert "precision, recall, F1: binary, positive class" in html
    assert html.count("data:image/png;base64,") == 6  # confusion, ROC, calibration, slices, bootstrap, training


def test_report_plots_are_png_files_beside_it_with_a_browsable_copy(reported):
    assets = assets_dir(reported)
    names = {p.name for p in assets.glob("*.png")}
    assert names == {"confusion_matrix.png", "roc_curve.png", "calibration.png", "slices.png", "bootstrap.png",
                     "training.png"}
    assert all((assets / n).read_bytes().startswith(PNG_MAGIC) for n in names)
    index = (assets / "index.html").read_text()
    assert 'href="slices.png"' in index and f'href="{assets.name}/slices.png"' in reported.read_text()


def test_text_in_inputs_is_escaped(tmp_path, monkeypatch):
    paths = write_toy_inputs(tmp_path / "in")
    frame = pd.read_parquet(paths["data"])
    run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
              model_dir=str(tmp_path / "model"))
    monkeypatch.setattr(evaluation_step, "find_champion", lambda registry_uri, model_name: None)
    run_evaluate(data_path=paths["data"], model_dir=str(tmp_path / "model"), lf_analysis_path=None,
                 validation_report_path=None, config_path=paths["config"],
                 registry_uri=f"sqlite:///{tmp_path}/registry/mlflow.db",
                 model_name="<script>x</script>", min_test_accuracy=0.5, min_test_f1=0.5, champion_tolerance=0.0,
                 seed=0, report_path=str(tmp_path / "report"), blessing_path=str(tmp_path / "blessing"))
    html = (tmp_path / "report").read_text()
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert len(frame) > 0


def test_lineage_summary_finds_the_hashes_by_key_and_says_when_missing():
    from labelgate.evaluation.report import lineage_summary

    rows = [("data.fingerprint", "f1"), ("model.lineage.probs.lf_code_sha256", "l1"), ("git_commit", "c1"),
            ("config_sha256", "s1"), ("data.repair.cells_repaired", "7"), ("data.repair.input_sha256", "i1"),
            ("data.repair.output_sha256", "o1")]
    summary = dict(lineage_summary(rows))
    assert summary["data repair: cells changed"] == "7" and summary["table trained on (sha256, after repair)"] == "o1"
    assert summary["data fingerprint"] == "f1" and summary["LF code hash"] == "l1"
    assert summary["git commit"] == "c1" and summary["config sha256"] == "s1"
    assert summary["expectation suite hash"] == "not recorded"


def test_a_searched_model_s_report_plots_its_trials(tmp_path, monkeypatch):
    paths = write_toy_inputs(tmp_path / "in")
    config = tmp_path / "in" / "config.yaml"
    config.write_text(config.read_text().replace("family: hashed_linear", "family: auto, search_trials: 2, "
                                                  "search_families: [hashed_linear]"))
    run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=str(config), seed=0,
              model_dir=str(tmp_path / "model"))
    (tmp_path / "lf.md").write_text("lfs\n")
    (tmp_path / "validation.md").write_text("ok\n")
    monkeypatch.setattr(evaluation_step, "find_champion", lambda registry_uri, model_name: None)
    run_evaluate(data_path=paths["data"], model_dir=str(tmp_path / "model"), lf_analysis_path=str(tmp_path / "lf.md"),
                 validation_report_path=str(tmp_path / "validation.md"), config_path=str(config),
                 registry_uri=f"sqlite:///{tmp_path}/registry/mlflow.db", model_name="toy-model", min_test_accuracy=0.5,
                 min_test_f1=0.5, champion_tolerance=-0.02, seed=0, report_path=str(tmp_path / "out" / "report"),
                 blessing_path=str(tmp_path / "out" / "blessing"))
    html = (tmp_path / "out" / "report").read_text()
    assert "Model search (family auto)" in html
    assert (assets_dir(tmp_path / "out" / "report") / "model_search.png").read_bytes().startswith(PNG_MAGIC)
