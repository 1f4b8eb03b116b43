"""Tabular feature columns beside the text: the model learns from them, saves their preprocessing, and
predicts from the same values at serving time (missing values allowed, bad ones named)."""

import numpy as np
import pandas as pd
import pytest

from labelgate.errors import ConfigError
from labelgate.ingest.settings import DataSettings
from labelgate.training.predictor import load_predictor
from labelgate.training.settings import TrainingSettings
from labelgate.training.step import check_feature_columns
from labelgate.training.tabular import TabularFeatures
from labelgate.training.trainer import train_classifier

SETTINGS = dict(family="hashed_linear", hash_bits=10, char_ngrams=(0, 0), word_ngrams=(1, 1), learning_rate=0.05, epochs=30, patience=8,
                batch_size=16, device="cpu", calibrate=False)


def _table(n: int, seed: int) -> pd.DataFrame:
    """The class is decided by a category and a number; the text is the same filler for both classes."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["free", "pro", "team", "enterprise"], n)
    spend = rng.normal(100, 30, n)
    label = (2 * np.isin(plan, ["team", "enterprise"]) + (spend - 100) / 30 > 1).astype(int)
    text = rng.choice(["hello there", "a question", "please help", "thanks"], n)
    return pd.DataFrame({"text": text, "plan": plan, "spend": spend, "label": label})


def _train(columns, seed=0):
    train, valid = _table(400, seed), _table(150, seed + 1)
    settings = TrainingSettings(**SETTINGS, feature_columns=columns)
    targets = np.eye(2)[train["label"]]
    return train_classifier(train_texts=train["text"].tolist(), train_targets=targets,
                            valid_texts=valid["text"].tolist(), valid_labels=valid["label"].to_numpy(),
                            classes=["no", "yes"], settings=settings, seed=seed,
                            train_features=train, valid_features=valid)


def _accuracy(predictor, frame, features=True):
    given = {c: frame[c].tolist() for c in ("plan", "spend")} if features else None
    return float((predictor.predict(frame["text"].tolist(), given) == frame["label"].to_numpy()).mean())


def test_feature_columns_reach_the_model_and_survive_save_and_load(tmp_path):
    test = _table(200, 9)
    text_only = _train(())
    with_features = _train(("plan", "spend"))
    assert text_only.predictor.feature_columns == ()
    assert with_features.predictor.feature_columns == ("spend", "plan")  # numeric first, then categorical
    assert _accuracy(text_only.predictor, test, features=False) < 0.7  # the text says nothing about the class
    assert _accuracy(with_features.predictor, test) >= 0.9
    with_features.predictor.save(tmp_path / "model")
    loaded = load_predictor(tmp_path / "model")
    given = {"plan": test["plan"].tolist(), "spend": test["spend"].tolist()}
    np.testing.assert_allclose(loaded.predict_proba(test["text"].tolist(), given),
                               with_features.predictor.predict_proba(test["text"].tolist(), given), atol=1e-6)
    # One text with its fields (the serving path) equals the batch row.
    one = loaded.predict_proba(test["text"].tolist()[:1], {"plan": given["plan"][:1], "spend": given["spend"][:1]})
    np.testing.assert_allclose(one[0], loaded.predict_proba(test["text"].tolist(), given)[0], atol=1e-6)
    # Without the columns (plain texts, as a smoke test sends) the model still answers: values count as missing.
    probs = loaded.predict_proba(["hello there", "thanks"])
    assert probs.shape == (2, 2) and np.allclose(probs.sum(axis=1), 1.0)


def test_missing_values_count_as_missing_not_as_zero():
    features = TabularFeatures.fit(pd.DataFrame({"spend": [10.0, 30.0], "plan": ["a", "b"]}), ["spend", "plan"],
                                   hash_bits=6)
    block = features.transform({"spend": [None, 30.0, "20"], "plan": ["a", None, "a"]}, 3).toarray()
    assert block[0, 1] == 1.0 and block[1, 1] == 0.0  # the missing flag
    assert block[0, 0] == 0.0 and block[1, 0] == pytest.approx(1.0) and block[2, 0] == pytest.approx(0.0)
    assert (block[0, 2:] == block[2, 2:]).all() and not (block[0, 2:] == block[1, 2:]).all()


def test_text_columns_of_numbers_are_numeric_features():
    """Ingest reads CSV cells as text: a column whose every value is a number is still numeric."""
    frame = pd.DataFrame({"seats": ["10", "20", None], "code": ["1", "x", "2"], "flag": [True, False, True]})
    features = TabularFeatures.fit(frame, ["seats", "code", "flag"], hash_bits=6)
    assert features.spec.numeric == (("seats", 15.0, 5.0),) and features.spec.categorical == ("code", "flag")


def test_check_names_unknown_fields_and_bad_values():
    features = TabularFeatures.fit(pd.DataFrame({"spend": [1.0, 2.0], "plan": ["a", "b"]}), ["spend", "plan"],
                                   hash_bits=6)
    features.check([{"spend": 3, "plan": "c"}, {"spend": None}, {}])
    with pytest.raises(ValueError, match=r"instances\[1\] has field\(s\) \['age'\].*\['plan', 'spend'\]"):
        features.check([{"spend": 1}, {"age": 3}])
    with pytest.raises(ValueError, match=r"instances\[0\]\.spend must be a number or null, got 'lots'"):
        features.check([{"spend": "lots"}])
    with pytest.raises(ValueError, match=r"instances\[0\]\.plan must be a string, number, boolean or null"):
        features.check([{"plan": ["a"]}])


def test_feature_columns_the_data_lacks_or_that_leak_the_label_are_config_errors():
    with pytest.raises(ConfigError, match=r"training.feature_columns names column\(s\) \['age'\]"):
        TabularFeatures.fit(pd.DataFrame({"spend": [1.0]}), ["age"], hash_bits=6)
    data = DataSettings(id_column="id", text_column="text", label_column="label", classes=("no", "yes"))
    check_feature_columns(TrainingSettings(feature_columns=["plan"]), data)
    with pytest.raises(ConfigError, match=r"names \['label', 'split'\].*cannot be model features"):
        check_feature_columns(TrainingSettings(feature_columns=["label", "plan", "split"]), data)
