"""The gate on the real example: a challenger trained on labels from half the LFs against a champion
trained on all of them, and a retrained (other seed) equal challenger."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from labelgate.evaluation import step as evaluation_step
from labelgate.evaluation.step import run_evaluate
from labelgate.ingest.step import run_ingest
from labelgate.labeling.step import run_weak_label
from labelgate.training.step import run_train
from labelgate.training.toy import majority_probs

pytestmark = pytest.mark.slow
LFS = Path(__file__).resolve().parents[2] / "examples" / "youtube_spam" / "lfs.py"



def _config(tmp_path_factory, example_config, **training):
    config = yaml.safe_load(example_config.read_text())
    config["training"].update(family="hashed_linear", **training)
    path = tmp_path_factory.mktemp("config") / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def fixed_family_config(tmp_path_factory, example_config):
    """The example config with one family and no dev rows, whatever the example names (the gate is under test
    here, not the model search: three searches would cost minutes, and dev labels would narrow the half-LF
    challenger's gap)."""
    return _config(tmp_path_factory, example_config, dev_weight=0.0)


@pytest.fixture(scope="module")
def example_training_config(tmp_path_factory, example_config):
    """The example's own training settings (its dev weight) with one family: the config two seeds of which are
    equal challengers. Without the dev rows two seeds can differ by 7 of the 250 test rows (one stops at a late
    epoch where valid accuracy is flat and its log loss still falls)."""
    return _config(tmp_path_factory, example_config)


@pytest.fixture(scope="module")
def example_models(tmp_path_factory, example_data, fixed_family_config, example_training_config):
    example_config = fixed_family_config
    root = tmp_path_factory.mktemp("champion")
    data = str(root / "data.parquet")
    run_ingest(data_uri=str(example_data), config_path=str(example_config), out_path=data)
    run_weak_label(data_path=data, lf_module=str(LFS), config_path=str(example_config),
                   seed=0, label_matrix_path=str(root / "L.npy"), probs_path=str(root / "probs.parquet"),
                   label_model_path=str(root / "label_model"), analysis_md_path=str(root / "lf.md"),
                   analysis_html_path=str(root / "lf.html"))
    votes = np.load(root / "L.npy")
    majority_probs(votes[:, 1::2]).to_parquet(root / "half_probs.parquet")  # every other LF removed
    for name, probs, seed, config in (("champion", "probs", 0, example_config), ("half_lfs", "half_probs", 0, example_config),
                                      ("example_champion", "probs", 0, example_training_config),
                                      ("retrained", "probs", 1, example_training_config)):
        run_train(data_path=data, probs_path=str(root / f"{probs}.parquet"), config_path=str(config),
                  seed=seed, model_dir=str(root / name))
    return root


def _evaluate(root, config, challenger, out, monkeypatch, champion="champion"):
    monkeypatch.setattr(evaluation_step, "find_champion", lambda registry_uri, model_name: ("1", root / champion))
    return run_evaluate(data_path=str(root / "data.parquet"), model_dir=str(root / challenger),
                        lf_analysis_path=str(root / "lf.md"), validation_report_path=None, config_path=str(config),
                        registry_uri=f"sqlite:///{root}/registry/mlflow.db", model_name="youtube-spam", min_test_accuracy=0.5,
                        min_test_f1=0.5, champion_tolerance=-0.02, seed=0, report_path=str(out / "report"),
                        blessing_path=str(out / "blessing"))


def test_a_challenger_from_half_the_lfs_is_not_blessed_against_the_champion(example_models, fixed_family_config,
                                                                             tmp_path, monkeypatch):
    outcome = _evaluate(example_models, fixed_family_config, "half_lfs", tmp_path, monkeypatch)
    assert outcome.challenger.scores.accuracy < outcome.champion.scores.accuracy
    assert not outcome.blessed
    assert outcome.blessing["checks"] == {"accuracy": True, "f1": True, "champion": False}
    assert "the lower bound is below the tolerance -0.0200, so it may be worse than the champion" in outcome.reason
    blessing = json.loads((tmp_path / "blessing").read_text())
    assert blessing["bootstrap"]["upper"] < 0 and blessing["champion"]["accuracy"] >= 0.92


def test_a_retrained_equal_challenger_is_blessed(example_models, example_training_config, tmp_path, monkeypatch):
    outcome = _evaluate(example_models, example_training_config, "retrained", tmp_path, monkeypatch,
                        champion="example_champion")
    assert outcome.blessed and "at or above the tolerance" in outcome.reason
    assert abs(outcome.challenger.scores.accuracy - outcome.champion.scores.accuracy) <= 0.02
