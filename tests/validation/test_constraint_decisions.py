"""Denial constraints at their decision boundaries: every operator in every evaluation path against a
brute-force pairwise reference (violations, rows, cells, suspects), the parser's operator and operand
handling, and the errors a user sees (what, where, the fix)."""

import itertools
import re

import numpy as np
import pandas as pd
import pytest

from labelgate.errors import ConfigError, DataError
from labelgate.validation import constraints as dcmod
from labelgate.validation.constraints import check_constraints, load_constraints, parse_constraints

OPS = ["EQ", "IQ", "LT", "GT", "LTE", "GTE"]
PY_OPS = {"EQ": lambda a, b: a == b, "IQ": lambda a, b: a != b, "LT": lambda a, b: a < b,
          "GT": lambda a, b: a > b, "LTE": lambda a, b: a <= b, "GTE": lambda a, b: a >= b}


def _reference(frame, dc):
    """Brute force over every ordered pair of distinct rows (every row for a one-tuple constraint): the
    violating pairs, the rows involved and, per attribute, the rows whose value of it takes part."""
    records = frame.to_dict("records")
    numeric = {c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}

    def value(operand, other, t1, t2):
        if operand.constant is not None:
            return float(operand.constant) if other.attr in numeric else operand.constant
        return (t1 if operand.tuple == "t1" else t2)[operand.attr]

    def holds(t1, t2):
        for p in dc.predicates:
            a, b = value(p.left, p.right, t1, t2), value(p.right, p.left, t1, t2)
            if pd.isna(a) or pd.isna(b) or not PY_OPS[p.op](a, b):
                return False
        return True

    if dc.tuples == ("t1",):
        rows = [i for i, r in enumerate(records) if holds(r, None)]
        return rows, rows, {a: rows for a in dc.attributes("t1")}
    pairs = [(i, j) for i, j in itertools.permutations(range(len(records)), 2) if holds(records[i], records[j])]
    cells = {}
    for attr in dc.attributes("t1"):
        cells.setdefault(attr, set()).update(i for i, _ in pairs)
    for attr in dc.attributes("t2"):
        cells.setdefault(attr, set()).update(j for _, j in pairs)
    rows = sorted({r for pair in pairs for r in pair})
    return pairs, rows, {a: sorted(v) for a, v in cells.items()}


def _frame(seed=3, n=22):
    rng = np.random.default_rng(seed)
    n_values = rng.integers(0, 4, n).astype(float)
    n_values[rng.random(n) < 0.15] = np.nan
    return pd.DataFrame({
        "k": rng.choice(["a", "b", "c", None], n, p=[0.35, 0.3, 0.25, 0.1]),
        "w": rng.choice(["a", "b"], n),
        "v": rng.choice(["x", "y", "z", None], n, p=[0.4, 0.3, 0.2, 0.1]),
        "n": n_values,
        "m": rng.integers(0, 4, n).astype(float),
    })


FORMS = {
    # no equality between t1 and t2: dominance counting (one or two order predicates, either orientation)
    "order-one": "t1&t2&{op}(t1.n,t2.m)",
    "order-one-t2-first": "t1&t2&{op}(t2.n,t1.m)",
    "order-two": "t1&t2&{op}(t1.n,t2.m)&LTE(t1.m,t2.n)",
    "order-two-t2-first": "t1&t2&GT(t2.m,t1.n)&{op}(t2.n,t1.m)",
    "order-same-attr": "t1&t2&{op}(t1.m,t2.m)&GTE(t1.n,t2.n)",
    "order-text": "t1&t2&{op}(t1.v,t2.v)&LT(t1.k,t2.k)",
    # an equality join, then the residual predicate
    "join": "t1&t2&EQ(t1.k,t2.k)&{op}(t1.n,t2.m)",
    "join-t2-first": "t1&t2&EQ(t2.k,t1.k)&{op}(t2.n,t1.m)",
    "join-text": "t1&t2&EQ(t1.w,t2.w)&{op}(t1.v,t2.v)",
    "join-across": "t1&t2&EQ(t1.k,t2.w)&{op}(t1.v,t2.v)",
    # a filter on one tuple, against a constant on either side or another attribute of the same tuple
    "filter-constant": 't1&t2&EQ(t1.k,t2.k)&{op}(t1.n,"2")&IQ(t1.v,t2.v)',
    "filter-constant-left": 't1&t2&EQ(t1.k,t2.k)&{op}("2",t2.m)&IQ(t1.v,t2.v)',
    "filter-text-constant": 't1&t2&EQ(t1.w,t2.w)&{op}(t1.v,"y")&LT(t1.n,t2.n)',
    "filter-attributes": "t1&t2&EQ(t1.w,t2.w)&{op}(t2.n,t2.m)&IQ(t1.k,t2.k)",
    # no equality and a predicate that is not an order: blocks of all pairs
    "blocks": "t1&t2&{op}(t1.v,t2.v)&IQ(t1.k,t2.k)",
    "blocks-three": "t1&t2&{op}(t1.n,t2.n)&LT(t1.m,t2.m)&GTE(t1.n,t2.m)",
    # one tuple
    "single-constant": 't1&{op}(t1.n,"2")',
    "single-constant-left": 't1&{op}("2",t1.m)',
    "single-text": 't1&{op}(t1.v,"y")',
    "single-attributes": "t1&{op}(t1.n,t1.m)&IQ(t1.k,\"c\")",
}


