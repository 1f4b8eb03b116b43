"""Read raw tables (CSV, Parquet, JSONL) from local paths or fsspec URIs, with errors that name the file."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass

import fsspec
import pandas as pd

from labelgate.errors import DataError

FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class RawFile:
    """One raw file as read: its URI, base name, content hash and table."""

    uri: str
    name: str
    sha256: str
    frame: pd.DataFrame


def file_format(uri: str) -> str:
    """The table format implied by the file extension; a clear error for anything else."""
    lowered = uri.lower()
    for ext, kind in FORMATS.items():
        if lowered.endswith(ext):
            return kind
    raise DataError(f"{uri}: unsupported file extension; labelgate reads {sorted(FORMATS)}")


def list_data_files(uri: str) -> list[str]:
    """Expand a file, a folder or a glob into a sorted list of data-file URIs."""
    fs, _, paths = fsspec.get_fs_token_paths(uri)
    protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    files: list[str] = []
    for path in paths:
        if fs.isdir(path):
            files.extend(p for p in fs.find(path) if _has_known_extension(p))
        elif fs.exists(path):
            files.append(path)
    if not files:
        raise DataError(f"{uri}: no data files found (looked for {sorted(FORMATS)})")
    prefix = "" if protocol in ("file", "local") else f"{protocol}://"
    return sorted(prefix + f if not f.startswith(prefix) else f for f in files)


def _has_known_extension(path: str) -> bool:
    return any(path.lower().endswith(ext) for ext in FORMATS)


def read_file(uri: str) -> RawFile:
    """Read one table; every failure becomes a DataError naming the file and what is wrong."""
    kind = file_format(uri)
    try:
        with fsspec.open(uri, "rb") as fh:
            payload = fh.read()
    except FileNotFoundError as exc:
        raise DataError(f"{uri}: file not found") from exc
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    if not payload.strip():
        raise DataError(f"{uri}: the file is empty")
    frame = _parse(uri, kind, payload)
    if frame.empty:
        raise DataError(f"{uri}: the file has a header but no rows")
    return RawFile(uri=uri, name=name, sha256=hashlib.sha256(payload).hexdigest(), frame=frame)


def _parse(uri: str, kind: str, payload: bytes) -> pd.DataFrame:
    if kind == "parquet":
        if payload[:4] != PARQUET_MAGIC:
            raise DataError(f"{uri}: not a Parquet file (its first bytes are {payload[:8]!r}); check the extension")
        try:
            return pd.read_parquet(io.BytesIO(payload))
        except Exception as exc:  # pyarrow raises many types for corrupt files
            raise DataError(f"{uri}: unreadable Parquet file: {exc}") from exc
    if payload[:4] == PARQUET_MAGIC:
        raise DataError(f"{uri}: this is a Parquet file but its extension says {kind}; rename it to .parquet")
    text = _decode(uri, payload)
    if kind == "jsonl":
        return _parse_jsonl(uri, text)
    return _parse_csv(uri, text)


def _decode(uri: str, payload: bytes) -> str:
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = payload[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{uri}: not valid UTF-8 at byte {exc.start} (line {line}): {payload[exc.start:exc.start + 4]!r}; "
            "re-encode the file as UTF-8"
        ) from exc


def _parse_csv(uri: str, text: str) -> pd.DataFrame:
    if "\x00" in text:
        raise DataError(f"{uri}: contains NUL bytes; it is probably a binary file, not CSV")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""],
                           on_bad_lines="error", engine="c")
    except pd.errors.ParserError as exc:
        raise DataError(f"{uri}: malformed CSV: {exc}") from exc
    except csv.Error as exc:
        raise DataError(f"{uri}: malformed CSV: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{uri}: the file has no columns") from exc


def _parse_jsonl(uri: str, text: str) -> pd.DataFrame:
    import json

    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{uri}: line {number} is not valid JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise DataError(f"{uri}: line {number} is a JSON {type(row).__name__}, expected an object")
        rows.append(row)
    return pd.DataFrame(rows)
