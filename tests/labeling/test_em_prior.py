"""EM and the class prior on small weighted matrices, fast enough to run for every mutant: the prior each
EM model uses (free, majority vote's, or fixed), the shape of each model's vote tables, the iteration
budget, dependent LFs' weights, and covered_prior's blend of two estimates."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labelgate.errors import LabelingError
from labelgate.labeling.model.candidate import DAWID_SKENE, DAWID_SKENE_ABSTAIN, ONE_COIN, FittedCandidate
from labelgate.labeling.model.em import fit_em
from labelgate.labeling.model.fit_data import FitData
from labelgate.labeling.model.prior import covered_prior, uncovered_scores
from labelgate.labeling.synthetic import make_votes

CPU = torch.device("cpu")


def _data(balance=(0.8, 0.2), n=3000, m=8, seed=3, **kw):
    votes = make_votes(n=n, m=m, k=len(balance), accuracy=(0.65, 0.9), coverage=(0.3, 0.7),
                       class_balance=list(balance), seed=seed, **kw)
    rows, counts = np.unique(votes.L, axis=0, return_counts=True)
    return FitData(rows.astype(np.int64), counts.astype(np.float64), len(balance), CPU), votes


def _fit(data, name, prior=None, max_iter=200, tol=1e-6):
    return fit_em(data, name, prior, smoothing=1.0, max_iter=max_iter, tol=tol)


def _mv_prior(data: FitData) -> np.ndarray:
    """Majority vote's soft-label mass on covered rows, plus one pseudo-count per class."""
    w = data.weights * data.covered.numpy()
    mass = (data.q_mv.numpy() * w[:, None]).sum(axis=0) + 1.0
    return mass / mass.sum()


def test_the_abstain_model_estimates_an_imbalanced_prior() -> None:
    data, votes = _data()
    fitted = _fit(data, DAWID_SKENE_ABSTAIN)
    truth = np.bincount(votes.y, minlength=2) / len(votes.y)
    np.testing.assert_allclose(np.exp(fitted.log_prior), truth, atol=0.02)
    # At convergence the prior is the posterior's mass over every row (one pseudo-count per class).
    post = torch.softmax(torch.from_numpy(fitted.log_vote[:, 0, :].sum(axis=0) + fitted.log_prior)[None, :]
                         + data.X.mm(torch.from_numpy((fitted.log_vote[:, 1:, :] - fitted.log_vote[:, :1, :])
                                                      .reshape(-1, 2)).contiguous()), dim=1).numpy()
    mass = (post * data.weights[:, None]).sum(axis=0) + 1.0
    np.testing.assert_allclose(np.exp(fitted.log_prior), mass / mass.sum(), atol=1e-4)


@pytest.mark.parametrize("name", [DAWID_SKENE, ONE_COIN])
def test_models_that_ignore_abstains_keep_majority_votes_prior(name: str) -> None:
    data, _ = _data()
    np.testing.assert_allclose(np.exp(_fit(data, name).log_prior), _mv_prior(data), rtol=1e-12)


@pytest.mark.parametrize("name", [DAWID_SKENE, ONE_COIN, DAWID_SKENE_ABSTAIN])
def test_a_fixed_prior_is_used_as_given(name: str) -> None:
    data, _ = _data()
    np.testing.assert_allclose(np.exp(_fit(data, name, prior=np.array([0.3, 0.7])).log_prior), [0.3, 0.7])