# the shapes that come out as a functional dependency (equality keys plus one IQ on one attribute)
DEPENDENCIES = {("join-text", "IQ"), ("blocks", "EQ")}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("form", list(FORMS))
def test_each_operator_in_each_shape_matches_brute_force(form, op, monkeypatch):
    monkeypatch.setattr(dcmod, "PAIR_BUDGET", 100)  # several merge chunks and pair blocks
    frame = _frame()
    (dc,) = parse_constraints(FORMS[form].format(op=op))
    pairs, rows, cells = _reference(frame, dc)
    (result,) = check_constraints(frame, [dc], max_examples=3)
    assert result.constraint is dc
    assert result.violations == len(pairs)
    assert result.rows.dtype.kind == "i" and result.rows.tolist() == rows  # positions, usable as an index
    assert {a: c.tolist() for a, c in result.cells.items()} == cells
    assert all(c.dtype.kind == "i" for c in [*result.cells.values(), *result.suspects.values()])
    assert result.cell_count == sum(len(c) for c in cells.values())
    if (form, op) in DEPENDENCIES:  # keys -> target: one example per key group, suspects narrower (below)
        return
    assert len(result.examples) == min(3, len(rows) if dc.tuples == ("t1",) else len(pairs))
    for example in result.examples:  # each example shows a real violation
        if dc.tuples == ("t1",):
            assert int(re.match(r"row (\d+): ", example).group(1)) in rows
        else:
            a, b = re.match(r"rows (\d+) & (\d+): ", example).groups()
            assert (int(a), int(b)) in pairs
            for attr in dict.fromkeys(dc.attributes("t1") + dc.attributes("t2")):
                assert f"; {attr} " in f"; {example.split(': ', 1)[1]}"
    assert {a: s.tolist() for a, s in result.suspects.items()} == cells


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("line", [
    "t1&t2&EQ(t1.k,t2.k)&IQ(t1.v,t2.v)",
    "t1&t2&EQ(t1.k,t2.k)&EQ(t1.w,t2.w)&IQ(t1.v,t2.v)",
    "t1&t2&EQ(t2.k,t1.k)&IQ(t2.v,t1.v)",
    "t1&t2&EQ(t1.w,t2.w)&IQ(t1.m,t2.m)",
])
def test_functional_dependencies_match_brute_force_and_suspect_the_minority(line, seed):
    frame = _frame(seed=seed, n=30)
    (dc,) = parse_constraints(line)
    pairs, rows, cells = _reference(frame, dc)
    (result,) = check_constraints(frame, [dc])
    assert result.violations == len(pairs)
    assert result.rows.tolist() == rows
    assert {a: c.tolist() for a, c in result.cells.items()} == cells
    target = dc.predicates[-1].left.attr
    assert list(result.suspects) == [target]
    # reference: within each key group, the most common target value (first seen wins a tie) is kept
    keys = [p.left.attr for p in dc.predicates[:-1]]
    known = frame.dropna(subset=keys + [target])
    suspects = []
    for _, group in known.groupby(keys, sort=False):
        if group[target].nunique() > 1:
            counts = group[target].value_counts(sort=False)
            keep = max(counts.index, key=lambda v: (counts[v], -list(group[target]).index(v)))
            suspects += group.index[group[target] != keep].tolist()
    assert result.suspects[target].tolist() == sorted(suspects)


