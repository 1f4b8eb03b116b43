"""The label model: turns an ``n x m`` matrix of LF votes (-1 = abstain) into class probabilities.

Candidates, all fitted in PyTorch on the distinct rows of (a seeded sample of) the matrix, so a GPU is
used when present: majority vote (votes.py; inside ``auto`` its ties go to the best-agreeing fitted
model); Snorkel's moment method (moments.py); Dawid-Skene EM with
class-conditional confusion matrices, with abstains ignored or modelled per class, and one-coin EM
(em.py); and, given dev labels, naive Bayes over LF outputs learned from them (naive_bayes.py).
selection.py decides which one predicts. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelgate.devices import resolve_device, torch_threads
from labelgate.errors import LabelingError
from labelgate.labeling.matrix import check_label_matrix
from labelgate.labeling.model.candidate import (
    CANDIDATES,
    DAWID_SKENE_ABSTAIN,
    DEV_NAIVE_BAYES,
    MAJORITY_VOTE,
    MATRIX_COMPLETION,
    FittedCandidate,
    argmax_by_prior,
    posterior,
)
from labelgate.labeling.model.dependencies import contradicting_overlaps, lf_groups, lf_pairs
from labelgate.labeling.model.em import fit_em
from labelgate.labeling.model.fit_data import FitData
from labelgate.labeling.model.moments import fit_moments
from labelgate.labeling.model.prior import covered_prior, uncovered_scores, uniform_unless_significant
from labelgate.labeling.model.selection import (
    AUTO_CANDIDATES,
    agrees_with_majority,
    dev_choice,
    held_out_lf_agreement,
    held_out_votes,
    unsupervised_choice,
)
from labelgate.labeling.model.votes import distinct_rows

METHODS = ("auto", *CANDIDATES)
FORMAT_VERSION = 1
SELECTION_ROWS = 20_000  # distinct rows (a seeded sample) the unsupervised selection criteria are computed on


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
        self.device = resolve_device(device, setting="labeling.device")
        self.max_iter = max_iter
        self.tol = tol
        self.max_fit_rows = max_fit_rows
        self.smoothing = smoothing
        self.seed = seed
        self.verbose = verbose
        self.selected: FittedCandidate | None = None
        self.candidates: dict[str, FittedCandidate] = {}
        self.dev_scores: dict[str, float] = {}
        self.agreement_scores: dict[str, float] = {}
        self.dev_selection: dict[str, Any] = {}
        # LF pairs (indices) with a vote overlap the class cannot explain, left out of the moment fit.
        self.contradicting_pairs: list[tuple[int, int]] = []
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
        """Fit on ``L_train``. ``class_balance`` fixes the class prior; ``Y_dev`` alone sets it from the dev
        labels (Snorkel's use); else it is estimated from the votes. ``Y_dev`` with ``L_dev`` (aligned rows)
        leaves the no-dev fit as it is and switches candidate only when the dev labels show a significant
        gain (``dev_selection`` reports the comparison and its uncertainty).
        ``n_epochs``/``lr`` are Snorkel's training settings for the moment fit; ``progress_bar`` and
        ``log_freq`` are accepted for Snorkel compatibility (``verbose`` prints the choice)."""
        k = self.cardinality
        L = check_label_matrix(L_train, cardinality=k, min_lfs=1)
        self.n_lfs = L.shape[1]
        seed = self.seed if seed is None else seed
        prior = self._fixed_prior(class_balance, Y_dev, L_dev)
        dev = self._dev(L_dev, Y_dev)
        if self.method != "auto" and self.method != MAJORITY_VOTE and L.shape[1] < 3:
            raise LabelingError(
                f"the '{self.method}' label model needs at least 3 labeling functions to estimate their "
                f"accuracies; the matrix has {L.shape[1]}. Add LFs or use method 'majority_vote'"
            )
        rows, weights = distinct_rows(L, self.max_fit_rows, seed)
        with torch_threads(1 if self.device.type == "cpu" else None):  # small ops: one thread is fastest
            # Dependent LFs are grouped for the models of independent LFs ("auto" only: a named method is
            # the textbook model).
            data = FitData(rows, weights, k, self.device)
            if self.method == "auto":
                data.set_groups(lf_groups(data.gram(), data.m, k))
                data.excluded_overlaps = contradicting_overlaps(data.gram(), float(weights.sum()), data.m, k)
                self.contradicting_pairs = lf_pairs(data.excluded_overlaps, k)
            if self.method != "auto":
                self.candidates = {self.method: self._fit_candidate(self.method, data, prior, n_epochs, lr)}
                choice = self.method
            elif L.shape[1] < 3:
                self.candidates = {MAJORITY_VOTE: self._fit_candidate(MAJORITY_VOTE, data, prior, n_epochs, lr)}
                choice = MAJORITY_VOTE
            else:
                choice = self._fit_auto(data, prior, dev, n_epochs, lr)
        self.selected = self.candidates[choice]
        if self.verbose or progress_bar:
            print(f"labelgate LabelModel: {choice} (held-out LF agreement {self.agreement_scores}; "
                  f"dev accuracy {self.dev_scores or 'n/a'})", flush=True)
        return self

    def _fit_auto(self, data: FitData, prior: np.ndarray | None, dev: tuple[np.ndarray, np.ndarray] | None,
                  epochs: int, lr: float) -> str:
        """Fit every candidate, with the class prior estimated by the abstain model unless it is given,
        pick one by held-out LF agreement, and let dev labels switch only to a clearly better one."""
        k = self.cardinality
        abstain = self._fit_candidate(DAWID_SKENE_ABSTAIN, data, prior, epochs, lr)
        if prior is None:
            n_covered = float((data.w * data.covered).sum())
            shares = uniform_unless_significant(covered_prior(data, abstain), n_covered)
        else:
            shares = prior
        uncovered = uncovered_scores(abstain)
        self.candidates = {DAWID_SKENE_ABSTAIN: abstain}
        for name in AUTO_CANDIDATES:
            if name == DAWID_SKENE_ABSTAIN:
                continue
            fitted = self._fit_candidate(name, data, shares, epochs, lr)
            # Models that ignore abstains say nothing about rows where every LF abstains; the abstain model does.
            fitted.log_uncovered = uncovered
            if name == MAJORITY_VOTE:
                fitted.lf_weight = data.lf_weight
            self.candidates[name] = fitted
        # The criteria need a sample, not every distinct row: a seeded one keeps large fits fast.
        rng = np.random.default_rng(self.seed)
        pick = np.sort(rng.choice(len(data.rows), size=min(len(data.rows), SELECTION_ROWS), replace=False))
        rows, weights = data.rows[pick], data.weights[pick]
        self.agreement_scores = {}
        dependent = np.zeros((data.m, data.m), dtype=bool)
        for i, j in self.contradicting_pairs:
            dependent[i, j] = dependent[j, i] = True
        for name, model in self.candidates.items():
            if name == MAJORITY_VOTE:
                continue
            swapped = not agrees_with_majority(model, rows, weights, k, self._proba)
            # A label-swapped fit is never chosen unsupervised (nor breaks majority vote's ties).
            self.agreement_scores[name] = float("nan") if swapped else \
                held_out_lf_agreement(model, rows, weights, k, self._proba, dependent)
        # Majority vote's ties go to the fitted model that agrees best with held-out LFs.
        usable = {n: v for n, v in self.agreement_scores.items() if v == v}
        if usable:
            self.candidates[MAJORITY_VOTE].tie_break = self.candidates[max(usable, key=usable.__getitem__)]
        self.agreement_scores[MAJORITY_VOTE] = held_out_lf_agreement(
            self.candidates[MAJORITY_VOTE], rows, weights, k, self._proba, dependent)
        choice = unsupervised_choice(self.agreement_scores, held_out_votes(rows, weights, dependent))
        if dev is not None:
            choice, self.dev_selection, nb = dev_choice(self.candidates, dev[0], dev[1], k, choice, self._proba,
                                                        self.seed)
            self.dev_scores = {n: r["accuracy"] for n, r in self.dev_selection["candidates"].items()}
            self.candidates[DEV_NAIVE_BAYES] = nb
        return choice
    def _fit_candidate(self, name: str, data: FitData, prior: np.ndarray | None, epochs: int,
                       lr: float) -> FittedCandidate:
        if name == MATRIX_COMPLETION:
            return fit_moments(data, prior, epochs=epochs, lr=lr)
        if name == MAJORITY_VOTE:
            # Rows without votes get the given class balance, else a uniform guess (as a random tie-break).
            k = self.cardinality
            p = np.full(k, 1.0 / k) if prior is None else prior
            return FittedCandidate(name, np.zeros((data.m, k + 1, k)), np.log(p), 0)
        return fit_em(data, name, prior, self.smoothing, self.max_iter, self.tol)

    def _fixed_prior(
        self, class_balance: Sequence[float] | None, Y_dev: np.ndarray | None, L_dev: np.ndarray | None
    ) -> np.ndarray | None:
        k = self.cardinality
        if class_balance is not None:
            p = np.asarray(class_balance, dtype=np.float64)
            if p.shape != (k,) or np.any(p <= 0) or not math.isclose(p.sum(), 1.0, rel_tol=1e-3):
                raise LabelingError(f"class_balance must be {k} positive numbers summing to 1, got {list(p)}")
            return p / p.sum()
        if Y_dev is not None and L_dev is None:  # Snorkel's use of Y_dev: the class balance only
            y = gold_labels(Y_dev, k)
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
        y = gold_labels(Y_dev, self.cardinality)
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
        preds = argmax_by_prior(probs, self._require_fitted().log_prior)
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

        y = gold_labels(Y, self.cardinality)
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
            out[start:start + len(part)] = posterior(model, part, self.cardinality, self.device)
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
            "dev_selection": self.dev_selection,
            "contradicting_pairs": [list(pair) for pair in self.contradicting_pairs],
            "agreement_scores": {n: v if v == v else None for n, v in self.agreement_scores.items()},
            "candidates": {
                n: {"log_vote": c.log_vote.tolist(), "log_prior": c.log_prior.tolist(), "iterations": c.iterations,
                    "log_uncovered": None if c.log_uncovered is None else c.log_uncovered.tolist(),
                    "lf_weight": None if c.lf_weight is None else c.lf_weight.tolist(),
                    "tie_break": None if c.tie_break is None else c.tie_break.name}
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
        model.dev_selection = record.get("dev_selection", {})
        model.contradicting_pairs = [(int(i), int(j)) for i, j in record.get("contradicting_pairs", [])]
        model.agreement_scores = {n: float("nan") if v is None else v
                                  for n, v in record.get("agreement_scores", {}).items()}
        model.candidates = {
            n: FittedCandidate(n, np.asarray(c["log_vote"]), np.asarray(c["log_prior"]), c["iterations"],
                               None if c["log_uncovered"] is None else np.asarray(c["log_uncovered"]),
                               None if c.get("lf_weight") is None else np.asarray(c["lf_weight"]))
            for n, c in record["candidates"].items()
        }
        for name, c in record["candidates"].items():
            if c.get("tie_break") is not None:
                model.candidates[name].tie_break = model.candidates[c["tie_break"]]
        model.selected = model.candidates[record["selected"]]
        return model


def gold_labels(Y: np.ndarray, k: int) -> np.ndarray:
    """Gold labels as int64 with -1 for unknown (None, NaN and pandas NA included), range-checked."""
    y = Y.to_numpy(dtype=object) if isinstance(Y, (pd.Series, pd.api.extensions.ExtensionArray)) else np.asarray(Y)
    if y.dtype == object or y.dtype.kind == "f":
        y = np.array([-1 if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v
                      for v in y.tolist()], dtype=np.int64)
    y = y.astype(np.int64)
    if y.size and (y.min() < -1 or y.max() >= k):
        raise LabelingError(f"gold labels must be -1 (unknown) or 0..{k - 1}; found {sorted(set(y.tolist()))[:10]}")
    return y
