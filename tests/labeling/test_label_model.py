import numpy as np
import pytest

from labelgate.errors import LabelingError
from labelgate.labeling.model import LabelModel, MajorityLabelVoter
from labelgate.labeling.synthetic import make_votes


def _accuracy(model, L, y):
    return float((model.predict(L) == y).mean())


@pytest.mark.parametrize("k", [2, 4])
def test_em_recovers_known_lf_accuracies(k):
    data = make_votes(n=6000, m=8, k=k, accuracy=(0.6, 0.95), coverage=(0.3, 0.8), seed=k)
    model = LabelModel(cardinality=k, method="dawid_skene", seed=0).fit(data.L)
    np.testing.assert_allclose(model.get_weights(), data.accuracies, atol=0.05)


def test_label_model_beats_majority_vote_with_varied_accuracies():
    data = make_votes(n=8000, m=12, k=3, accuracy=(0.4, 0.95), coverage=(0.2, 0.6), seed=3)
    train, test = slice(0, 6000), slice(6000, None)
    mv = MajorityLabelVoter(cardinality=3).fit(data.L[train])
    lm = LabelModel(cardinality=3, seed=0).fit(data.L[train], L_dev=data.L[5800:6000], Y_dev=data.y[5800:6000])
    assert lm.selected_method != "majority_vote"
    assert _accuracy(lm, data.L[test], data.y[test]) > _accuracy(mv, data.L[test], data.y[test]) + 0.01


def test_fit_is_deterministic_for_a_seed():
    data = make_votes(n=3000, m=10, k=2, seed=5)
    a = LabelModel(cardinality=2, method="dawid_skene_abstain", max_fit_rows=1000, seed=7).fit(data.L)
    b = LabelModel(cardinality=2, method="dawid_skene_abstain", max_fit_rows=1000, seed=7).fit(data.L)
    np.testing.assert_array_equal(a.predict_proba(data.L), b.predict_proba(data.L))


def test_class_balance_can_be_given_and_is_checked():
    data = make_votes(n=2000, m=6, k=2, seed=1)
    model = LabelModel(cardinality=2, method="dawid_skene", seed=0).fit(data.L, class_balance=[0.3, 0.7])
    np.testing.assert_allclose(model.get_class_balance(), [0.3, 0.7])
    with pytest.raises(LabelingError, match="class_balance"):
        LabelModel(cardinality=2).fit(data.L, class_balance=[0.5, 0.6])


def test_bad_matrices_are_clear_errors():
    with pytest.raises(LabelingError, match="abstains on every row"):
        LabelModel(cardinality=2).fit(np.full((10, 4), -1))
    with pytest.raises(LabelingError, match="outside 0..1"):
        LabelModel(cardinality=2).fit(np.array([[0, 2, -1], [1, 1, 0]]))
    with pytest.raises(LabelingError, match="at least 3 labeling functions"):
        LabelModel(cardinality=2, method="dawid_skene").fit(np.array([[0, 1], [1, 1]]))
    with pytest.raises(LabelingError, match="not fitted"):
        LabelModel(cardinality=2).predict(np.zeros((2, 3), dtype=int))


def test_save_and_load_round_trip(tmp_path):
    data = make_votes(n=1000, m=5, k=3, seed=2)
    model = LabelModel(cardinality=3, method="one_coin").fit(data.L)
    model.save(tmp_path / "lm.json")
    again = LabelModel.load(tmp_path / "lm.json")
    np.testing.assert_allclose(again.predict_proba(data.L), model.predict_proba(data.L))


KEYWORD_LIKE = {"m": 20, "k": 2, "unipolar": 1.0}  # LFs that vote one class each, as keyword LFs do
MANY_CLASSES = {"m": 40, "k": 9, "coverage": (0.05, 0.3), "accuracy": (0.35, 0.9)}
IMBALANCED = {"m": 16, "k": 2, "class_balance": [0.85, 0.15], "unipolar": 0.6}
CORRELATED = {"m": 30, "k": 4, "copies": 10, "unipolar": 0.5}  # a third of the LFs near-duplicate others


@pytest.mark.parametrize("spec", [KEYWORD_LIKE, MANY_CLASSES, IMBALANCED])
def test_auto_label_model_beats_majority_vote_without_dev_labels(spec):
    data = make_votes(n=8000, seed=11, **spec)
    train, test = slice(0, 6000), slice(6000, None)
    k = spec["k"]
    mv = LabelModel(cardinality=k, method="majority_vote").fit(data.L[train])
    lm = LabelModel(cardinality=k, seed=0).fit(data.L[train])
    assert _accuracy(lm, data.L[test], data.y[test]) > _accuracy(mv, data.L[test], data.y[test])


