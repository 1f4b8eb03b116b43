import json
from pathlib import Path

import pytest
from kfp import dsl

from labelgate.components.train import train
from labelgate.contract import LF_MODULE_FILE, TRAINING_CONFIG_FILE
from labelgate.training import load_predictor
from labelgate.training.toy import write_toy_inputs


def test_train_component_writes_a_model_directory_and_metrics(tmp_path):
    paths = write_toy_inputs(tmp_path / "in")
    data = dsl.Dataset(uri=paths["data"], metadata={"fingerprint": "f00"})
    probs = dsl.Dataset(uri=paths["probs"], metadata={"lf_names": ["a", "b"]})
    model = dsl.Model(uri=str(tmp_path / "train" / "model"))
    metrics = dsl.Metrics(uri=str(tmp_path / "train" / "metrics"))
    lfs = Path(__file__).resolve().parents[2] / "examples" / "youtube_spam" / "lfs.py"
    train.python_func(data=data, probs=probs, config_path=paths["config"], seed=3, model=model, metrics=metrics,
                      lf_module=str(lfs))
    assert (Path(model.path) / LF_MODULE_FILE).read_bytes() == lfs.read_bytes()
    assert (Path(model.path) / TRAINING_CONFIG_FILE).is_file()
    predictor = load_predictor(model.path)
    assert predictor.predict_proba(["check out my channel"]).shape == (1, 2)
    assert predictor.info["lineage"] == {"data": {"fingerprint": "f00"}, "probs": {"lf_names": ["a", "b"]}}
    assert metrics.metadata["valid_accuracy"] == model.metadata["valid_accuracy"] > 0.5
    assert model.metadata["framework"] == "pytorch" and model.metadata["seed"] == 3


def test_train_component_turns_bad_probabilities_into_failure_json(tmp_path, capsys):
    paths = write_toy_inputs(tmp_path / "in")
    (tmp_path / "in" / "probs.parquet").write_text("not parquet")
    model = dsl.Model(uri=str(tmp_path / "train" / "model"))
    with pytest.raises(SystemExit) as exit_info:
        train.python_func(data=dsl.Dataset(uri=paths["data"]), probs=dsl.Dataset(uri=paths["probs"]),
                          config_path=paths["config"], seed=0, model=model,
                          metrics=dsl.Metrics(uri=str(tmp_path / "train" / "metrics")))
    assert exit_info.value.code == 1
    failure = json.loads((tmp_path / "train" / "failure.json").read_text())
    assert failure["step"] == "train" and failure["error"] == "DataError" and "probs" in failure["message"]
    assert "train failed: DataError" in capsys.readouterr().err


def test_train_component_rejects_all_one_class_labels(tmp_path):
    import pandas as pd

    paths = write_toy_inputs(tmp_path / "in")
    probs = pd.read_parquet(paths["probs"])
    probs[["prob_0", "prob_1"]] = [0.0, 1.0]
    probs.to_parquet(paths["probs"])
    model = dsl.Model(uri=str(tmp_path / "train" / "model"))
    with pytest.raises(SystemExit):
        train.python_func(data=dsl.Dataset(uri=paths["data"]), probs=dsl.Dataset(uri=paths["probs"]),
                          config_path=paths["config"], seed=0, model=model,
                          metrics=dsl.Metrics(uri=str(tmp_path / "train" / "metrics")))
    failure = json.loads((tmp_path / "train" / "failure.json").read_text())
    assert failure["error"] == "ModelError" and "degenerate labels" in failure["message"]
    assert not (tmp_path / "train" / "model").exists()
