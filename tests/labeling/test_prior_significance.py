"""The estimated class prior is used only when the rows tell it from uniform; within noise of uniform
the models that take a prior use the uniform one."""

import numpy as np
import pytest

from labelgate.labeling.model import LabelModel
from labelgate.labeling.model.prior import uniform_unless_significant
from labelgate.labeling.synthetic import make_votes


@pytest.mark.parametrize("k", [2, 3, 6])
def test_shares_of_a_uniform_sample_give_the_uniform_prior(k):
    rng = np.random.default_rng(k)
    kept = 0
    for _ in range(200):
        shares = np.bincount(rng.integers(0, k, size=1000), minlength=k) / 1000
        kept += not np.allclose(uniform_unless_significant(shares, 1000), 1.0 / k)
    assert kept <= 25  # the test's level is 5%: about 10 of 200 uniform samples look significant


def test_an_imbalance_the_rows_show_is_kept_and_the_same_on_few_rows_is_not():
    prior = np.array([0.6, 0.4])
    np.testing.assert_array_equal(uniform_unless_significant(prior, 2000), prior)
    np.testing.assert_array_equal(uniform_unless_significant(prior, 20), [0.5, 0.5])


def test_auto_moments_use_uniform_on_balanced_classes_and_the_estimate_on_imbalanced_ones():
    balanced = make_votes(n=3000, m=10, k=3, accuracy=(0.5, 0.9), coverage=(0.3, 0.6), seed=5)
    model = LabelModel(3, seed=0).fit(balanced.L)
    np.testing.assert_allclose(np.exp(model.candidates["matrix_completion"].log_prior), 1 / 3)
    imbalanced = make_votes(n=3000, m=10, k=3, accuracy=(0.5, 0.9), coverage=(0.3, 0.6),
                            class_balance=np.array([0.6, 0.3, 0.1]), seed=5)
    prior = np.exp(LabelModel(3, seed=0).fit(imbalanced.L).candidates["matrix_completion"].log_prior)
    assert prior[0] > prior[1] > prior[2]


@pytest.mark.parametrize("prior", [[0.55, 0.45], [0.4, 0.35, 0.25], [0.2, 0.2, 0.15, 0.15, 0.15, 0.15]])
def test_the_switch_to_uniform_happens_where_pearsons_test_crosses_its_level(prior):
    """Around the row count where scipy's chi-square goodness-of-fit test (observed counts prior * n
    against n / k each) crosses p = 0.05, the prior is dropped just below it and kept just above."""
    from scipy import stats

    prior = np.asarray(prior)
    k = len(prior)

    def p_value(n: float) -> float:
        return stats.chisquare(prior * n, np.full(k, n / k)).pvalue

    low, high = 1.0, 1e6  # p falls as n grows: bisect for p = 0.05
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if p_value(mid) > 0.05 else (low, mid)
    assert np.allclose(uniform_unless_significant(prior, low * 0.99), 1.0 / k)
    np.testing.assert_array_equal(uniform_unless_significant(prior, high * 1.01), prior)