def test_a_dependency_tie_keeps_the_value_seen_first():
    frame = pd.DataFrame({"zip": ["1", "1", "2", "2", "2"], "city": ["rome", "oslo", "x", "y", "y"]})
    (result,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.city,t2.city)"))
    assert result.violations == 2 + 4
    assert result.suspects["city"].tolist() == [1, 2]
    assert result.examples == ["zip='1' has city in {'rome' x1, 'oslo' x1} (rows 0, 1)",
                               "zip='2' has city in {'y' x2, 'x' x1} (rows 2, 3, 4)"]


def test_a_dependency_ignores_missing_keys_and_targets_and_unshared_keys():
    frame = pd.DataFrame({"zip": ["1", "1", None, None, "2", "3", "3"],
                          "city": ["a", None, "b", "c", "d", "e", "e"]})
    (dc,) = parse_constraints("t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.city,t2.city)")
    (result,) = check_constraints(frame, [dc])
    assert (result.violations, result.rows.tolist(), result.examples) == (0, [], [])
    assert result.rows.dtype.kind == "i" and result.constraint is dc
    frame.loc[6, "city"] = "f"
    (result,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.city,t2.city)"))
    assert (result.violations, result.rows.tolist()) == (2, [5, 6])
    assert result.suspects == {"city": pytest.approx(np.array([6]))}


def test_dependency_examples_are_capped_and_list_at_most_five_rows():
    frame = pd.DataFrame({"k": ["a"] * 7 + ["b", "b", "c", "c"], "v": list("xyyyyyy") + ["p", "q", "r", "s"]})
    (result,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.k,t2.k)&IQ(t1.v,t2.v)"), max_examples=2)
    assert result.examples == ["k='a' has v in {'y' x6, 'x' x1} (rows 0, 1, 2, 3, 4)",
                               "k='b' has v in {'p' x1, 'q' x1} (rows 7, 8)"]
    assert result.violations == 12 + 2 + 2
    assert result.suspects["v"].tolist() == [0, 8, 10]


def test_dependency_examples_list_tied_values_in_the_order_first_seen():
    values = [f"v{i}" for i in range(19)]
    frame = pd.DataFrame({"k": ["a"] * 20, "v": values + ["v9"]})
    (result,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.k,t2.k)&IQ(t1.v,t2.v)"))
    listed = ", ".join(["'v9' x2"] + [f"'{v}' x1" for v in values if v != "v9"])
    assert result.examples == [f"k='a' has v in {{{listed}}} (rows 0, 1, 2, 3, 4)"]


def test_dependency_with_two_keys_groups_on_both():
    frame = pd.DataFrame({"a": ["1", "1", "1", "2"], "b": ["x", "x", "y", "x"], "c": ["p", "q", "r", "s"]})
    (result,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.a,t2.a)&EQ(t1.b,t2.b)&IQ(t1.c,t2.c)"))
    assert (result.violations, result.rows.tolist()) == (2, [0, 1])
    assert result.examples == ["a='1', b='x' has c in {'p' x1, 'q' x1} (rows 0, 1)"]


def test_single_tuple_examples_show_each_attribute_as_text():
    frame = pd.DataFrame({"state": ["al", "al", "ak", "al"], "score": [50.0, 150.0, 150.0, 101.5]})
    (result,) = check_constraints(frame, parse_constraints('t1&EQ(t1.state,"al")&GT(t1.score,100)'),
                                  max_examples=1)
    assert result.rows.tolist() == [1, 3] and result.violations == 2
    assert result.examples == ["row 1: state='al', score='150'"]
    assert {a: c.tolist() for a, c in result.suspects.items()} == {"state": [1, 3], "score": [1, 3]}


def test_order_examples_name_both_rows_and_the_raw_values():
    frame = pd.DataFrame({"salary": [10.0, 20.0, 30.0], "tax": [5.0, 1.0, 9.0]})
    (result,) = check_constraints(frame, parse_constraints("t1&t2&GT(t1.salary,t2.salary)&LT(t1.tax,t2.tax)"))
    assert result.violations == 1
    assert result.examples == ["rows 1 & 0: salary '20.0' vs '10.0'; tax '1.0' vs '5.0'"]
    assert {a: c.tolist() for a, c in result.cells.items()} == {"salary": [0, 1], "tax": [0, 1]}


