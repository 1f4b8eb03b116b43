"""Benchmark: labelgate's LF applier and label model against Snorkel 0.10.0, measured in the same run.

Snorkel is not a project dependency: this script creates its own virtualenv (``.bench-venv/``, torch
pinned first so pip takes the local CPU wheel) and runs the Snorkel side there on the same inputs.
Prints rows/s, fit seconds, accuracies and the ratios the issue sets as targets:
applier >= 10x PandasLFApplier; fit >= 10x faster at 1M x 100 with equal or better accuracy;
example test accuracy >= max(majority vote, Snorkel LabelModel).

    .venv/bin/python bench/labeling.py [--rows 1000000] [--snorkel-rows 20000] [--skip-fit]
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
    """The bench virtualenv with snorkel==0.10.0 (created once; nothing is installed into the project)."""
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import snorkel, pyarrow; assert snorkel.__version__ == '0.10.0'"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {VENV} with snorkel==0.10.0 (one time)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)  # before snorkel, so no CUDA build is pulled
    subprocess.run([*pip, "snorkel==0.10.0", "pyarrow"], check=True)
    return python


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


def bench_fit(python: Path, folder: Path, name: str, n: int, m: int, k: int) -> None:
    from labelgate.labeling.model import LabelModel
    from labelgate.labeling.synthetic import make_votes

    print(f"\n## label model fit: n={n:,}, m={m}, k={k} (synthetic LFs with known accuracies)", flush=True)
    data = make_votes(n=n, m=m, k=k, accuracy=(0.45, 0.85), coverage=(0.02, 0.3), unipolar=0.5, seed=1)
    np.save(folder / f"{name}_L.npy", data.L)
    np.save(folder / f"{name}_y.npy", data.y)
    start = time.perf_counter()
    model = LabelModel(cardinality=k, seed=0).fit(data.L)
    ours = time.perf_counter() - start
    acc = float((model.predict(data.L) == data.y).mean())
    theirs = snorkel(python, folder, "fit", name, str(k))
    mv = float((LabelModel(cardinality=k, method="majority_vote").fit(data.L).predict(data.L) == data.y).mean())
    print(f"labelgate LabelModel     : fit {ours:7.2f} s   accuracy {acc:.4f}  ({model.selected_method})")
    print(f"snorkel LabelModel       : fit {theirs['seconds']:7.2f} s   accuracy {theirs['accuracy']:.4f}")
    print(f"majority vote            :                accuracy {mv:.4f}")
    print(f"RATIO fit speed          : {theirs['seconds'] / ours:8.1f}x   (target >= 10x); "
          f"accuracy difference {acc - theirs['accuracy']:+.4f} (target >= 0)")


def bench_example(python: Path, folder: Path) -> None:
    from labelgate.config import load_config
    from labelgate.ingest import DataSettings, SplitSettings, ingest
    from labelgate.labeling import LFApplier, load_lfs
    from labelgate.labeling.model import LabelModel

    print("\n## example (YouTube spam): accuracy on the gold test split", flush=True)
    config = load_config(CONFIG)
    data = DataSettings.from_section(config["data"])
    frame = ingest(str(DATA), data, SplitSettings.from_section(config["split"])).frame
    L = LFApplier(load_lfs(str(LFS)), cardinality=2).apply(frame)
    y = frame[data.label_column].astype("Int64").fillna(-1).to_numpy(dtype=np.int64)
    train, dev, test = (frame["split"] == "train").to_numpy(), frame["dev"].to_numpy(), (frame["split"] == "test").to_numpy()
    np.save(folder / "example_L.npy", L)
    np.save(folder / "example_y.npy", y)
    np.save(folder / "example_masks.npy", np.stack([train, dev, test]))
    theirs = snorkel(python, folder, "example")

    def accuracy(model: LabelModel) -> float:
        return float((model.predict(L[test]) == y[test]).mean())

    ours = {
        "labelgate majority vote": accuracy(LabelModel(2, method="majority_vote").fit(L[train])),
        "labelgate label model (no dev labels)": accuracy(LabelModel(2, seed=0).fit(L[train])),
        "labelgate label model (dev labels)": accuracy(
            LabelModel(2, seed=0).fit(L[train], L_dev=L[dev], Y_dev=y[dev])),
    }
    rows = {"snorkel majority vote (random ties)": theirs["snorkel_mv"],
            "snorkel LabelModel": theirs["snorkel"],
            "snorkel LabelModel (Y_dev class balance)": theirs["snorkel_with_dev_balance"], **ours}
    for label, value in rows.items():
        print(f"{label:42s}: {value:.3f}")
    no_dev = ours["labelgate label model (no dev labels)"]
    with_dev = ours["labelgate label model (dev labels)"]
    ref_no_dev = max(theirs["snorkel_mv"], theirs["snorkel"], ours["labelgate majority vote"])
    ref_dev = max(theirs["snorkel_mv"], theirs["snorkel_with_dev_balance"], ours["labelgate majority vote"])
    print(f"RATIO example, no dev labels : labelgate {no_dev:.3f} vs best of MV/Snorkel {ref_no_dev:.3f} "
          f"-> {no_dev - ref_no_dev:+.3f} (target >= 0)")
    print(f"RATIO example, dev labels    : labelgate {with_dev:.3f} vs best of MV/Snorkel(Y_dev) {ref_dev:.3f} "
          f"-> {with_dev - ref_dev:+.3f} (target >= 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic comments for the applier")
    parser.add_argument("--snorkel-rows", type=int, default=20_000, help="rows Snorkel's applier is timed on")
    parser.add_argument("--fit-rows", type=int, default=1_000_000, help="rows of the label-model fits")
    parser.add_argument("--skip-fit", action="store_true", help="skip the two 1M-row label-model fits")
    args = parser.parse_args()
    python = ensure_venv()
    with tempfile.TemporaryDirectory(prefix="labelgate-bench-") as tmp:
        folder = Path(tmp)
        bench_example(python, folder)
        bench_applier(python, folder, args.rows, args.snorkel_rows)
        if not args.skip_fit:
            bench_fit(python, folder, "binary", args.fit_rows, 100, 2)
            bench_fit(python, folder, "multiclass", args.fit_rows, 50, 6)


if __name__ == "__main__":
    main()
