import numpy as np
import pandas as pd
import pytest

from labelgate.errors import DataError
from labelgate.validation.drift import build_profile, class_balance, compare_profiles, lf_coverage
from labelgate.validation.settings import ValidationSettings

from .tiny import make_frame, weak_labels

SETTINGS = ValidationSettings(categorical_columns=("CLASS", "split"))  # split: a second column


def _profile(frame, reference=None):
    votes, names, probs = weak_labels(frame)
    return build_profile(frame=frame, label_matrix=votes, lf_names=names, probs=probs, settings=SETTINGS,
                         reference=reference)


def _failed(reference, frame):
    return {f.name: f for f in compare_profiles(reference, _profile(frame, reference), SETTINGS) if not f.passed}


def test_same_kind_of_data_does_not_drift():
    reference = _profile(make_frame(200, seed=0))
    findings = compare_profiles(reference, _profile(make_frame(200, seed=1), reference), SETTINGS)
    names = {f.name for f in findings}
    assert {"drift: CONTENT length (chars)", "drift: CLASS values", "drift: LF 'lf_check' coverage",
            "drift: label model class balance"} <= names
    assert all(f.passed for f in findings), [f.line() for f in findings if not f.passed]


def test_keyword_gone_from_text_collapses_that_lfs_coverage():
    reference = _profile(make_frame(200))
    changed = make_frame(200)
    changed["CONTENT"] = changed["CONTENT"].str.replace("check out", "look at", regex=False)
    failed = _failed(reference, changed)
    assert "drift: LF 'lf_check' coverage" in failed
    assert "collapsed" in failed["drift: LF 'lf_check' coverage"].detail
    assert failed["drift: LF 'lf_check' coverage"].blocks
    assert "drift: LF 'lf_song' coverage" not in failed


def test_flipped_class_balance_is_caught():
    base = make_frame(200)
    reference = _profile(base)
    text = base["CONTENT"].astype(str)
    spammy = base[text.str.contains("check|subscribe")]
    flipped = pd.concat([spammy] * 4 + [base[~text.str.contains("check|subscribe")].head(20)], ignore_index=True)
    failed = _failed(reference, flipped)
    assert "drift: label model class balance" in failed
    assert "->" in failed["drift: label model class balance"].detail


def test_text_length_drift_uses_jensen_shannon():
    reference = _profile(make_frame(200))
    longer = make_frame(200)
    longer["CONTENT"] = longer["CONTENT"] + " " + "x" * 300
    failed = _failed(reference, longer)
    assert "Jensen-Shannon" in failed["drift: CONTENT length (chars)"].detail


def test_warning_severity_reports_without_blocking():
    settings = ValidationSettings(drift_severity="warning")
    reference = _profile(make_frame(200))
    changed = make_frame(200)
    changed["CONTENT"] = "zzz"
    votes, names, probs = weak_labels(changed)
    current = build_profile(frame=changed, label_matrix=votes, lf_names=names, probs=probs, settings=settings,
                            reference=reference)
    findings = compare_profiles(reference, current, settings)
    assert any(not f.passed for f in findings) and not any(f.blocks for f in findings)


def test_coverage_and_balance_numbers():
    votes = np.array([[1, -1], [-1, -1], [0, 1], [1, -1]], dtype=np.int8)
    assert lf_coverage(votes, ["a", "b"], 4) == {"a": 0.75, "b": 0.25}
    probs = pd.DataFrame({"prob_0": [0.2, 0.5, 0.6], "prob_1": [0.8, 0.5, 0.4], "covered": [True, False, True]})
    assert class_balance(probs) == pytest.approx([0.4, 0.6])
    with pytest.raises(DataError, match="expected 5 rows"):
        lf_coverage(votes, ["a", "b"], 5)
    with pytest.raises(DataError, match="2 columns but 1 LF names"):
        lf_coverage(votes, ["a"], 4)


def test_missing_profiled_column_is_recorded_not_fatal():
    profile = build_profile(frame=make_frame().drop(columns=["CONTENT"]), label_matrix=None, lf_names=None,
                            probs=None, settings=SETTINGS)
    assert profile["missing_columns"] == ["CONTENT"]
    assert "CLASS" in profile["categorical"]


def test_a_coverage_jump_is_only_a_warning():
    reference = _profile(make_frame(200))
    changed = make_frame(200)
    changed["CONTENT"] = changed["CONTENT"] + " song"
    failed = _failed(reference, changed)
    jump = failed["drift: LF 'lf_song' coverage"]
    assert "jumped" in jump.detail and jump.severity == "warning" and not jump.blocks


def test_numeric_columns_and_unseen_categories():
    settings = ValidationSettings(length_columns=(), numeric_columns=("score",), categorical_columns=("lang",),
                                  top_categories=2)
    rng = np.random.default_rng(0)
    before = pd.DataFrame({"score": rng.normal(0, 1, 2000), "lang": rng.choice(["en", "es", "pt"], 2000, p=[.6, .3, .1])})
    after = pd.DataFrame({"score": rng.normal(1.5, 1, 2000), "lang": rng.choice(["en", "es", "de"], 2000, p=[.3, .2, .5])})
    reference = build_profile(frame=before, label_matrix=None, lf_names=None, probs=None, settings=settings)
    assert set(reference["categorical"]["lang"]["shares"]) == {"en", "es", "__other__"}
    current = build_profile(frame=after, label_matrix=None, lf_names=None, probs=None, settings=settings,
                            reference=reference)
    assert current["numeric"]["score"]["edges"] == reference["numeric"]["score"]["edges"]
    failed = {f.name: f for f in compare_profiles(reference, current, settings) if not f.passed}
    assert "drift: score" in failed and "Jensen-Shannon" in failed["drift: score"].detail
    assert "drift: lang values" in failed  # 'de' is new: the pooled share and 'en' move
    same = build_profile(frame=before.sample(frac=1, random_state=1), label_matrix=None, lf_names=None, probs=None,
                         settings=settings, reference=reference)
    assert all(f.passed for f in compare_profiles(reference, same, settings))
