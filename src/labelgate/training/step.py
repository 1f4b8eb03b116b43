"""The train step as the pipeline runs it: the ingested table and the label model's probabilities in,
a model directory (weights + preprocessing) and training metrics out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelgate import contract
from labelgate.config import load_config
from labelgate.contract import COVERED, DEV, SOURCE, SPLIT, Split, aligned_probs, prob_column, read_table
from labelgate.errors import ConfigError, ModelError
from labelgate.ingest.settings import DataSettings
from labelgate.run import Step, progress
from labelgate.training.settings import AUTO, TrainingSettings


def training_table(frame: pd.DataFrame, probs: pd.DataFrame, data: DataSettings, *, min_confidence: float = 0.0,
                   dev_weight: float = 0.0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The train-split rows to learn from (whole rows of ``frame``), their soft labels and weights: rows that
    at least one LF covered and whose top probability reaches ``min_confidence``, plus (``dev_weight`` > 0)
    the dev rows with their gold labels one-hot and that weight."""
    aligned = aligned_probs(probs, len(frame), data.cardinality)
    values = aligned[[prob_column(c) for c in range(data.cardinality)]].to_numpy(dtype=np.float64)
    train = frame[SPLIT].to_numpy() == Split.TRAIN
    keep = train & aligned[COVERED].to_numpy(dtype=bool)
    if min_confidence > 0:
        keep &= ~(np.nan_to_num(values, nan=1.0).max(axis=1) < min_confidence)
    dev = train & frame[DEV].fillna(False).to_numpy(dtype=bool) & frame[data.label_column].notna().to_numpy()
    if dev_weight > 0:
        keep &= ~dev  # dev rows enter once, with their gold label
    targets, weights = values[keep], np.ones(int(keep.sum()))
    rows = frame.loc[keep]
    if dev_weight > 0:
        gold = frame.loc[dev, data.label_column].to_numpy(dtype=np.int64)
        rows = pd.concat([rows, frame.loc[dev]])
        targets = np.vstack([targets, np.eye(data.cardinality)[gold]])
        weights = np.concatenate([weights, np.full(len(gold), dev_weight)])
    return rows.reset_index(drop=True), targets, weights