def test_order_examples_are_capped_and_never_pair_a_row_with_itself():
    frame = pd.DataFrame({"n": [1.0, 1.0, 2.0, 3.0]})
    (result,) = check_constraints(frame, parse_constraints("t1&t2&LTE(t1.n,t2.n)"), max_examples=2)
    assert result.violations == 3 + 3 + 1 + 0  # ties pair both ways, never a row with itself
    assert result.examples == ["rows 0 & 1: n '1.0' vs '1.0'", "rows 1 & 0: n '1.0' vs '1.0'"]


@pytest.mark.parametrize("line", ["t1&t2&LTE(t1.a,t2.b)", "t1&t2&GTE(t2.b,t1.a)", "t1&t2&LTE(t1.a,t2.b)&GTE(t2.c,t1.c)"])
def test_a_row_that_pairs_only_with_itself_is_not_a_violation(line):
    """Row 0 satisfies a <= b with itself alone; row 1 with itself and row 0: neither self-pair counts."""
    frame = pd.DataFrame({"a": [0.0, 1.0, 5.0, 5.0], "b": [0.0, 1.0, 9.0, 9.0], "c": [1.0, 1.0, 1.0, 1.0]})
    (dc,) = parse_constraints(line)
    pairs, rows, cells = _reference(frame, dc)
    (result,) = check_constraints(frame, [dc])
    assert result.violations == len(pairs)
    assert {a: c.tolist() for a, c in result.cells.items()} == cells
    assert cells["b"] == [1, 2, 3]


def test_order_constraints_without_violations_report_nothing():
    frame = pd.DataFrame({"n": [2.0, 2.0, np.nan], "m": [np.nan, np.nan, 1.0]})
    for line in ("t1&t2&LT(t1.n,t2.n)", "t1&t2&LT(t1.n,t2.m)&GT(t1.n,t2.n)", "t1&t2&LT(t1.m,t2.n)&GT(t1.m,t2.m)"):
        (dc,) = parse_constraints(line)
        (result,) = check_constraints(frame, [dc])
        assert result.constraint is dc
        assert (result.violations, result.rows.tolist(), result.cells, result.examples) == (0, [], {}, [])
        assert result.rows.dtype.kind == "i"


def test_a_constraint_with_no_rows_to_check_reports_nothing():
    frame = pd.DataFrame({"k": ["a", "a", None], "n": [1.0, 2.0, 3.0], "w": ["x", "x", "y"]})
    for line in ('t1&t2&EQ(t1.k,t2.k)&LT(t1.n,t2.n)&EQ(t1.w,"none")',  # the filter leaves no t1 row
                 't1&t2&IQ(t1.k,t2.k)&LT(t1.n,t2.n)&EQ(t2.w,"none")',  # no t2 row, no join
                 't1&t2&EQ(t1.k,t2.k)&IQ(t1.n,t2.n)&EQ(t1.w,"y")'):  # the only t1 row has no key
        (dc,) = parse_constraints(line)
        (result,) = check_constraints(frame, [dc])
        assert (result.violations, result.rows.tolist(), result.examples) == (0, [], []), line
        assert result.rows.dtype.kind == "i" and all(c.dtype.kind == "i" for c in result.cells.values())


def test_an_example_shows_a_missing_text_value_as_empty():
    frame = pd.DataFrame({"k": ["a", "a"], "n": [1.0, 2.0], "v": [None, "y"]})
    (result,) = check_constraints(frame, parse_constraints('t1&t2&EQ(t1.k,t2.k)&LT(t1.n,t2.n)&IQ(t2.v,"x")'))
    assert result.examples == ["rows 0 & 1: k 'a' vs 'a'; n '1' vs '2'; v '' vs 'y'"]


def test_pair_examples_show_text_values_for_both_rows():
    frame = pd.DataFrame({"k": ["a", "a", "b"], "v": ["x", "y", "z"], "n": [1.0, 2.0, 3.0]})
    (result,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.k,t2.k)&LT(t1.n,t2.n)&IQ(t1.v,t2.v)"))
    assert result.violations == 1
    assert result.examples == ["rows 0 & 1: k 'a' vs 'a'; n '1' vs '2'; v 'x' vs 'y'"]


def test_long_and_multiline_values_are_shortened_in_examples():
    frame = pd.DataFrame({"t": ["a" * 40, "b" * 41, "line\nbreak"]})
    (result,) = check_constraints(frame, parse_constraints('t1&IQ(t1.t,"")'))
    assert result.examples == [f"row 0: t='{'a' * 40}'", f"row 1: t='{'b' * 37}...'", "row 2: t='line break'"]


