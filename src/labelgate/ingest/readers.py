"""Read raw tables (CSV, Parquet, JSONL) from local paths or fsspec URIs, with errors that name the file."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
from dataclasses import dataclass

import fsspec
import pandas as pd

from labelgate.errors import DataError

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
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


# Leading bytes of formats people hand in by mistake, so the error can say what the file really is.
MAGIC = (
    (b"\x1f\x8b", "a gzip-compressed file", "name it with a .gz suffix (e.g. data.csv.gz) or decompress it"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)", "export or extract it as CSV"),
    (b"%PDF", "a PDF document", "export the table as CSV"),
    (b"\x89PNG", "a PNG image", "point labelgate at the data file"),
    (b"\xff\xd8\xff", "a JPEG image", "point labelgate at the data file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office (.xls) file", "export it as CSV"),
    (b"SQLite format 3", "an SQLite database", "export the table as CSV"),
)
COMPRESSED = ".gz"


def file_format(uri: str) -> str:
    """The table format implied by the file extension (a ``.gz`` suffix is allowed); a clear error for
    anything else."""
    lowered = uri.lower()
    if lowered.endswith(COMPRESSED):
        lowered = lowered[: -len(COMPRESSED)]
    for ext, kind in FORMATS.items():
        if lowered.endswith(ext):
            return kind
    raise DataError(f"{uri}: unsupported file extension; labelgate reads {sorted(FORMATS)} (optionally .gz)")


def list_data_files(uri: str) -> list[str]:
    """Expand a file, a folder or a glob into a sorted list of data-file URIs."""
    fs, _, paths = fsspec.get_fs_token_paths(uri)
    protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    files: list[str] = []
    for path in paths:
        if fs.isdir(path):
            files.extend(p for p in fs.find(path) if _has_known_extension(p) and not _hidden(p, path))
        elif fs.exists(path):
            files.append(path)
    if not files:
        raise DataError(f"{uri}: no data files found (looked for {sorted(FORMATS)})")
    prefix = "" if protocol in ("file", "local") else f"{protocol}://"
    return sorted(prefix + f if not f.startswith(prefix) else f for f in files)


def _hidden(path: str, folder: str) -> bool:
    """A file in a folder whose name, or a folder's name on the way to it, starts with ``.`` or ``_``: macOS's
    ``._train.csv`` resource forks, ``.ipynb_checkpoints/``, editor lock files, Spark's ``_temporary/``
    (pyarrow's datasets skip the same prefixes)."""
    relative = path[len(folder.rstrip("/")):].strip("/")
    return any(part.startswith((".", "_")) for part in relative.split("/"))


def _has_known_extension(path: str) -> bool:
    lowered = path.lower()
    lowered = lowered[: -len(COMPRESSED)] if lowered.endswith(COMPRESSED) else lowered
    return any(lowered.endswith(ext) for ext in FORMATS)


def read_file(uri: str, encoding: str | None = None) -> RawFile:
    """Read one table; every failure becomes a DataError naming the file and what is wrong. ``encoding``: that
    of a CSV/TSV file (``data.encoding``; None: UTF-8, or UTF-16 with its byte-order mark)."""
    kind = file_format(uri)
    try:
        with fsspec.open(uri, "rb") as fh:
            payload = fh.read()
    except FileNotFoundError as exc:
        raise DataError(f"{uri}: file not found") from exc
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    digest = hashlib.sha256(payload).hexdigest()
    if uri.lower().endswith(COMPRESSED):
        payload = _gunzip(uri, payload)
    if not payload.strip():
        raise DataError(f"{uri}: the file is empty; add its rows, or remove it (every data file under the data "
                        "path is read)")
    frame = _parse(uri, kind, payload, encoding)
    if frame.empty:
        raise DataError(f"{uri}: the file has a header but no rows; add its rows, or remove it (every data file "
                        "under the data path is read)")
    return RawFile(uri=uri, name=name, sha256=digest, frame=frame)


def _parse(uri: str, kind: str, payload: bytes, encoding: str | None = None) -> pd.DataFrame:
    if kind == "parquet":
        if payload[:4] != PARQUET_MAGIC:
            raise DataError(f"{uri}: not a Parquet file (its first bytes are {payload[:8]!r}); check the extension")
        try:
            return pd.read_parquet(io.BytesIO(payload))
        except Exception as exc:  # pyarrow raises many types for corrupt files
            raise DataError(f"{uri}: unreadable Parquet file: {exc}") from exc
    if payload[:4] == PARQUET_MAGIC:
        raise DataError(f"{uri}: this is a Parquet file but its extension says {kind}; rename it to .parquet")
    for magic, what, fix in MAGIC:
        if payload.startswith(magic):
            raise DataError(f"{uri}: this is {what}, not {kind} text; {fix}")
    text = _decode(uri, payload, encoding if kind != "jsonl" else None)
    head = text[:512].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<?xml")):
        raise DataError(f"{uri}: this is an HTML/XML page, not {kind} data (a failed download or an error page?)")
    first = head.split("\n", 1)[0].strip()
    if kind == "csv" and first.startswith("{") and first.endswith("}"):
        raise DataError(f"{uri}: this looks like JSON Lines (one object per line), not CSV; rename it to .jsonl")
    if kind == "jsonl" and not first.startswith(("{", "[")) and "," in first:
        raise DataError(f"{uri}: this looks like CSV (its first line is {first[:60]!r}), not JSON; rename it to .csv")
    if kind == "jsonl":
        return _parse_jsonl(uri, text)
    hinted = re.match(r"sep=(.)\r?\n", text)  # Excel's "sep=;" line above the header names the delimiter
    if hinted:
        return _parse_csv(uri, text[hinted.end():], hinted.group(1))
    return _parse_csv(uri, text, _delimiter(uri, text))


def _gunzip(uri: str, payload: bytes) -> bytes:
    import gzip
    import zlib

    try:
        return gzip.decompress(payload)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{uri}: the name ends in .gz but the file is not valid gzip data ({exc})") from exc


def _decode(uri: str, payload: bytes, encoding: str | None = None) -> str:
    if encoding is not None and encoding != "utf-8":
        try:
            return payload.decode(encoding)
        except UnicodeDecodeError as exc:
            line = payload[: exc.start].count(b"\n") + 1
            raise DataError(f"{uri}: not valid {encoding} (data.encoding) at byte {exc.start} (line {line}): "
                            f"{payload[exc.start:exc.start + 4]!r}; set data.encoding to the file's encoding, or "
                            "remove it to read UTF-8") from exc
    if payload[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with a byte-order mark is unambiguous: read it
        try:
            return payload.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataError(f"{uri}: starts with a UTF-16 byte-order mark but is not valid UTF-16; "
                            "re-encode the file as UTF-8") from exc
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = payload[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{uri}: not valid UTF-8 at byte {exc.start} (line {line}): {payload[exc.start:exc.start + 4]!r}"
            f"{_legacy_hint(uri, payload, exc.start)}"
        ) from exc


def _legacy_hint(uri: str, payload: bytes, start: int) -> str:
    """Name the likely legacy encoding (Excel and older tools write Windows-1252/Latin-1) with the command that
    re-encodes the file, showing the bad byte's word as that encoding reads it."""
    try:
        text = payload.decode("cp1252")
    except UnicodeDecodeError:
        return "; re-encode the file as UTF-8"
    lo = max(payload.rfind(sep, 0, start) for sep in (b" ", b"\n", b",", b";", b"\t")) + 1
    word = re.split(r"[\s,;|]", text[lo:start + 12])[0] or text[start]
    name = uri.rsplit("/", 1)[-1]
    return (f", read as Windows-1252/Latin-1: {word!r}. The file is probably in that encoding: set data.encoding: "
            f"cp1252 in the config (labelgate init --encoding cp1252), or re-encode it as UTF-8, e.g. "
            f"iconv -f cp1252 -t utf-8 {name} > {name}.utf8 && mv {name}.utf8 {name}")


DELIMITERS = (",", ";", "\t", "|")


def _delimiter(uri: str, text: str) -> str:
    """The delimiter that splits the header row into the most cells (a tab first for ``.tsv``, else a comma on
    a tie): Excel in many locales writes ``;``, other tools tabs or ``|``."""
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    joined = ",".join(header)  # the header as cells split on commas; count the others inside them
    counts = {d: (joined.count(d) if d != "," else len(header) - 1) for d in DELIMITERS}
    preferred = "\t" if uri.lower().removesuffix(COMPRESSED).endswith(".tsv") else ","
    best = max(DELIMITERS, key=lambda d: (counts[d], d == preferred))
    return best if counts[best] > 0 else preferred


def _parse_csv(uri: str, text: str, delimiter: str = ",") -> pd.DataFrame:
    if "\x00" in text:
        raise DataError(f"{uri}: contains NUL bytes; it is probably a binary file, not CSV")
    try:
        # index_col=False: with the default, a first data row with one extra cell silently turns the first
        # column into the index and shifts every value; here pandas warns instead, and we refuse.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                                na_values=[""], on_bad_lines="error", engine="c", index_col=False)
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            raise DataError(f"{uri}: malformed CSV: {_first_ragged_row(text, delimiter)}")
        # "id, text, label": spaces after the delimiters are not part of the column names.
        stripped = [str(c).strip() for c in frame.columns]
        if len(set(stripped)) == len(stripped):
            frame.columns = stripped
        return frame
    except pd.errors.ParserError as exc:
        if "Expected" in str(exc) and "fields" in str(exc):  # locate it ourselves: pandas miscounts lines
            raise DataError(f"{uri}: malformed CSV: {_first_ragged_row(text, delimiter)}") from exc  # after quoted newlines
        raise DataError(f"{uri}: malformed CSV: {str(exc).strip()}{_csv_hint(str(exc))}") from exc
    except csv.Error as exc:
        raise DataError(f"{uri}: malformed CSV: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{uri}: the file has no columns") from exc


def _first_ragged_row(text: str, delimiter: str = ",") -> str:
    """Find the first row whose cell count differs from the header's (only on the error path)."""
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(rows, [])
    for row in rows:
        if row and len(row) != len(header):
            return (f"line {rows.line_num} has {len(row)} cells but the header has {len(header)}: quote cells that "
                    "contain the delimiter, or remove the extra delimiters")
    return "some rows have more cells than the header"


def _csv_hint(message: str) -> str:
    """Say in plain words what the C parser's message usually means."""
    if "EOF inside string" in message:
        return " (a quoted cell is never closed: look for a stray \" on or after that row)"
    return ""


def _parse_jsonl(uri: str, text: str) -> pd.DataFrame:
    import json

    if text.lstrip().startswith("["):  # a JSON array of objects (what many tools write as .json)
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{uri}: starts like a JSON array but is not valid JSON: {exc.msg} "
                            f"(line {exc.lineno}, column {exc.colno})") from exc
        bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
        if bad is not None:
            raise DataError(f"{uri}: item {bad} of the JSON array is a {type(records[bad]).__name__}, "
                            "expected an object (one per row)")
        return pd.DataFrame(records)
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            hint = ""
            if number == 1 and line.strip() == "{":
                hint = "; write one JSON object per line (JSON Lines) or an array of objects"
            raise DataError(f"{uri}: line {number} is not valid JSON: {exc.msg}{hint}") from exc
        if not isinstance(row, dict):
            raise DataError(f"{uri}: line {number} is a JSON {type(row).__name__}, expected an object")
        rows.append(row)
    return pd.DataFrame(rows)
