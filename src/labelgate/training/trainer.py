"""Noise-aware training: a hashed n-gram classifier fitted to probabilistic labels with soft
cross-entropy, early-stopped on the gold valid split. PyTorch on CPU, or CUDA when present."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from labelgate.devices import resolve_device, torch_threads
from labelgate.errors import ModelError
from labelgate.training.features import FeatureSpec, HashedNgrams
from labelgate.training.predictor import EncoderHead, Predictor
from labelgate.training.settings import AUTO, TrainingSettings
from labelgate.training.tabular import TabularFeatures


class HashedNgramClassifier(nn.Module):
    """EmbeddingBag over compact n-gram rows (row 0 = padding, always zero) -> logits, directly
    (``hashed_linear``: a logistic regression) or through a linear layer (``hashed_embedding``); family
    ``minilm`` adds a head on the frozen sentence vectors (linear, or one hidden ReLU layer) and keeps the
    n-gram part only when ``ngrams`` is set."""

    def __init__(self, *, n_rows: int, n_classes: int, family: str, embedding_dim: int, ngrams: bool = True,
                 vector_dim: int = 0, head_hidden: int = 0) -> None:
        super().__init__()
        self.bag = None
        self.output = None
        if family != "minilm" or ngrams:
            width = embedding_dim if family == "hashed_embedding" else n_classes
            self.bag = nn.EmbeddingBag(n_rows, width, mode="sum", padding_idx=0)
            if family == "hashed_embedding":
                nn.init.normal_(self.bag.weight, std=0.1)
                with torch.no_grad():
                    self.bag.weight[0].zero_()
                self.output = nn.Linear(embedding_dim, n_classes, bias=False)
            else:
                nn.init.zeros_(self.bag.weight)
        self.head_hidden = None
        self.head = None
        if family == "minilm":
            if head_hidden:
                self.head_hidden = nn.Linear(vector_dim, head_hidden)
            self.head = nn.Linear(head_hidden or vector_dim, n_classes, bias=False)
        self.bias = nn.Parameter(torch.zeros(n_classes))

    def forward(self, indices: torch.Tensor, offsets: torch.Tensor, weights: torch.Tensor,
                vectors: torch.Tensor | None = None) -> torch.Tensor:
        total = self.bias
        if self.bag is not None:
            hidden = self.bag(indices, offsets, per_sample_weights=weights)
            if self.output is not None:
                hidden = self.output(hidden)
            total = total + hidden
        if self.head is not None:
            h = vectors if self.head_hidden is None else torch.relu(self.head_hidden(vectors))
            total = total + self.head(h)
        return total


@dataclass
class TrainResult:
    """The trained predictor and what happened while training (per-epoch history included)."""

    predictor: Predictor
    best_epoch: int
    epochs_run: int
    valid_accuracy: float
    valid_log_loss: float
    device: str
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def seconds_per_epoch(self) -> float:
        return float(np.mean([h["seconds"] for h in self.history])) if self.history else 0.0


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy against a target distribution per row (noise-aware: a 50/50 row pulls toward
    uncertainty, not toward either class); ``weights`` weigh rows (e.g. gold dev rows)."""
    log_probs = torch.log_softmax(logits, dim=1)
    per_row = -(targets * log_probs).sum(dim=1)
    if weights is None:
        return per_row.mean()
    return (weights * per_row).sum() / weights.sum()


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T that minimises the log loss of ``softmax(logits / T)`` on gold ``labels``
    (temperature scaling, Guo et al. 2017): calibrates confidence without changing any prediction."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    logits = logits.astype(np.float64)
    rows = np.arange(len(labels))

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[rows, labels].mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-4.0, 4.0), method="bounded").x))


def _compact(matrix: sp.csr_matrix, slots: np.ndarray) -> sp.csr_matrix:
    return sp.csr_matrix((matrix.data, slots[matrix.indices], matrix.indptr),
                         shape=(matrix.shape[0], int(slots.max()) + 1))


