"""Denial constraints in HoloClean's format, checked with hash joins on their equality predicates.

A line such as ``t1&t2&EQ(t1.ZipCode,t2.ZipCode)&IQ(t1.City,t2.City)`` says: no two rows may satisfy
all predicates at once. A ``# severity: warning`` comment right above a constraint makes it report-only. Operators: EQ, IQ (not equal), LT, GT, LTE, GTE; operands ``t1.Attr``, ``t2.Attr``
or a constant (``"text"`` or a bare number). Equality predicates between t1 and t2 become a hash join
(pandas merge / groupby), so the cost grows with the number of rows and real violations, not with n^2.
The common functional-dependency shape (join keys plus one ``IQ`` on one attribute) needs only a groupby,
and one or two order predicates without an equality (``GT(t1.Salary,t2.Salary)&LT(t1.Tax,t2.Tax)``) are a
2-D dominance count in O(n log^2 n); anything else falls back to vectorised blocks of pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from labelgate.errors import ConfigError, DataError

OPERATORS = ("EQ", "IQ", "LT", "GT", "LTE", "GTE")
# a OP b  ==  b MIRRORED[OP] a
_MIRRORED = {"LT": "GT", "GT": "LT", "LTE": "GTE", "GTE": "LTE"}
_ORDER_FUNCTIONS = {"LT": np.less, "GT": np.greater, "LTE": np.less_equal, "GTE": np.greater_equal}
# Pairs materialised per merge chunk; bounds memory when join groups are large.
PAIR_BUDGET = 5_000_000
# Constraints without an equality between t1 and t2 need all pairs; refuse beyond this many.
MAX_CROSS_PAIRS = 400_000_000

_PREDICATE = re.compile(r"^(EQ|IQ|LT|GT|LTE|GTE)\((.*)\)$", re.DOTALL)
_TUPLE_ATTR = re.compile(r"^(t[12])\.(.+)$", re.DOTALL)
_SEVERITY = re.compile(r"^#\s*severity:\s*(critical|warning)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Operand:
    """``t1.Attr``/``t2.Attr`` (``tuple`` and ``attr`` set) or a constant (``constant`` set)."""

    tuple: str | None = None
    attr: str | None = None
    constant: str | None = None

    def __str__(self) -> str:
        return f"{self.tuple}.{self.attr}" if self.constant is None else repr(self.constant)


@dataclass(frozen=True)
class Predicate:
    op: str
    left: Operand
    right: Operand

    @property
    def is_join(self) -> bool:
        """True for a predicate relating t1 to t2 (as opposed to a filter on one tuple)."""
        return (self.left.constant is None and self.right.constant is None
                and self.left.tuple != self.right.tuple)

    def __str__(self) -> str:
        return f"{self.op}({self.left},{self.right})"


@dataclass(frozen=True)
class DenialConstraint:
    """One denial constraint: the source line, how many tuples it ranges over, and its predicates."""

    text: str
    line: int
    tuples: tuple[str, ...]
    predicates: tuple[Predicate, ...]
    # Set by a ``# severity: warning`` (or critical) comment on the line above; None: the config's default.
    severity: str | None = None

    def attributes(self, tuple_name: str) -> list[str]:
        """The attributes this constraint reads from one tuple, in order of appearance."""
        seen: list[str] = []
        for pred in self.predicates:
            for side in (pred.left, pred.right):
                if side.tuple == tuple_name and side.attr not in seen:
                    seen.append(side.attr)
        return seen


@dataclass
class ConstraintResult:
    """Violations of one constraint: ordered violating pairs counted, rows and cells involved.

    ``cells`` maps an attribute to the rows whose value of it takes part in a violation; ``suspects``
    narrows that to the cells most likely wrong (in a functional dependency, the rows that disagree with
    their group's most common value), which is what a repair would change."""

    constraint: DenialConstraint
    violations: int
    rows: np.ndarray
    cells: dict[str, np.ndarray] = field(default_factory=dict)
    suspects: dict[str, np.ndarray] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    @property
    def cell_count(self) -> int:
        return int(sum(len(v) for v in self.cells.values()))


def parse_constraints(text: str, source: str = "<constraints>") -> list[DenialConstraint]:
    """Parse one denial constraint per line; blank lines and ``#`` comments are skipped."""
    constraints = []
    severity = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        directive = _SEVERITY.match(line)
        if directive:
            severity = directive.group(1).lower()
            continue
        if not line or line.startswith("#"):
            continue
        parsed = _parse_line(line, number, source)
        constraints.append(replace(parsed, severity=severity) if severity else parsed)
        severity = None
    return constraints


def load_constraints(path: str | Path) -> list[DenialConstraint]:
    """Read a constraint file; a missing file is a ConfigError, an empty one means no constraints."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"constraint file not found: {path}") from exc
    except OSError as exc:  # a folder, an empty path, no permission
        raise ConfigError(f"cannot read the constraint file {str(path)!r}: {exc.strerror}; give the path of a "
                          "constraints text file (labelgate init writes one)") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"constraint file {path} is not UTF-8 text") from exc
    return parse_constraints(text, str(path))


def _split_outside(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside quotes and parentheses (``&`` between predicates, ``,`` between
    operands), stripping each part."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _parse_line(line: str, number: int, source: str) -> DenialConstraint:
    where = f"{source} line {number}"
    parts = _split_outside(line, "&")
    tuples = []
    while parts and parts[0] in ("t1", "t2"):
        tuples.append(parts.pop(0))
    if tuples not in (["t1"], ["t1", "t2"]):
        raise ConfigError(f"{where}: a constraint starts with 't1&' or 't1&t2&', got {line!r}")
    if not parts:
        raise ConfigError(f"{where}: no predicates after {'&'.join(tuples)}")
    predicates = []
    for part in parts:
        match = _PREDICATE.match(part)
        if not match:
            raise ConfigError(f"{where}: {part!r} is not a predicate OP(a,b) with OP one of {list(OPERATORS)}")
        args = _split_outside(match.group(2), ",")
        if len(args) != 2:
            raise ConfigError(f"{where}: {part!r} needs exactly two operands")
        left, right = (_operand(a, where, tuples) for a in args)
        if left.constant is not None and right.constant is not None:
            raise ConfigError(f"{where}: {part!r} compares two constants")
        if left.constant is not None:  # keep the attribute on the left: 5 < t1.A  ==  t1.A > 5
            left, right = right, left
            predicates.append(Predicate(_MIRRORED.get(match.group(1), match.group(1)), left, right))
        else:
            predicates.append(Predicate(match.group(1), left, right))
    return DenialConstraint(text=line, line=number, tuples=tuple(tuples), predicates=tuple(predicates))


def _operand(text: str, where: str, tuples: list[str]) -> Operand:
    match = _TUPLE_ATTR.match(text)
    if match:
        if match.group(1) not in tuples:
            raise ConfigError(f"{where}: operand {text!r} names {match.group(1)}, which the constraint does not declare")
        return Operand(tuple=match.group(1), attr=match.group(2))
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return Operand(constant=text[1:-1])
    if text:
        return Operand(constant=text)
    raise ConfigError(f"{where}: empty operand")


def check_constraints(frame: pd.DataFrame, constraints: list[DenialConstraint],
                      max_examples: int = 5) -> list[ConstraintResult]:
    """Check every constraint on ``frame``; rows are reported by position (0-based)."""
    for dc in constraints:
        missing = missing_columns(frame, dc)
        if missing:
            raise DataError(f"constraint on line {dc.line} ({dc.text}) names column(s) {missing} "
                            f"that the data does not have; columns: {list(frame.columns)}")
    columns = _Columns(frame)
    return [_check_one(columns, dc, max_examples) for dc in constraints]


def missing_columns(frame: pd.DataFrame, dc: DenialConstraint) -> list[str]:
    """The attributes ``dc`` reads that ``frame`` lacks."""
    return sorted({a for t in dc.tuples for a in dc.attributes(t)} - set(frame.columns))


class _Columns:
    """Column values prepared once: integer codes for equality within a column (hash-based factorize),
    strings for equality across columns or with constants, numbers for ordering where they parse."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.n = len(frame)
        self._codes: dict[str, np.ndarray] = {}
        self._uniques: dict[str, np.ndarray] = {}
        self._text: dict[str, pd.Series] = {}
        self._ordered: dict[str, pd.Series] = {}

    def codes(self, attr: str) -> np.ndarray:
        """Equal values share a code; missing values get -1."""
        if attr not in self._codes:
            codes, uniques = pd.factorize(self.frame[attr].to_numpy(), use_na_sentinel=True)
            self._codes[attr], self._uniques[attr] = codes.astype(np.int64), np.asarray(uniques, dtype=object)
        return self._codes[attr]

    def uniques(self, attr: str) -> np.ndarray:
        """The distinct values, indexed by code."""
        self.codes(attr)
        return self._uniques[attr]

    def text(self, attr: str) -> pd.Series:
        if attr not in self._text:
            column = self.frame[attr].reset_index(drop=True)
            values = column.astype(object).where(column.notna(), None)
            if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
                values = values.map(_as_text, na_action="ignore")
            self._text[attr] = pd.Series(values.to_numpy(), dtype=object)
        return self._text[attr]

    def value(self, attr: str, row: int) -> object:
        return self.frame[attr].iat[row]

    def ordered(self, attr: str) -> pd.Series:
        if attr not in self._ordered:
            column = self.frame[attr].reset_index(drop=True)
            numeric = pd.to_numeric(column, errors="coerce")
            if numeric.notna().sum() == column.notna().sum():
                self._ordered[attr] = numeric.astype(float)
            else:
                self._ordered[attr] = self.text(attr)
        return self._ordered[attr]


def _as_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _compare(op: str, left: pd.Series | np.ndarray, right: pd.Series | np.ndarray | object) -> np.ndarray:
    """Vectorised comparison where a missing value on either side makes the predicate false."""
    left = pd.Series(np.asarray(left, dtype=object) if not isinstance(left, pd.Series) else left)
    if isinstance(right, (pd.Series, np.ndarray)):
        right = pd.Series(np.asarray(right)) if not isinstance(right, pd.Series) else right.reset_index(drop=True)
        known = left.notna().to_numpy() & right.notna().to_numpy()
        right_values = right.to_numpy()
    else:
        known = left.notna().to_numpy() & (right is not None)
        right_values = right
    left_values = left.reset_index(drop=True).to_numpy()
    out = np.zeros(len(left_values), dtype=bool)
    if not known.any():
        return out
    lv = left_values[known]
    rv = right_values[known] if isinstance(right_values, np.ndarray) else right_values
    if op == "EQ":
        result = lv == rv
    elif op == "IQ":
        result = lv != rv
    else:
        try:
            result = _ORDER_FUNCTIONS[op](lv, rv)
        except TypeError:  # mixed numbers and text: compare as text
            lv, rv = lv.astype(str), (rv.astype(str) if isinstance(rv, np.ndarray) else str(rv))
            result = _ORDER_FUNCTIONS[op](lv, rv)
    out[known] = np.asarray(result, dtype=bool)
    return out


def _values(columns: _Columns, op: str, attr: str) -> pd.Series:
    return columns.text(attr) if op in ("EQ", "IQ") else columns.ordered(attr)


def _constant(columns: _Columns, op: str, attr: str, constant: str) -> object:
    values = _values(columns, op, attr)
    if values.dtype == float:
        try:
            return float(constant)
        except ValueError:
            return constant
    return constant


def _filter_mask(columns: _Columns, dc: DenialConstraint, tuple_name: str) -> np.ndarray:
    """Rows that may play ``tuple_name``: all predicates on that tuple alone hold."""
    mask = np.ones(columns.n, dtype=bool)
    for pred in dc.predicates:
        if pred.is_join or pred.left.tuple != tuple_name:
            continue
        if pred.right.constant is not None and pred.op in ("EQ", "IQ"):
            # Compare the column's distinct values with the constant once, then look rows up by code.
            codes, uniques = columns.codes(pred.left.attr), columns.uniques(pred.left.attr)
            equal = np.array([_as_text(u) == pred.right.constant for u in uniques] + [False])
            hit = equal[codes] if pred.op == "EQ" else ~equal[codes]
            mask &= hit & (codes >= 0)
            continue
        left = _values(columns, pred.op, pred.left.attr)
        if pred.right.constant is not None:
            right = _constant(columns, pred.op, pred.left.attr, pred.right.constant)
        else:
            right = _values(columns, pred.op, pred.right.attr)
        mask &= _compare(pred.op, left, right)
    return mask


def _check_one(columns: _Columns, dc: DenialConstraint, max_examples: int) -> ConstraintResult:
    if dc.tuples == ("t1",):
        rows = np.flatnonzero(_filter_mask(columns, dc, "t1"))
        cells = {a: rows for a in dc.attributes("t1")}
        examples = [_row_example(columns, int(r), dc.attributes("t1")) for r in rows[:max_examples]]
        return ConstraintResult(dc, len(rows), rows, cells, dict(cells), examples)
    left_rows = np.flatnonzero(_filter_mask(columns, dc, "t1"))
    right_rows = np.flatnonzero(_filter_mask(columns, dc, "t2"))
    joins = [p for p in dc.predicates if p.is_join]
    keys = [p for p in joins if p.op == "EQ"]
    residual = [p for p in joins if p.op != "EQ"]
    # Orient every join predicate as (t1 side, t2 side).
    keys = [_oriented(p) for p in keys]
    residual = [_oriented(p) for p in residual]
    fd = (len(residual) == 1 and residual[0].op == "IQ" and residual[0].left.attr == residual[0].right.attr
          and all(k.left.attr == k.right.attr for k in keys) and np.array_equal(left_rows, right_rows))
    if keys and fd:
        return _check_dependency(columns, dc, left_rows, [k.left.attr for k in keys], residual[0].left.attr,
                                 max_examples)
    if not keys and 1 <= len(residual) <= 2 and all(p.op in _ORDERING for p in residual):
        return _check_inequalities(columns, dc, left_rows, right_rows, residual, max_examples)
    return _check_pairs(columns, dc, left_rows, right_rows, keys, residual, max_examples)


def _oriented(pred: Predicate) -> Predicate:
    if pred.left.tuple == "t1":
        return pred
    return Predicate(_MIRRORED.get(pred.op, pred.op), pred.right, pred.left)


def _check_dependency(columns: _Columns, dc: DenialConstraint, rows: np.ndarray, keys: list[str],
                      target: str, max_examples: int) -> ConstraintResult:
    """Keys -> target: rows of a key group holding more than one target value violate, pairwise.
    Everything runs on integer codes: one factorize per column, then bincounts; no pairs are built.
    Only rows sharing their key with another row can violate, so the target is read for those alone
    (with a nearly unique key, as an id column, that skips almost all of it)."""
    empty = ConstraintResult(dc, 0, np.array([], dtype=np.int64))
    key_codes = [columns.codes(k)[rows] for k in keys]
    known = np.ones(len(rows), dtype=bool)
    for codes in key_codes:
        known &= codes >= 0
    rows = rows[known]
    key_codes = [codes[known] for codes in key_codes]
    if not len(rows):
        return empty
    if len(key_codes) == 1:
        group = pd.factorize(key_codes[0])[0]
    else:
        group = pd.DataFrame(key_codes).T.groupby(list(range(len(key_codes))), sort=False).ngroup().to_numpy()
    shared = np.bincount(group)[group] > 1
    if not shared.any():
        return empty
    rows, group = rows[shared], pd.factorize(group[shared])[0]
    value_codes = pd.factorize(columns.frame[target].to_numpy()[rows], use_na_sentinel=True)[0].astype(np.int64)
    known = value_codes >= 0
    rows, group, value_codes = rows[known], group[known], value_codes[known]
    if not len(rows):
        return empty
    group = pd.factorize(group)[0]
    pair, pair_first = _factorize_first(group.astype(np.int64) * (int(value_codes.max()) + 1) + value_codes)
    pair_count = np.bincount(pair)
    pair_group = group[pair_first]
    n_groups = int(group.max()) + 1
    distinct = np.bincount(pair_group, minlength=n_groups)
    bad_group = distinct > 1
    if not bad_group.any():
        return empty
    total = np.bincount(group, minlength=n_groups).astype(np.int64)
    squares = np.bincount(pair_group, weights=pair_count.astype(float) ** 2, minlength=n_groups)
    # Ordered pairs (r1, r2) with equal keys and different targets: total^2 - sum(count^2) per group.
    violations = int(round(float((total[bad_group] ** 2).sum() - squares[bad_group].sum())))
    involved = bad_group[group]
    violating_rows = np.sort(rows[involved])
    # The most common target value of each group is taken as right; the others are suspects.
    order = np.lexsort((-pair_count, pair_group))
    leaders = order[np.r_[True, pair_group[order][1:] != pair_group[order][:-1]]]
    majority = np.full(n_groups, -1, dtype=np.int64)
    majority[pair_group[leaders]] = leaders
    suspect_rows = np.sort(rows[involved & (pair != majority[group])])
    cells = {attr: violating_rows for attr in keys + [target]}
    examples = []
    for g in np.flatnonzero(bad_group)[:max_examples]:
        members = np.flatnonzero(pair_group == g)
        first_row = int(rows[pair_first[members[0]]])
        key_text = ", ".join(f"{k}={_short(columns.value(k, first_row))}" for k in keys)
        seen = ", ".join(f"{_short(columns.value(target, int(rows[pair_first[m]])))} x{pair_count[m]}"
                         for m in members[np.argsort(-pair_count[members], kind="stable")])
        shown = ", ".join(str(int(r)) for r in np.sort(rows[group == g])[:5])
        examples.append(f"{key_text} has {target} in {{{seen}}} (rows {shown})")
    return ConstraintResult(dc, violations, violating_rows, cells, {target: suspect_rows}, examples)


def _factorize_first(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``values`` (in order of first appearance) and the position where each code first appears."""
    codes, uniques = pd.factorize(values)
    first = np.full(len(uniques), len(values), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(values), dtype=np.int64))
    return codes, first


_ORDERING = ("LT", "GT", "LTE", "GTE")


def _check_inequalities(columns: _Columns, dc: DenialConstraint, left_rows: np.ndarray, right_rows: np.ndarray,
                        predicates: list[Predicate], max_examples: int) -> ConstraintResult:
    """One or two order predicates between t1 and t2 and no equality: a 2-D dominance count.

    Each predicate becomes a total order over the t1 and t2 values (ties broken so that "t1 before t2"
    means the predicate holds); a pair violates when t1 comes first in both orders. Pairs are counted per
    row with a level-by-level divide and conquer on the first order (sort + searchsorted per level), in
    O(n log^2 n) without building pairs; the row itself is never its own partner."""
    left_ok = np.ones(len(left_rows), dtype=bool)
    right_ok = np.ones(len(right_rows), dtype=bool)
    for pred in predicates:
        left_ok &= pd.notna(columns.ordered(pred.left.attr).to_numpy()[left_rows])
        right_ok &= pd.notna(columns.ordered(pred.right.attr).to_numpy()[right_rows])
    left_rows, right_rows = left_rows[left_ok], right_rows[right_ok]
    n_left, n_right = len(left_rows), len(right_rows)
    empty = ConstraintResult(dc, 0, np.array([], dtype=np.int64))
    if not n_left or not n_right:
        return empty
    positions = [_order_positions(columns.ordered(p.left.attr).to_numpy()[left_rows],
                                  columns.ordered(p.right.attr).to_numpy()[right_rows], p.op) for p in predicates]
    if len(positions) == 1:  # a second order in which every t1 comes before every t2
        positions.append((np.zeros(n_left, dtype=np.int64), np.ones(n_right, dtype=np.int64)))
    (l1, r1), (l2, r2) = positions
    count_left, count_right = _dominance_counts(l1, l2, r1, r2)
    # A row is never paired with itself: take its own pair out where it would count.
    own = np.full(columns.n, -1, dtype=np.int64)  # row -> its index among the t2 rows
    own[right_rows] = np.arange(n_right)
    shared = np.flatnonzero(own[left_rows] >= 0)
    if len(shared):
        partner = own[left_rows[shared]]
        self_pair = (l1[shared] < r1[partner]) & (l2[shared] < r2[partner])
        count_left[shared[self_pair]] -= 1
        count_right[partner[self_pair]] -= 1
    violations = int(count_left.sum())
    if not violations:
        return empty
    as_t1, as_t2 = np.sort(left_rows[count_left > 0]), np.sort(right_rows[count_right > 0])
    cells: dict[str, np.ndarray] = {}
    for attr in dc.attributes("t1"):
        cells[attr] = as_t1
    for attr in dc.attributes("t2"):
        cells[attr] = _union_rows(cells[attr], as_t2, columns.n) if attr in cells else as_t2
    attrs = list(dict.fromkeys(dc.attributes("t1") + dc.attributes("t2")))
    examples = []
    for i in np.flatnonzero(count_left > 0)[:max_examples]:
        match = (r1 > l1[i]) & (r2 > l2[i]) & (right_rows != left_rows[i])
        a, b = int(left_rows[i]), int(right_rows[np.flatnonzero(match)[0]])
        examples.append(f"rows {a} & {b}: " + "; ".join(
            f"{attr} {_short(columns.value(attr, a))} vs {_short(columns.value(attr, b))}" for attr in attrs))
    return ConstraintResult(dc, violations, _union_rows(as_t1, as_t2, columns.n), cells, dict(cells), examples)


def _union_rows(first: np.ndarray, second: np.ndarray, n: int) -> np.ndarray:
    """Sorted union of two sets of row positions in 0..n-1 (a mask: no hashing, no sort)."""
    mask = np.zeros(n, dtype=bool)
    mask[first] = True
    mask[second] = True
    return np.flatnonzero(mask)


def _order_positions(left: np.ndarray, right: np.ndarray, op: str) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the t1 and t2 values in one total order such that ``left_pos < right_pos`` exactly when
    ``left op right`` holds (ties: t2 first for a strict operator, t1 first otherwise)."""
    ranks = pd.factorize(np.concatenate([left, right]), sort=True)[0].astype(np.int64)
    if op in ("GT", "GTE"):
        ranks = -ranks
    is_right = np.r_[np.zeros(len(left), dtype=np.int64), np.ones(len(right), dtype=np.int64)]
    tie = 1 - is_right if op in ("LT", "GT") else is_right
    order = np.lexsort((tie, ranks))
    position = np.empty(len(ranks), dtype=np.int64)
    position[order] = np.arange(len(ranks))
    return position[: len(left)], position[len(left):]


def _dominance_counts(l1: np.ndarray, l2: np.ndarray, r1: np.ndarray,
                      r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each left point, how many right points lie after it in both orders; and for each right point,
    how many left points lie before it. Order-1 positions are distinct across both sets.

    Bottom-up merge sort on order 2 over blocks of order 1: at each level the two sorted halves of a block
    are merged (a stable sort of sorted runs, which timsort does in linear time) and every right point of
    the upper half counts the lower-half left points before it; cumulative sums do the counting."""
    size = len(l1) + len(r1)
    pos1 = np.concatenate([l1, r1])
    pos2 = np.concatenate([l2, r2]).astype(np.int64)
    is_left = np.r_[np.ones(len(l1), dtype=bool), np.zeros(len(r1), dtype=bool)]
    counts = np.zeros(size, dtype=np.int64)
    scale = np.int64(size + 1)
    order = np.argsort(pos1, kind="stable")
    level = 0
    while (1 << level) < size:
        block = pos1 >> (level + 1)
        low = ((pos1 >> level) & 1) == 0
        key = block[order] * scale + pos2[order]
        order = order[np.argsort(key, kind="stable")]  # merges the two sorted halves of every block
        sorted_block = block[order]
        starts = np.flatnonzero(np.r_[True, sorted_block[1:] != sorted_block[:-1]])
        lengths = np.diff(np.r_[starts, size])
        block_start = np.repeat(starts, lengths)
        block_end = np.repeat(np.r_[starts[1:], size], lengths)
        left_low = (is_left & low)[order]
        right_high = (~is_left & ~low)[order]
        before = np.r_[0, np.cumsum(left_low)]  # before[t]: left-low points at sorted indices < t
        after = np.r_[0, np.cumsum(right_high)]  # after[t]: right-high points at sorted indices < t
        index = np.arange(size)
        gained = np.where(right_high, before[index] - before[block_start], 0)
        gained += np.where(left_low, after[block_end] - after[index + 1], 0)
        counts[order] += gained
        level += 1
    return counts[: len(l1)], counts[len(l1):]


def _check_pairs(columns: _Columns, dc: DenialConstraint, left_rows: np.ndarray, right_rows: np.ndarray,
                 keys: list[Predicate], residual: list[Predicate], max_examples: int) -> ConstraintResult:
    """General case: hash-join on the EQ keys (in chunks bounded by PAIR_BUDGET), then filter pairs."""
    if keys:
        left = pd.DataFrame({f"k{i}": _join_key(columns, k.left.attr, k.right.attr)[left_rows]
                             for i, k in enumerate(keys)})
        right = pd.DataFrame({f"k{i}": _join_key(columns, k.right.attr, k.left.attr)[right_rows]
                              for i, k in enumerate(keys)})
        left["r1"], right["r2"] = left_rows, right_rows
        left, right = left.dropna(), right.dropna()
        key_cols = [f"k{i}" for i in range(len(keys))]
        sizes = right.groupby(key_cols, sort=False).size().rename("m")
        per_left = left.join(sizes, on=key_cols)["m"].fillna(0).to_numpy()
        total = int(per_left.sum())
        if total > MAX_CROSS_PAIRS:
            raise ConfigError(f"constraint on line {dc.line} ({dc.text}): its equality predicates pair up "
                              f"{total:,} row pairs; add a more selective EQ predicate")
        chunks = _chunks(per_left, PAIR_BUDGET)
        pair_frames = [left.iloc[a:b].merge(right, on=key_cols, how="inner")[["r1", "r2"]] for a, b in chunks]
    else:
        total = len(left_rows) * len(right_rows)
        if total > MAX_CROSS_PAIRS:
            raise ConfigError(f"constraint on line {dc.line} ({dc.text}) has no EQ predicate between t1 and t2: "
                              f"checking it needs {total:,} row pairs; add an equality predicate")
        step = max(1, PAIR_BUDGET // max(1, len(right_rows)))
        pair_frames = [pd.DataFrame({"r1": np.repeat(left_rows[a:a + step], len(right_rows)),
                                     "r2": np.tile(right_rows, len(left_rows[a:a + step]))})
                       for a in range(0, len(left_rows), step)]
    found = []
    for pairs in pair_frames:
        pairs = pairs[pairs["r1"].to_numpy() != pairs["r2"].to_numpy()]
        mask = np.ones(len(pairs), dtype=bool)
        for pred in residual:
            if not mask.any():
                break
            if pred.op in ("EQ", "IQ") and pred.left.attr == pred.right.attr:
                codes = columns.codes(pred.left.attr)
                lc, rc = codes[pairs["r1"].to_numpy()], codes[pairs["r2"].to_numpy()]
                mask &= (lc >= 0) & (rc >= 0) & ((lc == rc) if pred.op == "EQ" else (lc != rc))
                continue
            lv = _values(columns, pred.op, pred.left.attr).to_numpy()[pairs["r1"].to_numpy()]
            rv = _values(columns, pred.op, pred.right.attr).to_numpy()[pairs["r2"].to_numpy()]
            mask &= _compare(pred.op, pd.Series(lv, dtype=object), pd.Series(rv, dtype=object))
        found.append(pairs[mask])
    pairs = pd.concat(found, ignore_index=True) if found else pd.DataFrame({"r1": [], "r2": []})
    r1 = pairs["r1"].to_numpy(dtype=np.int64)
    r2 = pairs["r2"].to_numpy(dtype=np.int64)
    rows = np.union1d(r1, r2)
    cells: dict[str, np.ndarray] = {}
    for attr in dc.attributes("t1"):
        cells[attr] = np.union1d(cells.get(attr, np.array([], dtype=np.int64)), r1)
    for attr in dc.attributes("t2"):
        cells[attr] = np.union1d(cells.get(attr, np.array([], dtype=np.int64)), r2)
    attrs = list(dict.fromkeys(dc.attributes("t1") + dc.attributes("t2")))
    examples = [f"rows {a} & {b}: " + "; ".join(
        f"{attr} {_short(columns.text(attr).iat[a])} vs {_short(columns.text(attr).iat[b])}" for attr in attrs)
        for a, b in zip(r1[:max_examples], r2[:max_examples], strict=True)]
    return ConstraintResult(dc, len(pairs), rows, cells, dict(cells), examples)


def _join_key(columns: _Columns, attr: str, other: str) -> np.ndarray:
    """Join values for ``attr``: its integer codes (NaN for missing) when both sides use the same column,
    else its text, so that equal strings in two columns match."""
    if attr == other:
        codes = columns.codes(attr).astype(float)
        codes[codes < 0] = np.nan
        return codes
    return columns.text(attr).to_numpy()


def _chunks(weights: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Cut positions 0..n into consecutive ranges whose weights sum to about ``budget`` at most."""
    if len(weights) == 0:
        return []
    cumulative = np.cumsum(weights)
    bounds, start = [], 0
    while start < len(weights):
        base = cumulative[start - 1] if start else 0
        end = int(np.searchsorted(cumulative, base + budget, side="right"))
        end = max(end, start + 1)
        bounds.append((start, end))
        start = end
    return bounds


def _row_example(columns: _Columns, row: int, attrs: list[str]) -> str:
    return f"row {row}: " + ", ".join(f"{a}={_short(columns.text(a).iat[row])}" for a in attrs)


def _short(value: object, limit: int = 40) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
