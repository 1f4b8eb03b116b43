"""The saved end model: load a model directory and predict class probabilities, with numpy only.

Serving and evaluation go through :func:`load_predictor`; it needs no torch, so a server imports it
quickly and predicts one text in well under a millisecond."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from labelgate.errors import ModelError
from labelgate.training.features import FeatureSpec, HashedNgrams
from labelgate.training.tabular import TabularFeatures, TabularSpec

# Feature values per column, one per text (a column left out is missing in every row).
Features = Mapping[str, Sequence[Any]]

MODEL_FORMAT = "labelgate-hashed-ngrams/1"
# A model with a sentence-encoder part (family minilm): a loader that knew only /1 must not silently drop it.
ENCODER_FORMAT = "labelgate-text-encoder/1"
FORMATS = (MODEL_FORMAT, ENCODER_FORMAT)
# Up to this many texts, features are built row by row (HashedNgrams.row) instead of as a sparse
# matrix: one text costs ~0.07 ms instead of ~0.17 ms; the two meet near 8 texts (bench/serving.py).
SMALL_BATCH = 4
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"


@dataclass(frozen=True)
class EncoderHead:
    """The sentence-encoder part of a model: which packaged encoder, how many tokens it reads, and the
    trained head on its vectors (``hidden`` then ReLU when present, then ``weight``)."""

    name: str
    max_tokens: int
    weight: np.ndarray  # (dim or hidden) x classes
    hidden: np.ndarray | None = None  # dim x hidden
    hidden_bias: np.ndarray | None = None

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        h = vectors
        if self.hidden is not None:
            h = np.maximum(h @ self.hidden + self.hidden_bias, 0.0)
        return h @ self.weight


class Predictor:
    """Hashed n-gram features -> first layer (compact rows; slot 0 is the all-zero row for n-grams the
    model never saw) -> optional output layer, plus (family minilm) the encoder head on the text's
    sentence vector -> logits / temperature -> softmax. A minilm model without n-grams has no first layer."""

    def __init__(self, *, classes: Sequence[str], featurizer: HashedNgrams | None, slots: np.ndarray | None,
                 first: np.ndarray | None, bias: np.ndarray, output: np.ndarray | None = None,
                 temperature: float = 1.0, info: dict[str, Any] | None = None,
                 encoder: EncoderHead | None = None, tabular: TabularFeatures | None = None) -> None:
        if first is None and encoder is None:
            raise ModelError("a predictor needs n-gram weights, an encoder head, or both")
        if first is None and tabular is not None:
            raise ModelError("tabular feature columns need the n-gram layer they are appended to")
        self.classes = [str(c) for c in classes]
        self.featurizer = featurizer if first is not None else None
        self.slots = None if first is None else slots.astype(np.int32, copy=False)
        self.first = None if first is None else first.astype(np.float32, copy=False)
        self.output = None if output is None else output.astype(np.float32, copy=False)
        self.bias = bias.astype(np.float32, copy=False)
        self.temperature = float(temperature)
        self.info = info or {}
        self.encoder = encoder
        self.tabular = tabular

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The sentence-encoder vectors of ``texts`` (only for a model with an encoder part)."""
        from labelgate.training.encoder import load_encoder

        return load_encoder(self.encoder.name, self.encoder.max_tokens).encode(texts)

    @property
    def feature_columns(self) -> tuple[str, ...]:
        """The tabular columns the model reads beside the text (empty: text only)."""
        return self.tabular.columns if self.tabular is not None else ()

    def check_features(self, records: Sequence[Mapping[str, Any]], where: str = "instances") -> None:
        """ValueError naming the first field of ``records`` that is not a feature column or not a usable value."""
        if self.tabular is None:
            unknown = sorted({k for r in records for k in r})
            if unknown:
                raise ValueError(f"{where} carry field(s) {unknown} but the model reads only the text")
            return
        self.tabular.check(records, where)

    def compact_features(self, texts: Sequence[str], features: Features | None = None) -> sp.csr_matrix:
        """Features of ``texts`` (and of their ``features`` columns) with columns mapped onto the model's compact rows."""
        full = self.featurizer.transform(texts)
        if self.tabular is not None:
            full = sp.hstack([full, self.tabular.transform(features, len(texts))], format="csr", dtype=np.float32)
        return sp.csr_matrix((full.data, self.slots[full.indices], full.indptr),
                             shape=(full.shape[0], self.first.shape[0]))

    def logits(self, texts: Sequence[str], features: Features | None = None,
               vectors: np.ndarray | None = None) -> np.ndarray:
        """Logits of ``texts`` (with their ``features`` columns); ``vectors`` (their encoder vectors, when the
        caller has them) skip the encoder."""
        total = np.zeros((len(texts), len(self.bias)), dtype=np.float64) + self.bias
        if self.first is not None:
            total += self._ngram_logits(texts, features)
        if self.encoder is not None:
            total += self.encoder.logits(self.vectors(texts) if vectors is None else vectors)
        return total / self.temperature

    def _ngram_logits(self, texts: Sequence[str], features: Features | None) -> np.ndarray:
        if self.tabular is not None:
            hidden = np.asarray(self.compact_features(texts, features) @ self.first)
        elif len(texts) <= SMALL_BATCH:
            hidden = np.zeros((len(texts), self.first.shape[1]), dtype=np.float64)
            for i, text in enumerate(texts):
                columns, weights = self.featurizer.row(text)
                if len(columns):
                    hidden[i] = weights @ self.first[self.slots[columns]]
        else:
            hidden = np.asarray(self.compact_features(texts) @ self.first)
        if self.output is not None:
            hidden = hidden @ self.output
        return hidden

    def predict_proba(self, texts: Sequence[str], features: Features | None = None) -> np.ndarray:
        """Class probabilities, shape (len(texts), len(classes)); each row sums to 1. ``features``: the
        values of :attr:`feature_columns`, one per text (ignored by a text-only model; missing ones count
        as missing values)."""
        if isinstance(texts, str):
            raise TypeError("predict_proba takes a sequence of texts, not one string")
        if len(texts) == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        logits = self.logits(texts, features)
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return probs

    def predict(self, texts: Sequence[str], features: Features | None = None) -> np.ndarray:
        """The most probable class index per text."""
        return self.predict_proba(texts, features).argmax(axis=1)

    def save(self, model_dir: str | Path) -> Path:
        """Write ``model.json`` (classes, preprocessing, training info) and ``weights.npz``."""
        target = Path(model_dir)
        target.mkdir(parents=True, exist_ok=True)
        arrays = {"bias": self.bias}
        if self.first is not None:
            arrays.update({"idf": self.featurizer.idf, "slots": self.slots, "first": self.first})
        if self.output is not None:
            arrays["output"] = self.output
        meta = {"format": MODEL_FORMAT, "classes": self.classes, "temperature": self.temperature, **self.info}
        if self.featurizer is not None:
            meta["features"] = self.featurizer.spec.to_dict()
        if self.encoder is not None:
            meta["format"] = ENCODER_FORMAT
            meta["encoder"] = {"name": self.encoder.name, "max_tokens": self.encoder.max_tokens}
            arrays["head"] = self.encoder.weight
            if self.encoder.hidden is not None:
                arrays.update({"head_hidden": self.encoder.hidden, "head_hidden_bias": self.encoder.hidden_bias})
        np.savez_compressed(target / WEIGHTS_FILE, **arrays)
        if self.tabular is not None:
            meta["tabular"] = self.tabular.spec.to_dict()
        (target / MODEL_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
        return target


def load_predictor(model_dir: str | Path) -> Predictor:
    """Load a model directory written by the train step (weights and preprocessing together)."""
    target = Path(model_dir)
    meta_path, weights_path = target / MODEL_FILE, target / WEIGHTS_FILE
    if not meta_path.is_file() or not weights_path.is_file():
        raise ModelError(f"{target} is not a labelgate model directory: it needs {MODEL_FILE} and {WEIGHTS_FILE}")
    damaged = ("the model directory is damaged or half-written: copy it again whole (from runs/<run-id>/model or "
               "`labelgate models list` for a registered version), or serve the registry's champion")
    try:
        meta = json.loads(meta_path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta_path} is not valid JSON ({exc}); {damaged}") from exc
    if not isinstance(meta, dict) or meta.get("format") not in FORMATS:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ModelError(f"{meta_path}: unknown model format {found!r}; expected one of {FORMATS}")
    try:
        with np.load(weights_path) as weights:
            arrays = {name: weights[name] for name in weights.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{weights_path} cannot be read ({type(exc).__name__}: {exc}); {damaged}") from exc
    try:
        return _build(meta, arrays)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{target}: {MODEL_FILE} and {WEIGHTS_FILE} do not hold a complete model "
                         f"({type(exc).__name__}: {exc}); {damaged}") from exc


def _build(meta: dict, arrays: dict[str, np.ndarray]) -> Predictor:
    """The predictor that a model directory's metadata and arrays describe."""
    featurizer = HashedNgrams(FeatureSpec.from_dict(meta["features"]), idf=arrays["idf"]) if "first" in arrays else None
    encoder = None
    if meta["format"] == ENCODER_FORMAT:
        encoder = EncoderHead(name=meta["encoder"]["name"], max_tokens=int(meta["encoder"]["max_tokens"]),
                              weight=arrays["head"], hidden=arrays.get("head_hidden"),
                              hidden_bias=arrays.get("head_hidden_bias"))
    tabular = TabularFeatures(TabularSpec.from_dict(meta["tabular"])) if meta.get("tabular") else None
    info = {k: v for k, v in meta.items()
            if k not in ("format", "classes", "features", "temperature", "encoder", "tabular")}
    return Predictor(classes=meta["classes"], featurizer=featurizer, slots=arrays.get("slots"),
                     first=arrays.get("first"), bias=arrays["bias"], output=arrays.get("output"),
                     temperature=float(meta.get("temperature", 1.0)), info=info, encoder=encoder, tabular=tabular)