def _bag(matrix: sp.csr_matrix, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    indices = torch.from_numpy(matrix.indices.astype(np.int64)).to(device)
    offsets = torch.from_numpy(matrix.indptr[:-1].astype(np.int64)).to(device)
    weights = torch.from_numpy(matrix.data.astype(np.float32)).to(device)
    return indices, offsets, weights


def _check_targets(targets: np.ndarray, n_classes: int) -> None:
    if targets.ndim != 2 or targets.shape[1] != n_classes:
        raise ModelError(f"probabilistic labels must have {n_classes} columns, got shape {targets.shape}")
    bad = ~np.isfinite(targets).all(axis=1)
    if bad.any():
        raise ModelError(f"{int(bad.sum())} training row(s) have NaN/inf label probabilities "
                         f"(first at train row {int(np.flatnonzero(bad)[0])}); check the label model output")
    if (targets < -1e-6).any() or not np.allclose(targets.sum(axis=1), 1.0, atol=1e-3):
        raise ModelError("label probabilities must be non-negative and sum to 1 per row")
    hard = targets.argmax(axis=1)
    present = np.unique(hard)
    if len(present) < 2:
        raise ModelError(f"degenerate labels: every training row's most likely label is class {int(present[0])}; "
                         "the labeling functions need to vote for more than one class")


def train_classifier(*, train_texts: Sequence[str], train_targets: np.ndarray, valid_texts: Sequence[str],
                     valid_labels: np.ndarray, classes: Sequence[str], settings: TrainingSettings, seed: int,
                     train_weights: np.ndarray | None = None,
                     on_epoch: Callable[[dict[str, float]], None] | None = None,
                     train_vectors: np.ndarray | None = None, valid_vectors: np.ndarray | None = None,
                     train_features: pd.DataFrame | None = None,
                     valid_features: pd.DataFrame | None = None) -> TrainResult:
    """Fit the configured model (one family; ``auto`` is a search: ``labelgate.training.search``) to soft
    ``train_targets`` (n x k), rows weighted by ``train_weights``; keep the epoch with the best valid score
    (gold ``valid_labels``), stopping after ``settings.patience`` epochs without improvement. Family
    ``minilm`` embeds the texts with the packaged encoder unless their vectors are given. With
    ``settings.feature_columns``, those columns of ``train_features``/``valid_features`` (one row per text)
    join the text features."""
    if settings.family == AUTO:
        raise ModelError("training.family 'auto' is a search over families: call "
                         "labelgate.training.search.search_model, or set one family")
    with torch_threads(settings.cpu_threads):
        return _train(train_texts=train_texts, train_targets=train_targets, valid_texts=valid_texts,
                      valid_labels=valid_labels, classes=classes, settings=settings, seed=seed,
                      train_weights=train_weights, on_epoch=on_epoch, train_vectors=train_vectors,
                      valid_vectors=valid_vectors, train_features=train_features,
                      valid_features=valid_features)


def _with_tabular(text: sp.csr_matrix, tabular: TabularFeatures | None,
                  features: pd.DataFrame | None) -> sp.csr_matrix:
    """The text features with the tabular block appended (as the predictor builds them)."""
    if tabular is None:
        return text
    return sp.hstack([text, tabular.transform(features, text.shape[0])], format="csr", dtype=np.float32)


# The last few featurizations (spec, train texts, valid texts): a search's trials and a benchmark's seeds
# train on the same texts with the same n-gram settings; featurizing them once saves a second or two a trial.
_NGRAMS: dict[tuple, tuple[HashedNgrams, sp.csr_matrix, sp.csr_matrix]] = {}
_NGRAMS_KEPT = 2


def _ngrams(spec: FeatureSpec, train_texts: Sequence[str],
            valid_texts: Sequence[str]) -> tuple[HashedNgrams, sp.csr_matrix, sp.csr_matrix]:
    """The featurizer fitted on ``train_texts`` and both splits' features (remembered: see ``_NGRAMS``)."""
    key = (spec, tuple(train_texts), tuple(valid_texts))
    if key not in _NGRAMS:
        featurizer = HashedNgrams(spec).fit(train_texts)
        while len(_NGRAMS) >= _NGRAMS_KEPT:
            _NGRAMS.pop(next(iter(_NGRAMS)))
        _NGRAMS[key] = (featurizer, featurizer.transform(train_texts), featurizer.transform(valid_texts))
    return _NGRAMS[key]


def _train(*, train_texts: Sequence[str], train_targets: np.ndarray, valid_texts: Sequence[str],
           valid_labels: np.ndarray, classes: Sequence[str], settings: TrainingSettings, seed: int,
           train_weights: np.ndarray | None, on_epoch: Callable[[dict[str, float]], None] | None,
           train_vectors: np.ndarray | None, valid_vectors: np.ndarray | None,
           train_features: pd.DataFrame | None = None, valid_features: pd.DataFrame | None = None,
           fixed_epochs: int | None = None, temperature: float | None = None) -> TrainResult:
    k = len(classes)
    targets = np.asarray(train_targets, dtype=np.float32)
    weights = np.ones(len(targets), dtype=np.float32) if train_weights is None else \
        np.asarray(train_weights, dtype=np.float32)
    if weights.shape != (len(targets),) or not np.isfinite(weights).all() or (weights < 0).any():
        raise ModelError("train_weights must be one finite, non-negative weight per training row")
    if len(train_texts) < settings.min_train_rows:
        raise ModelError(f"only {len(train_texts)} covered training rows; training needs at least "
                         f"{settings.min_train_rows} (training.min_train_rows)")
    _check_targets(targets, k)
    if settings.confidence_weight:
        weights = weights * targets.max(axis=1)
    valid_labels = np.asarray(valid_labels, dtype=np.int64)
    if len(valid_texts) == 0:
        raise ModelError("the valid split is empty: early stopping needs gold-labeled valid rows")
    if valid_labels.min() < 0 or valid_labels.max() >= k:
        raise ModelError(f"valid labels must be class indices 0..{k - 1}")

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = resolve_device(settings.device, setting="training.device")
    spec = FeatureSpec(word_ngrams=settings.word_ngrams, char_ngrams=settings.char_ngrams,
                       hash_bits=settings.hash_bits, lowercase=settings.lowercase,
                       sublinear_tf=settings.sublinear_tf)
    featurizer, train_ngrams, valid_ngrams = _ngrams(spec, train_texts, valid_texts)
    tabular = None
    if settings.feature_columns:
        if train_features is None or valid_features is None:
            raise ModelError("training.feature_columns is set but no feature rows were given for train and valid")
        tabular = TabularFeatures.fit(train_features, settings.feature_columns, hash_bits=settings.feature_hash_bits)
    x_train = _with_tabular(train_ngrams, tabular, train_features)
    slots = np.zeros(featurizer.n_features + (tabular.width if tabular else 0), dtype=np.int32)
    seen = np.unique(x_train.indices)
    slots[seen] = np.arange(1, len(seen) + 1, dtype=np.int32)
    x_train = _compact(x_train, slots)
    valid_bag = _bag(_compact(_with_tabular(valid_ngrams, tabular, valid_features), slots), device)
    valid_y = torch.from_numpy(valid_labels).to(device)
    y_train = torch.from_numpy(targets).to(device)
    w_train = torch.from_numpy(weights).to(device)
    encoder = settings.family == "minilm"
    v_train = v_valid = None
    if encoder:
        from labelgate.training.encoder import cached_embeddings

        if train_vectors is None:
            train_vectors = cached_embeddings(train_texts, max_tokens=settings.encoder_max_tokens,
                                              store=settings.encoder_store or None)
        if valid_vectors is None:
            valid_vectors = cached_embeddings(valid_texts, max_tokens=settings.encoder_max_tokens,
                                              store=settings.encoder_store or None)
        v_train = torch.from_numpy(np.asarray(train_vectors, dtype=np.float32)).to(device)
        v_valid = torch.from_numpy(np.asarray(valid_vectors, dtype=np.float32)).to(device)
    valid_bag = (*valid_bag, v_valid)

    model = HashedNgramClassifier(n_rows=len(seen) + 1, n_classes=k, family=settings.family,
                                  embedding_dim=settings.embedding_dim,
                                  ngrams=settings.encoder_ngrams or tabular is not None,  # the columns ride on the n-gram layer
                                 
                                  vector_dim=0 if v_train is None else v_train.shape[1],
                                  head_hidden=settings.head_hidden).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay)
    history: list[dict[str, float]] = []
    best: tuple[float, float] | None = None
    best_state, best_epoch, stale = None, 0, 0
    n = x_train.shape[0]
    for epoch in range(1, (fixed_epochs or settings.epochs) + 1):
        started = time.perf_counter()
        model.train()
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, settings.batch_size):
            rows = order[start:start + settings.batch_size]
            picked = torch.from_numpy(rows).to(device)
            logits = model(*_bag(x_train[rows], device), None if v_train is None else v_train[picked])
            loss = soft_cross_entropy(logits, y_train[picked], w_train[picked])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if model.bag is not None:
                with torch.no_grad():
                    model.bag.weight[0].zero_()
            total += float(loss.detach()) * len(rows)
        model.eval()
        with torch.no_grad():
            valid_logits = model(*valid_bag)
            valid_loss = float(nn.functional.cross_entropy(valid_logits, valid_y))
            valid_acc = float((valid_logits.argmax(dim=1) == valid_y).float().mean())
        seconds = time.perf_counter() - started
        record = {"epoch": epoch, "train_loss": total / n, "valid_log_loss": valid_loss,
                  "valid_accuracy": valid_acc, "seconds": seconds, "examples_per_second": n / seconds}
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if fixed_epochs:  # a refit: valid is in the training rows, so it cannot choose an epoch
            continue
        score = (valid_loss, -valid_acc) if settings.early_stopping_metric == "log_loss" else (-valid_acc, valid_loss)
        if best is None or score < best:
            best, best_epoch, stale = score, epoch, 0
            best_state = {name: t.detach().clone() for name, t in model.state_dict().items()}
        else:
            stale += 1
            if stale >= settings.patience:
                break
    if fixed_epochs:
        best_epoch = len(history)
    else:
        model.load_state_dict(best_state)
    if temperature is None:
        temperature = 1.0
    if settings.calibrate and not fixed_epochs:
        model.eval()
        with torch.no_grad():
            temperature = fit_temperature(model(*valid_bag).cpu().numpy(), valid_labels)
    state = {name: t.detach().cpu().numpy() for name, t in model.state_dict().items()}
    head = None
    if encoder:
        head = EncoderHead(name="minilm", max_tokens=settings.encoder_max_tokens, weight=state["head.weight"].T.copy(),
                           hidden=state["head_hidden.weight"].T.copy() if "head_hidden.weight" in state else None,
                           hidden_bias=state.get("head_hidden.bias"))
    predictor = Predictor(
        classes=classes, featurizer=featurizer, slots=slots, first=state.get("bag.weight"),
        bias=state["bias"], output=state["output.weight"].T.copy() if "output.weight" in state else None,
        temperature=temperature, info={"family": settings.family, "best_epoch": best_epoch}, encoder=head,
        tabular=tabular,
    )
    chosen = history[best_epoch - 1]
    return TrainResult(predictor=predictor, best_epoch=best_epoch, epochs_run=len(history),
                       valid_accuracy=chosen["valid_accuracy"], valid_log_loss=chosen["valid_log_loss"],
                       device=str(device), history=history)


