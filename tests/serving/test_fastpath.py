"""The small-batch kernel reproduces the predictor, and is refused when it does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelgate.serving.fastpath import PROBE_TEXTS, build_kernel, compile_small_batch
from labelgate.training import load_predictor


def _texts(example_dir: Path | None) -> list[str]:
    texts = list(PROBE_TEXTS) + ["!!!", "CAPS lock IS ON", "emoji only 😀😀😀", "tabs\tand\nnewlines", "ǅǆ ﬀ ﬃ"]
    if example_dir is not None:
        import pandas as pd

        frames = [pd.read_csv(p) for p in sorted(example_dir.glob("*.csv"))]
        texts += pd.concat(frames)["CONTENT"].astype(str).tolist()[:600]
    return texts


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


def test_kernel_matches_the_predictor_on_real_comments(model_dirs: list[Path], embedding_model: Path) -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "youtube-spam"
    texts = _texts(shared if shared.is_dir() else None)
    for model_dir in (model_dirs[0], embedding_model):
        predictor = load_predictor(model_dir)
        kernel = compile_small_batch(predictor)
        assert kernel is not None
        want = predictor.predict_proba(texts)
        got = np.vstack([kernel([t]) for t in texts])
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
        assert np.array_equal(got.argmax(axis=1), want.argmax(axis=1))
        np.testing.assert_allclose(kernel(texts[:4]), want[:4], atol=1e-5, rtol=0)


class _Reversed:
    """A predictor whose own path disagrees with what its parameters say."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.featurizer, self.slots, self.first = inner.featurizer, inner.slots, inner.first
        self.output, self.bias, self.classes = inner.output, inner.bias, inner.classes

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.inner.predict_proba(texts)[:, ::-1]


class _Opaque:
    classes = ["ham", "spam"]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.full((len(texts), 2), 0.5)


def test_kernel_is_refused_when_it_does_not_reproduce_the_predictor(model_dirs: list[Path]) -> None:
    predictor = load_predictor(model_dirs[0])
    assert build_kernel(predictor) is not None
    assert compile_small_batch(_Reversed(predictor)) is None
    assert compile_small_batch(_Opaque()) is None
