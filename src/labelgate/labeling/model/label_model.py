"""The label model: turns an ``n x m`` matrix of LF votes (-1 = abstain) into class probabilities.

Candidates, all fitted in PyTorch on the distinct rows of (a seeded sample of) the matrix, so a GPU is
used when present: majority vote; Snorkel's moment method (matrix completion on the vote overlaps);
Dawid-Skene EM with class-conditional confusion matrices, with abstains ignored or modelled per class;
one-coin EM; and, given dev labels, naive Bayes over LF outputs learned from them. ``method="auto"``
(the default) uses the moment fit, scoring rows without any vote by the abstain-modelling EM; with dev
labels it moves to another candidate only when that one is clearly better on them (naive Bayes scored
on held-out folds). Deterministic for a given seed.
"""

from __future__ import annotations

import contextlib
import json
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.optimize import linear_sum_assignment

from labelgate.errors import LabelingError
from labelgate.labeling.matrix import check_label_matrix

MAJORITY_VOTE = "majority_vote"
ONE_COIN = "one_coin"
DAWID_SKENE = "dawid_skene"
DAWID_SKENE_ABSTAIN = "dawid_skene_abstain"
MATRIX_COMPLETION = "matrix_completion"
DEV_NAIVE_BAYES = "dev_naive_bayes"  # supervised: only when dev labels are given
# In order of preference: on equal dev accuracy the earlier one is kept.
CANDIDATES = (MATRIX_COMPLETION, MAJORITY_VOTE, DAWID_SKENE_ABSTAIN, DAWID_SKENE, ONE_COIN)
METHODS = ("auto", *CANDIDATES)
DEV_MARGIN = 1.0  # standard deviations (sign test) a candidate must beat the default by on dev labels
FORMAT_VERSION = 1


@dataclass
class FittedCandidate:
    """One fitted generative model: per-LF log-potentials ``log P(vote | y)`` and the class prior."""

    name: str
    log_vote: np.ndarray  # m x (k+1) x k; index 0 of axis 1 = abstain
    log_prior: np.ndarray  # k
    iterations: int = 0
    log_uncovered: np.ndarray | None = None  # k: scores for rows where every LF abstains (None: the prior)


