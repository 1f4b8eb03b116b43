"""``training.family: auto``: choose the model family and its hyperparameters with Optuna, scored on the gold
valid split only (the test split is never read here).

Each family's first trial is the config's own hyperparameters; then a seeded TPE sampler proposes more, until
``search_trials`` trials or ``search_budget_s`` seconds of this process's CPU time (a trial that has
started finishes, so the search can overrun by one trial). The encoder family embeds the texts once (before its
first trial, and only when a sample says the whole embedding fits in what is left of the budget); every later
trial reuses the vectors. The best trial (valid accuracy, then valid log loss) is kept as it was trained, if
it beats the baseline (the config's ``hashed_linear`` trial) by more than ``search_switch_z`` standard deviations
in a paired sign test on the valid rows; otherwise the baseline is kept (a lead of a row or two on a small
valid split is noise, and the winner of many noisy trials is flattered by it).

On a cluster the search fans out (``search_groups``): group ``g`` of ``G`` runs its share of the trials in a
pod of its own, with a sampler seeded for that group and the config's trials of every ``G``-th family, within
the whole ``search_budget_s`` (the groups run side by side, so the wall time stays about the budget);
:func:`merge_groups` then keeps the best group's model and every group's trials."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelgate.errors import ModelError
from labelgate.training.settings import AUTO, TrainingSettings
from labelgate.training.trainer import TrainResult, train_classifier

TRIALS_FILE = "trials.json"
BASELINE = "hashed_linear"  # the family whose config trial a search keeps unless beaten significantly
# How much of the remaining budget embedding every text may take (the rest is for the encoder's trials).
EMBED_SHARE = 0.75
SAMPLE_TEXTS = 32


@dataclass
class TrainRows:
    """The rows one trial learns from: texts, soft targets (n x k), row weights and (with
    ``training.feature_columns``) the rows' feature columns."""

    texts: list[str]
    targets: np.ndarray
    weights: np.ndarray
    features: pd.DataFrame | None = None


@dataclass
class SearchResult:
    """The chosen trial's trained model, and every trial with its settings and valid score."""

    best: TrainResult
    settings: TrainingSettings
    trials: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0  # wall time
    cpu_seconds: float = 0.0  # this process's CPU time: what the budget counts
    skipped: dict[str, str] = field(default_factory=dict)  # family -> why it got no trial
    group: int = 0  # which share of a fanned-out search this is (search_groups)
    groups: int = 1
    # The kept model's right (1) and wrong (0) answers on the valid rows, in order: merge_groups compares groups.
    valid_correct: str = ""
    holds_baseline: bool = False  # this search ran the baseline's config trial
    switch: dict[str, Any] = field(default_factory=dict)  # the baseline against the best trial: the paired test

    def record(self) -> dict[str, Any]:
        """What goes into ``trials.json`` in the model directory (and the report)."""
        return {"chosen_family": self.settings.family, "chosen": self.best_params(), "switch": self.switch,
                "valid_correct": self.valid_correct, "holds_baseline": self.holds_baseline,
                "valid_accuracy": self.best.valid_accuracy, "valid_log_loss": self.best.valid_log_loss,
                "seconds": self.seconds, "cpu_seconds": self.cpu_seconds, "budget_s": self.settings.search_budget_s,
                "skipped": self.skipped, "trials": self.trials,
                "scored_on": "valid", "group": self.group, "groups": self.groups,
                "switch_z": self.settings.search_switch_z}

    def best_params(self) -> dict[str, Any]:
        return next(t["params"] for t in self.trials if t.get("chosen"))


def search_groups(settings: TrainingSettings, requested: int) -> list[int]:
    """The groups a search fans out over: ``requested`` of them, but never more than there are trials, and one
    when the config names a family (there is nothing to search)."""
    if requested < 1:
        raise ModelError(f"search_groups must be at least 1, got {requested}")
    if settings.family != AUTO:
        return [0]
    return list(range(min(requested, settings.search_trials)))


