"""The prediction log: sampled requests and answers of the model server, appended to Parquet files.

The server offers each answered request to :meth:`PredictionLog.offer` on its event loop; that only samples
rows and puts them on a bounded in-memory queue (never waits: when the queue is full the rows are dropped and
counted). A background thread turns queued rows into Parquet files of at most ``flush_rows`` rows, written
every ``flush_rows`` rows, every ``flush_seconds`` seconds, and on close, and deletes the oldest files while
the directory holds more than ``max_mb`` megabytes. ``labelgate monitor`` reads the files back.

A row: ``time`` (UTC), ``model``, ``version``, ``text`` (null under ``privacy="hash"``), ``text_sha256``,
``label`` (the predicted class), ``classes`` and ``probabilities`` (one per class, in ``classes`` order).

Where: a local folder, or an object store URI (``s3://bucket/prefix``, ``gs://...``) opened with pyarrow's
file systems, so a server on a cluster writes where the cluster's pipeline and ``labelgate monitor`` read. S3
takes its credentials and endpoint from the usual variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_ENDPOINT_URL`` for MinIO or SeaweedFS), as MLflow's artifact store on the cluster does.
"""

from __future__ import annotations

import atexit
import contextlib
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


class LogLocation:
    """The log's folder: local, or a prefix in an object store (see the module docstring)."""

    def __init__(self, location: str | Path) -> None:
        import fsspec

        text = str(location)
        self.text = text
        self.local = "://" not in text or text.startswith("file://")
        try:
            # Not fsspec's shared instance: that one keeps the endpoint and credentials of whoever made it first.
            options = {} if self.local else {"skip_instance_cache": True}
            self.fs, self.root = fsspec.core.url_to_fs(text.removeprefix("file://") if self.local else text, **options)
        except Exception as exc:  # an unknown scheme, its library not installed
            raise ConfigError(f"cannot open the prediction-log location {text!r}: {exc}. Give a local folder or "
                              "an object store URI such as s3://bucket/predictions (credentials and endpoint from "
                              "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL)") from exc
        self.root = self.root.rstrip("/")

    def __str__(self) -> str:
        return self.text

    def create(self) -> None:
        """Make the folder (an object store needs none); raises ConfigError when it cannot be written."""
        if self.local:
            try:
                Path(self.root).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create the prediction-log directory {self.root}: {exc}") from exc

    def files(self) -> list[tuple[str, int]]:
        """(path, size) of the log's Parquet files, oldest first (names sort by time)."""
        self.fs.invalidate_cache(self.root)  # an object store's listing is cached; other writers add files
        try:
            entries = self.fs.ls(self.root, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = [(str(e["name"]), int(e.get("size") or 0)) for e in entries if e.get("type") == "file"
                 and str(e["name"]).rsplit("/", 1)[-1].startswith(FILE_PREFIX) and str(e["name"]).endswith(FILE_SUFFIX)]
        return sorted(found, key=lambda item: item[0].rsplit("/", 1)[-1])

    def write(self, table: Any, name: str) -> None:
        """Write ``table`` as the file ``name``, whole or not at all (a local file is staged and renamed; an
        object store's upload is atomic)."""
        import pyarrow.parquet as pq

        if not self.local:
            with self.fs.open(f"{self.root}/{name}", "wb") as fh:
                pq.write_table(table, fh)
            return
        staging = Path(self.root) / f".{name}.tmp"
        try:
            pq.write_table(table, staging)
            staging.replace(Path(self.root) / name)
        except OSError:
            staging.unlink(missing_ok=True)
            raise

    def delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    def read(self) -> Any:
        """All the log's rows as one Arrow table (None when there are no files)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = []
        for path, _ in self.files():
            with self.fs.open(path, "rb") as fh:
                tables.append(pq.read_table(fh))
        return pa.concat_tables(tables) if tables else None


def log_files(location: str | Path) -> list[str]:
    """The paths of the log's Parquet files at ``location``, oldest first."""
    return [path for path, _ in LogLocation(location).files()]


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
        self.location = LogLocation(directory)
        self.location.create()
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
            try:
                self.location.write(part, name)
            except Exception:  # a full disk, an unreachable object store: these rows are lost, and counted
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
        try:
            files = self.location.files()
        except Exception:  # the store is unreachable now: the next write tries again
            return
        total = sum(size for _, size in files)
        for path, size in files:
            if total <= self.max_bytes:
                break
            with contextlib.suppress(Exception):
                self.location.delete(path)
            total -= size
