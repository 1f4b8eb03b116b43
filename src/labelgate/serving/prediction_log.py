"""The prediction log: sampled requests and answers of the model server, appended to Parquet files.

The server offers each answered request to :meth:`PredictionLog.offer` on its event loop; that only samples
rows and puts them on a bounded in-memory queue (never waits: when the queue is full the rows are dropped and
counted). A background thread turns queued rows into Parquet files of at most ``flush_rows`` rows, written
every ``flush_rows`` rows, every ``flush_seconds`` seconds, and on close, and deletes the oldest files while
the directory holds more than ``max_mb`` megabytes. ``labelgate monitor`` reads the files back.

A row: ``time`` (UTC), ``model``, ``version``, ``text`` (null under ``privacy="hash"``), ``text_sha256``,
``label`` (the predicted class), ``classes`` and ``probabilities`` (one per class, in ``classes`` order).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from labelgate.errors import ConfigError

# The log's columns and file names: one home, read by labelgate.monitoring.
TIME, MODEL, VERSION, TEXT, TEXT_SHA256, LABEL, CLASSES, PROBABILITIES = (
    "time", "model", "version", "text", "text_sha256", "label", "classes", "probabilities")
FILE_PREFIX = "predictions-"
FILE_SUFFIX = ".parquet"
Privacy = Literal["text", "hash"]
PRIVACY_MODES: tuple[str, ...] = ("text", "hash")


def log_files(directory: str | Path) -> list[Path]:
    """The log's Parquet files in ``directory``, oldest first (names sort by time)."""
    root = Path(directory)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.name.startswith(FILE_PREFIX) and p.name.endswith(FILE_SUFFIX))


@dataclass(frozen=True)
class _Entry:
    when: datetime
    model: str
    version: str
    texts: list[str]
    probs: np.ndarray
    classes: list[str]


