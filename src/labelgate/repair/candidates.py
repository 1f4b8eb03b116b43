"""Candidate values and their features for cells of one target attribute, from co-occurrence counts
computed as hash joins over integer codes (sort + binary search), leave-one-out: a cell never votes for
its own value. The functional-dependency shape of a denial constraint (EQ keys and one IQ) gives each
candidate the number of violations it would cause."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labelgate.repair.imputer import OTHER_TOKEN, AttentionImputer
from labelgate.repair.model import Features
from labelgate.repair.table import CountIndex, EncodedTable, combine
from labelgate.validation.constraints import DenialConstraint

EPS = 1e-4
N_EXTRA = 4  # frequency prior, imputer log-probability, in dictionary, candidate is null
# Cells featurized at a time (bounds memory on large tables).
CHUNK = 50_000


@dataclass(frozen=True)
class FunctionalDependency:
    """A denial constraint of the form t1&t2&EQ(t1.X1,t2.X1)&...&IQ(t1.Y,t2.Y): X determines Y."""

    index: int
    line: int
    keys: tuple[int, ...]
    target: int


def functional_dependencies(constraints: list[DenialConstraint], table: EncodedTable) -> list[FunctionalDependency]:
    """The constraints that are functional dependencies (others still feed detection, not features)."""
    found = []
    for dc in constraints:
        preds = dc.predicates
        if dc.tuples != ("t1", "t2") or not all(p.is_join and p.left.attr == p.right.attr for p in preds):
            continue
        keys = [p.left.attr for p in preds if p.op == "EQ"]
        targets = [p.left.attr for p in preds if p.op == "IQ"]
        if len(targets) != 1 or len(keys) + 1 != len(preds) or not keys:
            continue
        found.append(FunctionalDependency(len(found), dc.line, tuple(table.index(k) for k in keys),
                                          table.index(targets[0])))
    return found


class CandidateFeaturizer:
    """Builds :class:`Features` for cells of one categorical target column."""

    def __init__(self, table: EncodedTable, fds: list[FunctionalDependency], imputer: AttentionImputer | None,
                 unknown: np.ndarray, *, max_candidates: int, per_source: int,
                 dictionaries: dict[int, np.ndarray] | None = None) -> None:
        self.table = table
        self.fds = fds
        self.imputer = imputer
        self.unknown = unknown
        self.max_candidates = max_candidates
        self.per_source = per_source
        self.dictionaries = dictionaries or {}

    def featurize(self, col: int, rows: np.ndarray) -> Features:
        """Candidates (the current value always among them) and features for cells (rows, col)."""
        table = self.table
        target = table.columns[col]
        size_a = target.size
        sources = [j for j in range(len(table.columns)) if j != col]
        pairs, tops = {}, {}
        for b in sources:
            codes_b = table.columns[b].codes
            size_b = table.columns[b].size
            index = CountIndex(target.codes * size_b + codes_b)
            pairs[b] = (index, np.bincount(codes_b, minlength=size_b))
            tops[b] = _top_per_value(index, size_b, self.per_source)
        prior = np.bincount(target.codes, minlength=size_a)
        fd_parts = [self._fd_index(fd, col) for fd in self.fds if col == fd.target or col in fd.keys]
        parts = []
        for start in range(0, len(rows), CHUNK):
            part = rows[start:start + CHUNK]
            parts.append(self._chunk(col, part, sources, pairs, tops, prior, fd_parts))
        if not parts:
            return self._chunk(col, rows, sources, pairs, tops, prior, fd_parts)
        return Features.concat(parts)

    def _chunk(self, col, rows, sources, pairs, tops, prior, fd_parts) -> Features:
        table = self.table
        n, n_attrs = len(rows), len(table.columns)
        current = table.columns[col].codes[rows]
        pool = [current[:, None]]
        weights = [np.full((n, 1), 1000.0)]
        for b in sources:
            proposed = tops[b][table.columns[b].codes[rows]]
            pool.append(proposed)
            weights.append(np.ones(proposed.shape))
        imputer_logp = None
        if self.imputer is not None:
            token_logp = self.imputer.token_log_proba(rows, col, self.unknown)
            imputer_logp = token_logp
            best = np.argsort(-token_logp, axis=1)[:, :3]
            best_codes = self.imputer.code_of[col][best]
            pool.append(best_codes)
            weights.append(np.tile([6.0, 3.0, 2.0], (n, 1))[:, : best.shape[1]])
        candidates = _rank_candidates(np.concatenate(pool, axis=1), np.concatenate(weights, axis=1),
                                      self.max_candidates)
        valid = candidates >= 0
        cand = np.where(valid, candidates, 0)
        is_self = (cand == current[:, None]) & valid
        cooc = np.zeros((n, cand.shape[1], n_attrs, 2), dtype=np.float32)
        for b in sources:
            index, counts_b = pairs[b]
            codes_b = table.columns[b].codes[rows]
            size_b = table.columns[b].size
            joint = index.lookup(cand * size_b + codes_b[:, None]) - is_self
            base = (counts_b[codes_b] - 1).astype(np.float32)[:, None]
            p = np.where(base > 0, joint / np.maximum(base, 1), 0.0)
            cooc[:, :, b, 0] = p
            cooc[:, :, b, 1] = np.where(base > 0, np.log(p + EPS) / -np.log(EPS), 0.0)
        extra = np.zeros((n, cand.shape[1], N_EXTRA), dtype=np.float32)
        total = max(self.table.n_rows - 1, 1)
        extra[:, :, 0] = np.log((prior[cand] - is_self) / total + EPS) / -np.log(EPS)
        if imputer_logp is not None:
            tokens = self.imputer.token_of[col][cand]
            logp = np.take_along_axis(imputer_logp, tokens, axis=1)
            logp = np.where(tokens == OTHER_TOKEN, -30.0, logp)
            extra[:, :, 1] = np.clip(logp, -30.0, 0.0) / 10.0
        if col in self.dictionaries:
            extra[:, :, 2] = self.dictionaries[col][cand]
        extra[:, :, 3] = cand == 0
        violations = np.zeros((n, cand.shape[1], len(self.fds)), dtype=np.float32)
        for fd, counter in fd_parts:
            violations[:, :, fd.index] = np.log1p(np.maximum(counter(rows, cand), 0))
        return Features(np.full(n, col), candidates, valid, cooc, extra, violations)

    def _fd_index(self, fd: FunctionalDependency, col: int):
        """A function (rows, candidates) -> violations of ``fd`` if cell (row, col) took each candidate."""
        table = self.table
        y = table.columns[fd.target].codes
        keys = [table.columns[k].codes for k in fd.keys]
        keys_known = np.all([k > 0 for k in keys], axis=0)
        if col == fd.target:
            group = combine(keys)
            counted = keys_known & (y > 0)
            n_group = np.bincount(group[counted], minlength=int(group.max()) + 1)
            size_y = table.columns[fd.target].size
            joint = CountIndex(group[counted] * size_y + y[counted])

            def counter(rows, cand):
                g = group[rows][:, None]
                own = (y[rows] > 0)[:, None]
                same = joint.lookup(g * size_y + cand) - ((cand == y[rows][:, None]) & own)
                out = (n_group[g] - own) - same
                return np.where(keys_known[rows][:, None] & (cand > 0), out, 0)
            return fd, counter
        others = [table.columns[k].codes for k in fd.keys if k != col]
        other = combine(others) if others else np.zeros(table.n_rows, dtype=np.int64)
        a = table.columns[col].codes
        size_a, size_y = table.columns[col].size, table.columns[fd.target].size
        counted = keys_known & (y > 0)
        pair_key = other * size_a + a
        with_key = CountIndex(pair_key[counted])
        with_y = CountIndex(pair_key[counted] * size_y + y[counted])
        others_known = np.all([k > 0 for k in others], axis=0) if others else np.ones(table.n_rows, dtype=bool)

        def counter(rows, cand):
            key = other[rows][:, None] * size_a + cand
            out = with_key.lookup(key) - with_y.lookup(key * size_y + y[rows][:, None])
            return np.where((others_known & (y > 0))[rows][:, None] & (cand > 0), out, 0)
        return fd, counter


def _top_per_value(index: CountIndex, size_b: int, k: int) -> np.ndarray:
    """For each code w of the source column: the k target codes seen most often with it (-1 pads)."""
    a_of, b_of = index.keys // size_b, index.keys % size_b
    order = np.lexsort((-index.counts, b_of))
    b_sorted = b_of[order]
    first = np.r_[0, np.flatnonzero(b_sorted[1:] != b_sorted[:-1]) + 1]
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    keep = rank < k
    top = np.full((size_b, k), -1, dtype=np.int64)
    top[b_sorted[keep], rank[keep]] = a_of[order][keep]
    return top


def _rank_candidates(pool: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Distinct codes per row of ``pool`` (-1 ignored), the k with the largest summed weight first."""
    n, width = pool.shape
    cells = np.repeat(np.arange(n), width)
    codes, w = pool.ravel(), weights.ravel()
    ok = codes >= 0
    cells, codes, w = cells[ok], codes[ok], w[ok]
    span = int(codes.max()) + 1 if len(codes) else 1
    keys, inverse = np.unique(cells * span + codes, return_inverse=True)
    votes = np.bincount(inverse, weights=w)
    key_cell, key_code = keys // span, keys % span
    order = np.lexsort((-votes, key_cell))
    sorted_cell = key_cell[order]
    first = np.r_[0, np.flatnonzero(sorted_cell[1:] != sorted_cell[:-1]) + 1] if len(order) else np.array([], int)
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    keep = rank < k
    out = np.full((n, k), -1, dtype=np.int64)
    out[sorted_cell[keep], rank[keep]] = key_code[order][keep]
    return out
