"""The refit: once valid has chosen the epoch (and the family), the chosen model is trained again with the gold
valid rows added (training.refit_valid_weight)."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from labelgate.training import load_predictor
from labelgate.training.settings import TrainingSettings
from labelgate.training.step import run_train
from labelgate.training.toy import write_toy_inputs
from labelgate.training.trainer import refit_with_valid, train_classifier

from .test_trainer import SETTINGS, _inputs

NEW_WORD = "zorblax"  # in no train text: only the valid rows teach it


def _with_a_word_only_valid_has(inputs):
    """Every spam valid row also says NEW_WORD: a model that learned from valid links it to spam."""
    texts = [f"{t} {NEW_WORD}" if y == 1 else t for t, y in zip(inputs["valid_texts"], inputs["valid_labels"], strict=True)]
    assert not any(NEW_WORD in t for t in inputs["train_texts"])
    return {**inputs, "valid_texts": texts}


@pytest.mark.parametrize("family", ["hashed_linear", "hashed_embedding", "minilm"])
def test_the_refit_learns_from_the_valid_rows_for_the_chosen_epochs_and_keeps_the_held_out_scores(family):
    inputs, _ = _inputs()
    inputs = _with_a_word_only_valid_has(inputs)
    settings = SETTINGS.model_copy(update={"family": family, "embedding_dim": 8, "encoder_store": ""})
    first = train_classifier(**inputs, settings=settings, seed=0)
    refit = refit_with_valid(first, **inputs, settings=settings, seed=0)

    spam = inputs["classes"].index("spam")
    before = first.predictor.predict_proba([NEW_WORD])[0, spam]
    after = refit.predictor.predict_proba([NEW_WORD])[0, spam]
    assert after > before + 0.05, (before, after)
    # valid chose the epoch, so the refit runs exactly that many, and its numbers stay the held-out ones
    assert refit.predictor.info["refit"] == {**refit.predictor.info["refit"], "epochs": first.best_epoch,
                                             "valid_rows": len(inputs["valid_texts"]), "valid_weight": 1.0,
                                             "train_rows": len(inputs["train_texts"])}
    assert (refit.best_epoch, refit.valid_accuracy, refit.valid_log_loss, refit.history) == \
           (first.best_epoch, first.valid_accuracy, first.valid_log_loss, first.history)
    assert refit.predictor.temperature == first.predictor.temperature
    assert refit.predictor.info["family"] == family
    assert (refit.predictor.encoder is None) == (family != "minilm")


def test_the_refit_is_deterministic_and_its_weight_counts():
    inputs, _ = _inputs()
    inputs = _with_a_word_only_valid_has(inputs)
    first = train_classifier(**inputs, settings=SETTINGS, seed=3)
    a = refit_with_valid(first, **inputs, settings=SETTINGS, seed=3).predictor
    b = refit_with_valid(first, **inputs, settings=SETTINGS, seed=3).predictor
    heavy = refit_with_valid(first, **inputs, settings=SETTINGS.model_copy(update={"refit_valid_weight": 10.0}),
                             seed=3).predictor
    assert np.array_equal(a.first, b.first) and np.array_equal(a.bias, b.bias)
    spam = inputs["classes"].index("spam")
    assert heavy.predict_proba([NEW_WORD])[0, spam] > a.predict_proba([NEW_WORD])[0, spam]


def test_refit_valid_weight_must_not_be_negative():
    with pytest.raises(ValidationError, match="refit_valid_weight"):
        TrainingSettings(refit_valid_weight=-1)


@pytest.mark.parametrize("weight", [1.0, 0.0])
def test_the_train_step_refits_unless_the_weight_is_zero(tmp_path, weight):
    paths = write_toy_inputs(tmp_path / "in")
    config = yaml.safe_load(open(paths["config"]))
    config.setdefault("training", {})["refit_valid_weight"] = weight
    with open(paths["config"], "w") as fh:
        yaml.safe_dump(config, fh)
    metrics = run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
                        model_dir=str(tmp_path / "model"))
    predictor = load_predictor(tmp_path / "model")
    frame = pd.read_parquet(paths["data"])
    if weight:
        assert predictor.info["refit"]["epochs"] == metrics["best_epoch"]
        assert predictor.info["refit"]["valid_rows"] == int((frame["split"] == "valid").sum())
    else:
        assert "refit" not in predictor.info
    # the recorded valid accuracy is the held-out one: the epoch's own score in the history
    history = json.loads((tmp_path / "model" / "history.json").read_text())
    assert metrics["valid_accuracy"] == history[metrics["best_epoch"] - 1]["valid_accuracy"]
