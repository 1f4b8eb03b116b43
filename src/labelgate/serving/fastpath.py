"""A small-batch kernel for the hashed n-gram predictor: the same arithmetic without sparse matrices.

For one to a few texts much of the predictor's time goes into building sparse matrices, not into
arithmetic (one text: ~0.23 ms through the predictor, ~0.11 ms here). This kernel tokenises with the
model's own sklearn analyzers, hashes the n-grams with the same MurmurHash3 as ``HashingVectorizer``, and
does the tf-idf, L2 norm, matrix products and temperature on the few rows it needs with numpy. It reads
the featurizer's internals, so it is used only after it reproduces the predictor's probabilities on a
probe set (:func:`compile_small_batch`); for a model it does not recognise, or any disagreement, serving
keeps the predictor's own path (`labelgate serve` says which at start).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MAX_FAST_TEXTS = 4  # measured: the kernel halves one text, breaks even near 8 (bench/serving.py)
PROBE_TEXTS: tuple[str, ...] = (
    "Check out my channel for free gift cards!!! http://example.com/?a=1&b=2",
    "This song brings back so many memories, love it <3",
    "",
    "   \t\n ",
    "Ünïcödé ✓ émojis 🎶🎶 and 中文 and עברית",
    "İstanbul ıı Straße ǅ Ωμέγα ﬁ",
    "e\u0301 combining accents and 123 456 789",
    "SUBSCRIBE SUBSCRIBE subscribe Subscribe",
    "a" * 3000,
    "x y z " * 200,
)


def _feature_index(token: str, n_buckets: int, murmurhash3_32: Callable[..., int]) -> int:
    h = murmurhash3_32(token, seed=0)
    if h == -2147483648:  # sklearn's special case for INT_MIN in _hashing_fast
        return (2147483647 - (n_buckets - 1)) % n_buckets
    return abs(h) % n_buckets


def build_kernel(predictor: Any) -> Callable[[Sequence[str]], np.ndarray]:
    """The kernel for a labelgate hashed n-gram predictor (raises AttributeError for other predictors)."""
    from sklearn.utils import murmurhash3_32

    featurizer = predictor.featurizer
    analyzers = [analyzer for analyzer, _ in featurizer._parts]
    n_buckets = int(featurizer.spec.n_buckets)
    sublinear = bool(featurizer.spec.sublinear_tf)
    idf = np.asarray(featurizer.idf, dtype=np.float64)
    slots = np.asarray(predictor.slots)
    first = np.asarray(predictor.first, dtype=np.float64)
    output = None if predictor.output is None else np.asarray(predictor.output, dtype=np.float64)
    bias = np.asarray(predictor.bias, dtype=np.float64)
    temperature = float(getattr(predictor, "temperature", 1.0))
    k = bias.shape[0]

    def predict_proba(texts: Sequence[str]) -> np.ndarray:
        logits = np.empty((len(texts), k))
        for row, text in enumerate(texts):
            text = "" if text is None else str(text)
            index: list[int] = []
            for block, analyze in enumerate(analyzers):
                offset = block * n_buckets
                index.extend(offset + _feature_index(tok, n_buckets, murmurhash3_32) for tok in analyze(text))
            if not index:
                hidden = np.zeros(first.shape[1])
            else:
                columns, counts = np.unique(np.asarray(index, dtype=np.int64), return_counts=True)
                weights = counts.astype(np.float64)
                if sublinear:
                    weights = np.log1p(weights)
                weights *= idf[columns]
                norm = np.sqrt(np.dot(weights, weights))
                if norm > 0:
                    weights /= norm
                hidden = weights @ first[slots[columns]]
            if output is not None:
                hidden = hidden @ output
            logits[row] = (hidden + bias) / temperature
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

    return predict_proba


def compile_small_batch(predictor: Any, *, atol: float = 1e-5) -> Callable[[Sequence[str]], np.ndarray] | None:
    """The kernel if it reproduces ``predictor.predict_proba`` on the probe texts (same most-probable
    class, probabilities within ``atol``); None for a predictor it does not know or does not match."""
    try:
        kernel = build_kernel(predictor)
        want = np.asarray(predictor.predict_proba(list(PROBE_TEXTS)), dtype=np.float64)
        got = kernel(list(PROBE_TEXTS))
    except (AttributeError, TypeError, ValueError, IndexError):
        return None
    if got.shape != want.shape or not np.allclose(got, want, atol=atol, rtol=0):
        return None
    if not np.array_equal(got.argmax(axis=1), want.argmax(axis=1)):
        return None
    return kernel
