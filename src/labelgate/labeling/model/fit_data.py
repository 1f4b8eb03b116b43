"""What every unsupervised fit starts from: the distinct vote rows with their counts, their sparse
vote matrix, and majority vote's soft labels as the starting point."""

from __future__ import annotations

import numpy as np
import torch

from labelgate.labeling.model.votes import VoteMatrix


class FitData:
    """Weighted distinct rows of a label matrix, ready for EM and moment fits on ``device``."""

    def __init__(self, rows: np.ndarray, weights: np.ndarray, k: int, device: torch.device,
                 lf_group: np.ndarray | None = None) -> None:
        self.rows = rows
        self.k = k
        self.m = rows.shape[1]
        self.device = device
        self.X = VoteMatrix(rows, k, device)
        self.weights = weights
        self.w = torch.from_numpy(weights).to(device)
        # Per-class vote counts and each LF's coverage from the sparse votes: dense n x m temporaries of
        # 100k-row fits cost more than the products.
        counts = np.asarray(self.X.csr @ np.tile(np.eye(k), (self.m, 1)))
        total = counts.sum(axis=1, keepdims=True)
        self.covered = torch.from_numpy(total[:, 0] > 0).to(device)
        mv = np.where(total > 0, counts / np.maximum(total, 1), 1.0 / k)
        self.q_mv = torch.from_numpy(mv).to(device)
        # Groups of dependent LFs (dependencies.py; default: each LF its own) and each LF's weight in the
        # scores, 1 / the size of its group, so a group of near-copies counts as one piece of evidence.
        self.set_groups(np.arange(self.m) if lf_group is None else np.asarray(lf_group))
        self._gram: np.ndarray | None = None
        # Vote overlaps a moment fit leaves out (dependencies.contradicting_overlaps; default: none).
        self.excluded_overlaps: np.ndarray | None = None
        lf_mass = np.asarray(self.X.t_csr @ weights).reshape(self.m, k).sum(axis=1)
        self.coverage = torch.from_numpy(lf_mass / weights.sum()).to(device)

    def gram(self) -> np.ndarray:
        """The weighted overlap counts of every pair of votes, ``X^T diag(w) X`` (computed once)."""
        if self._gram is None:
            self._gram = self.X.gram(self.weights).cpu().numpy()
        return self._gram

    def set_groups(self, lf_group: np.ndarray) -> None:
        """Record groups of dependent LFs: each member's weight becomes 1 / the group's size."""
        self.lf_group = np.asarray(lf_group)
        self.lf_weight = 1.0 / np.bincount(self.lf_group)[self.lf_group]