def test_a_column_of_numbers_written_as_text_is_ordered_as_numbers():
    frame = pd.DataFrame({"n": ["9", "10", "100"], "s": ["9", "10", "x"]})
    (numbers,) = check_constraints(frame, parse_constraints("t1&t2&LT(t1.n,t2.n)"))
    assert numbers.violations == 3  # 9 < 10 < 100
    (text,) = check_constraints(frame, parse_constraints("t1&t2&LT(t1.s,t2.s)"))
    assert text.violations == 3 and text.examples[0] == "rows 0 & 2: s '9' vs 'x'"  # '10' < '9' < 'x'
    (one,) = check_constraints(frame, parse_constraints('t1&GT(t1.n,"50")'))
    assert one.rows.tolist() == [2]  # 100 > 50 as numbers ("100" < "50" as text)


def test_numbers_against_a_text_column_compare_as_text():
    frame = pd.DataFrame({"k": ["a", "a"], "n": [10.0, 2.0], "s": ["1", "x"]})
    (result,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.k,t2.k)&LT(t1.n,t2.s)"))
    assert result.violations == 1  # '10.0' < 'x' as text; '2.0' < '1' is false
    assert result.examples == ["rows 0 & 1: k 'a' vs 'a'; n '10' vs '2'; s '1' vs 'x'"]
    (constant,) = check_constraints(frame, parse_constraints('t1&LT(t1.n,"1x")'))
    assert constant.rows.tolist() == [0]  # a constant that is not a number compares as text: "10.0" < "1x"


def test_equality_across_columns_and_with_constants_compares_text():
    frame = pd.DataFrame({"i": pd.array([1, 2, None], dtype="Int64"), "f": [1.0, 2.5, 3.0],
                          "s": ["2.5", "1", "x"], "k": ["a", "a", "a"]})
    (cross,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.f,t2.s)"))
    assert sorted(cross.examples) == ["rows 0 & 1: f '1' vs '2.5'; s '2.5' vs '1'",
                                      "rows 1 & 0: f '2.5' vs '1'; s '1' vs '2.5'"]  # 1.0 == "1", 2.5 == "2.5"
    (cross,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.k,t2.k)&IQ(t1.f,t2.s)"))
    assert cross.violations == 6 - 2  # every ordered pair but the two equal ones
    (cross,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.i,t2.s)"))
    assert sorted(cross.examples) == ["rows 0 & 1: i '1' vs '2'; s '2.5' vs '1'"]
    (same,) = check_constraints(frame, parse_constraints("t1&EQ(t1.i,t1.s)"))
    assert same.rows.tolist() == []  # 1 vs "2.5", 2 vs "1", missing vs "x"
    (same,) = check_constraints(frame, parse_constraints("t1&IQ(t1.f,t1.s)&IQ(t1.i,t1.s)"))
    assert same.rows.tolist() == [0, 1]  # a missing Int64 is neither equal nor different
    (constant,) = check_constraints(frame, parse_constraints('t1&EQ(t1.f,"1")'))
    assert constant.rows.tolist() == [0]
    (constant,) = check_constraints(frame, parse_constraints('t1&EQ(t1.f,"2.5")'))
    assert constant.rows.tolist() == [1]
    (constant,) = check_constraints(frame, parse_constraints('t1&IQ(t1.i,"1")'))
    assert constant.rows.tolist() == [1]  # the missing value is not "different", it is unknown


@pytest.mark.parametrize("line", [
    "t1&t2&EQ(t1.k,t2.k)&IQ(t1.o,t2.o)",  # functional dependency
    "t1&t2&EQ(t1.k,t2.k)&IQ(t1.o,t2.o)&IQ(t2.w,t2.o)",  # the same, through the general pair path
    "t1&t2&LT(t1.n,t2.n)&IQ(t1.o,t2.o)",  # pairs without a join
    "t1&t2&EQ(t1.o,t2.o)&LT(t1.n,t2.m)",  # join on the column
])
def test_within_one_column_equality_is_on_the_values_not_their_text(line):
    """1 and "1" in one column are different values (as a hash join sees them), in every path alike."""
    rng = np.random.default_rng(5)
    frame = _frame(seed=5, n=20)
    frame["o"] = pd.Series([[1, "1", 2, "2", None][i] for i in rng.integers(0, 5, 20)], dtype=object)
    (dc,) = parse_constraints(line)
    pairs, rows, cells = _reference(frame, dc)
    (result,) = check_constraints(frame, [dc])
    assert result.violations == len(pairs) > 0
    assert result.rows.tolist() == rows


