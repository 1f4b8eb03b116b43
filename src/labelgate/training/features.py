"""Text -> sparse features: hashed word and character n-grams, tf-idf weighted and L2-normalised.

The featurizer is saved inside the model directory (settings as JSON, idf as an array), so the served
model computes exactly the features it was trained on. Hashing is sklearn's MurmurHash3, stable
across processes and machines (Python's ``hash`` is not)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

WORD_TOKEN_PATTERN = r"(?u)\b\w+\b"
INT32_MIN = -(2**31)


def bucket(token: str, n_buckets: int) -> int:
    """The column ``FeatureHasher`` gives ``token`` (signed MurmurHash3, seed 0, |h| mod n; sklearn maps
    INT32_MIN by its own rule), computed for one token without building a sparse matrix."""
    h = murmurhash3_32(token, seed=0)
    if h == INT32_MIN:
        return (2**31 - 1 - (n_buckets - 1)) % n_buckets
    return abs(h) % n_buckets


@dataclass(frozen=True)
class FeatureSpec:
    """What the featurizer does; saved as JSON with the model."""

    word_ngrams: tuple[int, int]
    char_ngrams: tuple[int, int]
    hash_bits: int
    lowercase: bool
    sublinear_tf: bool

    @property
    def n_buckets(self) -> int:
        return 1 << self.hash_bits

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FeatureSpec:
        return cls(
            word_ngrams=tuple(raw["word_ngrams"]), char_ngrams=tuple(raw["char_ngrams"]),
            hash_bits=int(raw["hash_bits"]), lowercase=bool(raw["lowercase"]),
            sublinear_tf=bool(raw["sublinear_tf"]),
        )


def hstack_rows(blocks: Sequence[sp.csr_matrix], width: int) -> sp.csr_matrix:
    """Side-by-side CSR blocks of equal row count, each ``width`` columns wide (block j's columns are
    offset by ``j * width``); the same matrix as ``scipy.sparse.hstack``, without its per-call overhead."""
    n = blocks[0].shape[0]
    per_block = [np.diff(b.indptr) for b in blocks]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.sum(per_block, axis=0), out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int32)
    data = np.empty(indptr[-1], dtype=np.float32)
    placed = np.zeros(n, dtype=np.int64)
    for j, (block, counts) in enumerate(zip(blocks, per_block, strict=True)):
        shift = indptr[:-1] + placed - block.indptr[:-1]
        positions = np.repeat(shift, counts) + np.arange(block.nnz)
        indices[positions] = block.indices + j * width
        data[positions] = block.data
        placed += counts
    return sp.csr_matrix((data, indices, indptr), shape=(n, width * len(blocks)))


def normalize_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Scale each row to unit L2 norm in place (all-zero rows stay zero)."""
    lengths = np.diff(matrix.indptr)
    squares = np.bincount(np.repeat(np.arange(matrix.shape[0]), lengths), weights=matrix.data.astype(np.float64) ** 2,
                          minlength=matrix.shape[0])
    norms = np.sqrt(squares)
    norms[norms == 0] = 1.0
    matrix.data /= np.repeat(norms, lengths).astype(matrix.data.dtype)
    return matrix


class HashedNgrams:
    """Word n-grams in the first ``2**hash_bits`` columns, character n-grams (within word boundaries)
    in the next ``2**hash_bits``; counts -> (log) tf x idf -> unit L2 norm per row.

    Tokenising and hashing are sklearn's (``HashingVectorizer``'s analyzers, ``FeatureHasher``); they are
    built once and called directly, so one text costs microseconds of overhead, not sklearn's per-call
    validation."""

    def __init__(self, spec: FeatureSpec, idf: np.ndarray | None = None) -> None:
        self.spec = spec
        self.idf = idf
        self._parts = []
        vectorizers = []
        if spec.word_ngrams[1] > 0:
            vectorizers.append(HashingVectorizer(
                analyzer="word", ngram_range=spec.word_ngrams, token_pattern=WORD_TOKEN_PATTERN,
                lowercase=spec.lowercase, n_features=spec.n_buckets, alternate_sign=False, norm=None,
                dtype=np.float32))
        if spec.char_ngrams[1] > 0:
            vectorizers.append(HashingVectorizer(
                analyzer="char_wb", ngram_range=spec.char_ngrams, lowercase=spec.lowercase,
                n_features=spec.n_buckets, alternate_sign=False, norm=None, dtype=np.float32))
        hasher = FeatureHasher(n_features=spec.n_buckets, input_type="string", alternate_sign=False,
                               dtype=np.float32)
        self._parts = [(v.build_analyzer(), hasher) for v in vectorizers]

    @property
    def n_features(self) -> int:
        return self.spec.n_buckets * len(self._parts)

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Raw n-gram counts, one row per text (the same as ``HashingVectorizer.transform`` per block)."""
        texts = ["" if t is None else str(t) for t in texts]
        blocks = [sp.csr_matrix(hasher.transform(analyzer(t) for t in texts)) for analyzer, hasher in self._parts]
        return hstack_rows(blocks, self.spec.n_buckets)

    def fit(self, texts: Sequence[str]) -> HashedNgrams:
        """Learn smoothed idf weights from ``texts`` (sklearn's formula: ln((1+n)/(1+df)) + 1)."""
        counts = self.counts(texts)
        df = np.bincount(counts.indices, minlength=self.n_features).astype(np.float64)
        self.idf = (np.log((1.0 + counts.shape[0]) / (1.0 + df)) + 1.0).astype(np.float32)
        return self

    def row(self, text: str | None) -> tuple[np.ndarray, np.ndarray]:
        """One text's features as (columns, weights): the same values as its ``transform`` row, without
        sparse-matrix overhead (for one text that overhead is most of the cost)."""
        if self.idf is None:
            raise RuntimeError("HashedNgrams.row called before fit")
        text = "" if text is None else str(text)
        n = self.spec.n_buckets
        index = [block * n + bucket(token, n) for block, (analyze, _) in enumerate(self._parts)
                 for token in analyze(text)]
        if not index:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        columns, counts = np.unique(np.asarray(index, dtype=np.int64), return_counts=True)
        weights = counts.astype(np.float64)
        if self.spec.sublinear_tf:
            np.log1p(weights, out=weights)
        weights *= self.idf[columns]
        norm = np.sqrt(weights @ weights)
        return columns, (weights / norm if norm > 0 else weights)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Features for ``texts``: tf-idf rows of unit length (CSR, float32)."""
        if self.idf is None:
            raise RuntimeError("HashedNgrams.transform called before fit")
        matrix = self.counts(texts)
        if self.spec.sublinear_tf:
            np.log1p(matrix.data, out=matrix.data)
        matrix.data *= self.idf[matrix.indices]
        return normalize_rows(matrix)