def group_share(settings: TrainingSettings, group: int, groups: int) -> tuple[int, list[str]]:
    """How many trials group ``group`` of ``groups`` runs (``search_trials`` dealt out in turn), and the
    families whose config trial it runs first (every ``groups``-th, the encoder first)."""
    if not 0 <= group < groups:
        raise ModelError(f"search group {group} is not one of 0..{groups - 1}")
    trials = settings.search_trials // groups + (group < settings.search_trials % groups)
    if trials < 1:
        raise ModelError(f"search group {group} of {groups} has no trial: training.search_trials is "
                         f"{settings.search_trials}; give at most that many search groups")
    return trials, ordered_families(settings)[group::groups]


def ordered_families(settings: TrainingSettings) -> list[str]:
    """The families searched, the encoder first: whether embedding fits is judged against the whole budget."""
    return sorted(dict.fromkeys(settings.search_families), key=lambda f: f != "minilm")


def group_seed(seed: int, group: int) -> int:
    """The sampler seed of a search group: the run's seed for group 0 (a search that does not fan out samples
    as it always did), an independent stream derived from both for the others."""
    return seed if group == 0 else int(np.random.SeedSequence([seed, group]).generate_state(1)[0])


def paired_test(base: str | np.ndarray, other: str | np.ndarray) -> dict[str, float]:
    """``other`` against ``base`` on the same valid rows (right/wrong per row, as arrays or '0'/'1' strings):
    the rows only ``other`` gets right (wins), only ``base`` gets right (losses), and the sign test's z."""
    a, b = (np.frombuffer(x.encode(), dtype=np.uint8) == ord("1") if isinstance(x, str) else np.asarray(x, dtype=bool)
            for x in (base, other))
    if a.shape != b.shape:
        raise ModelError(f"cannot compare searches scored on different valid rows ({a.size} and {b.size})")
    wins, losses = int((b & ~a).sum()), int((a & ~b).sum())
    z = (wins - losses) / np.sqrt(wins + losses) if wins + losses else 0.0
    return {"wins": wins, "losses": losses, "z": float(z)}


def _bits(correct: np.ndarray) -> str:
    return "".join("1" if c else "0" for c in np.asarray(correct, dtype=bool))


def merge_groups(records: Sequence[dict[str, Any]], switch_z: float | None = None) -> tuple[int, dict[str, Any]]:
    """Which group's model to keep, and one ``trials.json`` record over every group: all trials (each with its
    ``group``), only the kept one marked chosen, the groups' skips, the longest group's seconds (they ran side
    by side) and their CPU seconds summed. The group that ran the baseline keeps its model unless another
    group's is ahead on valid by more than ``switch_z`` (default: the records' own) standard deviations in a
    paired sign test; without such a group (or with ``switch_z`` 0): the best valid accuracy, then the lower
    valid log loss, then the lower group."""
    if not records:
        raise ModelError("no search group produced a model")

    def rank(i: int) -> tuple[float, float, int]:
        return records[i]["valid_accuracy"], -records[i]["valid_log_loss"], -records[i].get("group", i)

    best = max(range(len(records)), key=rank)
    z_needed = records[0].get("switch_z", 0.0) if switch_z is None else switch_z
    holders = [i for i, r in enumerate(records) if r.get("holds_baseline")]
    switch: dict[str, Any] = {}
    if z_needed > 0 and holders and best != holders[0]:
        base = holders[0]
        test = paired_test(records[base]["valid_correct"], records[best]["valid_correct"])
        switch = {"from_group": records[base].get("group", base), "to_group": records[best].get("group", best),
                  **test, "z_needed": z_needed, "switched": test["z"] > z_needed}
        if not switch["switched"]:
            best = base
    trials = []
    for i, record in enumerate(records):
        for trial in record["trials"]:
            trials.append({**trial, "group": record.get("group", i), "chosen": bool(trial.get("chosen")) and i == best})
    skipped: dict[str, str] = {}
    for record in records:
        skipped.update(record.get("skipped", {}))
    merged = {**records[best], "trials": trials, "skipped": skipped, "groups": len(records),
              "seconds": max(r["seconds"] for r in records), "cpu_seconds": sum(r["cpu_seconds"] for r in records),
              "holds_baseline": bool(holders)}
    if switch:
        merged["group_switch"] = switch
    merged.pop("group", None)
    return best, merged