def test_missing_values_never_satisfy_a_predicate():
    frame = pd.DataFrame({"a": ["x", None, "x", None], "n": [1.0, np.nan, 2.0, np.nan]})
    for op in OPS:
        (one,) = check_constraints(frame, parse_constraints(f't1&{op}(t1.a,"x")'))
        assert 1 not in one.rows.tolist() and 3 not in one.rows.tolist()
        (pair,) = check_constraints(frame, parse_constraints(f"t1&t2&{op}(t1.n,t2.n)"))
        assert not {1, 3} & set(pair.rows.tolist()), op
    (all_missing,) = check_constraints(frame.iloc[[1, 3]], parse_constraints("t1&t2&IQ(t1.a,t2.a)&LT(t1.n,t2.n)"))
    assert (all_missing.violations, all_missing.examples) == (0, [])
    assert all_missing.rows.dtype.kind == "i"


def test_equality_joins_on_codes_treat_missing_keys_as_no_match():
    frame = pd.DataFrame({"k": [None, None, "a", "a"], "v": ["x", "y", "x", "y"]})
    (result,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.k,t2.k)&IQ(t1.v,t2.v)&EQ(t1.v,\"x\")"))
    assert (result.violations, result.rows.tolist()) == (1, [2, 3])


# --- the parser ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "op", "constant"), [
    ('LT("3",t1.n)', "GT", "3"), ('GT("3",t1.n)', "LT", "3"), ('LTE("3",t1.n)', "GTE", "3"),
    ('GTE("3",t1.n)', "LTE", "3"), ('EQ("3",t1.n)', "EQ", "3"), ("IQ(3,t1.n)", "IQ", "3"),
])
def test_a_constant_on_the_left_is_moved_right_with_the_operator_mirrored(written, op, constant):
    (dc,) = parse_constraints(f"t1&{written}")
    (pred,) = dc.predicates
    assert (pred.op, pred.left.tuple, pred.left.attr, pred.right.constant) == (op, "t1", "n", constant)
    assert str(pred) == f"{op}(t1.n,{constant!r})"
    assert not pred.is_join


@pytest.mark.parametrize(("op", "mirrored"), [("LT", "GT"), ("GT", "LT"), ("LTE", "GTE"), ("GTE", "LTE"),
                                              ("EQ", "EQ"), ("IQ", "IQ")])
def test_a_t2_first_predicate_means_the_same_as_its_mirror(op, mirrored):
    frame = _frame(seed=11)
    (written,) = check_constraints(frame, parse_constraints(f"t1&t2&EQ(t1.w,t2.w)&{op}(t2.n,t1.m)"))
    (mirror,) = check_constraints(frame, parse_constraints(f"t1&t2&EQ(t1.w,t2.w)&{mirrored}(t1.m,t2.n)"))
    assert written.violations == mirror.violations > 0
    assert written.rows.tolist() == mirror.rows.tolist()


def test_operands_quotes_spaces_and_parentheses():
    (dc,) = parse_constraints(
        "  t1 & t2 & EQ( t1.f(a,b) , t2.f(a,b) ) & IQ(t1.x&y,t2.x&y) & EQ(t1.c,\"a&b, (c)\") & EQ(t2.c,'q,\"r')"
        " & EQ(t1.e,\"\") & GT(t1.n,-1.5) & IQ(t1.c,\")  ")
    left = [(p.op, str(p.left), p.right.constant if p.right.constant is not None else str(p.right))
            for p in dc.predicates]
    assert left == [("EQ", "t1.f(a,b)", "t2.f(a,b)"), ("IQ", "t1.x&y", "t2.x&y"), ("EQ", "t1.c", "a&b, (c)"),
                    ("EQ", "t2.c", 'q,"r'), ("EQ", "t1.e", ""), ("GT", "t1.n", "-1.5"), ("IQ", "t1.c", '"')]
    assert dc.text.startswith("t1 & t2") and dc.text.endswith('IQ(t1.c,")')
    assert [p.is_join for p in dc.predicates] == [True, True, False, False, False, False, False]
    assert dc.attributes("t1") == ["f(a,b)", "x&y", "c", "e", "n"] and dc.attributes("t2") == ["f(a,b)", "x&y", "c"]


