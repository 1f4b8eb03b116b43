"""Apply LFs to a table in bounded-memory chunks: vectorised LFs on columns, per-row LFs across processes.

The result is an ``n x m`` int8 label matrix (-1 = abstain). ``shard_bounds`` and ``merge_label_matrices``
let a pipeline fan the rows out over workers and put the pieces back in order.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from labelgate.errors import LabelingError
from labelgate.labeling.lf import ABSTAIN, Batch, LabelingFunction, Row

MAX_CARDINALITY = 127  # int8 holds the votes


@dataclass
class AppliedLabels:
    """The label matrix plus what happened while making it: LF names and failures counted per LF."""

    matrix: np.ndarray
    lf_names: list[str]
    failures: dict[str, int] = field(default_factory=dict)


class LFApplier:
    """Applies LFs to pandas frames or Parquet files, chunk by chunk, into one int8 label matrix.

    ``cardinality`` bounds the votes (an LF returning a value outside -1..k-1 is an error; without it, as
    in Snorkel, any class index int8 can hold is accepted);
    ``fault_tolerant`` turns an LF that raises into an abstain counted in ``failures`` instead of an error;
    ``n_jobs`` > 1 runs the per-row LFs of each chunk in that many processes; ``vectorize=False`` calls
    every LF row by row (the reference the vectorised path must agree with)."""

    def __init__(
        self,
        lfs: Sequence[LabelingFunction],
        cardinality: int | None = None,
        chunk_size: int = 100_000,
        n_jobs: int = 1,
        fault_tolerant: bool = False,
        vectorize: bool = True,
        classes: Sequence[str] | None = None,
    ) -> None:
        check_lfs(lfs)
        if cardinality is not None and not 2 <= cardinality <= MAX_CARDINALITY:
            raise LabelingError(f"cardinality must be between 2 and {MAX_CARDINALITY}, got {cardinality}")
        if chunk_size < 1:
            raise LabelingError(f"chunk_size must be positive, got {chunk_size}")
        self.lfs = list(lfs)
        self.cardinality = MAX_CARDINALITY if cardinality is None else cardinality
        self.chunk_size = chunk_size
        self.n_jobs = max(1, n_jobs if n_jobs > 0 else (os.cpu_count() or 1))
        self.fault_tolerant = fault_tolerant
        self.vectorize = vectorize
        # An LF may vote a class name: its index in ``classes`` (data.classes).
        self.classes = tuple(classes) if classes is not None else None

    @property
    def lf_names(self) -> list[str]:
        return [lf.name for lf in self.lfs]

    def apply(self, frame: pd.DataFrame) -> np.ndarray:
        """The label matrix of ``frame`` (Snorkel's ``PandasLFApplier.apply``), int8, -1 = abstain."""
        return self.apply_frame(frame).matrix

    def apply_frame(self, frame: pd.DataFrame) -> AppliedLabels:
        """Label ``frame`` in chunks of ``chunk_size`` rows."""
        chunks = (frame.iloc[start:start + self.chunk_size] for start in range(0, len(frame), self.chunk_size))
        return self._apply_chunks(chunks, len(frame))

    def apply_parquet(self, path: str | Path, start: int = 0, stop: int | None = None) -> AppliedLabels:
        """Label rows ``start:stop`` of a Parquet file, streaming ``chunk_size`` rows at a time."""
        parquet = pq.ParquetFile(str(path))
        total = parquet.metadata.num_rows
        stop = total if stop is None else min(stop, total)
        return self._apply_chunks(_parquet_chunks(parquet, start, stop, self.chunk_size), max(0, stop - start))

    def _apply_chunks(self, chunks: Iterator[pd.DataFrame], n_rows: int) -> AppliedLabels:
        matrix = np.full((n_rows, len(self.lfs)), ABSTAIN, dtype=np.int8)
        failures = {lf.name: 0 for lf in self.lfs}
        row_wise = [j for j, lf in enumerate(self.lfs) if not (self.vectorize and lf.vectorized)]
        pool = _pool(self.n_jobs, self.lfs) if row_wise and self.n_jobs > 1 else None
        try:
            offset = 0
            for chunk in chunks:
                chunk = chunk.reset_index(drop=True)
                block = matrix[offset:offset + len(chunk)]
                batch = Batch(chunk)
                for j, lf in enumerate(self.lfs):
                    if j not in row_wise:
                        block[:, j] = self._checked(lf, _label_batch(lf, batch, offset, self.classes), offset)
                if row_wise:
                    self._apply_rows(chunk, row_wise, block, failures, offset, pool)
                offset += len(chunk)
        finally:
            if pool is not None:
                pool.shutdown()
        return AppliedLabels(matrix=matrix, lf_names=self.lf_names, failures=failures)

    def _apply_rows(
        self, chunk: pd.DataFrame, columns: list[int], block: np.ndarray, failures: dict[str, int],
        offset: int, pool: ProcessPoolExecutor | None,
    ) -> None:
        lfs = [self.lfs[j] for j in columns]
        if pool is None:
            parts = [_label_rows(lfs, chunk, offset, self.fault_tolerant, self.classes)]
        else:
            bounds = [shard_bounds(len(chunk), self.n_jobs, i) for i in range(self.n_jobs)]
            futures = [pool.submit(_label_rows_in_worker, columns, chunk.iloc[a:b], offset + a, self.fault_tolerant,
                                   self.classes)
                       for a, b in bounds if b > a]
            parts = [f.result() for f in futures]
        start = 0
        for votes, failed, error in parts:
            if error is not None:
                raise LabelingError(error)
            block[start:start + len(votes), columns] = self._checked_many(lfs, votes, offset + start)
            start += len(votes)
            for lf, count in zip(lfs, failed, strict=True):
                failures[lf.name] += count

    def _checked(self, lf: LabelingFunction, votes: np.ndarray, offset: int) -> np.ndarray:
        return self._checked_many([lf], votes.reshape(-1, 1), offset)[:, 0]

    def _checked_many(self, lfs: list[LabelingFunction], votes: np.ndarray, offset: int) -> np.ndarray:
        bad = (votes < ABSTAIN) | (votes >= self.cardinality)
        if bad.any():
            row, col = (int(v[0]) for v in np.nonzero(bad))
            raise LabelingError(
                f"labeling function '{lfs[col].name}' returned {votes[row, col]} on row {offset + row}; "
                f"votes must be -1 (abstain) or a class index 0..{self.cardinality - 1}"
            )
        return votes.astype(np.int8)


def _class_index(vote: object, classes: Sequence[str] | None) -> int | None:
    """A vote given as a class name -> its index; None when it is not one of ``classes``."""
    if isinstance(vote, str) and classes is not None and vote in classes:
        return list(classes).index(vote)
    return None


def _label_batch(lf: LabelingFunction, batch: Batch, offset: int,
                 classes: Sequence[str] | None = None) -> np.ndarray:
    try:
        votes = lf.label_batch(batch)  # type: ignore[attr-defined]
    except Exception as exc:
        raise LabelingError(
            f"labeling function '{lf.name}' raised {type(exc).__name__}: {exc} on the batch of rows "
            f"{offset}..{offset + len(batch) - 1}"
        ) from exc
    votes = np.asarray(votes)
    if votes.shape != (len(batch),):
        raise LabelingError(f"labeling function '{lf.name}' returned {votes.shape} votes for {len(batch)} rows")
    if votes.dtype.kind in "OU":  # class names (and ABSTAIN) -> indices
        named = [v if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else _class_index(v, classes)
                 for v in votes.tolist()]
        bad = next((i for i, v in enumerate(named) if v is None), None)
        if bad is not None:
            raise LabelingError(f"labeling function '{lf.name}' returned {votes[bad]!r} on row {offset + bad}; "
                                f"return a class index, a class name from data.classes "
                                f"{list(classes or [])} or ABSTAIN")
        return np.asarray(named, dtype=np.int64)
    if votes.dtype.kind not in "iub":
        raise LabelingError(f"labeling function '{lf.name}' returned {votes.dtype} votes; they must be integers")
    return votes.astype(np.int64)


def _label_rows(
    lfs: list[LabelingFunction], chunk: pd.DataFrame, offset: int, fault_tolerant: bool,
    classes: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[int], str | None]:
    """Run per-row LFs over ``chunk``; returns votes, failures per LF, and the first error (or None)."""
    votes = np.full((len(chunk), len(lfs)), ABSTAIN, dtype=np.int64)
    failed = [0] * len(lfs)
    columns = [str(c) for c in chunk.columns]
    new_row = Row.__new__
    for i, values in enumerate(zip(*_python_columns(chunk), strict=True)):
        row = new_row(Row)
        row.__dict__.update(zip(columns, values, strict=True))
        for j, lf in enumerate(lfs):
            try:
                vote = lf(row)
            except Exception as exc:
                if fault_tolerant:
                    failed[j] += 1
                    continue
                return votes, failed, (
                    f"labeling function '{lf.name}' raised {type(exc).__name__}: {exc} on row {offset + i} "
                    f"({_preview(row)})"
                )
            if isinstance(vote, str) and _class_index(vote, classes) is not None:
                vote = _class_index(vote, classes)
            if isinstance(vote, (bool, np.bool_)) or not isinstance(vote, (int, np.integer)):
                names = f", a class name from data.classes {list(classes)}" if classes is not None else ""
                return votes, failed, (
                    f"labeling function '{lf.name}' returned {vote!r} ({type(vote).__name__}) on row {offset + i}; "
                    f"return a class index{names} or -1 to abstain"
                )
            votes[i, j] = vote
    return votes, failed, None


def _python_columns(chunk: pd.DataFrame) -> list[np.ndarray]:
    """Each column as Python objects, as a pandas row holds them, but with pandas' NA as None."""
    out = []
    for name in chunk.columns:
        column = chunk[name]
        if isinstance(column.dtype, pd.api.extensions.ExtensionDtype):
            out.append(column.to_numpy(dtype=object, na_value=None))
        else:
            out.append(column.astype(object).to_numpy())
    return out


def _preview(row: Row, width: int = 120) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in vars(row).items())
    return text if len(text) <= width else text[: width - 3] + "..."


