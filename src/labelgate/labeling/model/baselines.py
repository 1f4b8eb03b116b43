"""Baselines with the label model's API: majority vote (Snorkel's ``MajorityLabelVoter``)."""

from __future__ import annotations

import math

import numpy as np

from labelgate.labeling.matrix import check_label_matrix
from labelgate.labeling.model.candidate import MAJORITY_VOTE, FittedCandidate
from labelgate.labeling.model.label_model import LabelModel


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