def test_only_quote_marks_quote():
    (dc,) = parse_constraints("t1&EQ(t1.Xa,XbX)&IQ(t1.c,'X')")
    assert [(str(p.left), p.right.constant) for p in dc.predicates] == [("t1.Xa", "XbX"), ("t1.c", "X")]


def test_at_most_five_examples_by_default():
    frame = pd.DataFrame({"n": [float(i) for i in range(8)]})
    (result,) = check_constraints(frame, parse_constraints('t1&GT(t1.n,"-1")'))
    assert result.violations == 8 and len(result.examples) == 5


def test_a_predicate_within_one_tuple_is_not_a_join():
    (dc,) = parse_constraints("t1&t2&LT(t1.a,t1.b)&LT(t2.a,t1.a)")
    assert [p.is_join for p in dc.predicates] == [False, True]


def test_severity_directives_are_case_blind_and_survive_blank_lines_and_comments():
    dcs = parse_constraints("# Severity:  WARNING \n\n# why: ...\nt1&IQ(t1.a,\"x\")\n"
                            "#severity: critical\nt1&IQ(t1.b,\"x\")\nt1&IQ(t1.c,\"x\")\n# severity: loud\n"
                            "t1&IQ(t1.d,\"x\")\n")
    assert [(d.line, d.severity) for d in dcs] == [(4, "warning"), (6, "critical"), (7, None), (9, None)]


@pytest.mark.parametrize(("line", "message"), [
    ("t2&EQ(t1.A,t2.A)", "a constraint starts with 't1&' or 't1&t2&', got 't2&EQ(t1.A,t2.A)'"),
    ("t1&t1&EQ(t1.A,t1.A)", "a constraint starts with 't1&' or 't1&t2&', got"),
    ("t1&t2&t1&EQ(t1.A,t2.A)", "a constraint starts with 't1&' or 't1&t2&', got"),
    ("EQ(t1.A,t2.A)", "a constraint starts with 't1&' or 't1&t2&', got"),
    ("t1&t2", "no predicates after t1&t2"),
    ("t1", "no predicates after t1"),
    ("t1&t2&NE(t1.A,t2.A)", "'NE(t1.A,t2.A)' is not a predicate OP(a,b) with OP one of "
                            "['EQ', 'IQ', 'LT', 'GT', 'LTE', 'GTE']"),
    ("t1&t2&EQ(t1.A,t2.A)x", "is not a predicate OP(a,b)"),
    ("t1&t2&eq(t1.A,t2.A)", "is not a predicate OP(a,b)"),
    ("t1&t2&EQ(t1.A)", "'EQ(t1.A)' needs exactly two operands"),
    ("t1&t2&EQ(t1.A,t2.A,t2.B)", "needs exactly two operands"),
    ("t1&EQ(t1.A,t2.A)", "operand 't2.A' names t2, which the constraint does not declare"),
    ('t1&EQ("a",\'b\')', "compares two constants"),
    ('t1&EQ(1,"b")', "'EQ(1,\"b\")' compares two constants"),
    ("t1&EQ(t1.A,)", "empty operand"),
])
def test_bad_lines_say_which_line_and_what_is_wrong(line, message):
    with pytest.raises(ConfigError) as info:
        parse_constraints("t1&IQ(t1.ok,\"x\")\n\n" + line, "dc.txt")
    assert str(info.value).startswith("dc.txt line 3: ")
    assert message in str(info.value)


def test_the_default_source_is_named_in_errors():
    with pytest.raises(ConfigError, match=r"^<constraints> line 1: "):
        parse_constraints("t2&EQ(t1.A,t2.A)")


def test_load_reads_a_file_and_names_it_in_errors(tmp_path):
    path = tmp_path / "dc.txt"
    path.write_text("t1&t2&EQ(t1.a,t2.a)&IQ(t1.b,t2.b)\nt9\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path} line 2: "):
        load_constraints(path)
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_constraints(str(path)) == []
    path.write_text("t1&EQ(t1.a,\"é\")\n", encoding="utf-8")
    assert load_constraints(path)[0].predicates[0].right.constant == "é"


def test_load_errors_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(ConfigError, match=rf"^constraint file not found: {tmp_path / 'nope.txt'}$"):
        load_constraints(tmp_path / "nope.txt")
    with pytest.raises(ConfigError) as folder:
        load_constraints(tmp_path)
    assert str(folder.value).startswith(f"cannot read the constraint file {str(tmp_path)!r}: ")
    assert str(folder.value).endswith("; give the path of a constraints text file (labelgate init writes one)")
    assert "None" not in str(folder.value)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("t1&EQ(t1.a,\"é\")".encode("latin-1"))
    with pytest.raises(ConfigError, match=rf"^constraint file {latin} is not UTF-8 text$"):
        load_constraints(latin)