def suggest(trial: Any, family: str, base: TrainingSettings) -> dict[str, Any]:
    """Hyperparameters of one trial of ``family`` (Optuna's define-by-run search space)."""
    params: dict[str, Any] = {
        "learning_rate": trial.suggest_float(f"{family}.learning_rate", 2e-3, 2e-2, log=True),
        "batch_size": trial.suggest_categorical(f"{family}.batch_size", [32, 64]),
        "dev_weight": trial.suggest_categorical(f"{family}.dev_weight", [0.0, 3.0, 10.0]),
        "confidence_weight": trial.suggest_categorical(f"{family}.confidence_weight", [False, True]),
    }
    if family == "hashed_embedding":
        params["embedding_dim"] = trial.suggest_categorical(f"{family}.embedding_dim", [16, 32, 64])
    if family == "minilm":
        params["encoder_ngrams"] = trial.suggest_categorical(f"{family}.encoder_ngrams", [True, False])
        params["head_hidden"] = trial.suggest_categorical(f"{family}.head_hidden", [0, 128])
    return params


def first_params(family: str, base: TrainingSettings) -> dict[str, Any]:
    """The config's own hyperparameters for ``family`` (its first trial), in the search space's names."""
    params = {"learning_rate": base.learning_rate, "batch_size": base.batch_size, "dev_weight": base.dev_weight,
              "confidence_weight": base.confidence_weight}
    if family == "hashed_embedding":
        params["embedding_dim"] = base.embedding_dim
    if family == "minilm":
        params.update({"encoder_ngrams": base.encoder_ngrams, "head_hidden": base.head_hidden})
    return params


RowsFor = Callable[[float], TrainRows]