_WORKER_LFS: list[LabelingFunction] = []


def _label_rows_in_worker(
    columns: list[int], chunk: pd.DataFrame, offset: int, fault_tolerant: bool,
    classes: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[int], str | None]:
    return _label_rows([_WORKER_LFS[j] for j in columns], chunk, offset, fault_tolerant, classes)


def _set_worker_lfs(lfs: list[LabelingFunction]) -> None:
    _WORKER_LFS[:] = lfs


def _pool(n_jobs: int, lfs: list[LabelingFunction]) -> ProcessPoolExecutor:
    """Worker processes holding the LFs. With fork they inherit them (LFs need not be picklable: a
    decorated function or a module loaded from a path is not); elsewhere they are pickled once."""
    if "fork" in mp.get_all_start_methods():
        _set_worker_lfs(lfs)
        return ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context("fork"))
    return ProcessPoolExecutor(max_workers=n_jobs, initializer=_set_worker_lfs, initargs=(lfs,))


def _parquet_chunks(parquet: pq.ParquetFile, start: int, stop: int, chunk_size: int) -> Iterator[pd.DataFrame]:
    position = 0
    for record_batch in parquet.iter_batches(batch_size=chunk_size):
        begin, end = position, position + record_batch.num_rows
        position = end
        if end <= start:
            continue
        if begin >= stop:
            break
        piece = record_batch.slice(max(0, start - begin), min(end, stop) - max(begin, start))
        yield piece.to_pandas()


