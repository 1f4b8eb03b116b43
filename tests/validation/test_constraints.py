import itertools

import numpy as np
import pandas as pd
import pytest

from labelgate.errors import ConfigError, DataError
from labelgate.validation import constraints as dcmod
from labelgate.validation.constraints import check_constraints, parse_constraints


def test_parses_holoclean_lines_with_comments_and_constants():
    dcs = parse_constraints(
        "# zip determines city\n"
        "t1&t2&EQ(t1.Zip,t2.Zip)&IQ(t1.City,t2.City)\n\n"
        't1&EQ(t1.State,"al")&GT(t1.Score,100)\n'
        "t1&t2&LT(t1.Age,t2.Age)&GTE(t1.Pay,t2.Pay)\n"
    )
    assert [d.line for d in dcs] == [2, 4, 5]
    assert dcs[0].tuples == ("t1", "t2") and [p.op for p in dcs[0].predicates] == ["EQ", "IQ"]
    assert dcs[1].tuples == ("t1",) and dcs[1].predicates[0].right.constant == "al"
    assert dcs[2].attributes("t1") == ["Age", "Pay"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("t2&EQ(t1.A,t2.A)", "starts with 't1&'"),
        ("t1&t2", "no predicates"),
        ("t1&t2&NE(t1.A,t2.A)", "not a predicate"),
        ("t1&t2&EQ(t1.A)", "exactly two operands"),
        ("t1&EQ(t1.A,t2.A)", "does not declare"),
        ('t1&EQ("a","b")', "two constants"),
    ],
)
def test_bad_lines_name_the_line_and_the_problem(line, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_constraints("# header\n" + line, "dc.txt")
    assert "dc.txt line 2" in str(info.value)


def _brute_force(frame, dc):
    """Reference semantics: every ordered pair of distinct rows, NA makes a predicate false."""
    ops = {"EQ": lambda a, b: a == b, "IQ": lambda a, b: a != b, "LT": lambda a, b: a < b,
           "GT": lambda a, b: a > b, "LTE": lambda a, b: a <= b, "GTE": lambda a, b: a >= b}
    rows = frame.to_dict("records")

    def value(operand, t1, t2):
        if operand.constant is not None:
            return operand.constant
        return (t1 if operand.tuple == "t1" else t2)[operand.attr]

    pairs = set()
    for i, j in itertools.permutations(range(len(rows)), 2):
        ok = True
        for p in dc.predicates:
            a, b = value(p.left, rows[i], rows[j]), value(p.right, rows[i], rows[j])
            if pd.isna(a) or pd.isna(b) or not ops[p.op](a, b):
                ok = False
                break
        if ok:
            pairs.add((i, j))
    return pairs


@pytest.mark.parametrize(
    "line",
    [
        "t1&t2&EQ(t1.k,t2.k)&IQ(t1.v,t2.v)",  # functional dependency: groupby path
        "t1&t2&EQ(t1.k,t2.k)&EQ(t1.w,t2.w)&IQ(t1.v,t2.v)",
        "t1&t2&EQ(t1.k,t2.k)&LT(t1.n,t2.n)&IQ(t1.v,t2.v)",  # join + residual inequality
        "t1&t2&EQ(t1.k,t2.w)&IQ(t1.v,t2.v)",  # join across different attributes
        "t1&t2&LT(t1.n,t2.n)&GT(t1.m,t2.m)",  # no equality: dominance counting
        "t1&t2&LTE(t1.n,t2.n)&GTE(t1.m,t2.m)",  # non-strict: a row would pair with itself
        "t1&t2&LT(t1.n,t2.m)&GTE(t1.m,t2.n)",  # across attributes
        "t1&t2&GTE(t1.n,t2.n)",  # one order predicate
        "t1&t2&LT(t1.v,t2.v)&GT(t1.k,t2.k)",  # text orders, missing values
        't1&t2&LT(t1.n,t2.n)&IQ(t1.v,t2.v)&EQ(t2.w,"a")',  # mixed: blockwise pairs
        't1&t2&EQ(t1.k,t2.k)&EQ(t1.v,"x")&IQ(t1.v,t2.v)',  # filter on one tuple
    ],
)
def test_violations_match_brute_force_on_random_data(line, monkeypatch):
    monkeypatch.setattr(dcmod, "PAIR_BUDGET", 7)  # force several join chunks
    rng = np.random.default_rng(0)
    n = 40
    frame = pd.DataFrame({
        "k": rng.choice(["a", "b", "c", None], n),
        "w": rng.choice(["a", "b", "c"], n),
        "v": rng.choice(["x", "y", None], n),
        "n": rng.integers(0, 5, n).astype(float),
        "m": rng.integers(0, 5, n).astype(float),
    })
    (dc,) = parse_constraints(line)
    expected = _brute_force(frame, dc)
    (result,) = check_constraints(frame, [dc])
    assert result.violations == len(expected)
    assert set(result.rows.tolist()) == {r for pair in expected for r in pair}
    t1_rows = {i for i, _ in expected}
    for attr in dc.attributes("t1"):
        assert t1_rows <= set(result.cells[attr].tolist())


def test_dependency_flags_the_minority_value_as_suspect():
    frame = pd.DataFrame({"zip": ["1", "1", "1", "2", "2"], "city": ["oslo", "oslo", "osxo", "rome", "rome"]})
    (result,) = check_constraints(frame, parse_constraints("t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.city,t2.city)"))
    assert result.violations == 4  # (0,2), (2,0), (1,2), (2,1)
    assert result.rows.tolist() == [0, 1, 2]
    assert result.suspects == {"city": pytest.approx(np.array([2]))}
    assert "'osxo' x1" in result.examples[0]


def test_single_tuple_constraint_flags_rows():
    frame = pd.DataFrame({"state": ["al", "al", "ak"], "score": [50, 150, 150]})
    (result,) = check_constraints(frame, parse_constraints('t1&EQ(t1.state,"al")&GT(t1.score,100)'))
    assert result.rows.tolist() == [1]


def test_unknown_column_is_a_data_error_naming_the_constraint():
    with pytest.raises(DataError, match=r"line 1 .*\['zip'\]"):
        check_constraints(pd.DataFrame({"a": [1]}), parse_constraints("t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.a,t2.a)"))


def test_a_join_too_large_to_check_is_refused_not_run(monkeypatch):
    monkeypatch.setattr(dcmod, "MAX_CROSS_PAIRS", 50)
    frame = pd.DataFrame({"k": ["a"] * 10, "n": range(10)})
    with pytest.raises(ConfigError, match="pair up 100 row pairs"):
        check_constraints(frame, parse_constraints("t1&t2&EQ(t1.k,t2.k)&LT(t1.n,t2.n)"))
    with pytest.raises(ConfigError, match="no EQ predicate"):
        check_constraints(frame, parse_constraints("t1&t2&IQ(t1.k,t2.k)&LT(t1.n,t2.n)"))
    # Order predicates alone need no pairs at all: counted, not refused.
    (result,) = check_constraints(frame, parse_constraints("t1&t2&LT(t1.n,t2.n)"))
    assert result.violations == 45


def test_a_severity_comment_applies_to_the_next_constraint_only():
    dcs = parse_constraints("# severity: warning\nt1&t2&EQ(t1.a,t2.a)&IQ(t1.b,t2.b)\nt1&t2&EQ(t1.b,t2.b)&IQ(t1.a,t2.a)\n")
    assert [d.severity for d in dcs] == ["warning", None]


def test_example_constraints_hold_on_a_clean_table_and_catch_a_leaked_dev_row(example_config):
    from labelgate.validation.constraints import load_constraints

    dcs = load_constraints(example_config.parent / "constraints.txt")
    frame = pd.DataFrame({
        "COMMENT_ID": ["a", "b", "c", "c"], "AUTHOR": ["x", "y", "z", "z"],
        "CONTENT": ["hi", "hi", "buy", "buy"], "CLASS": pd.array([0, pd.NA, 1, 1], dtype="Int64"),
        "split": ["train", "train", "valid", "test"], "dev": [True, False, False, False],
    })
    assert [r.violations for r in check_constraints(frame, dcs)] == [0, 0, 0, 0]
    frame.loc[2, "dev"] = True
    assert [len(r.rows) for r in check_constraints(frame, dcs)] == [0, 0, 0, 1]


OPS = ["EQ", "IQ", "LT", "GT", "LTE", "GTE"]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("form", ["pair", "join", "constant"])
def test_every_operator_matches_brute_force(op, form, monkeypatch):
    """Each operator on ties and non-ties, in each evaluation path: pair order predicates, a residual
    after an equality join, and a one-tuple filter against a constant (values 0..3: many ties)."""
    monkeypatch.setattr(dcmod, "PAIR_BUDGET", 11)
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"k": rng.choice(["a", "b"], 30), "n": rng.integers(0, 4, 30).astype(float),
                          "m": rng.integers(0, 4, 30).astype(float)})
    line = {"pair": f"t1&t2&{op}(t1.n,t2.m)&LTE(t1.m,t2.n)",
            "join": f"t1&t2&EQ(t1.k,t2.k)&{op}(t1.n,t2.m)",
            "constant": f't1&{op}(t1.n,"2")'}[form]
    (dc,) = parse_constraints(line)
    (result,) = check_constraints(frame, [dc])
    if form == "constant":
        compare = {"EQ": np.equal, "IQ": np.not_equal, "LT": np.less, "GT": np.greater,
                   "LTE": np.less_equal, "GTE": np.greater_equal}[op]
        expected_rows = set(np.flatnonzero(compare(frame["n"].to_numpy(), 2.0)).tolist())
        assert set(result.rows.tolist()) == expected_rows
        return
    expected = _brute_force(frame, dc)
    assert result.violations == len(expected)
    assert set(result.rows.tolist()) == {r for pair in expected for r in pair}