def training_rows(frame: pd.DataFrame, probs: pd.DataFrame, data: DataSettings, *, min_confidence: float = 0.0,
                  dev_weight: float = 0.0) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts, soft labels and weights of the rows :func:`training_table` picks."""
    rows, targets, weights = training_table(frame, probs, data, min_confidence=min_confidence, dev_weight=dev_weight)
    return rows[data.text_column].fillna("").astype(str).tolist(), targets, weights


def check_feature_columns(settings: TrainingSettings, data: DataSettings) -> None:
    """A feature column may not be the text, the id, the label (hidden on train rows, present on test: the
    model would read the answer) or a column ingest adds."""
    reserved = {data.text_column, data.id_column, data.label_column, data.role_column, SOURCE, SPLIT, DEV} - {None}
    bad = sorted(reserved & set(settings.feature_columns))
    if bad:
        raise ConfigError(f"config training.feature_columns names {bad}: the text, id, label, role and ingest's "
                          f"{SOURCE}/{SPLIT}/{DEV} columns cannot be model features; list other data columns")


def keep_training_inputs(*, model_dir: str | Path, config_path: str, lf_module: str = "") -> None:
    """Copy the config (and the LF module's source file, when given) into ``model_dir``, so that the model
    and the registered bundle carry what they were trained with (``labelgate monitor`` runs those LFs)."""
    import fsspec

    from labelgate.labeling.loader import lf_source_path

    target = Path(model_dir)
    with fsspec.open(str(config_path), "rb") as fh:
        (target / contract.TRAINING_CONFIG_FILE).write_bytes(fh.read())
    if lf_module:
        source = lf_source_path(lf_module)
        if source is None:
            raise ModelError(f"the LF module {lf_module!r} has no source file to keep with the model")
        (target / contract.LF_MODULE_FILE).write_bytes(source.read_bytes())


def switch_line(switch: dict[str, Any], trials: list[dict[str, Any]]) -> str:
    """Why the search kept its baseline or left it: the best trial's net rows and z against the threshold."""
    family = {t["number"]: t["family"] for t in trials}
    lead = (f"trial {switch['best']} ({family.get(switch['best'])}) is ahead of the baseline trial {switch['baseline']} "
            f"({family.get(switch['baseline'])}) by {switch['wins'] - switch['losses']:+d} valid rows net "
            f"({switch['wins']} won, {switch['losses']} lost, z {switch['z']:.2f})")
    if switch["switched"]:
        return f"left the baseline: {lead}, more than training.search_switch_z = {switch['z_needed']}"
    return f"kept the baseline: {lead}, not more than training.search_switch_z = {switch['z_needed']}"


def run_plan_search(*, config_path: str, search_groups: int) -> list[int]:
    """The search groups the train step fans out over (``labelgate.training.search.search_groups``): one when
    the config names a family."""
    from labelgate.training.search import search_groups as groups_for

    settings = TrainingSettings.from_section(load_config(config_path)["training"])
    return groups_for(settings, search_groups)


def run_train(*, data_path: str, probs_path: str, config_path: str, seed: int, model_dir: str,
              lineage: dict[str, Any] | None = None, lf_module: str = "", group: int = 0,
              groups: int = 1) -> dict[str, Any]:
    """Train the configured model on ``probs`` for the rows of ``data``; save it to ``model_dir`` with the
    config and the LF module (``lf_module``, when given) it was trained with. ``family: auto`` searches the
    families first (``labelgate.training.search``; with ``groups`` > 1 only group ``group``'s share of the
    trials, merged later by :func:`run_select_model`) and writes every trial to ``trials.json`` beside the model.
    Returns what the component logs: the numbers as metrics (valid accuracy/log loss, epochs, rows, speed,
    search trials/seconds) and ``family``, the trained family."""
    from labelgate.training.search import TRIALS_FILE, TrainRows, search_model  # torch: only when training
    from labelgate.training.trainer import refit_with_valid, train_classifier

    config = load_config(config_path)
    data = DataSettings.from_section(config["data"])
    settings = TrainingSettings.from_section(config["training"])
    check_feature_columns(settings, data)
    frame = read_table(data_path, "data")
    probs = read_table(probs_path, "probs")
    valid_texts, valid_labels = contract.gold_rows(frame, text_column=data.text_column, label_column=data.label_column,
                                                     n_classes=data.cardinality, split=Split.VALID)
    valid_features = None
    if settings.feature_columns:
        valid_features = frame[frame[SPLIT] == Split.VALID]
        progress(Step.TRAIN, f"tabular feature columns beside the text: {list(settings.feature_columns)}")
    n_train = int((frame[SPLIT] == Split.TRAIN).sum())

    def rows_for(dev_weight: float) -> TrainRows:
        rows, targets, weights = training_table(frame, probs, data, min_confidence=settings.min_confidence,
                                                dev_weight=dev_weight)
        return TrainRows(texts=rows[data.text_column].fillna("").astype(str).tolist(), targets=targets,
                         weights=weights, features=rows if settings.feature_columns else None)

    def report(epoch: dict[str, float]) -> None:
        # Every 10th epoch on the terminal; each one is in history.json and the report's training curves.
        if epoch["epoch"] != 1 and epoch["epoch"] % 10:
            return
        progress(Step.TRAIN, f"epoch {epoch['epoch']}: train loss {epoch['train_loss']:.4f}, valid log loss "
                          f"{epoch['valid_log_loss']:.4f}, valid accuracy {epoch['valid_accuracy']:.3f}")

    search = None
    if settings.family != AUTO and group != 0:
        raise ModelError(f"training.family is {settings.family}: there is no search to split, so only group 0 trains "
                         f"(got group {group} of {groups})")
    if settings.family == AUTO:
        from labelgate.training.search import group_share, search_groups

        groups = len(search_groups(settings, groups))  # as the plan step counted them: at most one per trial
        share = group_share(settings, group, groups)[0]
        which = "" if groups == 1 else f" (group {group + 1} of {groups}: {share} of the {settings.search_trials} trials)"
        progress(Step.TRAIN, f"searching {', '.join(settings.search_families)} for at most {share} "
                          f"trials or {settings.search_budget_s:.0f} s{which}, scored on {len(valid_texts)} valid rows; seed {seed}")

        where = "" if groups == 1 else f" of group {group + 1}"

        def trial_line(t: dict[str, Any]) -> None:
            progress(Step.TRAIN, f"trial {t['number']}{where} {t['family']}: valid accuracy {t['valid_accuracy']:.3f}, "
                              f"log loss {t['valid_log_loss']:.4f} ({t['seconds']:.1f} s)")

        search = search_model(rows_for=rows_for, valid_texts=valid_texts, valid_labels=valid_labels,
                              valid_features=valid_features, classes=data.classes, settings=settings, seed=seed,
                              on_trial=trial_line, group=group, groups=groups)
        result, chosen = search.best, search.settings
        for family, why in search.skipped.items():
            progress(Step.TRAIN, f"{family} skipped: {why}")
        if search.switch:
            progress(Step.TRAIN, switch_line(search.switch, search.trials))
        progress(Step.TRAIN, f"{'chose' if groups == 1 else f'group {group + 1} chose'} {chosen.family} after "
                             f"{len(search.trials)} trials in {search.seconds:.0f} s")
        train = rows_for(chosen.dev_weight)
    else:
        chosen = settings
        train = rows_for(settings.dev_weight)
        texts = train.texts
        progress(Step.TRAIN, f"{len(texts)} rows to learn from ({n_train} train rows; min confidence "
                          f"{settings.min_confidence}, dev weight {settings.dev_weight}); {settings.family}, seed {seed}")
        result = train_classifier(train_texts=texts, train_targets=train.targets, valid_texts=valid_texts,
                                  valid_labels=valid_labels, classes=data.classes, settings=settings,
                                  seed=seed, train_weights=train.weights, on_epoch=report,
                                  train_features=train.features, valid_features=valid_features)
    texts = train.texts
    if chosen.refit_valid_weight > 0:
        result = refit_with_valid(result, train_texts=texts, train_targets=train.targets, train_weights=train.weights,
                                  valid_texts=valid_texts, valid_labels=valid_labels, classes=data.classes,
                                  settings=chosen, seed=seed, train_features=train.features,
                                  valid_features=valid_features)
        progress(Step.TRAIN, f"refit: trained again on {len(texts)} rows + the {len(valid_texts)} gold valid rows "
                             f"(weight {chosen.refit_valid_weight}) for the {result.best_epoch} epochs chosen; the "
                             f"valid scores below are from before the refit (training.refit_valid_weight: 0 skips it)")
    result.predictor.info.update({
        "settings": chosen.model_dump(mode="json"),
        "seed": seed, "train_rows": len(texts), "valid_accuracy": result.valid_accuracy,
        "valid_log_loss": result.valid_log_loss, "lineage": lineage or {},
    })
    if search is not None:
        result.predictor.info["search"] = {"trials": len(search.trials), "seconds": search.seconds,
                                           "skipped": search.skipped, "file": TRIALS_FILE}
    result.predictor.save(model_dir)
    (Path(model_dir) / "history.json").write_text(json.dumps(result.history, indent=2))
    if search is not None:
        (Path(model_dir) / TRIALS_FILE).write_text(json.dumps(search.record(), indent=2, default=str))
    keep_training_inputs(model_dir=model_dir, config_path=config_path, lf_module=lf_module)
    progress(Step.TRAIN, f"best epoch {result.best_epoch}/{result.epochs_run}: valid accuracy "
                      f"{result.valid_accuracy:.3f} on {result.device}")
    metrics: dict[str, Any] = {
        "valid_accuracy": result.valid_accuracy, "valid_log_loss": result.valid_log_loss,
        "best_epoch": result.best_epoch, "epochs_run": result.epochs_run, "train_rows": len(texts),
        "train_row_fraction": len(texts) / max(n_train, 1), "seconds_per_epoch": result.seconds_per_epoch,
        "examples_per_second": float(np.mean([h["examples_per_second"] for h in result.history])),
    }
    if search is not None:
        metrics.update({"search_trials": len(search.trials), "search_seconds": search.seconds})
    metrics["family"] = chosen.family  # the one text entry: model metadata and MLflow params, not a KFP metric
    return metrics


def run_select_model(*, model_dirs: list[str], out_dir: str) -> tuple[int, dict[str, Any]]:
    """Keep the best of the search groups' models (``labelgate.training.search.merge_groups``): copy it to
    ``out_dir`` with one ``trials.json`` over every group's trials. Returns the kept group's index in
    ``model_dirs`` and what changes in its metrics (the search's trials and seconds over all groups); a model
    trained without a search (one directory, no ``trials.json``) is copied as it is."""
    import shutil

    from labelgate.training.predictor import MODEL_FILE
    from labelgate.training.search import TRIALS_FILE, merge_groups

    if not model_dirs:
        raise ModelError("the train step produced no model to select from")
    records = []
    for path in model_dirs:
        trials = Path(path) / TRIALS_FILE
        if not trials.is_file():
            if len(model_dirs) > 1:
                raise ModelError(f"{path} holds no {TRIALS_FILE}: only a family: auto search trains in groups")
            records = []
            break
        records.append(json.loads(trials.read_text()))
    best, merged = merge_groups(records) if records else (0, None)
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(model_dirs[best], out)
    if merged is None:
        return best, {}
    (out / TRIALS_FILE).write_text(json.dumps(merged, indent=2, default=str))
    model_json = out / MODEL_FILE
    info = json.loads(model_json.read_text())
    info.setdefault("search", {}).update({"trials": len(merged["trials"]), "seconds": merged["seconds"],
                                          "skipped": merged["skipped"], "groups": merged["groups"]})
    model_json.write_text(json.dumps(info, indent=2, sort_keys=True))
    progress(Step.SELECT_MODEL, f"kept group {best + 1} of {len(model_dirs)}: {merged['chosen_family']}, valid accuracy "
                                f"{merged['valid_accuracy']:.3f} ({len(merged['trials'])} trials in all)")
    switch = merged.get("group_switch")
    if switch:
        verdict = "more" if switch["switched"] else "not more"
        progress(Step.SELECT_MODEL, f"group {switch['to_group'] + 1}'s model against the baseline's group "
                                    f"{switch['from_group'] + 1}: {switch['wins'] - switch['losses']:+d} valid rows net, "
                                    f"z {switch['z']:.2f}, {verdict} than training.search_switch_z = {switch['z_needed']}")
    return best, {"search_trials": len(merged["trials"]), "search_seconds": merged["seconds"]}
