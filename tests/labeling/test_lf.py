import numpy as np
import pandas as pd
import pytest

from labelgate.errors import LabelingError
from labelgate.labeling import (
    ABSTAIN,
    LFApplier,
    batch_labeling_function,
    keyword_lf,
    labeling_function,
    predicate_lf,
    preprocessor,
    regex_lf,
)
from labelgate.labeling.lf import Row


def test_labeling_function_has_snorkel_semantics_with_resources_and_preprocessors():
    @preprocessor()
    def add_words(x):
        x = x.copy()
        x.words = x.text.lower().split()
        return x

    @labeling_function(resources={"bad": {"buy", "free"}}, pre=[add_words])
    def lf_bad_words(x, bad):
        return 1 if bad & set(x.words) else ABSTAIN

    assert lf_bad_words.name == "lf_bad_words"
    assert lf_bad_words(Row(text="Buy now")) == 1
    assert lf_bad_words(Row(text="nice song")) == ABSTAIN
    assert lf_bad_words(pd.Series({"text": "FREE stuff"})) == 1  # a pandas row works as in Snorkel


def test_vectorised_kinds_answer_single_rows_too():
    lf = keyword_lf("kw", ["check out"], label=1, column="text")
    assert lf(Row(text="Check OUT my page")) == 1 and lf(Row(text="great")) == ABSTAIN
    word = keyword_lf("word", ["my"], label=1, column="text", whole_word=True)
    assert word(Row(text="my page")) == 1 and word(Row(text="mystery")) == ABSTAIN
    rx = regex_lf("rx", r"https?://", label=1, column="text")
    assert rx(Row(text="see http://x.y")) == 1 and rx(Row(text=None)) == ABSTAIN
    short = predicate_lf("short", lambda f: f["text"].str.len() < 5, label=0)
    assert short(Row(text="hi")) == 0 and short(Row(text="hello there")) == ABSTAIN


def test_vectorised_and_per_row_application_give_the_same_matrix():
    rng = np.random.default_rng(0)
    words = ["check", "out", "my", "mystery", "channel", "song", "Love", "http://a.b", "", "PLEASE", "subscribe",
             "émy", "Mê", "4", "2.5", "İstanbul", "ÉMY", "views", "ΣΑΣ"]  # non-ASCII: RE2's \b and \d differ from re's
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 6))) for _ in range(500)] + [None]

    @batch_labeling_function()
    def long_text(frame):
        return np.where(frame["text"].fillna("").str.len() > 20, 1, ABSTAIN)

    @labeling_function()
    def per_row(x):
        return 0 if x.text and "song" in x.text else ABSTAIN

    lfs = [
        keyword_lf("kw", ["check", "subscribe"], label=1, column="text"),
        keyword_lf("word", ["my"], label=1, column="text", whole_word=True),
        keyword_lf("case", ["Love"], label=0, column="text", case_sensitive=True),
        keyword_lf("greek", ["σας", "i̇stanbul"], label=0, column="text"),  # Python lower-cases these unlike Arrow
        regex_lf("rx", r"check.*out", label=1, column="text"),
        regex_lf("num", r"\b\d+(\.\d+)?\s*(m|b)\b|\bviews\b", label=0, column="text"),
        predicate_lf("short", lambda f: f["text"].fillna("").str.len() < 8, label=0),
        long_text,
        per_row,
    ]
    frame = pd.DataFrame({"text": texts})
    fast = LFApplier(lfs, cardinality=2, chunk_size=64).apply(frame)
    slow = LFApplier(lfs, cardinality=2, chunk_size=1000, vectorize=False).apply(frame)
    assert fast.dtype == np.int8 and fast.shape == (501, 9)
    np.testing.assert_array_equal(fast, slow)
    assert (fast != ABSTAIN).any(axis=0).all()  # every LF votes somewhere: the comparison means something


def test_keyword_lf_needs_keywords():
    with pytest.raises(ValueError):
        keyword_lf("empty", [], label=1)


def test_out_of_range_vote_is_an_error_naming_the_lf_and_row():
    @labeling_function()
    def three(x):
        return 3 if x.text == "b" else ABSTAIN

    frame = pd.DataFrame({"text": ["a", "b"]})
    with pytest.raises(LabelingError, match=r"'three' returned 3 on row 1.*0\.\.1"):
        LFApplier([three], cardinality=2).apply(frame)
    bad = predicate_lf("vec", lambda f: f["text"] == "a", label=5)
    with pytest.raises(LabelingError, match=r"'vec' returned 5 on row 0"):
        LFApplier([bad], cardinality=3).apply(frame)


def test_memoized_preprocessor_runs_once_per_distinct_row():
    calls = []

    @preprocessor(memoize=True)
    def expensive(x):
        calls.append(x.text)
        x = x.copy()
        x.n = len(x.text)
        return x

    @labeling_function(pre=[expensive])
    def long_text(x):
        return 1 if x.n > 3 else ABSTAIN

    @labeling_function(pre=[expensive])
    def short_text(x):
        return 0 if x.n <= 3 else ABSTAIN

    frame = pd.DataFrame({"text": ["hello", "hi", "hello"]})
    L = LFApplier([long_text, short_text], cardinality=2).apply(frame)
    assert L.tolist() == [[1, -1], [-1, 0], [1, -1]]
    assert calls == ["hello", "hi"]  # each distinct row once, shared by both LFs