def test_a_missing_column_names_the_constraint_the_columns_and_what_exists():
    frame = pd.DataFrame({"a": [1], "b": [2]})
    dcs = parse_constraints("t1&t2&EQ(t1.a,t2.a)&IQ(t1.b,t2.b)\nt1&t2&EQ(t1.zip,t2.zip)&IQ(t1.city,t2.a)")
    with pytest.raises(DataError) as info:
        check_constraints(frame, dcs)
    assert str(info.value) == ("constraint on line 2 (t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.city,t2.a)) names column(s) "
                               "['city', 'zip'] that the data does not have; columns: ['a', 'b']")
    assert dcmod.missing_columns(frame, dcs[1]) == ["city", "zip"]
    assert dcmod.missing_columns(pd.DataFrame({"zip": [1]}), parse_constraints("t1&t2&LT(t1.zip,t2.q)")[0]) == ["q"]


def test_refusals_hold_at_the_limit_exactly(monkeypatch):
    frame = pd.DataFrame({"k": ["a"] * 10, "n": [float(i) for i in range(10)]})
    monkeypatch.setattr(dcmod, "MAX_CROSS_PAIRS", 100)  # 10 x 10 pairs: at the limit, checked
    (joined,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.k,t2.k)&LT(t1.n,t2.n)"))
    (crossed,) = check_constraints(frame, parse_constraints("t1&t2&IQ(t1.k,t2.k)&LT(t1.n,t2.n)"))
    assert (joined.violations, crossed.violations) == (45, 0)
    monkeypatch.setattr(dcmod, "MAX_CROSS_PAIRS", 99)
    with pytest.raises(ConfigError) as join:
        check_constraints(frame, parse_constraints("t1&t2&EQ(t1.k,t2.k)&LT(t1.n,t2.n)"))
    assert str(join.value) == ("constraint on line 1 (t1&t2&EQ(t1.k,t2.k)&LT(t1.n,t2.n)): its equality predicates "
                               "pair up 100 row pairs; add a more selective EQ predicate")
    with pytest.raises(ConfigError) as cross:
        check_constraints(frame, parse_constraints("t1&t2&IQ(t1.k,t2.k)&LT(t1.n,t2.n)"))
    assert str(cross.value) == ("constraint on line 1 (t1&t2&IQ(t1.k,t2.k)&LT(t1.n,t2.n)) has no EQ predicate "
                                "between t1 and t2: checking it needs 100 row pairs; add an equality predicate")


def test_join_chunks_stay_within_the_pair_budget():
    weights = np.array([3, 3, 3, 1, 1, 7, 0, 2])
    chunks = dcmod._chunks(weights, 6)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(weights)
    assert all(a < b and b == c for (a, b), (c, _) in zip(chunks, chunks[1:], strict=False))
    assert chunks == [(0, 2), (2, 5), (5, 6), (6, 8)]  # as full as the budget allows; one heavy row alone
    assert dcmod._chunks(np.array([], dtype=int), 6) == []
    assert dcmod._chunks(np.array([2, 2, 2]), 6) == [(0, 3)]
    assert dcmod._chunks(np.array([3, 4]), 6) == [(0, 1), (1, 2)]
    assert dcmod._chunks(np.array([9]), 6) == [(0, 1)]


def test_the_refusal_counts_only_pairs_that_share_a_key(monkeypatch):
    frame = pd.DataFrame({"k": ["a"] * 6 + ["b", "c"], "n": [float(i) for i in range(8)],
                          "w": ["y"] * 6 + ["y", "n"]})
    monkeypatch.setattr(dcmod, "MAX_CROSS_PAIRS", 37)  # 6 x 6 for "a", 1 for "b", none for "c"
    line = 't1&t2&EQ(t1.k,t2.k)&LT(t1.n,t2.n)&EQ(t2.w,"y")'  # t2 rows: all but "c"; "c" has no partner
    (result,) = check_constraints(frame, parse_constraints(line))
    assert result.violations == 15
    monkeypatch.setattr(dcmod, "MAX_CROSS_PAIRS", 36)
    with pytest.raises(ConfigError, match="pair up 37 row pairs"):
        check_constraints(frame, parse_constraints(line))
