"""One to a few texts are featurised row by row (HashedNgrams.row); the result equals the sparse path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelgate.training import load_predictor
from labelgate.training import predictor as predictor_module

HARD_TEXTS = [
    "Check out my channel for free gift cards!!! http://example.com/?a=1&b=2",
    "This song brings back so many memories, love it <3",
    "", "   \t\n ", "!!!", "CAPS lock IS ON", "tabs\tand\nnewlines",
    "Ünïcödé ✓ émojis 🎶🎶 and 中文 and עברית", "İstanbul ıı Straße ǅ Ωμέγα ﬁ ǅǆ ﬀ ﬃ",
    "e\u0301 combining accents and 123 456 789", "SUBSCRIBE SUBSCRIBE subscribe Subscribe",
    "a" * 3000, "x y z " * 200,
]


@pytest.fixture(scope="module")
def embedding_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from labelgate.training.settings import TrainingSettings
    from labelgate.training.trainer import train_classifier

    texts = ["free gift cards", "check my channel", "great song", "love this video"] * 3
    labels = np.array([1, 1, 0, 0] * 3)
    settings = TrainingSettings(family="hashed_embedding", hash_bits=9, embedding_dim=8, epochs=3, device="cpu",
                                min_train_rows=4)
    result = train_classifier(train_texts=texts, train_targets=np.eye(2, dtype=np.float32)[labels],
                              valid_texts=texts, valid_labels=labels, classes=["ham", "spam"], settings=settings,
                              seed=0)
    return result.predictor.save(tmp_path_factory.mktemp("emb") / "model")


def _texts(example_data: Path | None) -> list[str]:
    texts = list(HARD_TEXTS)
    if example_data is not None:
        import pandas as pd

        frames = [pd.read_csv(p) for p in sorted(example_data.glob("*.csv"))]
        texts += pd.concat(frames)["CONTENT"].astype(str).tolist()[:600]
    return texts


def test_row_by_row_path_equals_the_sparse_path(model_dirs, embedding_model, example_data, monkeypatch):
    texts = _texts(example_data)
    for model_dir in (model_dirs[0], embedding_model):
        predictor = load_predictor(model_dir)
        small = np.vstack([predictor.predict_proba([t]) for t in texts])
        four = predictor.predict_proba(texts[:4])
        monkeypatch.setattr(predictor_module, "SMALL_BATCH", 0)
        sparse = predictor.predict_proba(texts)
        monkeypatch.undo()
        np.testing.assert_allclose(small, sparse, atol=1e-6, rtol=0)
        np.testing.assert_allclose(four, sparse[:4], atol=1e-6, rtol=0)
        assert np.array_equal(small.argmax(axis=1), sparse.argmax(axis=1))


def test_feature_row_equals_the_transform_row(model_dirs):
    featurizer = load_predictor(model_dirs[0]).featurizer
    for text in HARD_TEXTS:
        columns, weights = featurizer.row(text)
        expected = featurizer.transform([text])
        assert list(columns) == sorted(expected.indices)
        np.testing.assert_allclose(weights, expected.toarray()[0, columns], atol=1e-6)
