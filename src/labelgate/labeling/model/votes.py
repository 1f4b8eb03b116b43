"""The LF votes as the fits see them: distinct rows with counts, a sparse one-hot vote matrix for
products with dense tensors, per-class scores of a row, and vote shares (majority vote)."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch


def distinct_rows(L: np.ndarray, max_rows: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of at most ``max_rows`` rows, collapsed to distinct rows with their counts
    (fits on millions of rows then cost what the few thousand distinct vote patterns cost)."""
    if max_rows is not None and len(L) > max_rows:
        rng = np.random.default_rng(seed)
        L = L[np.sort(rng.choice(len(L), size=max_rows, replace=False))]
    keys = row_keys(L)
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    return L[first], counts.astype(np.float64)


def row_keys(L: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row; random odd multipliers make a collision between distinct rows negligible."""
    rng = np.random.default_rng(12345)
    mult = rng.integers(1, 2**62, size=L.shape[1], dtype=np.int64) | 1
    keys = np.zeros(len(L), dtype=np.int64)
    with np.errstate(over="ignore"):
        for j in range(L.shape[1]):
            keys = keys * np.int64(1_000_003) + (L[:, j].astype(np.int64) + 2) * mult[j]
    return keys


def vote_positions(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (row, LF) positions of the votes, row-major, as ``np.nonzero(L >= 0)`` gives them but several
    times faster (one flat scan instead of a 2-D one)."""
    flat = np.flatnonzero(L.ravel() >= 0)
    rows, lfs = np.divmod(flat, L.shape[1])
    return rows, lfs


def vote_counts(L: np.ndarray, k: int, lf_weight: np.ndarray | None = None) -> np.ndarray:
    """``n x k``: how many LFs voted each class on each row (each LF counted with its weight, if given)."""
    counts = np.zeros((len(L), k), dtype=np.float64)
    for c in range(k):
        hits = (L == c)
        counts[:, c] = hits.sum(axis=1) if lf_weight is None else hits @ lf_weight
    return counts


def majority_proba(L: np.ndarray, k: int, log_prior: np.ndarray, lf_weight: np.ndarray | None = None) -> np.ndarray:
    """Majority vote as probabilities: each row's vote shares; rows without votes get the prior."""
    counts = vote_counts(L, k, lf_weight)
    total = counts.sum(axis=1, keepdims=True)
    prior = np.exp(log_prior)
    return np.where(total > 0, counts / np.maximum(total, 1), prior[None, :])


class VoteMatrix:
    """The non-abstain votes as a sparse one-hot matrix (row i, column j*k + vote), for products with
    dense tensors. On a GPU the products run in torch (cuSPARSE); on a CPU scipy's kernels, which are
    several times faster than torch's CPU sparse kernels, do the same arithmetic."""

    def __init__(self, L: np.ndarray, k: int, device: torch.device) -> None:
        rows, lfs = vote_positions(L)
        cols = lfs * k + L[rows, lfs].astype(np.int64)
        self.shape = (len(L), L.shape[1] * k)
        self.device = device
        indptr = np.zeros(len(L) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(L)), out=indptr[1:])  # np.nonzero is row-major: sorted
        self.csr = sp.csr_matrix((np.ones(len(rows)), cols, indptr), shape=self.shape)
        self._t: sp.csr_matrix | None = None
        self._gpu_t: torch.Tensor | None = None
        if device.type != "cpu":
            self.gpu = torch_csr(self.csr, device)

    @property
    def t_csr(self) -> sp.csr_matrix:
        if self._t is None:
            self._t = self.csr.T.tocsr()
        return self._t

    def mm(self, dense: torch.Tensor) -> torch.Tensor:
        """``X @ dense``."""
        if self.device.type == "cpu":
            return torch.from_numpy(np.asarray(self.csr @ dense.numpy()))
        return self.gpu @ dense

    def tmm(self, dense: torch.Tensor) -> torch.Tensor:
        """``X^T @ dense``."""
        if self.device.type == "cpu":
            return torch.from_numpy(np.asarray(self.t_csr @ dense.numpy()))
        if self._gpu_t is None:
            self._gpu_t = torch_csr(self.t_csr, self.device)
        return self._gpu_t @ dense

    def gram(self, weights: np.ndarray, chunk: int = 16_384) -> torch.Tensor:
        """``X^T diag(weights) X`` as a dense tensor (the overlap counts of every pair of votes). On a CPU
        a sparse-times-dense product per row chunk: the result is dense, and scipy's sparse-sparse
        product is many times slower at building a dense result."""
        if self.device.type == "cpu":
            out = np.zeros((self.shape[1], self.shape[1]))
            for start in range(0, self.shape[0], chunk):
                part = self.csr[start:start + chunk]
                out += np.asarray(part.T @ (sp.diags(weights[start:start + chunk]) @ part).toarray())
            return torch.from_numpy(out)
        weighted = torch_csr(sp.diags(weights) @ self.csr, self.device)
        if self._gpu_t is None:
            self._gpu_t = torch_csr(self.t_csr, self.device)
        return self._gpu_t @ weighted.to_dense()


def torch_csr(matrix: sp.csr_matrix, device: torch.device) -> torch.Tensor:
    """A scipy CSR matrix as a torch sparse CSR tensor (float64) on ``device``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(matrix.indptr.astype(np.int64)), torch.from_numpy(matrix.indices.astype(np.int64)),
            torch.from_numpy(matrix.data.astype(np.float64)), size=matrix.shape, device=device,
            check_invariants=False,
        )


def row_scores(X: VoteMatrix, log_vote: torch.Tensor, log_prior: torch.Tensor) -> torch.Tensor:
    """log P(y) + sum_j log P(vote_j | y) for every row of ``X`` (abstains scored by ``log_vote[:, 0]``)."""
    m, _, k = log_vote.shape
    delta = (log_vote[:, 1:, :] - log_vote[:, :1, :]).reshape(m * k, k)
    base = log_vote[:, 0, :].sum(dim=0) + log_prior
    return X.mm(delta.contiguous()) + base[None, :]


def softmax_rows(scores: torch.Tensor) -> torch.Tensor:
    """``torch.softmax(scores, dim=1)`` for a tall ``n x k`` matrix, computed on its transpose: with a few
    classes a row-wise softmax runs over rows of length k, and the transposed one is twice as fast on a
    CPU. The same numbers (to rounding)."""
    if scores.device.type != "cpu":
        return torch.softmax(scores, dim=1)
    return torch.softmax(scores.t().contiguous(), dim=0).t()