def check_lfs(lfs: Sequence[LabelingFunction]) -> None:
    """LFs must be LabelingFunction objects with unique names."""
    if not lfs:
        raise LabelingError("no labeling functions given")
    for lf in lfs:
        if not isinstance(lf, LabelingFunction):
            raise LabelingError(f"{lf!r} is not a labeling function; decorate it with @labeling_function()")
    names = [lf.name for lf in lfs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LabelingError(f"labeling function names must be unique; repeated: {duplicates}")


def shard_bounds(n_rows: int, num_shards: int, index: int) -> tuple[int, int]:
    """Rows ``[start, stop)`` of shard ``index`` out of ``num_shards`` near-equal contiguous shards."""
    if num_shards < 1 or not 0 <= index < num_shards:
        raise LabelingError(f"shard {index} of {num_shards} does not exist")
    base, extra = divmod(n_rows, num_shards)
    start = index * base + min(index, extra)
    return start, start + base + (1 if index < extra else 0)


def merge_label_matrices(parts: Sequence[np.ndarray | str | Path]) -> np.ndarray:
    """Stack shard label matrices (arrays or ``.npy`` paths) in shard order into one matrix."""
    if not parts:
        raise LabelingError("no label matrix shards to merge")
    arrays = [np.load(p) if isinstance(p, (str, Path)) else np.asarray(p) for p in parts]
    widths = {a.shape[1] for a in arrays if a.ndim == 2}
    if len(widths) != 1 or any(a.ndim != 2 for a in arrays):
        raise LabelingError(f"label matrix shards disagree on their shape: {[a.shape for a in arrays]}")
    return np.concatenate(arrays, axis=0).astype(np.int8)


# Snorkel's name for the same thing, so ``PandasLFApplier(lfs).apply(df)`` code runs unchanged.
PandasLFApplier = LFApplier
