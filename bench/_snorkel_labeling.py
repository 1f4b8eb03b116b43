"""The Snorkel side of bench/labeling.py, run with the bench's own virtualenv (snorkel==0.10.0).

Reads the inputs bench/labeling.py wrote to a folder, times Snorkel on them, and writes JSON results.
Not a benchmark by itself (the leading underscore keeps `make bench` from running it).
"""

from __future__ import annotations

import json
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def snorkel_lfs():
    """Snorkel versions of examples/youtube_spam/lfs.py, written as a Snorkel user would (one row at a time)."""
    from snorkel.labeling import labeling_function

    HAM, SPAM, ABSTAIN = 0, 1, -1

    def words_lf(name, words, label, whole_word=False):
        needles = [w.lower() for w in words]
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in needles) + r")\b")

        @labeling_function(name=name)
        def lf(x):
            text = (x.CONTENT or "").lower()
            hit = pattern.search(text) is not None if whole_word else any(w in text for w in needles)
            return label if hit else ABSTAIN

        return lf

    def regex(name, expr, label):
        compiled = re.compile(expr, re.IGNORECASE)

        @labeling_function(name=name)
        def lf(x):
            return label if compiled.search(x.CONTENT or "") else ABSTAIN

        return lf

    @labeling_function()
    def lots_of_caps(x):
        text = x.CONTENT or ""
        return SPAM if len(re.findall(r"[A-Z]", text)) > 0.5 * max(len(text), 20) else ABSTAIN

    @labeling_function()
    def short_comment(x):
        return HAM if len((x.CONTENT or "").split()) < 5 else ABSTAIN

    return [
        words_lf("keyword_my", ["my"], SPAM, whole_word=True),
        words_lf("keyword_subscribe", ["subscribe", "subscribers", "sub4sub"], SPAM),
        words_lf("keyword_link", ["http", "www.", ".com"], SPAM),
        words_lf("keyword_please", ["please", "plz", "pls"], SPAM, whole_word=True),
        words_lf("keyword_channel", ["channel"], SPAM),
        words_lf("keyword_money", ["free", "money", "gift card", "earn", "cash", "$"], SPAM),
        regex("regex_check_out", r"check.*out", SPAM),
        words_lf("keyword_song", ["song", "songs"], HAM, whole_word=True),
        words_lf("keyword_love", ["love", "best", "awesome", "amazing"], HAM, whole_word=True),
        regex("regex_views", r"\b\d+(\.\d+)?\s*(b|m|billion|million)\b|\bviews\b", HAM),
        lots_of_caps,
        short_comment,
    ]


def applier(folder: Path) -> dict:
    from snorkel.labeling import PandasLFApplier

    frame = pd.read_parquet(folder / "applier_sample.parquet")
    lfs = snorkel_lfs()
    start = time.perf_counter()
    L = PandasLFApplier(lfs).apply(frame, progress_bar=False)
    seconds = time.perf_counter() - start
    np.save(folder / "snorkel_applier_L.npy", L.astype(np.int8))
    return {"rows": len(frame), "seconds": seconds, "lf_names": [lf.name for lf in lfs]}


def fit(folder: Path, name: str, k: int) -> dict:
    from snorkel.labeling.model import LabelModel

    L = np.load(folder / f"{name}_L.npy").astype(np.int64)
    y = np.load(folder / f"{name}_y.npy")
    model = LabelModel(cardinality=k, verbose=False)
    start = time.perf_counter()
    model.fit(L, seed=0, progress_bar=False)  # Snorkel's defaults: 100 epochs, SGD, lr 0.01
    seconds = time.perf_counter() - start
    preds = model.predict(L, tie_break_policy="random")
    return {"seconds": seconds, "accuracy": float((preds == y).mean())}


def example(folder: Path) -> dict:
    from snorkel.labeling.model import LabelModel, MajorityLabelVoter

    L = np.load(folder / "example_L.npy").astype(np.int64)
    masks = np.load(folder / "example_masks.npy")
    y = np.load(folder / "example_y.npy")
    train, dev, test = masks
    out = {}
    mv = MajorityLabelVoter(cardinality=2)
    out["snorkel_mv"] = float((mv.predict(L[test], tie_break_policy="random") == y[test]).mean())
    for label, kwargs in (("snorkel", {}), ("snorkel_with_dev_balance", {"Y_dev": y[dev]})):
        model = LabelModel(cardinality=2, verbose=False)
        model.fit(L[train], seed=0, progress_bar=False, **kwargs)
        out[label] = float((model.predict(L[test], tie_break_policy="random") == y[test]).mean())
    return out


def main() -> None:
    folder = Path(sys.argv[1])
    task = sys.argv[2]
    if task == "applier":
        result = applier(folder)
    elif task == "fit":
        result = fit(folder, sys.argv[3], int(sys.argv[4]))
    else:
        result = example(folder)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