def test_vote_tables_are_distributions_of_the_right_shape() -> None:
    data, votes = _data(balance=(0.5, 0.3, 0.2), m=6)
    ds = np.exp(_fit(data, DAWID_SKENE).log_vote)
    assert ds.shape == (6, 4, 3)
    np.testing.assert_allclose(ds[:, 0, :], 1.0)  # abstains carry no evidence
    np.testing.assert_allclose(ds[:, 1:, :].sum(axis=1), 1.0)
    dsa = np.exp(_fit(data, DAWID_SKENE_ABSTAIN).log_vote)
    np.testing.assert_allclose(dsa.sum(axis=1), 1.0)  # abstain is one more outcome
    assert (dsa[:, 0, :] > 0.2).all() and (dsa[:, 0, :] < 0.8).all()  # coverages drawn in 0.3..0.7
    oc = np.exp(_fit(data, ONE_COIN).log_vote)
    np.testing.assert_allclose(oc[:, 1:, :].sum(axis=1), 1.0)
    own = np.stack([np.diag(t) for t in oc[:, 1:, :]])
    np.testing.assert_allclose(own, own[:, :1].repeat(3, axis=1))  # one accuracy per LF
    wrong = oc[:, 1:, :][:, ~np.eye(3, dtype=bool)].reshape(6, -1)
    np.testing.assert_allclose(wrong, ((1 - own[:, 0]) / 2)[:, None].repeat(6, axis=1))
    np.testing.assert_allclose(own[:, 0], votes.accuracies, atol=0.06)


def test_ds_recovers_the_lfs_accuracies() -> None:
    data, votes = _data(balance=(0.5, 0.5), n=6000)
    table = np.exp(_fit(data, DAWID_SKENE).log_vote)[:, 1:, :]
    accuracy = (np.stack([np.diag(t) for t in table]) * 0.5).sum(axis=1)
    np.testing.assert_allclose(accuracy, votes.accuracies, atol=0.04)


def test_the_iteration_budget_and_tolerance_stop_em() -> None:
    data, _ = _data()
    assert _fit(data, DAWID_SKENE_ABSTAIN, max_iter=1).iterations == 1
    assert _fit(data, DAWID_SKENE_ABSTAIN, max_iter=3, tol=0.0).iterations == 3
    converged = _fit(data, DAWID_SKENE_ABSTAIN, max_iter=500, tol=1e-3).iterations
    assert 1 < converged < 500
    assert _fit(data, DAWID_SKENE_ABSTAIN, max_iter=500, tol=10.0).iterations == 1


def test_dependent_lfs_share_one_vote() -> None:
    data, _ = _data()
    alone = _fit(data, DAWID_SKENE, max_iter=1).log_vote  # one M-step from majority vote's labels
    data.set_groups(np.array([0, 0, 1, 2, 3, 4, 5, 6]))
    grouped = _fit(data, DAWID_SKENE, max_iter=1).log_vote
    np.testing.assert_allclose(grouped[:2], alone[:2] / 2)
    np.testing.assert_allclose(grouped[2:], alone[2:])


def test_an_unknown_em_model_is_refused() -> None:
    data, _ = _data(n=200)
    with pytest.raises(LabelingError, match="unknown label model candidate 'snorkel'"):
        _fit(data, "snorkel")


def _sure(k: int, m: int, favourite: int) -> FittedCandidate:
    """A model certain that every covered row is ``favourite``, whatever the votes."""
    log_vote = np.log(np.full((m, k + 1, k), 1.0 / (k + 1)))
    log_vote[:, 1:, favourite] = np.log(0.9 / k)
    log_vote[:, 0, favourite] = np.log(0.1)
    log_prior = np.log(np.full(k, 1e-12))
    log_prior[favourite] = 0.0
    return FittedCandidate(DAWID_SKENE_ABSTAIN, log_vote, log_prior)


def test_covered_prior_is_the_mean_of_the_models_and_majority_votes_shares() -> None:
    rows = np.array([[0, -1, -1], [1, -1, -1], [-1, 1, 0], [-1, -1, -1]])
    data = FitData(rows, np.array([3.0, 1.0, 2.0, 5.0]), 2, CPU)
    # covered weight 6: vote shares (3*[1,0] + 1*[0,1] + 2*[.5,.5]) / 6 = [2/3, 1/3]; the model: [0, 1]
    np.testing.assert_allclose(covered_prior(data, _sure(2, 3, 1)), [1 / 3, 2 / 3], atol=1e-9)
    np.testing.assert_allclose(covered_prior(data, _sure(2, 3, 0)), [5 / 6, 1 / 6], atol=1e-9)


