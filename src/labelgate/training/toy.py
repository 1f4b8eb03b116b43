"""Tiny spam/ham corpora in the ingest table's format, with keyword-LF majority-vote probabilities:
for unit tests and benchmarks of training and evaluation without the label model."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

SPAM_PARTS = ("check out my channel", "subscribe to my page", "visit http://free-gift.example.com",
              "please like and share", "win a free iphone now", "plz follow me", "my new video is up")
HAM_PARTS = ("love this song", "great video", "she sings so well", "this beat is amazing",
             "best music ever", "who is watching in 2015", "the dance is cool")
FILLER = ("wow", "really", "today", "guys", "lol", "so", "and", "the", "this", "omg")


def toy_frame(*, n_train: int = 160, n_valid: int = 40, n_test: int = 60, seed: int = 0,
              noise: float = 0.05) -> pd.DataFrame:
    """A table shaped like ingest's output: CONTENT, CLASS (hidden on train rows), source, split, dev.
    ``noise`` is the share of rows whose text is drawn from the other class (label noise)."""
    rng = np.random.default_rng(seed)
    n = n_train + n_valid + n_test
    labels = rng.integers(0, 2, size=n)
    texts = []
    for y in labels:
        drawn = y if rng.random() >= noise else 1 - y
        parts = SPAM_PARTS if drawn == 1 else HAM_PARTS
        words = [parts[i] for i in rng.choice(len(parts), size=rng.integers(1, 3), replace=False)]
        words += list(rng.choice(FILLER, size=rng.integers(0, 6)))
        rng.shuffle(words)
        texts.append(" ".join(words))
    split = np.array(["train"] * n_train + ["valid"] * n_valid + ["test"] * n_test)
    sources = np.where(rng.random(n) < 0.5, "a.csv", "b.csv")
    frame = pd.DataFrame({
        "source": sources, "COMMENT_ID": [f"c{i}" for i in range(n)], "CONTENT": pd.array(texts, dtype="string"),
        "CLASS": pd.array(labels, dtype="Int64"), "split": split, "dev": False,
    })
    frame.loc[frame["split"] == "train", "CLASS"] = pd.NA
    return frame


KEYWORD_LFS: tuple[tuple[str, int], ...] = (
    (r"\bmy\b", 1), (r"subscribe", 1), (r"http", 1), (r"\b(please|plz)\b", 1), (r"check.*out", 1),
    (r"\bfree\b", 1), (r"\bsong\b", 0), (r"\b(love|great|best)\b", 0), (r"^\W*(\w+\W+){0,3}\w*\W*$", 0),
)


def keyword_votes(texts: list[str], lfs: tuple[tuple[str, int], ...] = KEYWORD_LFS) -> np.ndarray:
    """Votes (n x m, -1 = abstain) of regex LFs, each ``(pattern, class)``, matched case-insensitively."""
    compiled = [(re.compile(p, re.IGNORECASE), c) for p, c in lfs]
    return np.array([[c if rx.search(t or "") else -1 for rx, c in compiled] for t in texts], dtype=np.int8)


def majority_probs(votes: np.ndarray, n_classes: int = 2) -> pd.DataFrame:
    """The probs table of the weak_label step from a majority vote (ties split evenly; uncovered rows
    get the uniform distribution and ``covered`` False)."""
    counts = np.stack([(votes == c).sum(axis=1) for c in range(n_classes)], axis=1).astype(float)
    covered = counts.sum(axis=1) > 0
    top = (counts == counts.max(axis=1, keepdims=True)) & covered[:, None]
    probs = np.where(covered[:, None], top, 1.0)
    probs = probs / probs.sum(axis=1, keepdims=True)
    table = pd.DataFrame({f"prob_{c}": probs[:, c] for c in range(n_classes)})
    table.insert(0, "row", np.arange(len(votes)))
    table["covered"] = covered
    return table


TOY_CONFIG = """\
data: {id_column: COMMENT_ID, text_column: CONTENT, label_column: CLASS, classes: [ham, spam]}
training: {family: hashed_linear, hash_bits: 12, word_ngrams: [1, 2], char_ngrams: [2, 4], epochs: 12, patience: 4,
           learning_rate: 0.05, batch_size: 16, device: cpu}
evaluation: {bootstrap_resamples: 500, calibration_bins: 5, length_buckets: [30, 60]}
"""


def write_toy_inputs(directory, *, seed: int = 0, n_test: int = 60, noise: float = 0.05,
                     lfs: tuple[tuple[str, int], ...] = KEYWORD_LFS) -> dict[str, str]:
    """Write ``data.parquet``, ``probs.parquet`` (majority vote of ``lfs``) and ``config.yaml`` under
    ``directory`` for step-level tests; returns their paths by name."""
    from pathlib import Path

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    frame = toy_frame(seed=seed, n_test=n_test, noise=noise)
    paths = {"data": str(target / "data.parquet"), "probs": str(target / "probs.parquet"),
             "config": str(target / "config.yaml")}
    frame.to_parquet(paths["data"], index=False)
    majority_probs(keyword_votes(frame["CONTENT"].tolist(), lfs)).to_parquet(paths["probs"], index=False)
    Path(paths["config"]).write_text(TOY_CONFIG)
    return paths