def search_model(*, rows_for: RowsFor, valid_texts: Sequence[str], valid_labels: np.ndarray,
                 classes: Sequence[str], settings: TrainingSettings, seed: int,
                 valid_features: pd.DataFrame | None = None,
                 on_trial: Callable[[dict[str, Any]], None] | None = None,
                 group: int = 0, groups: int = 1) -> SearchResult:
    """Search ``settings.search_families`` (``rows_for(dev_weight)`` gives the training rows for a dev
    weight; ``valid_features``: the valid rows' feature columns, with ``training.feature_columns``); with
    ``groups`` > 1, only group ``group``'s share (:func:`group_share`). Deterministic for a seed and group, up to
    where the time budget cuts the trials."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # The budget is this process's CPU time: a machine busy with other work slows the search down but does
    # not change which trials it runs (on an idle machine CPU time is about the wall time, or more where
    # numpy's BLAS uses two cores while embedding).
    started, cpu_started = time.perf_counter(), time.process_time()
    deadline = cpu_started + settings.search_budget_s
    families = ordered_families(settings)
    n_trials, config_families = group_share(settings, group, groups)
    sampler = optuna.samplers.TPESampler(seed=group_seed(seed, group), n_startup_trials=max(len(families) * 2, 4))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for family in config_families:
        study.enqueue_trial({"family": family}, user_attrs={"config": True})
    trials: list[dict[str, Any]] = []
    models: dict[int, tuple[TrainResult, TrainingSettings]] = {}
    skipped: dict[str, str] = {}
    vectors: dict[str, np.ndarray] = {}

    def embed_fits() -> bool:
        """Embed a sample, extrapolate to every text not embedded yet; embed them all (train rows with and
        without the dev rows, and valid) only if that fits the budget's share."""
        from labelgate.training.encoder import cached_embeddings, load_encoder, missing

        if "ready" in vectors:
            return True
        everything = rows_for(0.0).texts + rows_for(1.0).texts + list(valid_texts)
        store = settings.encoder_store or None
        todo = missing(everything, max_tokens=settings.encoder_max_tokens, store=store)
        if todo:
            encoder = load_encoder("minilm", settings.encoder_max_tokens)
            counts = encoder.token_counts(todo)
            sample = np.linspace(0, len(todo) - 1, min(SAMPLE_TEXTS, len(todo))).astype(int)  # spread over the texts
            # The cost grows with the tokens; the full run batches texts of similar length (little padding), so
            # the sample runs in small batches too.
            t0 = time.process_time()
            encoder.encode([todo[i] for i in sample], batch_size=4)
            estimate = (time.process_time() - t0) * counts.sum() / max(counts[sample].sum(), 1)
            left = deadline - time.process_time()
            if estimate > EMBED_SHARE * left:
                skipped["minilm"] = (f"embedding {len(todo)} texts would take about {estimate:.0f} CPU s, more than "
                                     f"{EMBED_SHARE:.0%} of the {left:.0f} s left of training.search_budget_s")
                return False
            cached_embeddings(todo, max_tokens=settings.encoder_max_tokens, store=store)
        vectors["ready"] = np.zeros(0)
        return True

    def objective(trial: Any) -> float:
        family = trial.suggest_categorical("family", families)
        if family in skipped:
            raise optuna.TrialPruned(skipped[family])
        # The config's own values may lie outside the search space: its trials take them as they are.
        params = first_params(family, settings) if trial.user_attrs.get("config") else suggest(trial, family, settings)
        candidate = settings.model_copy(update={"family": family, **params})
        train = rows_for(candidate.dev_weight)
        if family == "minilm" and not embed_fits():
            raise optuna.TrialPruned(skipped[family])
        t0 = time.perf_counter()
        result = train_classifier(train_texts=train.texts, train_targets=train.targets, train_weights=train.weights,
                                  valid_texts=valid_texts, valid_labels=valid_labels, classes=classes,
                                  settings=candidate, seed=seed, train_features=train.features,
                                  valid_features=valid_features)
        models[trial.number] = (result, candidate)
        record = {"number": trial.number, "group": group, "family": family, "params": {"family": family, **params},
                  "source": "config" if trial.user_attrs.get("config") else "sampler",
                  "valid_accuracy": result.valid_accuracy, "valid_log_loss": result.valid_log_loss,
                  "best_epoch": result.best_epoch, "seconds": time.perf_counter() - t0}
        trials.append(record)
        if on_trial is not None:
            on_trial(record)
        # Valid accuracy first; among equal accuracies the lower valid log loss (never above 1e-3 of accuracy).
        return result.valid_accuracy - 1e-4 * min(result.valid_log_loss, 9.0)

    def spent(study: Any, trial: Any) -> None:
        if time.process_time() >= deadline:
            study.stop()

    study.optimize(objective, n_trials=n_trials, callbacks=[spent], catch=(), gc_after_trial=False)
    if not models:
        raise ModelError(f"the model search ran no trial within training.search_budget_s={settings.search_budget_s}")
    best_number = max(models, key=lambda n: (models[n][0].valid_accuracy, -models[n][0].valid_log_loss, -n))
    features = None if valid_features is None else {c: valid_features[c].tolist() for c in valid_features.columns}

    def correct(number: int) -> np.ndarray:
        return models[number][0].predictor.predict(list(valid_texts), features) == np.asarray(valid_labels)

    baseline = next((t["number"] for t in trials if t["family"] == BASELINE and t["source"] == "config"), None)
    switch: dict[str, Any] = {}
    kept_correct = correct(best_number)
    if baseline is not None and best_number != baseline and settings.search_switch_z > 0:
        base_correct = correct(baseline)
        switch = {"baseline": baseline, "best": best_number, **paired_test(base_correct, kept_correct),
                  "z_needed": settings.search_switch_z}
        switch["switched"] = switch["z"] > settings.search_switch_z
        if not switch["switched"]:
            best_number, kept_correct = baseline, base_correct
    for record in trials:
        record["chosen"] = record["number"] == best_number
    best, chosen = models[best_number]
    return SearchResult(best=best, settings=chosen, trials=trials, seconds=time.perf_counter() - started,
                        cpu_seconds=time.process_time() - cpu_started, skipped=skipped, group=group, groups=groups,
                        valid_correct=_bits(kept_correct), holds_baseline=baseline is not None, switch=switch)