def test_covered_prior_keeps_each_class_above_the_floor() -> None:
    rows = np.array([[0, 0, -1], [0, -1, 0]])
    data = FitData(rows, np.array([1.0, 1.0]), 3, CPU)
    prior = covered_prior(data, _sure(3, 3, 0), floor=0.01)
    np.testing.assert_allclose(prior, np.array([1.0, 0.01, 0.01]) / 1.02)


def test_without_covered_rows_covered_prior_is_the_models_prior() -> None:
    data = FitData(np.array([[-1, -1, -1]]), np.array([4.0]), 2, CPU)
    model = _sure(2, 3, 1)
    model.log_prior = np.log(np.array([0.25, 0.75]))
    np.testing.assert_allclose(covered_prior(data, model), [0.25, 0.75])


def test_uncovered_scores_add_every_lfs_abstain_to_the_prior() -> None:
    model = _sure(2, 3, 1)
    expected = model.log_prior + 3 * np.array([np.log(1 / 3), np.log(0.1)])
    np.testing.assert_allclose(uncovered_scores(model), expected)


def _one_m_step_by_hand(rows: np.ndarray, w: np.ndarray, k: int, s: float) -> dict[str, np.ndarray]:
    """The documented M-step from majority vote's soft labels, written out with loops: weighted vote
    counts per (LF, vote, class) plus pseudo-counts ``s`` (0.7 on the diagonal, 0.3 spread off it)."""
    n, m = rows.shape
    q = np.zeros((n, k))
    for i in range(n):
        cast = [c for c in rows[i] if c >= 0]
        q[i] = np.bincount(cast, minlength=k) / len(cast) if cast else np.full(k, 1 / k)  # vote shares
    covered = (rows >= 0).any(axis=1)
    votes = np.zeros((m, k, k))
    for i in range(n):
        for j in range(m):
            if rows[i, j] >= 0 and covered[i]:
                votes[j, rows[i, j]] += w[i] * q[i]
    pseudo = s * np.where(np.eye(k, dtype=bool), 0.7, 0.3 / (k - 1))
    ds = (votes + pseudo) / (votes + pseudo).sum(axis=1, keepdims=True)
    acc = np.array([(np.trace(votes[j]) + 0.7 * s) / (votes[j].sum() + s) for j in range(m)])
    oc = np.where(np.eye(k, dtype=bool)[None], acc[:, None, None], ((1 - acc) / (k - 1))[:, None, None])
    coverage = ((rows >= 0) * w[:, None]).sum(axis=0) / w.sum()
    mass = (q * w[:, None]).sum(axis=0)  # the abstain model uses every row
    abstained = np.maximum(mass[None, :] - votes.sum(axis=1), 0) + s * (1 - coverage)[:, None]
    dsa = np.concatenate([abstained[:, None, :], votes + pseudo[None] * coverage[:, None, None]], axis=1)
    dsa = dsa / dsa.sum(axis=1, keepdims=True)
    prior_all = (mass + 1) / (mass + 1).sum()
    return {"q": q, "ds": ds, "oc": oc, "dsa": dsa, "prior_all": prior_all}


def test_one_m_step_matches_the_model_written_out_by_hand() -> None:
    rows = np.array([[0, 0, -1], [1, 1, 2], [0, -1, 1], [-1, -1, -1], [2, 2, 2], [1, 0, 0]])
    w = np.array([2.0, 1.0, 1.0, 3.0, 1.0, 2.0])
    data = FitData(rows, w, 3, CPU)
    hand = _one_m_step_by_hand(rows, w, 3, s=0.5)
    np.testing.assert_allclose(data.q_mv.numpy(), hand["q"])

    def fit(name):
        return fit_em(data, name, None, smoothing=0.5, max_iter=1, tol=0.0)

    ds, oc, dsa = fit(DAWID_SKENE), fit(ONE_COIN), fit(DAWID_SKENE_ABSTAIN)
    np.testing.assert_allclose(np.exp(ds.log_vote[:, 1:, :]), hand["ds"], rtol=1e-9)
    np.testing.assert_allclose(np.exp(oc.log_vote[:, 1:, :]), hand["oc"], rtol=1e-9)
    np.testing.assert_allclose(np.exp(dsa.log_vote), hand["dsa"], rtol=1e-9)
    np.testing.assert_allclose(ds.log_vote[:, 0, :], 0.0)
    np.testing.assert_allclose(np.exp(dsa.log_prior), hand["prior_all"], rtol=1e-9)
    assert ds.name == DAWID_SKENE and oc.name == ONE_COIN and dsa.name == DAWID_SKENE_ABSTAIN


