import json

import pandas as pd
import pytest

from labelgate.errors import ModelError
from labelgate.training import load_predictor
from labelgate.training.step import run_train
from labelgate.training.toy import write_toy_inputs


def test_run_train_writes_a_loadable_model_with_history_and_lineage(tmp_path):
    paths = write_toy_inputs(tmp_path / "in")
    metrics = run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
                        model_dir=str(tmp_path / "model"), lineage={"data": {"fingerprint": "abc"}})
    frame = pd.read_parquet(paths["data"])
    covered = pd.read_parquet(paths["probs"])["covered"]
    assert metrics["train_rows"] == int(((frame["split"] == "train") & covered).sum())
    assert 0 < metrics["train_row_fraction"] <= 1 and metrics["valid_accuracy"] >= 0.8
    predictor = load_predictor(tmp_path / "model")
    assert predictor.info["lineage"]["data"]["fingerprint"] == "abc" and predictor.info["seed"] == 0
    assert len(json.loads((tmp_path / "model" / "history.json").read_text())) == metrics["epochs_run"]


def test_probs_from_another_run_are_rejected(tmp_path):
    paths = write_toy_inputs(tmp_path / "in")
    pd.read_parquet(paths["probs"]).head(10).to_parquet(paths["probs"])
    with pytest.raises(ModelError, match="different runs"):
        run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
                  model_dir=str(tmp_path / "model"))


def test_probs_without_class_columns_are_rejected(tmp_path):
    paths = write_toy_inputs(tmp_path / "in")
    pd.read_parquet(paths["probs"]).drop(columns=["prob_1"]).to_parquet(paths["probs"])
    with pytest.raises(ModelError, match=r"lacks column\(s\) \['prob_1'\]"):
        run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
                  model_dir=str(tmp_path / "model"))


def test_nan_probabilities_stop_training_and_write_no_model(tmp_path):
    paths = write_toy_inputs(tmp_path / "in")
    probs = pd.read_parquet(paths["probs"])
    probs.loc[0, ["prob_0", "prob_1"]] = float("nan")
    probs.loc[0, "covered"] = True
    probs.to_parquet(paths["probs"])
    with pytest.raises(ModelError, match="NaN"):
        run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
                  model_dir=str(tmp_path / "model"))
    assert not (tmp_path / "model").exists()


def test_training_rows_filter_by_confidence_and_add_gold_dev_rows_once():
    import numpy as np

    from labelgate.ingest.settings import DataSettings
    from labelgate.training.step import training_rows

    frame = pd.DataFrame({"CONTENT": ["a", "b", "c", "d", "e"], "CLASS": pd.array([pd.NA, 1, pd.NA, 0, 1], "Int64"),
                          "split": ["train", "train", "train", "train", "test"],
                          "dev": [False, True, False, True, False]})
    probs = pd.DataFrame({"row": range(5), "prob_0": [0.9, 0.6, 0.5, 0.0, 0.5], "prob_1": [0.1, 0.4, 0.5, 1.0, 0.5],
                          "covered": [True, True, False, True, False]})
    data = DataSettings()
    texts, targets, weights = training_rows(frame, probs, data)
    assert texts == ["a", "b", "d"] and weights.tolist() == [1, 1, 1]
    texts, _, _ = training_rows(frame, probs, data, min_confidence=0.7)
    assert texts == ["a", "d"]
    texts, targets, weights = training_rows(frame, probs, data, dev_weight=2.0)
    assert texts == ["a", "b", "d"]  # dev rows b and d come once, with gold labels
    np.testing.assert_allclose(targets, [[0.9, 0.1], [0, 1], [1, 0]])
    assert weights.tolist() == [1, 2, 2]


def test_the_model_keeps_the_config_and_lf_module_it_was_trained_with(tmp_path):
    from pathlib import Path

    from labelgate.contract import LF_MODULE_FILE, TRAINING_CONFIG_FILE

    paths = write_toy_inputs(tmp_path / "in")
    lfs = Path(__file__).resolve().parents[2] / "examples" / "youtube_spam" / "lfs.py"
    run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
              model_dir=str(tmp_path / "model"), lf_module=str(lfs))
    assert (tmp_path / "model" / LF_MODULE_FILE).read_bytes() == lfs.read_bytes()
    assert (tmp_path / "model" / TRAINING_CONFIG_FILE).read_bytes() == Path(paths["config"]).read_bytes()
    load_predictor(tmp_path / "model")  # the extra files do not disturb loading
