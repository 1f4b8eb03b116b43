"""Labeling functions: Snorkel's per-row semantics, plus vectorised kinds that label a whole column at once.

An LF returns a class index ``0..k-1`` or ``ABSTAIN`` (-1). Per-row LFs receive one row (attribute and
item access, like the ``pd.Series`` Snorkel passes); vectorised LFs receive a ``Batch`` of rows and
return one vote per row, and still answer a single row when called like a per-row LF.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ABSTAIN = -1
MEMO_LIMIT = 100_000  # results a memoizing preprocessor keeps before it starts over


class Row(SimpleNamespace):
    """One data point as a per-row LF sees it: ``x.CONTENT`` and ``x["CONTENT"]`` both work."""

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def copy(self) -> Row:
        return Row(**vars(self))


class Preprocessor:
    """Maps a row to a row with more fields (Snorkel's ``@preprocessor``); runs before an LF's body."""

    def __init__(self, name: str, f: Callable[[Any], Any], memoize: bool = False) -> None:
        self.name = name
        self._f = f
        self.memoize = memoize
        self._cache: dict[Any, Any] = {}

    def __call__(self, x: Any) -> Any:
        if not self.memoize:
            return self._f(x)
        key = _memo_key(x)
        if key is None:
            return self._f(x)
        if key not in self._cache:
            if len(self._cache) >= MEMO_LIMIT:
                self._cache.clear()  # bounded memory on large inputs
            self._cache[key] = self._f(x)
        return self._cache[key]

    def reset_cache(self) -> None:
        self._cache.clear()


def _memo_key(x: Any) -> Any:
    """A hashable key for a row's content (None when a value is unhashable: then nothing is cached)."""
    items = vars(x).items() if isinstance(x, SimpleNamespace) else x.items() if hasattr(x, "items") else None
    if items is None:
        return None
    key = tuple(items)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def preprocessor(name: str | None = None, memoize: bool = False) -> Callable[[Callable], Preprocessor]:
    """Decorator turning ``f(x) -> x`` into a Preprocessor usable in ``labeling_function(pre=[...])``."""

    def wrap(f: Callable[[Any], Any]) -> Preprocessor:
        return Preprocessor(name=name or f.__name__, f=f, memoize=memoize)

    return wrap


class LabelingFunction:
    """A per-row LF: ``f(x, **resources)`` after the preprocessors in ``pre`` have run on ``x``."""

    vectorized: bool = False

    def __init__(
        self,
        name: str,
        f: Callable[..., int] | None = None,
        resources: Mapping[str, Any] | None = None,
        pre: Sequence[Callable[[Any], Any]] | None = None,
    ) -> None:
        if not name or not isinstance(name, str):
            raise ValueError("a labeling function needs a non-empty string name")
        self.name = name
        self._f = f
        self._resources = dict(resources or {})
        self._pre = list(pre or [])

    def __call__(self, x: Any) -> int:
        for step in self._pre:
            x = step(x)
        assert self._f is not None, f"labeling function {self.name} has no body"
        return self._f(x, **self._resources)

    def __repr__(self) -> str:
        kind = "vectorised" if self.vectorized else "per-row"
        return f"{type(self).__name__}({self.name!r}, {kind})"


def labeling_function(
    name: str | None = None,
    resources: Mapping[str, Any] | None = None,
    pre: Sequence[Callable[[Any], Any]] | None = None,
) -> Callable[[Callable[..., int]], LabelingFunction]:
    """Snorkel's decorator: ``@labeling_function()`` over ``def lf(x) -> int`` makes a per-row LF."""

    def wrap(f: Callable[..., int]) -> LabelingFunction:
        return LabelingFunction(name=name or f.__name__, f=f, resources=resources, pre=pre)

    return wrap


class Batch:
    """A chunk of rows handed to vectorised LFs; caches the text columns they share (lower-cased, Arrow)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._arrow: dict[str, pa.Array] = {}
        self._lower: dict[str, pa.Array] = {}
        self._python: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.frame)

    def text(self, column: str) -> pa.Array:
        """The column as an Arrow string array, nulls as empty strings."""
        if column not in self._arrow:
            if column not in self.frame.columns:
                raise KeyError(column)
            values = self.frame[column]
            try:
                arr = pa.array(values, type=pa.large_string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all strings: format as pandas would
                arr = pa.array(values.astype("string").to_numpy(dtype=object, na_value=None), type=pa.large_string())
            self._arrow[column] = pc.fill_null(arr, "")
        return self._arrow[column]

    def lower(self, column: str) -> pa.Array:
        """The column lower-cased once per batch, shared by every case-insensitive LF."""
        if column not in self._lower:
            self._lower[column] = pc.utf8_lower(self.text(column))
        return self._lower[column]

    def non_ascii_mask(self, column: str) -> np.ndarray:
        """Rows whose text is not pure ASCII. Arrow's RE2 and Python's ``re`` read ``\\b \\w \\d \\s``
        alike on ASCII text only, so LFs re-check such rows in Python when it matters."""
        key = "non_ascii:" + column
        if key not in self._python:
            self._python[key] = ~pc.string_is_ascii(self.text(column)).to_numpy(zero_copy_only=False)
        return self._python[key]

    def lower_differs_mask(self, column: str) -> np.ndarray:
        """Rows Arrow may lower-case unlike Python: those holding U+0130 (Python: 'i' + combining dot)
        or a capital sigma (Python: final-sigma rule). Elsewhere the two lower-case alike."""
        key = "lower_differs:" + column
        if key not in self._python:
            hit = pc.match_substring_regex(self.text(column), "[\u0130\u03a3]")
            self._python[key] = hit.to_numpy(zero_copy_only=False).astype(bool)
        return self._python[key]

    def strings(self, column: str, positions: np.ndarray) -> list[str]:
        """The Python strings of rows ``positions`` (nulls as empty strings)."""
        return self.text(column).take(pa.array(positions, type=pa.int64())).to_pylist()

    def non_ascii(self, column: str) -> tuple[np.ndarray, list[str]]:
        """Positions and Python strings of the non-ASCII rows."""
        positions = np.flatnonzero(self.non_ascii_mask(column))
        return positions, self.strings(column, positions)


class VectorizedLF(LabelingFunction):
    """An LF that votes on a whole ``Batch`` at once; calling it on one row still works."""

    vectorized = True

    def label_batch(self, batch: Batch) -> np.ndarray:
        """One vote per row of ``batch`` (int array, -1 = abstain)."""
        raise NotImplementedError

    def __call__(self, x: Any) -> int:
        row = vars(x) if isinstance(x, SimpleNamespace) else dict(x)
        frame = pd.DataFrame([row])
        return int(self.label_batch(Batch(frame))[0])


def _to_bool(mask: pa.Array, n: int) -> np.ndarray:
    values = mask.to_numpy(zero_copy_only=False) if isinstance(mask, (pa.Array, pa.ChunkedArray)) else mask
    out = np.array(values, dtype=bool, copy=True)
    assert out.shape == (n,)
    return out


def _votes(mask: np.ndarray | pa.Array | pd.Series, label: int | str) -> np.ndarray:
    """``label`` where ``mask`` holds, else ABSTAIN; a class name gives an object array that the applier
    maps to its index in ``data.classes``."""
    if isinstance(mask, (pa.Array, pa.ChunkedArray)):
        mask = mask.to_numpy(zero_copy_only=False)
    mask = np.asarray(mask, dtype=bool)
    if isinstance(label, str):
        out = np.full(mask.shape, ABSTAIN, dtype=object)
        out[mask] = label
        return out
    return np.where(mask, np.int8(label), np.int8(ABSTAIN)).astype(np.int8)


class KeywordLF(VectorizedLF):
    """Votes ``label`` when the text in ``column`` contains any of ``keywords`` (substring or whole word)."""

    def __init__(
        self,
        name: str,
        keywords: Iterable[str],
        label: int,
        column: str = "text",
        case_sensitive: bool = False,
        whole_word: bool = False,
    ) -> None:
        super().__init__(name=name)
        self.keywords = tuple(keywords)
        if not self.keywords:
            raise ValueError(f"keyword LF {name} needs at least one keyword")
        self.label = label
        self.column = column
        self.case_sensitive = case_sensitive
        self.whole_word = whole_word
        needles = self.keywords if case_sensitive else tuple(k.lower() for k in self.keywords)
        alternation = "|".join(re.escape(k) for k in needles)
        self._pattern = rf"\b(?:{alternation})\b" if whole_word else f"(?:{alternation})"
        self._regex = re.compile(self._pattern)
        self._literals = alternation
        self._needles = needles

    def label_batch(self, batch: Batch) -> np.ndarray:
        n = len(batch)
        arr = batch.text(self.column) if self.case_sensitive else batch.lower(self.column)
        hit = _to_bool(pc.match_substring_regex(arr, self._literals), n)  # any needle, one RE2 pass
        recheck = np.zeros(n, dtype=bool)
        if not self.case_sensitive:
            recheck |= batch.lower_differs_mask(self.column)
        if self.whole_word:
            mask = _to_bool(pc.match_substring_regex(arr, self._pattern), n)
            # RE2's \b knows ASCII word characters only: re-check non-ASCII rows that hold a needle.
            recheck |= batch.non_ascii_mask(self.column) & hit
        else:
            mask = hit
        positions = np.flatnonzero(recheck)
        if len(positions):
            mask[positions] = [self._hit(text) for text in batch.strings(self.column, positions)]
        return _votes(mask, self.label)

    def _hit(self, text: str) -> bool:
        text = text if self.case_sensitive else text.lower()
        if self.whole_word:
            return self._regex.search(text) is not None
        return any(needle in text for needle in self._needles)

    def __call__(self, x: Any) -> int:
        text = x[self.column]
        text = "" if text is None or text is pd.NA else str(text)
        return self.label if self._hit(text) else ABSTAIN


class RegexLF(VectorizedLF):
    """Votes ``label`` when ``pattern`` matches somewhere in ``column`` (RE2 on batches, ``re`` per row)."""

    def __init__(self, name: str, pattern: str, label: int, column: str = "text", ignore_case: bool = True) -> None:
        super().__init__(name=name)
        self.pattern = pattern
        self.label = label
        self.column = column
        self.ignore_case = ignore_case
        self._regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        # RE2 and Python's re differ on non-ASCII text in the character-class escapes (\b \w \d \s ...)
        # and POSIX classes; other patterns match alike, so only these need a Python re-check.
        self._unicode_sensitive = re.search(r"\\[bBwWdDsS]|\[:", pattern) is not None or (
            ignore_case and not pattern.isascii())

    def label_batch(self, batch: Batch) -> np.ndarray:
        arr = batch.text(self.column)
        try:
            mask = _to_bool(pc.match_substring_regex(arr, self.pattern, ignore_case=self.ignore_case), len(batch))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # A pattern RE2 does not support (backreferences, lookaround): Python's re over the column.
            mask = np.fromiter((self._regex.search(s) is not None for s in arr.to_pylist()), bool, len(arr))
            return _votes(mask, self.label)
        positions, strings = batch.non_ascii(self.column)
        if len(positions) and self._unicode_sensitive:
            search = self._regex.search
            mask[positions] = [search(text) is not None for text in strings]
        return _votes(mask, self.label)

    def __call__(self, x: Any) -> int:
        text = x[self.column]
        text = "" if text is None or text is pd.NA else str(text)
        return self.label if self._regex.search(text) else ABSTAIN


class PredicateLF(VectorizedLF):
    """Votes ``label`` where ``predicate(frame)`` is true; the predicate sees a whole pandas batch."""

    def __init__(self, name: str, predicate: Callable[[pd.DataFrame], Any], label: int) -> None:
        super().__init__(name=name)
        self.predicate = predicate
        self.label = label

    def label_batch(self, batch: Batch) -> np.ndarray:
        mask = self.predicate(batch.frame)
        if isinstance(mask, pd.Series):
            mask = mask.fillna(False).to_numpy(dtype=bool)
        return _votes(mask, self.label)


class BatchLF(VectorizedLF):
    """An LF whose body maps a pandas batch to one vote per row (``resources`` passed as keywords)."""

    def __init__(
        self, name: str, f: Callable[..., Any], resources: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(name=name, f=f, resources=resources)

    def label_batch(self, batch: Batch) -> np.ndarray:
        assert self._f is not None
        out = self._f(batch.frame, **self._resources)
        return np.asarray(out.to_numpy() if isinstance(out, pd.Series) else out)


def batch_labeling_function(
    name: str | None = None, resources: Mapping[str, Any] | None = None
) -> Callable[[Callable[..., Any]], BatchLF]:
    """Decorator for ``def lf(frame) -> votes``: a vectorised LF over pandas batches."""

    def wrap(f: Callable[..., Any]) -> BatchLF:
        return BatchLF(name=name or f.__name__, f=f, resources=resources)

    return wrap


def keyword_lf(
    name: str, keywords: Iterable[str], label: int, column: str = "text",
    case_sensitive: bool = False, whole_word: bool = False,
) -> KeywordLF:
    """A vectorised keyword-set LF (see ``KeywordLF``)."""
    return KeywordLF(name=name, keywords=keywords, label=label, column=column,
                     case_sensitive=case_sensitive, whole_word=whole_word)


def regex_lf(name: str, pattern: str, label: int, column: str = "text", ignore_case: bool = True) -> RegexLF:
    """A vectorised regular-expression LF (see ``RegexLF``)."""
    return RegexLF(name=name, pattern=pattern, label=label, column=column, ignore_case=ignore_case)


def predicate_lf(name: str, predicate: Callable[[pd.DataFrame], Any], label: int) -> PredicateLF:
    """A vectorised LF voting ``label`` where a batch predicate holds (see ``PredicateLF``)."""
    return PredicateLF(name=name, predicate=predicate, label=label)