@pytest.mark.parametrize("spec", [KEYWORD_LIKE, IMBALANCED, CORRELATED])
def test_auto_label_model_beats_majority_vote_with_dev_labels(spec):
    # Correlated LFs mislead moment fits (Snorkel's too); 300 dev labels let the model pick a better one.
    data = make_votes(n=8000, seed=11, **spec)
    train, dev, test = slice(0, 5700), slice(5700, 6000), slice(6000, None)
    k = spec["k"]
    mv = LabelModel(cardinality=k, method="majority_vote").fit(data.L[train])
    lm = LabelModel(cardinality=k, seed=0).fit(data.L[train], L_dev=data.L[dev], Y_dev=data.y[dev])
    assert _accuracy(lm, data.L[test], data.y[test]) > _accuracy(mv, data.L[test], data.y[test])


def test_rows_without_votes_follow_the_abstain_model():
    # Class 1 is the only one LFs ever vote for: a row where all abstain is most likely class 0.
    data = make_votes(n=6000, m=12, k=2, unipolar=1.0, seed=4)
    data.L[data.L == 0] = -1
    lm = LabelModel(cardinality=2, seed=0).fit(data.L)
    uncovered = ~(data.L >= 0).any(axis=1)
    assert uncovered.any() and (lm.predict(data.L[uncovered]) == 0).all()
    assert (data.y[uncovered] == 0).mean() > 0.8  # the truth agrees


def test_gold_labels_may_be_pandas_with_missing_values():
    import pandas as pd

    data = make_votes(n=2000, m=6, k=2, seed=8)
    y = pd.Series(data.y[:200], dtype="Int64")
    y.iloc[::3] = pd.NA
    model = LabelModel(cardinality=2, seed=0).fit(data.L, L_dev=data.L[:200], Y_dev=y)
    assert set(model.dev_scores) >= {"majority_vote", "matrix_completion"}
    assert model.score(data.L[:200], y)["accuracy"] > 0.5


def test_snorkel_style_calls_work_unchanged(capsys):
    data = make_votes(n=3000, m=8, k=2, seed=9)
    L = data.L.astype(np.int64)
    mv = MajorityLabelVoter(cardinality=2)
    preds = mv.predict(L, tie_break_policy="abstain")  # no fit needed, as in Snorkel
    ties = (L == 0).sum(axis=1) == (L == 1).sum(axis=1)
    assert (preds[ties] == -1).all() and (preds[~ties] >= 0).all()
    model = LabelModel(cardinality=2, verbose=True)
    model.fit(L_train=L, n_epochs=500, log_freq=100, seed=123)
    assert "labelgate LabelModel:" in capsys.readouterr().out
    scores = model.score(L=L, Y=data.y, metrics=["accuracy", "f1", "coverage"], tie_break_policy="random")
    assert scores["coverage"] == 1.0 and 0.6 < scores["accuracy"] <= 1.0 and 0.5 < scores["f1"] <= 1.0
    with pytest.raises(LabelingError, match="tie_break_policy"):
        model.predict(L, tie_break_policy="coin")


def test_dev_labels_rescue_lfs_worse_than_chance():
    # Half the LFs are wrong more often than right: unsupervised models cannot know; dev labels can.
    data = make_votes(n=8000, m=12, k=2, accuracy=(0.2, 0.8), coverage=(0.3, 0.7), seed=21)
    train, dev, test = slice(0, 5000), slice(5000, 5300), slice(5300, None)
    mv = MajorityLabelVoter(cardinality=2)
    lm = LabelModel(cardinality=2, seed=0).fit(data.L[train], L_dev=data.L[dev], Y_dev=data.y[dev])
    assert lm.selected_method == "dev_naive_bayes"
    assert _accuracy(lm, data.L[test], data.y[test]) > _accuracy(mv, data.L[test], data.y[test]) + 0.05
    assert lm.dev_scores["dev_naive_bayes"] < 1.0  # scored on held-out folds, not on the rows it learned


@pytest.mark.parametrize("balance", [[0.8, 0.2], [0.6, 0.3, 0.1]])
def test_em_estimates_a_known_imbalanced_class_prior(balance):
    # The abstain model fits the prior from every row; the models that ignore abstains keep majority
    # vote's shares on the covered rows (their prior is not re-estimated, and never uniform).
    k = len(balance)
    data = make_votes(n=6000, m=10, k=k, accuracy=(0.65, 0.9), coverage=(0.3, 0.7), class_balance=balance, seed=3)
    truth = np.bincount(data.y, minlength=k) / len(data.y)
    abstain = LabelModel(cardinality=k, method="dawid_skene_abstain", seed=0).fit(data.L)
    np.testing.assert_allclose(abstain.get_class_balance(), truth, atol=0.015)
    covered = (data.L >= 0).any(axis=1)
    mv_shares = MajorityLabelVoter(cardinality=k).fit(data.L).predict_proba(data.L[covered]).mean(axis=0)
    for method in ("dawid_skene", "one_coin"):
        fitted = LabelModel(cardinality=k, method=method, seed=0).fit(data.L).get_class_balance()
        np.testing.assert_allclose(fitted, mv_shares, atol=0.005)
        assert fitted[0] > 1 / k + 0.1  # the majority class stays the majority