def test_a_single_covered_row_of_weight_one_still_blends_both_estimates() -> None:
    data = FitData(np.array([[0, -1, -1], [-1, -1, -1]]), np.array([1.0, 4.0]), 2, CPU)
    # votes say class 0, the model says class 1: the mean, not the model's prior alone
    np.testing.assert_allclose(covered_prior(data, _sure(2, 3, 1)), [0.5, 0.5], atol=1e-9)


def _em_by_hand(rows: np.ndarray, w: np.ndarray, k: int, name: str, s: float, max_iter: int, tol: float,
                fixed: np.ndarray | None = None, lf_weight: np.ndarray | None = None):
    """Documented EM with loops: from majority vote's shares, alternate the M-step (weighted counts plus
    pseudo-counts; one-coin accuracies kept within 1e-4 of 0 and 1) and the E-step (prior times every LF's
    vote probability, abstains counted only by the abstain model); rows an abstain-ignoring model cannot
    learn from (no vote) keep their labels; stop after ``max_iter`` or once no label moves ``tol``."""
    n, m = rows.shape
    lw = np.ones(m) if lf_weight is None else lf_weight
    q = _one_m_step_by_hand(rows, w, k, s)["q"]
    covered = (rows >= 0).any(axis=1)
    use = np.ones(n, dtype=bool) if name == DAWID_SKENE_ABSTAIN else covered
    coverage = ((rows >= 0) * w[:, None]).sum(axis=0) / w.sum()

    def prior_of(labels, rows_used):
        if fixed is not None:
            return fixed
        mass = sum(w[i] * labels[i] for i in range(n) if rows_used[i]) + 1.0
        return mass / mass.sum()

    kept_prior = None if name == DAWID_SKENE_ABSTAIN else prior_of(q, covered)
    eye = np.eye(k, dtype=bool)
    pseudo = s * np.where(eye, 0.7, 0.3 / (k - 1))
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        prior = kept_prior if kept_prior is not None else prior_of(q, use)
        votes, mass = np.zeros((m, k, k)), np.zeros(k)
        for i in range(n):
            if use[i]:
                mass += w[i] * q[i]
                for j in range(m):
                    if rows[i, j] >= 0:
                        votes[j, rows[i, j]] += w[i] * q[i]
        table = np.ones((m, k + 1, k))  # abstain row: probability 1 unless the model learns abstains
        for j in range(m):
            if name == ONE_COIN:
                acc = min(max((np.trace(votes[j]) + 0.7 * s) / (votes[j].sum() + s), 1e-4), 1 - 1e-4)
                table[j, 1:] = np.where(eye, acc, (1 - acc) / (k - 1))
            elif name == DAWID_SKENE:
                table[j, 1:] = (votes[j] + pseudo) / (votes[j] + pseudo).sum(axis=0)
            else:
                abstained = np.maximum(mass - votes[j].sum(axis=0), 0) + s * (1 - coverage[j])
                full = np.vstack([abstained, votes[j] + pseudo * coverage[j]])
                table[j] = full / full.sum(axis=0)
        log_vote = np.log(table) * lw[:, None, None]
        q_new = q.copy()
        for i in range(n):
            if use[i]:
                score = np.log(prior) + sum(log_vote[j, rows[i, j] + 1] for j in range(m))
                q_new[i] = np.exp(score - score.max()) / np.exp(score - score.max()).sum()
        change = np.abs(q_new - q).max()
        q = q_new
        if change < tol:
            break
    return log_vote, np.log(prior), iterations


