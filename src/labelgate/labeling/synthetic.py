"""Synthetic weak supervision with known LF accuracies: for tests and benchmarks of label models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SyntheticVotes:
    """Gold labels ``y``, votes ``L`` (-1 = abstain), and each LF's true accuracy when it votes."""

    L: np.ndarray
    y: np.ndarray
    accuracies: np.ndarray


def make_votes(
    n: int,
    m: int,
    k: int = 2,
    accuracy: tuple[float, float] = (0.55, 0.9),
    coverage: tuple[float, float] = (0.05, 0.5),
    class_balance: np.ndarray | None = None,
    unipolar: float = 0.0,
    copies: int = 0,
    seed: int = 0,
) -> SyntheticVotes:
    """Draw ``n`` rows of ``m`` conditionally independent LFs with accuracies and coverages drawn
    uniformly from the given ranges; ``unipolar`` is the share of LFs that only ever vote one class
    (as keyword LFs do); ``copies`` extra LFs duplicate earlier ones with 10% of their votes redrawn
    (correlated LFs)."""
    rng = np.random.default_rng(seed)
    balance = np.full(k, 1.0 / k) if class_balance is None else np.asarray(class_balance, dtype=float)
    y = rng.choice(k, size=n, p=balance / balance.sum())
    base = m - copies
    acc = rng.uniform(*accuracy, size=base)
    cov = rng.uniform(*coverage, size=base)
    poles = np.where(rng.random(base) < unipolar, rng.integers(0, k, size=base), -1)
    L = np.full((n, m), -1, dtype=np.int8)
    for j in range(base):
        if poles[j] >= 0:
            # Votes its class c when the row is c (prob. cov) or, rarely, when it is not: precision = acc.
            c = poles[j]
            hit = (y == c) & (rng.random(n) < cov[j])
            rate_c = cov[j] * balance[c] / balance.sum()
            false_rate = rate_c * (1 - acc[j]) / acc[j] / max(1e-9, 1 - balance[c] / balance.sum())
            false = (y != c) & (rng.random(n) < min(1.0, false_rate))
            L[hit | false, j] = c
            continue
        votes = rng.random(n) < cov[j]
        right = rng.random(n) < acc[j]
        wrong = (y + rng.integers(1, k, size=n)) % k
        L[votes, j] = np.where(right, y, wrong)[votes]
    accs = list(acc)
    for c in range(copies):
        src = c % base
        col = L[:, src].copy()
        redraw = rng.random(n) < 0.1
        col[redraw] = -1
        L[:, base + c] = col
        accs.append(acc[src])
    return SyntheticVotes(L=L, y=y, accuracies=np.asarray(accs))