def refit_with_valid(first: TrainResult, *, train_texts: Sequence[str], train_targets: np.ndarray,
                     valid_texts: Sequence[str], valid_labels: np.ndarray, classes: Sequence[str],
                     settings: TrainingSettings, seed: int, train_weights: np.ndarray | None = None,
                     train_features: pd.DataFrame | None = None,
                     valid_features: pd.DataFrame | None = None) -> TrainResult:
    """The chosen model trained once more, from scratch, with the gold valid rows added to its training rows
    (one-hot, weight ``settings.refit_valid_weight``) for exactly the epochs early stopping chose in ``first``:
    valid has done its job (the epoch, the family, the hyperparameters), and its gold labels are the best
    rows there are to learn from. ``first``'s softmax temperature is kept (valid cannot calibrate a model that
    learned it) and so are its valid scores: the held-out estimate, from before the refit. The predictor's
    ``info['refit']`` says what was added."""
    if settings.family == AUTO:
        raise ModelError("refit_with_valid refits one family: the search's chosen settings")
    k = len(classes)
    labels = np.asarray(valid_labels, dtype=np.int64)
    weight = settings.refit_valid_weight
    base = np.ones(len(train_texts), dtype=np.float32) if train_weights is None else np.asarray(train_weights,
                                                                                                   dtype=np.float32)
    features = None
    if train_features is not None and valid_features is not None:
        features = pd.concat([train_features, valid_features], ignore_index=True)
    with torch_threads(settings.cpu_threads):
        refit = _train(train_texts=list(train_texts) + list(valid_texts),
                       train_targets=np.vstack([np.asarray(train_targets, dtype=np.float32),
                                                np.eye(k, dtype=np.float32)[labels]]),
                       valid_texts=valid_texts, valid_labels=labels, classes=classes, settings=settings, seed=seed,
                       train_weights=np.concatenate([base, np.full(len(labels), weight, dtype=np.float32)]),
                       on_epoch=None, train_vectors=None, valid_vectors=None, train_features=features,
                       valid_features=valid_features, fixed_epochs=first.best_epoch,
                       temperature=first.predictor.temperature)
    refit.predictor.info.update({**first.predictor.info, "refit": {
        "epochs": first.best_epoch, "valid_rows": len(labels), "valid_weight": weight,
        "train_rows": len(train_texts), "seconds": float(sum(h["seconds"] for h in refit.history))}})
    return TrainResult(predictor=refit.predictor, best_epoch=first.best_epoch, epochs_run=first.epochs_run,
                       valid_accuracy=first.valid_accuracy, valid_log_loss=first.valid_log_loss, device=refit.device,
                       history=first.history)