class LabelModel:
    """Multi-class label model over LF votes with Snorkel's API (``fit``, ``predict_proba``, ``predict``,
    ``score``, ``get_weights``). ``method`` is ``auto`` or one candidate name (see the module docstring).
    ``max_fit_rows`` caps the rows the fit sees (a seeded sample, collapsed to distinct rows with their
    counts), which keeps fits on millions of rows short without changing the estimates much."""

    def __init__(
        self,
        cardinality: int = 2,
        method: str = "auto",
        device: str = "auto",
        max_iter: int = 100,
        tol: float = 1e-5,
        max_fit_rows: int | None = 100_000,
        smoothing: float = 1.0,
        seed: int = 0,
        verbose: bool = False,
    ) -> None:
        if cardinality < 2:
            raise LabelingError(f"the label model needs cardinality >= 2, got {cardinality}")
        if method not in METHODS:
            raise LabelingError(f"unknown label model method '{method}'; choose one of {list(METHODS)}")
        self.cardinality = cardinality
        self.method = method
        self.device = _device(device)
        self.max_iter = max_iter
        self.tol = tol
        self.max_fit_rows = max_fit_rows
        self.smoothing = smoothing
        self.seed = seed
        self.verbose = verbose
        self.selected: FittedCandidate | None = None
        self.candidates: dict[str, FittedCandidate] = {}
        self.dev_scores: dict[str, float] = {}
        self.n_lfs: int | None = None

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        L_train: np.ndarray,
        Y_dev: np.ndarray | None = None,
        class_balance: Sequence[float] | None = None,
        L_dev: np.ndarray | None = None,
        seed: int | None = None,
        n_epochs: int = 100,
        lr: float = 0.01,
        progress_bar: bool = False,
        log_freq: int = 10,
    ) -> LabelModel:
        """Fit on ``L_train``. ``class_balance`` fixes the class prior; else ``Y_dev`` estimates it (as in
        Snorkel); ``Y_dev`` with ``L_dev`` (aligned rows) also selects the candidate model.
        ``n_epochs``/``lr`` are Snorkel's training settings for the moment fit; ``progress_bar`` and
        ``log_freq`` are accepted for Snorkel compatibility (``verbose`` prints the choice)."""
        k = self.cardinality
        L = check_label_matrix(L_train, cardinality=k, min_lfs=1)
        self.n_lfs = L.shape[1]
        seed = self.seed if seed is None else seed
        prior = self._fixed_prior(class_balance, Y_dev, L_dev)
        dev = self._dev(L_dev, Y_dev)
        names = list(CANDIDATES) if self.method == "auto" else [self.method]
        if self.method == "auto" and dev is None:
            names = [MATRIX_COMPLETION, DAWID_SKENE_ABSTAIN]
        if any(n != MAJORITY_VOTE for n in names) and L.shape[1] < 3 and self.method != "auto":
            raise LabelingError(
                f"the '{self.method}' label model needs at least 3 labeling functions to estimate their "
                f"accuracies; the matrix has {L.shape[1]}. Add LFs or use method 'majority_vote'"
            )
        if L.shape[1] < 3:
            names = [MAJORITY_VOTE]
        rows, weights = _distinct_rows(L, self.max_fit_rows, seed)
        with _single_thread(self.device):
            fitter = _CandidateFitter(rows, weights, k, self.device, self.smoothing, self.max_iter, self.tol, prior,
                         epochs=n_epochs, lr=lr)
            self.candidates = {name: fitter.fit(name) for name in names}
        if MATRIX_COMPLETION in self.candidates and DAWID_SKENE_ABSTAIN in self.candidates:
            # The moments say nothing about rows where every LF abstains; the model of abstains does.
            abstain = self.candidates[DAWID_SKENE_ABSTAIN]
            self.candidates[MATRIX_COMPLETION].log_uncovered = abstain.log_prior + abstain.log_vote[:, 0, :].sum(axis=0)
        if dev is None and len(names) == 2:
            choice = self._unsupervised_choice()
        elif dev is not None and len(names) > 1:
            choice = self._dev_choice(dev, self._unsupervised_choice())
        else:
            choice = names[0]
        self.selected = self.candidates[choice]
        if self.verbose or progress_bar:
            print(f"labelgate LabelModel: {choice} (dev accuracy {self.dev_scores or 'n/a'})", flush=True)
        return self

    def _dev_choice(self, dev: tuple[np.ndarray, np.ndarray], default: str) -> str:
        """Leave the unsupervised choice only for a candidate that labels the dev rows better by a clear
        margin: in a paired comparison its extra right answers must exceed its extra wrong ones by
        DEV_MARGIN standard deviations (a small dev set otherwise picks whichever model got lucky)."""
        L_d, y_d = dev
        right = {n: _argmax(self._proba(c, L_d), c.log_prior) == y_d for n, c in self.candidates.items()}
        # The supervised candidate learns from the dev labels, so it is scored on held-out folds of them.
        right[DEV_NAIVE_BAYES] = self._cross_validated_naive_bayes(L_d, y_d)
        self.candidates[DEV_NAIVE_BAYES] = _naive_bayes(L_d, y_d, self.cardinality)
        self.dev_scores = {n: float(r.mean()) for n, r in right.items()}
        choice = default
        for name in sorted(right, key=lambda n: -self.dev_scores[n]):
            wins = int((right[name] & ~right[default]).sum())
            losses = int((right[default] & ~right[name]).sum())
            if wins - losses > DEV_MARGIN * math.sqrt(wins + losses) and self.dev_scores[name] > self.dev_scores[choice]:
                choice = name
        return choice

    def _cross_validated_naive_bayes(self, L_d: np.ndarray, y_d: np.ndarray, folds: int = 5) -> np.ndarray:
        """Whether naive Bayes fitted on the other folds labels each dev row right (seeded folds)."""
        order = np.random.default_rng(self.seed).permutation(len(y_d))
        right = np.zeros(len(y_d), dtype=bool)
        for fold in range(folds):
            held = order[fold::folds]
            if len(held) == 0:
                continue
            rest = np.setdiff1d(order, held)
            model = _naive_bayes(L_d[rest], y_d[rest], self.cardinality)
            right[held] = _argmax(self._proba(model, L_d[held]), model.log_prior) == y_d[held]
        return right

    def _unsupervised_choice(self) -> str:
        """Without dev labels: the moment fit (Snorkel's method), with rows that have no vote scored by the
        abstain-modelling EM. On synthetic, conditionally independent LFs the EM alone is often better,
        but on real LFs (correlated keywords) it was worse even where it agreed with the moments on
        nine rows in ten (bench/labeling.py and tests/labeling show both), so the moments stay."""
        return MATRIX_COMPLETION

    def _fixed_prior(
        self, class_balance: Sequence[float] | None, Y_dev: np.ndarray | None, L_dev: np.ndarray | None
    ) -> np.ndarray | None:
        k = self.cardinality
        if class_balance is not None:
            p = np.asarray(class_balance, dtype=np.float64)
            if p.shape != (k,) or np.any(p <= 0) or not math.isclose(p.sum(), 1.0, rel_tol=1e-3):
                raise LabelingError(f"class_balance must be {k} positive numbers summing to 1, got {list(p)}")
            return p / p.sum()
        if Y_dev is not None:
            y = _labels(Y_dev, k)
            y = y[y >= 0]
            if len(y) == 0:
                raise LabelingError("Y_dev holds no labels to estimate the class balance from")
            counts = np.bincount(y, minlength=k).astype(np.float64) + 1.0
            return counts / counts.sum()
        return None

    def _dev(self, L_dev: np.ndarray | None, Y_dev: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
        if L_dev is None or Y_dev is None:
            return None
        L_d = check_label_matrix(L_dev, cardinality=self.cardinality, min_lfs=1) if np.asarray(L_dev).max() >= 0 \
            else np.asarray(L_dev, dtype=np.int8)
        y = _labels(Y_dev, self.cardinality)
        if len(y) != len(L_d):
            raise LabelingError(f"L_dev has {len(L_d)} rows but Y_dev has {len(y)} labels")
        if L_d.shape[1] != self.n_lfs:
            raise LabelingError(f"L_dev has {L_d.shape[1]} LFs but L_train has {self.n_lfs}")
        keep = y >= 0
        if not keep.any():
            return None
        return L_d[keep], y[keep]

    # --------------------------------------------------------------- inference
    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        """Class probabilities (n x k); rows where every LF abstains get the class prior."""
        model = self._require_fitted()
        L = np.asarray(L)
        if L.ndim != 2 or L.shape[1] != self.n_lfs:
            raise LabelingError(f"expected a label matrix with {self.n_lfs} LF columns, got shape {L.shape}")
        if L.size and (L.min() < -1 or L.max() >= self.cardinality):
            check_label_matrix(L, cardinality=self.cardinality)
        return self._proba(model, L)

    def predict(
        self, L: np.ndarray, return_probs: bool = False, tie_break_policy: str = "prior"
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The most probable class per row. Ties: ``prior`` (default) gives the class with the larger
        prior, ``abstain`` gives -1, ``random`` a seeded random pick among the tied classes (Snorkel's)."""
        probs = self.predict_proba(L)
        preds = self._break_ties(probs, tie_break_policy)
        return (preds, probs) if return_probs else preds

    def _break_ties(self, probs: np.ndarray, policy: str) -> np.ndarray:
        preds = _argmax(probs, self._require_fitted().log_prior)
        if policy == "prior":
            return preds
        tied = np.isclose(probs, probs.max(axis=1, keepdims=True), rtol=0, atol=1e-9)
        several = tied.sum(axis=1) > 1
        if policy == "abstain":
            preds[several] = -1
        elif policy in ("random", "true-random"):
            rng = np.random.default_rng(self.seed)
            scores = rng.random(probs.shape) * tied
            preds[several] = scores[several].argmax(axis=1)
        else:
            raise LabelingError(f"unknown tie_break_policy '{policy}'; use prior, abstain or random")
        return preds

    def score(
        self, L: np.ndarray, Y: np.ndarray, metrics: Sequence[str] = ("accuracy",), tie_break_policy: str = "prior"
    ) -> dict[str, float]:
        """Metrics of ``predict(L)`` against gold labels ``Y`` (rows with Y = -1 skipped): accuracy, f1
        (binary, class 1), f1_micro, f1_macro, precision, recall, coverage (share of rows predicted)."""
        from sklearn import metrics as skm

        y = _labels(Y, self.cardinality)
        known = y >= 0
        preds = self.predict(L, tie_break_policy=tie_break_policy)[known]
        y = y[known]
        scorers = {
            "accuracy": lambda: float((preds == y).mean()),
            "coverage": lambda: float((preds >= 0).mean()),
            "f1": lambda: float(skm.f1_score(y, preds, labels=[1], average="macro", zero_division=0)),
            "f1_micro": lambda: float(skm.f1_score(y, preds, labels=list(range(self.cardinality)), average="micro")),
            "f1_macro": lambda: float(skm.f1_score(y, preds, labels=list(range(self.cardinality)), average="macro")),
            "precision": lambda: float(skm.precision_score(y, preds, labels=[1], average="macro", zero_division=0)),
            "recall": lambda: float(skm.recall_score(y, preds, labels=[1], average="macro", zero_division=0)),
        }
        unknown = [m for m in metrics if m not in scorers]
        if unknown:
            raise LabelingError(f"unknown metric(s) {unknown}; choose from {sorted(scorers)}")
        return {m: scorers[m]() for m in metrics}

    def _proba(self, model: FittedCandidate, L: np.ndarray, chunk: int = 262_144) -> np.ndarray:
        out = np.empty((len(L), self.cardinality), dtype=np.float64)
        for start in range(0, len(L), chunk):
            part = np.asarray(L[start:start + chunk])
            out[start:start + len(part)] = _posterior(model, part, self.cardinality, self.device)
        return out

    def _require_fitted(self) -> FittedCandidate:
        if self.selected is None:
            raise LabelingError("the label model is not fitted yet: call fit() first")
        return self.selected

    # ------------------------------------------------------------ introspection
    @property
    def selected_method(self) -> str:
        return self._require_fitted().name

    def get_weights(self) -> np.ndarray:
        """Each LF's estimated accuracy: P(vote is right | the LF votes), weighted by the class prior."""
        model = self._require_fitted()
        k = self.cardinality
        vote = np.exp(model.log_vote[:, 1:, :])  # m x k(vote) x k(y)
        if model.name == MAJORITY_VOTE:
            return np.full(vote.shape[0], np.nan)
        prior = np.exp(model.log_prior)
        joint = vote * prior[None, None, :]
        voted = joint.sum(axis=(1, 2))
        right = np.stack([joint[:, c, c] for c in range(k)], axis=1).sum(axis=1)
        return np.where(voted > 0, right / np.maximum(voted, 1e-300), np.nan)

    def get_class_balance(self) -> np.ndarray:
        return np.exp(self._require_fitted().log_prior)

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> None:
        """Write the fitted model as JSON (parameters of every candidate plus the selection)."""
        model = self._require_fitted()
        record: dict[str, Any] = {
            "format": FORMAT_VERSION, "cardinality": self.cardinality, "method": self.method,
            "selected": model.name, "n_lfs": self.n_lfs, "dev_scores": self.dev_scores, "seed": self.seed,
            "candidates": {
                n: {"log_vote": c.log_vote.tolist(), "log_prior": c.log_prior.tolist(), "iterations": c.iterations,
                    "log_uncovered": None if c.log_uncovered is None else c.log_uncovered.tolist()}
                for n, c in self.candidates.items()
            },
        }
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(record))

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> LabelModel:
        record = json.loads(Path(path).read_text())
        if record.get("format") != FORMAT_VERSION:
            raise LabelingError(f"{path}: not a labelgate label model (format {record.get('format')!r})")
        model = cls(cardinality=record["cardinality"], method=record["method"], device=device, seed=record["seed"])
        model.n_lfs = record["n_lfs"]
        model.dev_scores = record["dev_scores"]
        model.candidates = {
            n: FittedCandidate(n, np.asarray(c["log_vote"]), np.asarray(c["log_prior"]), c["iterations"],
                               None if c["log_uncovered"] is None else np.asarray(c["log_uncovered"]))
            for n, c in record["candidates"].items()
        }
        model.selected = model.candidates[record["selected"]]
        return model


class MajorityLabelVoter(LabelModel):
    """Majority vote as a label model (ties go to the more frequent class), for Snorkel users."""

    def __init__(self, cardinality: int = 2, seed: int = 0, device: str = "auto", verbose: bool = False) -> None:
        super().__init__(cardinality=cardinality, method=MAJORITY_VOTE, device=device, seed=seed, verbose=verbose)

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        """Vote shares per class; needs no ``fit`` (rows without votes get the fitted or a uniform prior)."""
        if self.selected is None:
            L = check_label_matrix(L, cardinality=self.cardinality, min_lfs=1) if np.asarray(L).max() >= 0 \
                else np.asarray(L)
            self.n_lfs = L.shape[1]
            uniform = np.full(self.cardinality, -math.log(self.cardinality))
            self.selected = FittedCandidate(MAJORITY_VOTE, np.zeros((L.shape[1], self.cardinality + 1, self.cardinality)),
                                            uniform)
            self.candidates = {MAJORITY_VOTE: self.selected}
        return super().predict_proba(L)


# ---------------------------------------------------------------------- helpers
@contextlib.contextmanager
def _single_thread(device: torch.device) -> Iterator[None]:
    """Run the fit's many small CPU tensor ops on one thread: intra-op threading only adds
    synchronisation at these sizes (and stalls badly when other processes hold the cores)."""
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _labels(Y: np.ndarray, k: int) -> np.ndarray:
    y = Y.to_numpy(dtype=object) if isinstance(Y, (pd.Series, pd.api.extensions.ExtensionArray)) else np.asarray(Y)
    if y.dtype == object or y.dtype.kind == "f":
        y = np.array([-1 if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v
                      for v in y.tolist()], dtype=np.int64)
    y = y.astype(np.int64)
    if y.size and (y.min() < -1 or y.max() >= k):
        raise LabelingError(f"gold labels must be -1 (unknown) or 0..{k - 1}; found {sorted(set(y.tolist()))[:10]}")
    return y


def _accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    keep = y >= 0
    if not keep.any():
        return float("nan")
    return float((probs[keep].argmax(axis=1) == y[keep]).mean())


def _argmax(probs: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    # A tie in the probabilities goes to the more frequent class: nudge by the prior, far below any real gap.
    nudge = 1e-9 * (log_prior - log_prior.min()) / max(1.0, float(np.ptp(log_prior)) or 1.0)
    return (probs + nudge[None, :]).argmax(axis=1)


def _distinct_rows(L: np.ndarray, max_rows: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of at most ``max_rows`` rows, collapsed to distinct rows with their counts."""
    if max_rows is not None and len(L) > max_rows:
        rng = np.random.default_rng(seed)
        L = L[np.sort(rng.choice(len(L), size=max_rows, replace=False))]
    keys = _row_keys(L)
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    return L[first], counts.astype(np.float64)


def _row_keys(L: np.ndarray) -> np.ndarray:
    # A 64-bit hash of each row; random odd multipliers make a collision between distinct rows negligible.
    rng = np.random.default_rng(12345)
    mult = rng.integers(1, 2**62, size=L.shape[1], dtype=np.int64) | 1
    keys = np.zeros(len(L), dtype=np.int64)
    with np.errstate(over="ignore"):
        for j in range(L.shape[1]):
            keys = keys * np.int64(1_000_003) + (L[:, j].astype(np.int64) + 2) * mult[j]
    return keys


class _Votes:
    """The non-abstain votes as a sparse one-hot matrix (row i, column j*k + vote), for products with
    dense tensors. On a GPU the products run in torch (cuSPARSE); on a CPU scipy's kernels, which are
    several times faster than torch's CPU sparse kernels, do the same arithmetic."""

    def __init__(self, L: np.ndarray, k: int, device: torch.device, weights: np.ndarray | None = None) -> None:
        rows, lfs = np.nonzero(L >= 0)
        cols = lfs.astype(np.int64) * k + L[rows, lfs].astype(np.int64)
        self.shape = (len(L), L.shape[1] * k)
        self.device = device
        indptr = np.zeros(len(L) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(L)), out=indptr[1:])  # np.nonzero is row-major: sorted
        self.csr = sp.csr_matrix((np.ones(len(rows)), cols, indptr), shape=self.shape)
        self._t: sp.csr_matrix | None = None
        if device.type != "cpu":
            self.gpu = _torch_csr(self.csr, device)
            self._gpu_t: torch.Tensor | None = None

    @property
    def t_csr(self) -> sp.csr_matrix:
        if self._t is None:
            self._t = self.csr.T.tocsr()
        return self._t

    def mm(self, dense: torch.Tensor) -> torch.Tensor:
        """``X @ dense``."""
        if self.device.type == "cpu":
            return torch.from_numpy(np.asarray(self.csr @ dense.numpy()))
        return self.gpu @ dense

    def tmm(self, dense: torch.Tensor) -> torch.Tensor:
        """``X^T @ dense``."""
        if self.device.type == "cpu":
            return torch.from_numpy(np.asarray(self.t_csr @ dense.numpy()))
        if self._gpu_t is None:
            self._gpu_t = _torch_csr(self.t_csr, self.device)
        return self._gpu_t @ dense

    def gram(self, weights: np.ndarray) -> torch.Tensor:
        """``X^T diag(weights) X`` as a dense tensor (the overlap counts of every pair of votes)."""
        if self.device.type == "cpu":
            return torch.from_numpy((self.t_csr @ sp.diags(weights) @ self.csr).toarray())
        weighted = _torch_csr(sp.diags(weights) @ self.csr, self.device)
        if self._gpu_t is None:
            self._gpu_t = _torch_csr(self.t_csr, self.device)
        return (self._gpu_t @ weighted.to_dense())


def _torch_csr(matrix: sp.csr_matrix, device: torch.device) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(matrix.indptr.astype(np.int64)), torch.from_numpy(matrix.indices.astype(np.int64)),
            torch.from_numpy(matrix.data.astype(np.float64)), size=matrix.shape, device=device,
            check_invariants=False,
        )


def _posterior(model: FittedCandidate, L: np.ndarray, k: int, device: torch.device) -> np.ndarray:
    if model.name == MAJORITY_VOTE:
        return _majority_proba(L, k, model.log_prior)
    log_vote = torch.from_numpy(model.log_vote).to(device)
    X = _Votes(L, k, device)
    scores = _scores(X, log_vote, torch.from_numpy(model.log_prior).to(device))
    if model.log_uncovered is not None:
        uncovered = torch.from_numpy(~(L >= 0).any(axis=1)).to(device)
        scores[uncovered] = torch.from_numpy(model.log_uncovered).to(device)
    return torch.softmax(scores, dim=1).cpu().numpy()


def _scores(X: _Votes, log_vote: torch.Tensor, log_prior: torch.Tensor) -> torch.Tensor:
    """log P(y) + sum_j log P(vote_j | y) for every row of ``X``."""
    m, _, k = log_vote.shape
    delta = (log_vote[:, 1:, :] - log_vote[:, :1, :]).reshape(m * k, k)
    base = log_vote[:, 0, :].sum(dim=0) + log_prior
    return X.mm(delta.contiguous()) + base[None, :]


def _naive_bayes(L: np.ndarray, y: np.ndarray, k: int, pseudo: float = 1.0) -> FittedCandidate:
    """Naive Bayes over LF outputs (abstain included) learned from gold labels, Laplace-smoothed."""
    m = L.shape[1]
    counts = np.full((m, k + 1, k), pseudo)
    for c in range(-1, k):
        hits = (L == c).astype(np.float64)  # n x m
        for cls in range(k):
            counts[:, c + 1, cls] += hits[y == cls].sum(axis=0)
    log_vote = np.log(counts / counts.sum(axis=1, keepdims=True))
    prior = np.bincount(y, minlength=k).astype(np.float64) + pseudo
    log_prior = np.log(prior / prior.sum())
    return FittedCandidate(DEV_NAIVE_BAYES, log_vote, log_prior, 0)


def _majority_proba(L: np.ndarray, k: int, log_prior: np.ndarray) -> np.ndarray:
    counts = np.zeros((len(L), k), dtype=np.float64)
    for c in range(k):
        counts[:, c] = (L == c).sum(axis=1)
    total = counts.sum(axis=1, keepdims=True)
    prior = np.exp(log_prior)
    return np.where(total > 0, counts / np.maximum(total, 1), prior[None, :])


class _CandidateFitter:
    """Fits each unsupervised candidate on weighted distinct rows: EM for the Dawid-Skene family,
    the moment fit for matrix completion, vote shares for majority vote."""

    def __init__(
        self, rows: np.ndarray, weights: np.ndarray, k: int, device: torch.device, smoothing: float,
        max_iter: int, tol: float, fixed_prior: np.ndarray | None, epochs: int = 100, lr: float = 0.01,
    ) -> None:
        self.epochs = epochs
        self.lr = lr
        self.k = k
        self.m = rows.shape[1]
        self.device = device
        self.smoothing = smoothing
        self.max_iter = max_iter
        self.tol = tol
        self.fixed_prior = (None if fixed_prior is None
                            else torch.tensor(fixed_prior, dtype=torch.float64, device=device))
        self.X = _Votes(rows, k, device)
        self.weights = weights
        self.w = torch.from_numpy(weights).to(device)
        self.covered = torch.from_numpy((rows >= 0).any(axis=1)).to(device)
        counts = np.stack([(rows == c).sum(axis=1) for c in range(k)], axis=1).astype(np.float64)
        total = counts.sum(axis=1, keepdims=True)
        mv = np.where(total > 0, counts / np.maximum(total, 1), 1.0 / k)
        self.q_mv = torch.from_numpy(mv).to(device)
        self.coverage = torch.from_numpy((rows >= 0).astype(np.float64).T @ weights / weights.sum()).to(device)

    def fit(self, name: str) -> FittedCandidate:
        if name == MATRIX_COMPLETION:
            return self._fit_matrix_completion(epochs=self.epochs, lr=self.lr)
        if name == MAJORITY_VOTE:
            # Rows without votes get the given class balance, else a uniform guess (as a random tie-break).
            prior = self.fixed_prior if self.fixed_prior is not None else torch.full(
                (self.k,), 1.0 / self.k, dtype=torch.float64, device=self.device)
            log_vote = np.zeros((self.m, self.k + 1, self.k))
            return FittedCandidate(name, log_vote, torch.log(prior).cpu().numpy(), 0)
        # Abstain-ignoring models learn nothing from rows with no votes; the abstain model does.
        use = self.covered if name != DAWID_SKENE_ABSTAIN else torch.ones_like(self.covered)
        q = self.q_mv.clone()
        log_vote = prior = None
        # Without the abstain signal, a free prior lets EM explain one class's LFs as always wrong
        # (it collapses to one class when LFs vote one class each): keep majority vote's prior there.
        mv_prior = self._prior(self.q_mv, self.covered) if name != DAWID_SKENE_ABSTAIN else None
        iterations = 0
        while iterations < self.max_iter:
            iterations += 1
            prior = self._prior(q, use) if mv_prior is None else mv_prior
            log_vote = self._m_step(name, q, use)
            q_new = torch.softmax(_scores(self.X, log_vote, torch.log(prior)), dim=1)
            q_new = torch.where(use[:, None], q_new, q)
            change = float((q_new - q).abs().max())
            q = q_new
            if change < self.tol:
                break
        assert log_vote is not None and prior is not None
        return FittedCandidate(name, log_vote.cpu().numpy(), torch.log(prior).cpu().numpy(), iterations)

    def _prior(self, q: torch.Tensor, use: torch.Tensor) -> torch.Tensor:
        if self.fixed_prior is not None:
            return self.fixed_prior
        mass = (q * (self.w * use)[:, None]).sum(dim=0) + 1.0
        return mass / mass.sum()

    def _m_step(self, name: str, q: torch.Tensor, use: torch.Tensor) -> torch.Tensor:
        k, m, s = self.k, self.m, self.smoothing
        wq = q * (self.w * use)[:, None]  # n x k
        votes = self.X.tmm(wq.contiguous()).reshape(m, k, k)  # [j, vote c, class y]
        class_mass = wq.sum(dim=0)  # k
        eye = torch.eye(k, dtype=torch.float64, device=self.device)
        pseudo = s * (0.7 * eye + 0.3 * (1 - eye) / (k - 1))  # a weak prior: LFs better than chance
        log_vote = torch.zeros((m, k + 1, k), dtype=torch.float64, device=self.device)
        if name == ONE_COIN:
            right = torch.diagonal(votes, dim1=1, dim2=2).sum(dim=1) + 0.7 * s
            cast = votes.sum(dim=(1, 2)) + s
            acc = (right / cast).clamp(1e-4, 1 - 1e-4)
            wrong = (1 - acc) / (k - 1)
            table = wrong[:, None, None] * (1 - eye) + acc[:, None, None] * eye
            log_vote[:, 1:, :] = torch.log(table)
        elif name == DAWID_SKENE:
            table = votes + pseudo[None]
            log_vote[:, 1:, :] = torch.log(table / table.sum(dim=1, keepdim=True))
        elif name == DAWID_SKENE_ABSTAIN:
            voted = votes.sum(dim=1)  # m x k
            abstained = (class_mass[None, :] - voted).clamp_min(0) + s * (1 - self.coverage)[:, None]
            table = torch.cat([abstained[:, None, :], votes + pseudo[None] * self.coverage[:, None, None]], dim=1)
            log_vote = torch.log(table / table.sum(dim=1, keepdim=True))
        else:
            raise LabelingError(f"unknown label model candidate '{name}'")
        return log_vote

    def _fit_matrix_completion(
        self, epochs: int = 100, lr: float = 0.01, momentum: float = 0.9, prec_init: float = 0.7,
        init_scale: float = 0.5,
    ) -> FittedCandidate:
        """MeTaL-style moments (as Snorkel's LabelModel): fit ``mu[j*k+c, y] = P(vote_j = c | y)`` so that
        ``mu P mu^T`` matches the off-block-diagonal overlap matrix ``O`` of the votes."""
        k, m = self.k, self.m
        d = m * k
        total = self.w.sum()
        overlap = (self.X.gram(self.weights) / total).to(self.device).float()
        if self.fixed_prior is not None:
            prior = self.fixed_prior.float()
        else:
            prior = torch.full((k,), 1.0 / k, dtype=torch.float32, device=self.device)
        P = torch.diag(prior)
        lps = torch.diagonal(overlap)
        mu_init = torch.zeros((d, k), dtype=torch.float32, device=self.device)
        index = torch.arange(d, device=self.device)
        mu_init[index, index % k] = (lps * prec_init / prior[index % k]).clamp(0, 1)
        mask = (index[:, None] // k != index[None, :] // k).float()
        mu = mu_init.clone() * init_scale
        velocity = torch.zeros_like(mu)
        # SGD with momentum as torch.optim.SGD does it, on the analytic gradient of
        # ||mask * (O - mu P mu^T)||^2 + ||mu p - diag(O)||^2 (O is symmetric).
        for _ in range(epochs):
            residual = (overlap - mu @ P @ mu.t()) * mask
            grad = -4.0 * residual @ mu @ P + 2.0 * (mu @ prior - lps)[:, None] * prior[None, :]
            velocity.mul_(momentum).add_(grad)
            mu.sub_(lr * velocity)
        n = float(total)
        eps = min(0.01, 1 / 10 ** math.ceil(math.log10(max(n, 2))))
        mu_hat = mu.detach().clamp(eps, 1 - eps).double()
        mu_hat = mu_hat[:, _symmetry_permutation(mu_hat, prior.double(), m, k)]
        table = _better_than_chance(mu_hat.reshape(m, k, k))
        log_vote = torch.zeros((m, k + 1, k), dtype=torch.float64, device=self.device)
        log_vote[:, 1:, :] = torch.log(table)
        log_prior = torch.log(prior.double())
        # Votes are scored as Snorkel does (abstains ignored); rows with no vote get the prior unless
        # LabelModel.fit lends them the abstain model's estimate.
        return FittedCandidate(MATRIX_COMPLETION, log_vote.cpu().numpy(), log_prior.cpu().numpy(), epochs)


def _better_than_chance(table: torch.Tensor) -> torch.Tensor:
    """Weak supervision's standing assumption: a vote for class c is at least as likely when the row is c
    as when it is not. Cap ``P(vote c | y)`` at ``P(vote c | c)`` so an LF the moments misjudge can at
    worst say nothing, never vote against its own label."""
    own = torch.diagonal(table, dim1=1, dim2=2)  # m x k: P(vote c | y = c)
    return torch.minimum(table, own[:, :, None])


def _symmetry_permutation(mu: torch.Tensor, prior: torch.Tensor, m: int, k: int) -> list[int]:
    """Among classes with equal prior the moments cannot tell columns apart: pick the column order in
    which LFs agree most with the class they vote (a linear assignment)."""
    joint = (mu.reshape(m, k, k) * prior[None, None, :]).sum(dim=0).cpu().numpy()  # vote c x class y
    order = list(range(k))
    rounded = np.round(prior.cpu().numpy(), 3)
    for value in np.unique(rounded):
        group = np.flatnonzero(rounded == value)
        if len(group) < 2:
            continue
        rows, cols = linear_sum_assignment(-joint[np.ix_(group, group)])
        for r, c in zip(rows, cols, strict=True):
            order[group[r]] = int(group[c])
    return order