@dataclass
class KeywordLFs:
    """Parameters of keyword-like LFs: LF ``j`` votes only class ``pole[j]``; ``fire[j, y]`` is the
    chance it fires on a row of class ``y`` (high on its own class, lower and uneven on the classes it
    confuses its own with). LFs in one ``group`` fire together (shared keywords): correlated LFs."""

    pole: np.ndarray  # m
    fire: np.ndarray  # m x k
    group: np.ndarray  # m: LFs with the same group id share a trigger (-1: independent)
    share: float  # chance a grouped LF follows its group's trigger instead of firing on its own

    def draw(self, n: int, class_balance: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` rows with classes drawn from ``class_balance``: the votes ``L`` and the gold ``y``."""
        k = self.fire.shape[1]
        p = np.asarray(class_balance, dtype=float)
        y = rng.choice(k, size=n, p=p / p.sum())
        L = np.full((n, len(self.pole)), -1, dtype=np.int8)
        triggers: dict[int, np.ndarray] = {}
        for j, c in enumerate(self.pole):
            own = rng.random(n) < self.fire[j, y]
            g = int(self.group[j])
            if g >= 0:
                if g not in triggers:  # the group's trigger fires as its first member would
                    triggers[g] = rng.random(n) < self.fire[j, y]
                follow = rng.random(n) < self.share
                own = np.where(follow, triggers[g], own)
            L[own, j] = c
        return L, y


def make_keyword_lfs(
    m: int, k: int, recall: tuple[float, float], precision: tuple[float, float], class_balance: np.ndarray,
    group_size: int = 1, grouped: float = 0.0, share: float = 0.8, poles: np.ndarray | None = None,
    confusion_concentration: float = 0.3, seed: int = 0,
) -> KeywordLFs:
    """Draw keyword-LF parameters: each LF fires on ``recall`` of its class's rows with the given
    ``precision`` (both drawn uniformly per LF, at ``class_balance``); its false fires land on the other
    classes with Dirichlet(``confusion_concentration``) shares, so each LF confuses a few classes. A
    share ``grouped`` of the LFs come in groups of ``group_size`` that fire together."""
    rng = np.random.default_rng(seed)
    p = np.asarray(class_balance, dtype=float) / np.sum(class_balance)
    pole = rng.integers(0, k, size=m) if poles is None else np.asarray(poles)
    fire = np.zeros((m, k))
    for j in range(m):
        c = int(pole[j])
        r = rng.uniform(*recall)
        prec = rng.uniform(*precision)
        fire[j, c] = r
        false_mass = r * p[c] * (1 - prec) / prec  # P(fires and row is not c)
        others = [o for o in range(k) if o != c]
        split = rng.dirichlet(np.full(len(others), confusion_concentration))
        fire[j, others] = np.minimum(1.0, false_mass * split / np.maximum(p[others], 1e-9))
    group = np.full(m, -1)
    n_grouped = int(round(grouped * m)) // max(group_size, 1) * max(group_size, 1)
    if group_size > 1 and n_grouped:
        members = rng.permutation(m)[:n_grouped]
        for g in range(n_grouped // group_size):
            ids = members[g * group_size:(g + 1) * group_size]
            group[ids] = g
            pole[ids] = pole[ids[0]]  # a group shares its keywords, so its class
            fire[ids] = fire[ids[0]]
    return KeywordLFs(pole=pole, fire=fire, group=group, share=share)


@dataclass
class DevelopmentSet:
    """One label matrix of the development suite: train votes (no gold), dev and test with gold."""

    name: str
    k: int
    L_train: np.ndarray
    y_train: np.ndarray  # for analysis only: a label model never sees it
    L_dev: np.ndarray
    y_dev: np.ndarray
    L_test: np.ndarray
    y_test: np.ndarray


def make_dependent_spam(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Six one-class LFs on balanced ham (0) / spam (1) with the dependencies real spam rules have (the
    Snorkel spam tutorial's): a link rule (column 0) and a check-out rule (1) match disjoint kinds of spam
    (20% and 30% of it), so they rarely fire together; a short-comment ham rule (3) fires on 90% of the
    link spam (a bare link is short). Independent of those: a "my" spam rule (2) and two ham rules (4, 5).
    Returns the votes ``L`` and the gold ``y``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    spam, ham = y == 1, y == 0
    kind = rng.random(n)
    link, check_out = spam & (kind < 0.2), spam & (kind >= 0.2) & (kind < 0.5)

    def draw(p: float) -> np.ndarray:
        return rng.random(n) < p

    L = np.full((n, 6), -1, dtype=np.int8)
    L[link | (ham & draw(0.01)), 0] = 1
    L[check_out | (ham & draw(0.01)), 1] = 1
    L[(spam & draw(0.3)) | (ham & draw(0.03)), 2] = 1
    L[(ham & draw(0.3)) | (link & draw(0.9)) | (spam & ~link & draw(0.05)), 3] = 0
    L[(ham & draw(0.2)) | (spam & draw(0.05)), 4] = 0
    L[(ham & draw(0.4)) | (spam & draw(0.25)), 5] = 0
    return L, y


def development_suite(scale: float = 1.0, seed: int = 0) -> list[DevelopmentSet]:
    """Label matrices with the structures that break label models: many sparse one-class keyword LFs on
    6 and 9 classes, heavy class imbalance, LFs correlated in groups, a tiny dev set, a test set whose
    class shares differ from train, LFs worse than chance, dense independent LFs, and one-class LFs with
    dependencies the class does not explain (make_dependent_spam). ``scale``
    multiplies the row counts (train 5000, dev 300, test 1000 at 1.0). For development and the bench,
    not a judge of the model (the four public benchmark sets are)."""
    n_train, n_dev, n_test = (max(50, int(v * scale)) for v in (5000, 300, 1000))
    out: list[DevelopmentSet] = []

    def add(name: str, k: int, lfs: KeywordLFs, balance: list[float], test_balance: list[float] | None = None,
            dev_rows: int | None = None, offset: int = 0) -> None:
        rng = np.random.default_rng(seed + 1000 + offset)
        L_tr, y_tr = lfs.draw(n_train, np.asarray(balance), rng)
        L_dv, y_dv = lfs.draw(dev_rows or n_dev, np.asarray(balance), rng)
        L_te, y_te = lfs.draw(n_test, np.asarray(test_balance or balance), rng)
        out.append(DevelopmentSet(name, k, L_tr, y_tr, L_dv, y_dv, L_te, y_te))

    trec = [0.02, 0.2, 0.23, 0.22, 0.16, 0.17]
    add("keyword-6class", 6, make_keyword_lfs(70, 6, (0.01, 0.15), (0.3, 0.95), np.asarray(trec), seed=seed + 1),
        trec, offset=1)
    add("keyword-6class-grouped", 6, make_keyword_lfs(70, 6, (0.01, 0.2), (0.25, 0.9), np.asarray(trec),
                                                      group_size=4, grouped=0.5, seed=seed + 2), trec, offset=2)
    add("keyword-6class-tiny-dev", 6, make_keyword_lfs(60, 6, (0.02, 0.2), (0.3, 0.95), np.asarray(trec),
                                                       seed=seed + 3), trec, dev_rows=30, offset=3)
    nine = [0.05, 0.08, 0.1, 0.12, 0.15, 0.18, 0.12, 0.1, 0.1]
    add("keyword-9class", 9, make_keyword_lfs(160, 9, (0.005, 0.08), (0.4, 0.98), np.asarray(nine),
                                              seed=seed + 4), nine, offset=4)
    sms = [0.87, 0.13]
    add("imbalanced-binary", 2, make_keyword_lfs(60, 2, (0.01, 0.12), (0.5, 0.98), np.asarray(sms),
                                                 poles=(np.arange(60) % 6 == 0).astype(int) ^ 1, seed=seed + 5),
        sms, offset=5)
    spam = [0.5, 0.5]
    add("spam-binary", 2, make_keyword_lfs(10, 2, (0.05, 0.4), (0.6, 0.95), np.asarray(spam), seed=seed + 6),
        spam, offset=6)
    add("shifted-test-binary", 2, make_keyword_lfs(16, 2, (0.05, 0.4), (0.55, 0.95), np.asarray([0.3, 0.7]),
                                                   group_size=3, grouped=0.4, seed=seed + 7),
        [0.3, 0.7], test_balance=[0.6, 0.4], offset=7)
    add("correlated-4class", 4, make_keyword_lfs(32, 4, (0.05, 0.3), (0.4, 0.9), np.full(4, 0.25), group_size=6,
                                                 grouped=0.75, share=0.9, seed=seed + 8), [0.25] * 4, offset=8)
    for name, spec in (
        ("dense-3class", {"m": 12, "k": 3, "accuracy": (0.4, 0.9), "coverage": (0.2, 0.6)}),
        ("worse-than-chance-binary", {"m": 12, "k": 2, "accuracy": (0.2, 0.8), "coverage": (0.3, 0.7)}),
    ):
        data = make_votes(n=n_train + n_dev + n_test, seed=seed + 9, **spec)
        a, b = n_train, n_train + n_dev
        out.append(DevelopmentSet(name, spec["k"], data.L[:a], data.y[:a], data.L[a:b], data.y[a:b], data.L[b:],
                                  data.y[b:]))
    L, y = make_dependent_spam(n_train + n_dev + n_test, seed=seed + 10)
    a, b = n_train, n_train + n_dev
    out.append(DevelopmentSet("dependent-spam-binary", 2, L[:a], y[:a], L[a:b], y[a:b], L[b:], y[b:]))
    return out
