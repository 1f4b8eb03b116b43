"""Tiny in-memory inputs for the validation tests: a table shaped like ingest's output, LF votes, probs."""

from __future__ import annotations

import numpy as np
import pandas as pd

TEXTS = ["check out my channel", "great song", "subscribe to me", "love this video", "nice voice",
         "check out my page", "so good", "subscribe please", "best song ever", "click here for free stuff"]


def make_frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts = [TEXTS[i % len(TEXTS)] + f" {i}" for i in range(n)]
    labels = pd.array([int("check" in t or "subscribe" in t or "click" in t) for t in texts], dtype="Int64")
    split = np.where(np.arange(n) < n // 2, "train", np.where(np.arange(n) % 2 == 0, "valid", "test"))
    frame = pd.DataFrame({
        "source": "a.csv",
        "COMMENT_ID": pd.array([f"id{i}" for i in range(n)], dtype="string"),
        "AUTHOR": [f"user{rng.integers(0, 5)}" for _ in range(n)],
        "CONTENT": pd.array(texts, dtype="string"),
        "CLASS": labels,
        "split": split,
        "dev": False,
    })
    frame.loc[(frame["split"] == "train") & (np.arange(n) % 4 != 0), "CLASS"] = pd.NA
    frame.loc[(frame["split"] == "train") & (np.arange(n) % 4 == 0), "dev"] = True
    return frame


KEYWORDS = ("check", "subscribe", "song")


def weak_labels(frame: pd.DataFrame) -> tuple[np.ndarray, list[str], pd.DataFrame]:
    """Three keyword LFs (spam, spam, ham) and a vote-share 'label model'."""
    text = frame["CONTENT"].astype(str).str.lower()
    votes = np.full((len(frame), 3), -1, dtype=np.int8)
    votes[text.str.contains("check").to_numpy(), 0] = 1
    votes[text.str.contains("subscribe").to_numpy(), 1] = 1
    votes[text.str.contains("song").to_numpy(), 2] = 0
    spam = (votes == 1).sum(axis=1)
    ham = (votes == 0).sum(axis=1)
    covered = (spam + ham) > 0
    p1 = np.where(covered, (spam + 0.5) / (spam + ham + 1.0), 0.5)
    probs = pd.DataFrame({"row": np.arange(len(frame)), "prob_0": 1 - p1, "prob_1": p1, "covered": covered})
    return votes, ["lf_check", "lf_subscribe", "lf_song"], probs


SUITE = {
    "name": "tiny",
    "expectations": [
        {"type": "expect_table_columns_to_match_set", "severity": "critical",
         "kwargs": {"column_set": ["COMMENT_ID", "CONTENT", "CLASS", "split"], "exact_match": False}},
        {"type": "expect_column_values_to_not_be_null", "severity": "critical", "kwargs": {"column": "CONTENT"}},
        {"type": "expect_column_values_to_be_in_set", "severity": "critical",
         "kwargs": {"column": "CLASS", "value_set": [0, 1]}},
        {"type": "expect_column_values_to_be_unique", "severity": "critical", "kwargs": {"column": "COMMENT_ID"}},
        {"type": "expect_column_value_lengths_to_be_between", "severity": "critical",
         "kwargs": {"column": "CONTENT", "min_value": 1, "max_value": 1000}},
        {"type": "expect_column_values_to_not_be_null", "severity": "warning", "kwargs": {"column": "AUTHOR"}},
    ],
}


