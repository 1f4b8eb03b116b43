"""The class prior without dev labels, from the model that sees abstains.

Keyword LFs abstain far more on some classes than on others, so which LFs stayed silent says something
about the class; the abstain-modelling Dawid-Skene EM (em.py) fits the prior jointly with that signal.
Two numbers come out of it: the class shares among rows some LF votes on (the prior the models that
ignore abstains need, since they only ever score such rows) and the scores of a row no LF votes on."""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from labelgate.labeling.model.candidate import FittedCandidate
from labelgate.labeling.model.fit_data import FitData
from labelgate.labeling.model.votes import row_scores

PRIOR_ALPHA = 0.05  # significance level at which an estimated class prior is told from uniform


def covered_prior(data: FitData, abstain_model: FittedCandidate, floor: float = 1e-3) -> np.ndarray:
    """``P(y | some LF votes)``: the mean of two estimates with different failure modes, each class kept
    above ``floor`` so no class is ruled out by the prior alone. The abstain model's posterior averaged
    over the covered rows is consistent when LFs are independent given the class, but LFs that fire
    together (real keyword lists) drag it far off; majority vote's vote shares do not depend on that,
    but lean toward the classes more LFs vote for. On the example's LFs the first alone put 76% of
    the rows in one class of two that are near even."""
    scores = row_scores(data.X, torch.from_numpy(abstain_model.log_vote).to(data.device),
                        torch.from_numpy(abstain_model.log_prior).to(data.device))
    post = torch.softmax(scores, dim=1)
    w = data.w * data.covered
    if float(w.sum()) <= 0:
        return np.exp(abstain_model.log_prior)
    model_prior = ((post * w[:, None]).sum(dim=0) / w.sum()).cpu().numpy()
    vote_shares = ((data.q_mv * w[:, None]).sum(dim=0) / w.sum()).cpu().numpy()
    prior = np.maximum(0.5 * (model_prior + vote_shares), floor)
    return prior / prior.sum()


def uniform_unless_significant(prior: np.ndarray, n_rows: float, alpha: float = PRIOR_ALPHA) -> np.ndarray:
    """``prior``, or the uniform prior when ``n_rows`` rows drawn from it would not tell it from uniform
    (Pearson's chi-square test at level ``alpha``). An estimate within noise of uniform only moves
    predictions by its noise; uniform is then the better guess (Snorkel's default)."""
    k = len(prior)
    chi2 = float(n_rows * k * ((prior - 1.0 / k) ** 2).sum())
    return np.full(k, 1.0 / k) if stats.chi2.sf(chi2, df=k - 1) > alpha else prior


def uncovered_scores(abstain_model: FittedCandidate) -> np.ndarray:
    """log P(y) + sum_j log P(LF j abstains | y): the class scores of a row where every LF abstains."""
    return abstain_model.log_prior + abstain_model.log_vote[:, 0, :].sum(axis=0)
