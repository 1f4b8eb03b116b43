"""The repair model: a log-linear model over each dirty cell's candidate values (HoloClean's factor graph
reduced to its learned unary factors), trained on the clean cells, which label themselves.

score(v) = sum_b W[a, b] . cooc_b(v)  +  U[a] . extra(v)  +  sum_c D[c] . violations_c(v); P = softmax over
the cell's candidates, then divided by a temperature fitted on held-out clean cells so that probabilities
are calibrated before the threshold is applied."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass
class Features:
    """Candidate features of a set of cells; K candidates per cell, padded with ``valid`` False.

    cooc: [n, K, A, 2] conditional frequency of the candidate given each other attribute's value (and
    its log); extra: [n, K, E] (frequency prior, imputer log-probability, dictionary membership);
    violations: [n, K, C] log(1 + violations the candidate would cause) per functional constraint."""

    target: np.ndarray
    candidates: np.ndarray
    valid: np.ndarray
    cooc: np.ndarray
    extra: np.ndarray
    violations: np.ndarray

    def __len__(self) -> int:
        return len(self.target)

    def take(self, index: np.ndarray) -> Features:
        return Features(self.target[index], self.candidates[index], self.valid[index], self.cooc[index],
                        self.extra[index], self.violations[index])

    @staticmethod
    def concat(parts: list[Features]) -> Features:
        return Features(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                          ("target", "candidates", "valid", "cooc", "extra", "violations")))


class _LogLinear(nn.Module):
    def __init__(self, n_attrs: int, n_extra: int, n_constraints: int) -> None:
        super().__init__()
        self.cooc = nn.Parameter(torch.zeros(n_attrs, n_attrs, 2))
        self.extra = nn.Parameter(torch.zeros(n_attrs, n_extra))
        self.violations = nn.Parameter(torch.zeros(max(n_constraints, 1)))

    def forward(self, target, cooc, extra, violations, valid):
        score = torch.einsum("nkab,nab->nk", cooc, self.cooc[target])
        score = score + torch.einsum("nke,ne->nk", extra, self.extra[target])
        if violations.shape[-1]:
            score = score + violations @ self.violations[: violations.shape[-1]]
        return score.masked_fill(~valid, float("-inf"))


class RepairModel:
    """Fit weights on clean cells (the label is each cell's own value), then score dirty cells."""

    def __init__(self, n_attrs: int, n_extra: int, n_constraints: int, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.net = _LogLinear(n_attrs, n_extra, n_constraints)
        self.temperature = 1.0
        self.seed = seed

    @staticmethod
    def _tensors(f: Features):
        return (torch.as_tensor(f.target, dtype=torch.long), torch.as_tensor(f.cooc, dtype=torch.float32),
                torch.as_tensor(f.extra, dtype=torch.float32), torch.as_tensor(f.violations, dtype=torch.float32),
                torch.as_tensor(f.valid))

    def fit(self, features: Features, labels: np.ndarray, *, epochs: int = 200, holdout: float = 0.2,
            l2: float = 1e-3) -> dict[str, float]:
        """``labels``: the index of the true candidate per cell. A share of the cells is held out to fit the
        temperature; returns the held-out accuracy and log loss."""
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(features))
        cut = max(1, int(len(order) * holdout)) if len(order) > 10 else 0
        held, train = order[:cut], order[cut:]
        inputs = self._tensors(features.take(train))
        y = torch.as_tensor(labels[train], dtype=torch.long)
        optimizer = torch.optim.Adam(self.net.parameters(), lr=0.05)
        for _ in range(epochs):
            optimizer.zero_grad()
            logits = self.net(*inputs)
            penalty = sum((p ** 2).sum() for p in self.net.parameters())
            loss = nn.functional.cross_entropy(logits, y) + l2 * penalty / max(len(train), 1)
            loss.backward()
            optimizer.step()
        if not len(held):
            return {"holdout_cells": 0}
        with torch.no_grad():
            # Padding as a large finite number: -inf / T would make the temperature's gradient NaN.
            logits = self.net(*self._tensors(features.take(held))).clamp(min=-1e4)
        y_held = torch.as_tensor(labels[held], dtype=torch.long)
        log_t = torch.zeros((), requires_grad=True)
        optimizer = torch.optim.Adam([log_t], lr=0.05)
        for _ in range(200):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(logits / log_t.exp(), y_held)
            loss.backward()
            optimizer.step()
        self.temperature = float(log_t.detach().exp())
        with torch.no_grad():
            probs = torch.softmax(logits / self.temperature, dim=-1)
        return {"holdout_cells": len(held), "holdout_accuracy": float((probs.argmax(-1) == y_held).float().mean()),
                "holdout_log_loss": float(nn.functional.nll_loss(torch.log(probs + 1e-12), y_held)),
                "temperature": self.temperature}

    @torch.no_grad()
    def predict(self, features: Features) -> np.ndarray:
        """Calibrated probabilities [n, K] over each cell's candidates."""
        if not len(features):
            return np.zeros((0, features.candidates.shape[1]))
        logits = self.net(*self._tensors(features)).double() / self.temperature
        # A learned repair is never certain: probabilities stay below 1, so threshold 1.0 means report only.
        return torch.softmax(logits, dim=-1).clamp(max=1 - 1e-6).numpy()
