"""Benchmarks of the data gate (run: `.venv/bin/python bench/validation.py`, or `make bench`).

1. Denial constraints on HoloClean's hospital data (../shared/data/hospital, 15 constraints): precision and
   recall of the flagged cells against hospital_clean.csv, and time; against two anchors measured here on
   the same data: a plain Python pair loop (on a 300-row slice: it is O(n^2)) and a pandas self-merge on
   the equality keys (on the data replicated 5x). Then an order-only constraint (no equality to join on)
   against all pairs compared in numpy blocks, and at 1M rows.
2. Throughput of the whole validate step (read artifacts, GX suite, constraints, profile + drift, reports)
   at 100k and 1M synthetic rows, against running the same GX suite directly (read Parquet + ephemeral
   context + validate) and against plain pandas checks equivalent to the suite. Ratios printed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
HOSPITAL = ROOT.parent / "shared" / "data" / "hospital"
SUITE = ROOT / "examples" / "youtube_spam" / "expectations.json"
CONSTRAINTS = ROOT / "examples" / "youtube_spam" / "constraints.txt"
CONFIG = ROOT / "examples" / "youtube_spam" / "config.yaml"


def timed(fn, repeat: int = 1):
    """Best wall time of ``repeat`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


# --- 1. denial constraints on hospital -----------------------------------------------------------------

def dirty_cells(frame: pd.DataFrame, clean: pd.DataFrame) -> set[tuple[int, str]]:
    dirty = set()
    for tid, attr, value in clean.itertuples(index=False):
        seen = frame.at[int(tid), attr]
        if pd.isna(seen) and pd.isna(value):
            continue
        if pd.isna(seen) or pd.isna(value) or seen != value:
            dirty.add((int(tid), attr))
    return dirty


def flagged(results, kind: str) -> set[tuple[int, str]]:
    cells = set()
    for result in results:
        for attr, rows in getattr(result, kind).items():
            cells.update((int(r), attr) for r in rows)
    return cells


def pair_loop(frame: pd.DataFrame, constraints) -> list[int]:
    """The anchor a first version would write: every ordered pair of rows, every predicate, in Python."""
    ops = {"EQ": lambda a, b: a == b, "IQ": lambda a, b: a != b, "LT": lambda a, b: a < b,
           "GT": lambda a, b: a > b, "LTE": lambda a, b: a <= b, "GTE": lambda a, b: a >= b}
    rows = frame.to_dict("records")
    counts = []
    for dc in constraints:
        count = 0
        for i, j in itertools.permutations(range(len(rows)), 2):
            t = {"t1": rows[i], "t2": rows[j]}
            if all(not pd.isna(a := t[p.left.tuple][p.left.attr]) and not pd.isna(b := t[p.right.tuple][p.right.attr])
                   and ops[p.op](a, b) for p in dc.predicates):
                count += 1
        counts.append(count)
    return counts


def self_merge(frame: pd.DataFrame, constraints) -> list[int]:
    """The pandas anchor: merge the table with itself on the EQ attributes, then filter the other predicates."""
    counts = []
    indexed = frame.reset_index(names="_row")
    for dc in constraints:
        keys = [p.left.attr for p in dc.predicates if p.op == "EQ"]
        rest = [p for p in dc.predicates if p.op != "EQ"]
        left = indexed.dropna(subset=keys)
        pairs = left.merge(left, on=keys, suffixes=("_1", "_2"))
        mask = pairs["_row_1"] != pairs["_row_2"]
        for p in rest:
            a, b = pairs[f"{p.left.attr}_1"], pairs[f"{p.right.attr}_2"]
            mask &= a.notna() & b.notna() & (a != b)
        counts.append(int(mask.sum()))
    return counts


def bench_hospital() -> None:
    from labelgate.validation.constraints import check_constraints, load_constraints

    if not HOSPITAL.exists():
        print(f"hospital data not found at {HOSPITAL}; skipping the constraint benchmark")
        return
    frame = pd.read_csv(HOSPITAL / "hospital.csv", dtype=str, keep_default_na=False, na_values=[""])
    clean = pd.read_csv(HOSPITAL / "hospital_clean.csv", dtype=str, keep_default_na=False, na_values=[""])
    constraints = load_constraints(HOSPITAL / "hospital_constraints.txt")
    truth = dirty_cells(frame, clean)
    seconds, results = timed(lambda: check_constraints(frame, constraints), repeat=3)
    print(f"\n== Denial constraints on hospital: {len(frame)} rows x {frame.shape[1]} columns, "
          f"{len(constraints)} constraints, {len(truth)} dirty cells")
    print(f"labelgate checker: {seconds * 1000:.0f} ms, {sum(r.violations for r in results):,} violating pairs, "
          f"{len(set().union(*[set(r.rows.tolist()) for r in results]))} rows involved")
    for kind, what in (("cells", "every cell in a violation"), ("suspects", "minority cells (repair candidates)")):
        cells = flagged(results, kind)
        hits = len(cells & truth)
        precision = hits / len(cells) if cells else 0.0
        print(f"  {what:36s}: {len(cells):6d} flagged, precision {precision:.3f}, recall {hits / len(truth):.3f}")

    part = frame.head(300)
    ours, got = timed(lambda: check_constraints(part, constraints), repeat=3)
    loop, expected = timed(lambda: pair_loop(part, constraints))
    assert [r.violations for r in got] == expected, "checker and pair loop disagree"
    print(f"anchor, Python pair loop on 300 rows: {loop:.2f} s vs labelgate {ours * 1000:.0f} ms "
          f"-> {loop / ours:.0f}x faster (same violation counts)")

    big = pd.concat([frame] * 5, ignore_index=True)
    ours, got = timed(lambda: check_constraints(big, constraints), repeat=2)
    merge, expected = timed(lambda: self_merge(big, constraints))
    assert [r.violations for r in got] == expected, "checker and self-merge disagree"
    print(f"anchor, pandas self-merge on {len(big):,} rows (hospital x5): {merge:.2f} s vs labelgate "
          f"{ours:.2f} s -> {merge / ours:.1f}x faster (same violation counts)")


def bench_inequalities(rows: int = 20_000, big: int = 1_000_000) -> None:
    """An order-only constraint (no equality to join on): dominance counting against all pairs in numpy."""
    from labelgate.validation.constraints import check_constraints, parse_constraints

    rng = np.random.default_rng(0)

    def table(n):
        salary = rng.normal(50_000, 10_000, n)
        return pd.DataFrame({"salary": salary, "tax": salary * 0.3 + rng.normal(0, 300, n)})

    dcs = parse_constraints("t1&t2&GT(t1.salary,t2.salary)&LT(t1.tax,t2.tax)")
    frame = table(rows)

    def all_pairs():
        salary, tax = frame["salary"].to_numpy(), frame["tax"].to_numpy()
        total = 0
        for start in range(0, rows, 2_000):  # blocks of rows against every row, vectorised
            s, t = salary[start:start + 2_000, None], tax[start:start + 2_000, None]
            total += int(((s > salary[None, :]) & (t < tax[None, :])).sum())
        return total

    ours, (result,) = timed(lambda: check_constraints(frame, dcs), repeat=2)
    anchor, expected = timed(all_pairs)
    assert result.violations == expected, "dominance counting and all pairs disagree"
    print(f"\n== Order-only constraint {dcs[0].text}")
    print(f"{rows:,} rows: labelgate {ours:.2f} s vs all pairs in numpy {anchor:.2f} s -> {anchor / ours:.0f}x faster "
          f"({expected:,} violating pairs, same count)")
    frame = table(big)
    seconds, (result,) = timed(lambda: check_constraints(frame, dcs))
    print(f"{big:,} rows: labelgate {seconds:.1f} s for {result.violations:,} violating pairs over "
          f"{len(result.rows):,} rows (all pairs would be {big * big:.0e} comparisons)")


# --- 2. validate step throughput -------------------------------------------------------------------------

def synthetic(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, list[str], pd.DataFrame]:
    """A table shaped like ingest's output, plus a 12-LF label matrix and label-model probabilities."""
    rng = np.random.default_rng(seed)
    words = np.array(["check", "out", "my", "channel", "song", "love", "this", "video", "subscribe", "please",
                      "free", "money", "great", "voice", "views", "best", "http://x.co", "lol", "wow", "so"])
    lengths = rng.integers(2, 25, rows)
    picks = rng.integers(0, len(words), lengths.sum())
    cuts = np.cumsum(lengths)[:-1]
    texts = [" ".join(chunk) + f" #{i}" for i, chunk in enumerate(np.split(words[picks], cuts))]
    split = rng.choice(np.array(["train", "valid", "test"]), rows, p=[0.8, 0.1, 0.1])
    dev = (split == "train") & (rng.random(rows) < 0.05)
    label = pd.array(rng.integers(0, 2, rows), dtype="Int64")
    label[(split == "train") & ~dev] = pd.NA
    frame = pd.DataFrame({
        "source": rng.choice(np.array(["a.csv", "b.csv", "c.csv"]), rows),
        "COMMENT_ID": pd.array([f"c{i:09d}" for i in range(rows)], dtype="string"),
        "AUTHOR": [f"user{i}" for i in rng.integers(0, rows // 3 + 1, rows)],
        "DATE": "2014-11-02T10:20:30",
        "CONTENT": pd.array(texts, dtype="string"),
        "CLASS": label,
        "split": split,
        "dev": dev,
    })
    names = [f"lf_{w}" for w in words[:12]]
    lower = frame["CONTENT"].str.lower()
    matrix = np.full((rows, len(names)), -1, dtype=np.int8)
    for j, w in enumerate(words[:12]):
        matrix[lower.str.contains(w, regex=False).to_numpy(dtype=bool), j] = j % 2
    votes1 = (matrix == 1).sum(axis=1)
    votes0 = (matrix == 0).sum(axis=1)
    p1 = (votes1 + 1) / (votes1 + votes0 + 2)
    probs = pd.DataFrame({"row": np.arange(rows), "prob_0": 1 - p1, "prob_1": p1, "covered": votes1 + votes0 > 0})
    return frame, matrix, names, probs


def ge_directly(data_path: Path, suite_path: Path) -> bool:
    """What a user of Great Expectations writes: read the table, an in-memory context (no progress bars,
    no usage statistics, as in the step), the suite file, one ValidationDefinition run."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    frame = pd.read_parquet(data_path)
    context = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(), analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False)))
    suite = context.suites.add(ExpectationSuite(**json.loads(suite_path.read_text())))
    batch_definition = (context.data_sources.add_pandas("p").add_dataframe_asset("a")
                        .add_batch_definition_whole_dataframe("b"))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="v", data=batch_definition,
                                                                            suite=suite))
    return definition.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY").success


def pandas_checks(data_path: Path) -> bool:
    """The suite's checks written by hand in pandas (what a team without GX would write)."""
    frame = pd.read_parquet(data_path)
    required = {"source", "COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS", "split", "dev"}
    content = frame["CONTENT"]
    lengths = content.str.len()
    gold = (frame["split"] != "train") | frame["dev"]
    checks = [
        required <= set(frame.columns),
        500 <= len(frame) <= 5_000_000,
        str(frame["COMMENT_ID"].dtype) in ("string", "object"),
        str(content.dtype) in ("string", "object"),
        str(frame["CLASS"].dtype) in ("Int64", "int64"),
        frame["dev"].dtype == bool,
        frame["COMMENT_ID"].notna().all(),
        content.notna().all(),
        frame["CLASS"].dropna().isin([0, 1]).all(),
        frame.loc[gold, "CLASS"].notna().all(),
        frame["split"].isin(["train", "valid", "test"]).all(),
        frame["COMMENT_ID"].duplicated(keep=False).mean() <= 0.01,
        not frame["COMMENT_ID"].duplicated().any(),
        lengths.between(1, 5000).all(),
        lengths.between(2, 1500).mean() >= 0.99,
        frame["AUTHOR"].notna().mean() >= 0.99,
        frame["DATE"].notna().mean() >= 0.8,
        frame["DATE"].dropna().str.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}").all(),
        content.nunique() / max(1, len(content)) >= 0.8,
    ]
    return all(bool(c) for c in checks)


def bench_step(rows: int, work: Path) -> dict[str, float]:
    import labelgate.validation.step as step_module

    frame, matrix, names, probs = synthetic(rows)
    paths = {"data": work / "data.parquet", "lm": work / "lm.npy", "probs": work / "probs.parquet"}
    frame.to_parquet(paths["data"], index=False)
    np.save(paths["lm"], matrix)
    probs.to_parquet(paths["probs"], index=False)
    out = work / "out"

    def step():
        return step_module.run_validate(
            data_path=str(paths["data"]), label_matrix_path=str(paths["lm"]), lf_names=names,
            probs_path=str(paths["probs"]), suite_path=str(SUITE), constraints_path=str(CONSTRAINTS),
            config_path=str(CONFIG), registry_uri="unused", model_name="bench",
            report_path=str(out / "report.md"), report_html_path=str(out / "report.html"),
            profile_path=str(out / "profile.json"))

    # The champion's profile: this data's own (drift is computed, and passes).
    step_module.champion_profile = lambda registry_uri, model_name: (None, None)
    _, (passed, reason, _) = timed(step)
    assert passed, reason
    reference = json.loads((out / "profile.json").read_text())
    step_module.champion_profile = lambda registry_uri, model_name: (reference, None)
    repeat = 3 if rows <= 200_000 else 2  # best of a few: the cores are shared
    step_s, (passed, reason, metrics) = timed(step, repeat)
    assert passed and metrics["drift_checks"] > 0, reason
    ge_s, ok = timed(lambda: ge_directly(paths["data"], SUITE), repeat)
    assert ok
    pandas_s, ok = timed(lambda: pandas_checks(paths["data"]), repeat)
    assert ok
    return {"rows": rows, "step": step_s, "ge": ge_s, "pandas": pandas_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--skip-hospital", action="store_true")
    args = parser.parse_args(argv)
    import great_expectations  # noqa: F401  (imported once up front: every contender pays it equally)

    if not args.skip_hospital:
        bench_hospital()
        bench_inequalities()
    if args.rows:
        print("\n== Validate step vs the same GX suite run directly vs plain pandas checks (best of 2-3, warm imports)")
        print(f"{'rows':>10} {'step s':>8} {'GX s':>8} {'pandas s':>9} {'step rows/s':>12} {'GX rows/s':>10} "
              f"{'pandas rows/s':>13} {'step/GX':>8} {'GX/pandas':>9}")
        for rows in args.rows:
            with tempfile.TemporaryDirectory() as tmp:
                r = bench_step(rows, Path(tmp))
            print(f"{r['rows']:>10,} {r['step']:>8.2f} {r['ge']:>8.2f} {r['pandas']:>9.2f} "
                  f"{r['rows'] / r['step']:>12,.0f} {r['rows'] / r['ge']:>10,.0f} {r['rows'] / r['pandas']:>13,.0f} "
                  f"{r['step'] / r['ge']:>7.2f}x {r['ge'] / r['pandas']:>8.1f}x")
        print("step/GX: what the whole step costs relative to the suite alone (target <= 1.5x at 1M rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
