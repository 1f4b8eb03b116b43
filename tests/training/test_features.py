import numpy as np

from labelgate.training.features import FeatureSpec, HashedNgrams

SPEC = FeatureSpec(word_ngrams=(1, 2), char_ngrams=(2, 4), hash_bits=12, lowercase=True, sublinear_tf=True)
TEXTS = ["Check out my channel", "love this song", "love this song so much", "CHECK OUT my CHANNEL"]


def test_hashing_is_stable_across_instances_and_case():
    a = HashedNgrams(SPEC).fit(TEXTS).transform(TEXTS)
    b = HashedNgrams(SPEC).fit(TEXTS).transform(TEXTS)
    assert (a != b).nnz == 0
    assert (a[0] != a[3]).nnz == 0  # lowercase: same features


def test_rows_are_unit_length_and_word_and_char_blocks_are_used():
    featurizer = HashedNgrams(SPEC).fit(TEXTS)
    matrix = featurizer.transform(TEXTS)
    assert matrix.shape == (4, 2 * SPEC.n_buckets)
    np.testing.assert_allclose(np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1, 1.0, rtol=1e-5)
    assert (matrix[0].indices < SPEC.n_buckets).any() and (matrix[0].indices >= SPEC.n_buckets).any()


def test_idf_weighs_common_ngrams_less():
    featurizer = HashedNgrams(SPEC).fit(TEXTS)
    common = featurizer.counts(["love"]).indices[0]  # word 'love' is in 2 of 4 texts
    rare = featurizer.counts(["channel"]).indices[0]  # word 'channel' is in 2 too; 'much' in 1
    rarest = featurizer.counts(["much"]).indices[0]
    assert featurizer.idf[rarest] > featurizer.idf[common] == featurizer.idf[rare]


def test_counts_equal_sklearns_hashing_vectorizer_blocks_side_by_side():
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer

    texts = TEXTS + ["", "Ünïcode ÇÀPS and 123 numbers!!", "a"]
    common = dict(n_features=SPEC.n_buckets, alternate_sign=False, norm=None, lowercase=True)
    word = HashingVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", **common)
    char = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), **common)
    expected = sp.hstack([word.transform(texts), char.transform(texts)], format="csr")
    got = HashedNgrams(SPEC).counts(texts)
    assert got.shape == expected.shape and abs(got - expected).max() == 0


def test_empty_texts_give_zero_rows_not_nan():
    featurizer = HashedNgrams(SPEC).fit(TEXTS)
    row = featurizer.transform(["", "love"])
    assert row[0].nnz == 0 and np.isfinite(row.data).all()