_EM_ROWS = np.array([[0, 0, -1, 1], [1, 1, 2, -1], [0, -1, 1, 1], [-1, -1, -1, -1], [2, 2, 2, 0], [1, 0, 0, 2],
                     [2, -1, 2, -1], [0, 0, 0, -1], [-1, 1, 1, 1], [1, -1, -1, 2]])
_EM_W = np.array([5.0, 3.0, 2.0, 6.0, 4.0, 1.0, 3.0, 7.0, 2.0, 1.0])


@pytest.mark.parametrize("name", [DAWID_SKENE, ONE_COIN, DAWID_SKENE_ABSTAIN])
@pytest.mark.parametrize(("fixed", "groups", "max_iter", "tol"), [
    (None, None, 6, 0.0),
    (np.array([0.5, 0.3, 0.2]), None, 6, 0.0),
    (None, np.array([0, 0, 1, 2]), 6, 0.0),
    (None, None, 200, 1e-4),
])
def test_em_iterations_match_em_written_out_by_hand(name, fixed, groups, max_iter, tol) -> None:
    data = FitData(_EM_ROWS, _EM_W, 3, CPU, lf_group=groups)
    fitted = fit_em(data, name, fixed, smoothing=0.5, max_iter=max_iter, tol=tol)
    lf_weight = None if groups is None else np.array([0.5, 0.5, 1.0, 1.0])
    log_vote, log_prior, iterations = _em_by_hand(_EM_ROWS, _EM_W, 3, name, 0.5, max_iter, tol, fixed, lf_weight)
    assert fitted.iterations == iterations
    if tol:
        assert 2 < iterations < max_iter  # it converged, after more than one step
    np.testing.assert_allclose(fitted.log_vote, log_vote, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fitted.log_prior, log_prior, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("right", [True, False])
def test_one_coin_accuracy_stays_within_1e4_of_certainty(right: bool) -> None:
    """Three LFs that always agree, and a fourth that always agrees (or never agrees) with them, on a huge
    weight: once EM is sure of the labels, its accuracy is held at 1 - 1e-4 (or 1e-4), so no vote is ever
    impossible."""
    rows = np.array([[0, 0, 0, 0 if right else 1], [1, 1, 1, 1 if right else 0]])
    data = FitData(rows, np.array([1e6, 1e6]), 2, CPU)
    table = np.exp(fit_em(data, ONE_COIN, None, smoothing=1.0, max_iter=20, tol=0.0).log_vote[3, 1:, :])
    acc = 1 - 1e-4 if right else 1e-4
    np.testing.assert_allclose(table, [[acc, 1 - acc], [1 - acc, acc]], rtol=1e-12)


@pytest.mark.parametrize("name", [DAWID_SKENE, ONE_COIN])
def test_a_tolerance_of_zero_runs_the_whole_budget_even_when_nothing_moves(name: str) -> None:
    """With no vote at all an abstain-ignoring model learns nothing: its labels never move, yet a move of
    0 is not below a tolerance of 0, so EM runs every iteration it was given."""
    data = FitData(np.full((3, 2), -1), np.array([1.0, 2.0, 3.0]), 2, CPU)
    assert _fit(data, name, max_iter=4, tol=0.0).iterations == 4
    assert _fit(data, name, max_iter=4, tol=1e-12).iterations == 1


@pytest.mark.parametrize("name", [DAWID_SKENE, ONE_COIN])
def test_rows_without_votes_do_not_hold_up_an_abstain_ignoring_model(name: str) -> None:
    """Two sure rows converge at once (their labels move less than 0.2); the row without a vote keeps its
    uniform label (such a model learns nothing from it), so it cannot keep EM going by moving to the prior."""
    rows, w = np.array([[0, 0], [1, 1], [-1, -1]]), np.array([90.0, 10.0, 50.0])
    fitted = fit_em(FitData(rows, w, 2, CPU), name, None, smoothing=1.0, max_iter=50, tol=0.2)
    _, _, iterations = _em_by_hand(rows, w, 2, name, 1.0, 50, 0.2)
    assert fitted.iterations == iterations == 1