class PredictionLog:
    """A bounded, non-blocking writer of served predictions to Parquet files under ``directory``."""

    def __init__(self, directory: str | Path, *, sample: float = 1.0, privacy: Privacy = "text", max_mb: float = 256.0,
                 flush_rows: int = 1000, flush_seconds: float = 10.0, queue_size: int = 1000,
                 on_drop: Callable[[int], None] | None = None, on_write: Callable[[int], None] | None = None,
                 seed: int | None = None, start: bool = True):
        if not 0.0 <= sample <= 1.0:
            raise ConfigError(f"the prediction-log sample rate must be in [0, 1], got {sample}")
        if privacy not in PRIVACY_MODES:
            raise ConfigError(f"the prediction-log privacy must be one of {list(PRIVACY_MODES)}, got {privacy!r}")
        if max_mb <= 0 or flush_rows < 1 or flush_seconds <= 0 or queue_size < 1:
            raise ConfigError("the prediction log needs max_mb > 0, flush_rows >= 1, flush_seconds > 0 and "
                              f"queue_size >= 1; got {max_mb}, {flush_rows}, {flush_seconds}, {queue_size}")
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the prediction-log directory {self.directory}: {exc}") from exc
        self.sample, self.privacy, self.max_bytes = sample, privacy, int(max_mb * 1024 * 1024)
        self.flush_rows, self.flush_seconds = flush_rows, flush_seconds
        self._queue: queue.Queue[_Entry] = queue.Queue(maxsize=queue_size)
        self._on_drop, self._on_write = on_drop, on_write
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._seq = 0
        self.dropped = 0  # rows dropped because the queue was full
        self.written = 0  # rows written to files
        self._thread = threading.Thread(target=self._run, name="labelgate-prediction-log", daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        """Start the writer thread (once)."""
        if not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()
            atexit.register(self.close)

    def offer(self, *, model: str, version: str, texts: Sequence[str], probs: np.ndarray, classes: Sequence[str]) -> None:
        """Queue a sample of one answered request's rows; never blocks (a full queue drops and counts them)."""
        if self.sample <= 0.0 or self._stop.is_set():
            return
        keep = list(range(len(texts))) if self.sample >= 1.0 else \
            [i for i in range(len(texts)) if self._random.random() < self.sample]
        if not keep:
            return
        entry = _Entry(datetime.now(UTC), model, str(version), [texts[i] for i in keep],
                       np.asarray(probs)[keep], list(classes))
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self.dropped += len(keep)
            if self._on_drop is not None:
                self._on_drop(len(keep))

    def close(self, timeout_s: float = 30.0) -> None:
        """Write what is queued and stop the writer thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        elif self._thread.ident is None:  # never started: write what was queued here
            self._drain_and_write([])

    def _run(self) -> None:
        buffered: list[_Entry] = []
        rows = 0
        first = 0.0
        while True:
            wait = 0.2 if not buffered else max(0.0, min(0.2, first + self.flush_seconds - time.monotonic()))
            try:
                entry = self._queue.get(timeout=wait)
                if not buffered:
                    first = time.monotonic()
                buffered.append(entry)
                rows += len(entry.texts)
            except queue.Empty:
                pass
            if buffered and (rows >= self.flush_rows or time.monotonic() - first >= self.flush_seconds):
                self._write(buffered)
                buffered, rows = [], 0
            if self._stop.is_set() and self._queue.empty():
                self._drain_and_write(buffered)
                return

    def _drain_and_write(self, buffered: list[_Entry]) -> None:
        while True:
            try:
                buffered.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if buffered:
            self._write(buffered)

    def _write(self, entries: list[_Entry]) -> None:
        """Write ``entries`` as files of at most ``flush_rows`` rows, then keep the directory under its bound."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns: dict[str, list[Any]] = {name: [] for name in
                                         (TIME, MODEL, VERSION, TEXT, TEXT_SHA256, LABEL, CLASSES, PROBABILITIES)}
        for entry in entries:
            labels = np.asarray(entry.probs).argmax(axis=1) if len(entry.texts) else []
            for text, row, top in zip(entry.texts, entry.probs, labels, strict=True):
                columns[TIME].append(entry.when)
                columns[MODEL].append(entry.model)
                columns[VERSION].append(entry.version)
                columns[TEXT].append(text if self.privacy == "text" else None)
                columns[TEXT_SHA256].append(hashlib.sha256(text.encode("utf-8")).hexdigest())
                columns[LABEL].append(entry.classes[int(top)])
                columns[CLASSES].append(entry.classes)
                columns[PROBABILITIES].append([float(p) for p in row])
        schema = pa.schema([(TIME, pa.timestamp("us", tz="UTC")), (MODEL, pa.string()), (VERSION, pa.string()),
                            (TEXT, pa.string()), (TEXT_SHA256, pa.string()), (LABEL, pa.string()),
                            (CLASSES, pa.list_(pa.string())), (PROBABILITIES, pa.list_(pa.float64()))])
        table = pa.table(columns, schema=schema)
        for start in range(0, table.num_rows, self.flush_rows):
            part = table.slice(start, self.flush_rows)
            self._seq += 1
            name = f"{FILE_PREFIX}{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}-{self._seq:06d}{FILE_SUFFIX}"
            staging = self.directory / f".{name}.tmp"
            try:
                pq.write_table(part, staging)
                staging.replace(self.directory / name)
            except OSError:
                staging.unlink(missing_ok=True)
                self.dropped += part.num_rows
                if self._on_drop is not None:
                    self._on_drop(part.num_rows)
                continue
            self.written += part.num_rows
            if self._on_write is not None:
                self._on_write(part.num_rows)
        self._enforce_bound()

    def _enforce_bound(self) -> None:
        """Delete the oldest files while the log's files hold more than ``max_bytes``."""
        files = [(p, p.stat().st_size) for p in log_files(self.directory)]
        total = sum(size for _, size in files)
        for path, size in files:
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
