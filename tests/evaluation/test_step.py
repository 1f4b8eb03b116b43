import json

import numpy as np
import pandas as pd
import pytest

from labelgate.errors import ModelError
from labelgate.evaluation import step as evaluation_step
from labelgate.evaluation.step import run_evaluate
from labelgate.training.step import run_train
from labelgate.training.toy import KEYWORD_LFS, write_toy_inputs


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """Toy inputs with a 200-row test split, and two models: one on all LFs' votes, one whose labels
    are the same votes with 45% of the covered training rows flipped (a deliberately worse challenger)."""
    root = tmp_path_factory.mktemp("toy")
    paths = write_toy_inputs(root / "in", n_test=200)
    run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
              model_dir=str(root / "good"))
    probs = pd.read_parquet(paths["probs"])
    rng = np.random.default_rng(0)
    flip = probs["covered"].to_numpy() & (rng.random(len(probs)) < 0.45)
    probs.loc[flip, ["prob_0", "prob_1"]] = probs.loc[flip, ["prob_1", "prob_0"]].to_numpy()
    noisy = root / "noisy_probs.parquet"
    probs.to_parquet(noisy)
    run_train(data_path=paths["data"], probs_path=str(noisy), config_path=paths["config"], seed=0,
              model_dir=str(root / "worse"))
    return root, paths


def _evaluate(root, paths, model, out, **overrides):
    kwargs = dict(data_path=paths["data"], model_dir=str(root / model), lf_analysis_path=None,
                  validation_report_path=None, config_path=paths["config"], registry_uri=f"sqlite:///{root}/registry/mlflow.db",
                  model_name="toy", min_test_accuracy=0.6, min_test_f1=0.6, champion_tolerance=-0.02, seed=0,
                  report_path=str(out / "report"), blessing_path=str(out / "blessing"))
    return run_evaluate(**{**kwargs, **overrides})


def _champion(monkeypatch, path):
    monkeypatch.setattr(evaluation_step, "find_champion", lambda registry_uri, model_name: None if path is None else ("1", path))


def test_first_model_is_blessed_on_thresholds_and_the_blessing_records_every_number(toy, tmp_path, monkeypatch):
    root, paths = toy
    _champion(monkeypatch, None)
    outcome = _evaluate(root, paths, "good", tmp_path)
    assert outcome.blessed and "no champion yet" in outcome.reason
    blessing = json.loads((tmp_path / "blessing").read_text())
    assert blessing["blessed"] is True and blessing["reason"] == outcome.reason
    assert blessing["champion"] is None and blessing["bootstrap"] is None and blessing["test_rows"] == 200
    assert blessing["champion_version"] is None  # push promotes only while there is still no champion
    assert blessing["challenger"]["accuracy"] == pytest.approx(outcome.metrics["test_accuracy"])
    assert {s["slice"] for s in blessing["slices"]} == {"source", "length"}
    assert np.asarray(blessing["confusion_matrix"]).sum() == 200


def test_thresholds_block_a_model_below_the_minimum(toy, tmp_path, monkeypatch):
    root, paths = toy
    _champion(monkeypatch, None)
    outcome = _evaluate(root, paths, "good", tmp_path, min_test_accuracy=0.999)
    assert not outcome.blessed and "below the minimum 0.9990" in outcome.reason


def test_a_worse_challenger_is_not_blessed_against_a_better_champion(toy, tmp_path, monkeypatch):
    root, paths = toy
    _champion(monkeypatch, root / "good")
    outcome = _evaluate(root, paths, "worse", tmp_path)
    assert outcome.challenger.scores.accuracy < outcome.champion.scores.accuracy
    assert outcome.challenger.scores.accuracy >= 0.6  # passes the absolute thresholds: the champion decides
    assert not outcome.blessed
    assert "lower bound is below the tolerance -0.0200" in outcome.reason
    assert outcome.bootstrap.upper < 0
    blessing = json.loads((tmp_path / "blessing").read_text())
    assert blessing["checks"] == {"accuracy": True, "f1": True, "champion": False}
    assert blessing["champion_version"] == "1"  # the champion it was compared with, for push's compare-and-set
    assert blessing["bootstrap"]["lower"] == pytest.approx(outcome.bootstrap.lower)
    assert np.asarray(blessing["champion_details"]["confusion_matrix"]).sum() == blessing["test_rows"]


def test_an_equal_or_better_challenger_is_blessed(toy, tmp_path, monkeypatch):
    root, paths = toy
    _champion(monkeypatch, root / "good")
    equal = _evaluate(root, paths, "good", tmp_path / "equal")
    assert equal.blessed and equal.bootstrap.lower == 0.0
    _champion(monkeypatch, root / "worse")
    better = _evaluate(root, paths, "good", tmp_path / "better")
    assert better.blessed and better.bootstrap.lower > 0
    assert "at or above the tolerance" in better.reason


def test_an_empty_test_split_is_a_model_error(toy, tmp_path, monkeypatch):
    root, paths = toy
    _champion(monkeypatch, None)
    frame = pd.read_parquet(paths["data"])
    frame = frame[frame["split"] != "test"]
    frame.to_parquet(tmp_path / "data.parquet")
    with pytest.raises(ModelError, match="test split is empty"):
        _evaluate(root, paths, "good", tmp_path, data_path=str(tmp_path / "data.parquet"))
    assert not (tmp_path / "blessing").exists()


def test_worse_labels_from_half_the_lfs_train_a_weaker_model(tmp_path):
    # The weak-supervision premise the gate protects: dropping LFs lowers coverage and the trained model.
    full = write_toy_inputs(tmp_path / "full", n_test=200)
    half = write_toy_inputs(tmp_path / "half", n_test=200, lfs=KEYWORD_LFS[::2])
    full_cov = pd.read_parquet(full["probs"])["covered"].mean()
    half_cov = pd.read_parquet(half["probs"])["covered"].mean()
    assert half_cov < full_cov
