import numpy as np
import pytest
import torch

from labelgate.errors import ModelError
from labelgate.training.settings import TrainingSettings
from labelgate.training.toy import keyword_votes, majority_probs, toy_frame
from labelgate.training.trainer import soft_cross_entropy, train_classifier

SETTINGS = TrainingSettings(family="hashed_linear", hash_bits=12, char_ngrams=(2, 4), learning_rate=0.05, epochs=12, patience=4, batch_size=16, device="cpu")


def _inputs(seed=0):
    frame = toy_frame(seed=seed)
    probs = majority_probs(keyword_votes(frame["CONTENT"].tolist()))
    train = (frame["split"] == "train") & probs["covered"]
    valid, test = frame[frame["split"] == "valid"], frame[frame["split"] == "test"]
    return dict(train_texts=frame.loc[train, "CONTENT"].tolist(),
                train_targets=probs.loc[train, ["prob_0", "prob_1"]].to_numpy(),
                valid_texts=valid["CONTENT"].tolist(), valid_labels=valid["CLASS"].to_numpy(dtype=int),
                classes=["ham", "spam"]), test


def test_soft_cross_entropy_matches_hard_cross_entropy_on_one_hot_targets():
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.3]])
    hard = torch.tensor([0, 1])
    soft = torch.nn.functional.one_hot(hard, 2).float()
    assert torch.isclose(soft_cross_entropy(logits, soft), torch.nn.functional.cross_entropy(logits, hard))
    # A uniform target penalises confidence either way: loss is minimal at equal logits.
    uniform = torch.full((1, 2), 0.5)
    assert soft_cross_entropy(torch.zeros(1, 2), uniform) < soft_cross_entropy(torch.tensor([[3.0, 0.0]]), uniform)


@pytest.mark.parametrize("family", ["hashed_linear", "hashed_embedding"])
def test_learns_the_toy_task_from_noisy_weak_labels(family):
    inputs, test = _inputs()
    settings = TrainingSettings(**{**SETTINGS.__dict__, "family": family, "embedding_dim": 8})
    result = train_classifier(**inputs, settings=settings, seed=0)
    accuracy = (result.predictor.predict(test["CONTENT"].tolist()) == test["CLASS"].to_numpy(dtype=int)).mean()
    assert accuracy >= 0.85
    assert 1 <= result.best_epoch <= result.epochs_run <= settings.epochs
    assert result.valid_accuracy == result.history[result.best_epoch - 1]["valid_accuracy"]


def test_same_seed_gives_identical_weights_and_other_seed_differs():
    inputs, _ = _inputs()
    settings = TrainingSettings(**{**SETTINGS.__dict__, "epochs": 3, "patience": 3})
    a = train_classifier(**inputs, settings=settings, seed=7).predictor
    b = train_classifier(**inputs, settings=settings, seed=7).predictor
    c = train_classifier(**inputs, settings=settings, seed=8).predictor
    assert np.array_equal(a.first, b.first) and np.array_equal(a.bias, b.bias)
    assert not np.array_equal(a.first, c.first)


def test_degenerate_labels_are_rejected():
    inputs, _ = _inputs()
    inputs["train_targets"] = np.tile([1.0, 0.0], (len(inputs["train_texts"]), 1))
    with pytest.raises(ModelError, match="degenerate labels"):
        train_classifier(**inputs, settings=SETTINGS, seed=0)


def test_nan_probabilities_are_rejected_naming_the_row():
    inputs, _ = _inputs()
    inputs["train_targets"] = inputs["train_targets"].copy()
    inputs["train_targets"][3] = np.nan
    with pytest.raises(ModelError, match="NaN/inf label probabilities .* train row 3"):
        train_classifier(**inputs, settings=SETTINGS, seed=0)


def test_empty_valid_split_and_too_few_rows_are_rejected():
    inputs, _ = _inputs()
    with pytest.raises(ModelError, match="valid split is empty"):
        train_classifier(**{**inputs, "valid_texts": [], "valid_labels": np.array([], dtype=int)},
                         settings=SETTINGS, seed=0)
    with pytest.raises(ModelError, match="at least 10"):
        train_classifier(**{**inputs, "train_texts": inputs["train_texts"][:3],
                            "train_targets": inputs["train_targets"][:3]}, settings=SETTINGS, seed=0)


def test_row_weights_weigh_the_loss_and_bad_weights_are_rejected():
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.3]])
    targets = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    per_row = -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1)
    weighted = soft_cross_entropy(logits, targets, torch.tensor([3.0, 1.0]))
    assert torch.isclose(weighted, (3 * per_row[0] + per_row[1]) / 4)
    inputs, _ = _inputs()
    with pytest.raises(ModelError, match="train_weights"):
        train_classifier(**inputs, settings=SETTINGS, seed=0, train_weights=np.ones(3))


def test_temperature_scaling_lowers_log_loss_without_changing_predictions():
    from labelgate.training.trainer import fit_temperature

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=400)
    # Overconfident logits: right 80% of the time but with a margin of 6.
    right = rng.random(400) < 0.8
    predicted = np.where(right, labels, 1 - labels)
    logits = np.zeros((400, 2))
    logits[np.arange(400), predicted] = 6.0
    t = fit_temperature(logits, labels)
    assert t > 1.5  # softens: the best margin for 80% accuracy is ln(4) ~ 1.39, so T ~ 6 / 1.39

    def nll(x):
        x = x - x.max(axis=1, keepdims=True)
        return -(x[np.arange(400), labels] - np.log(np.exp(x).sum(axis=1))).mean()

    assert nll(logits / t) < nll(logits)
    assert t == pytest.approx(6.0 / np.log(4.0), rel=0.05)


def test_trials_on_the_same_texts_featurize_them_once_and_train_as_if_fresh(monkeypatch):
    from labelgate.training import trainer
    from labelgate.training.features import HashedNgrams

    inputs, test = _inputs()
    fits = []
    real_fit = HashedNgrams.fit
    monkeypatch.setattr(HashedNgrams, "fit", lambda self, texts: fits.append(len(texts)) or real_fit(self, texts))
    monkeypatch.setattr(trainer, "_NGRAMS", {})
    first = train_classifier(**inputs, settings=SETTINGS, seed=0)
    again = train_classifier(**inputs, settings=SETTINGS.model_copy(update={"learning_rate": 0.02}), seed=1)
    assert len(fits) == 1  # the second trial reused the featurization
    probe = test["CONTENT"].tolist()
    monkeypatch.setattr(trainer, "_NGRAMS", {})
    fresh = train_classifier(**inputs, settings=SETTINGS.model_copy(update={"learning_rate": 0.02}), seed=1)
    np.testing.assert_allclose(again.predictor.predict_proba(probe), fresh.predictor.predict_proba(probe), rtol=1e-6)
    # other n-gram settings or other texts featurize again
    train_classifier(**inputs, settings=SETTINGS.model_copy(update={"hash_bits": 11}), seed=0)
    train_classifier(**{**inputs, "train_texts": inputs["train_texts"][1:], "train_targets": inputs["train_targets"][1:]},
                     settings=SETTINGS, seed=0)
    assert len(fits) == 4 and first.predictor.featurizer is not None
