"""The run report: one self-contained HTML file (the KFP ``report`` artifact) with the gate decision,
metrics, slices, LF analysis, validation summary and lineage; its plots are also written as PNG files
in ``<report>_files/`` beside it, with a copy of the page as ``index.html`` for people to open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from labelgate.plots import figure, inline_png, save_png
from labelgate.rendering import markdown_html, render

if TYPE_CHECKING:
    from labelgate.evaluation.step import EvaluationOutcome, ModelEvaluation

COLORS = {"challenger": "#1f77b4", "champion": "#ff7f0e"}


def assets_dir(report_path: Path) -> Path:
    """Where the report's PNG files and ``index.html`` go: ``<report>_files/`` next to the report."""
    return report_path.parent / f"{report_path.name}_files"


def _models(outcome: EvaluationOutcome) -> list[ModelEvaluation]:
    return [m for m in (outcome.challenger, outcome.champion) if m is not None]


def plot_confusion(outcome: EvaluationOutcome, path: Path) -> Path:
    models = _models(outcome)
    with figure(1, len(models), figsize=(4.2 * len(models), 3.8), squeeze=False) as (fig, axes):
        for ax, model in zip(axes[0], models, strict=True):
            matrix = np.asarray(model.confusion)
            ax.imshow(matrix, cmap="Blues")
            for (i, j), value in np.ndenumerate(matrix):
                ax.text(j, i, str(value), ha="center", va="center",
                        color="white" if value > matrix.max() / 2 else "black", fontsize=12)
            ax.set_xticks(range(len(outcome.classes)), outcome.classes)
            ax.set_yticks(range(len(outcome.classes)), outcome.classes)
            ax.set_xlabel("predicted")
            ax.set_ylabel("gold")
            ax.set_title(f"{model.name} (accuracy {model.scores.accuracy:.3f})")
        fig.tight_layout()
        save_png(fig, path)
    return path


def plot_roc(outcome: EvaluationOutcome, path: Path) -> Path | None:
    models = [m for m in _models(outcome) if m.roc is not None]
    if not models:
        return None
    with figure(figsize=(4.6, 4.2)) as (fig, ax):
        for model in models:
            ax.plot(model.roc["fpr"], model.roc["tpr"], color=COLORS[model.name],
                    label=f"{model.name} (AUC {model.scores.roc_auc:.3f})")
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_title(f"ROC, positive class '{outcome.blessing['positive_class']}'")
        ax.legend(loc="lower right")
        fig.tight_layout()
        save_png(fig, path)
    return path


def plot_calibration(outcome: EvaluationOutcome, path: Path) -> Path:
    with figure(figsize=(4.6, 4.2)) as (fig, ax):
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect")
        for model in _models(outcome):
            bins = [b for b in model.calibration if b["count"]]
            ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o",
                    color=COLORS[model.name], label=f"{model.name} (ECE {model.scores.calibration_error:.3f})")
            for b in bins:  # how many test rows each point stands for
                ax.annotate(f"n={b['count']}", (b["confidence"], b["accuracy"]), textcoords="offset points",
                            xytext=(4, -11), fontsize=7, color=COLORS[model.name])
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("confidence (max probability)")
        ax.set_ylabel("accuracy")
        ax.set_title("calibration (test rows binned by confidence)")
        ax.legend(loc="upper left")
        fig.tight_layout()
        save_png(fig, path)
    return path


def plot_slices(outcome: EvaluationOutcome, path: Path) -> Path:
    models = _models(outcome)
    labels = [f"{s['slice']}: {s['name']}\n(n={s['n']})" for s in outcome.challenger.slices]
    y = np.arange(len(labels))
    height = 0.8 / len(models)
    with figure(figsize=(7, 0.55 * len(labels) + 1.4)) as (fig, ax):
        for i, model in enumerate(models):
            values = [s["accuracy"] for s in model.slices]
            bars = ax.barh(y + i * height, values, height=height, color=COLORS[model.name], label=model.name)
            ax.bar_label(bars, fmt="%.3f", fontsize=8, padding=2)
        ax.set_yticks(y + height * (len(models) - 1) / 2, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1.12)
        ax.set_xlabel("test accuracy")
        ax.set_title("accuracy per slice (source file, text length in characters)", fontsize=10)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        fig.tight_layout()
        save_png(fig, path)
    return path


def plot_bootstrap(outcome: EvaluationOutcome, path: Path) -> Path | None:
    result = outcome.bootstrap
    if result is None:
        return None
    tolerance = outcome.blessing["thresholds"]["champion_tolerance"]
    with figure(figsize=(6, 3.4)) as (fig, ax):
        bins: int | np.ndarray = 41
        if result.metric == "accuracy":  # differences are multiples of 1/n: one bar per possible value
            step = 1.0 / outcome.blessing["test_rows"]
            bins = np.arange(result.differences.min() - step / 2, result.differences.max() + step, step)
        ax.hist(result.differences, bins=bins, color="#9ecae1", edgecolor="white")
        for x, style, label in ((result.lower, "--", f"CI lower {result.lower:+.3f}"),
                                (result.upper, "--", f"CI upper {result.upper:+.3f}"),
                                (tolerance, "-", f"tolerance {tolerance:+.3f}")):
            ax.axvline(x, linestyle=style, color="#d62728" if style == "-" else "#08519c", label=label)
        ax.set_xlabel(f"{result.metric}(challenger) - {result.metric}(champion)")
        ax.set_ylabel("resamples")
        ax.set_title(f"paired bootstrap, {result.resamples} resamples")
        ax.legend(fontsize=8)
        fig.tight_layout()
        save_png(fig, path)
    return path


def plot_training(history: list[dict[str, float]], best_epoch: int | None, path: Path,
                  refit: dict[str, Any] | None = None) -> Path | None:
    """Loss and valid accuracy per epoch, the epoch early stopping kept; with ``refit`` (``training.refit_valid_weight``)
    the legend says the served model is that many epochs trained again with the valid rows added."""
    if not history:
        return None
    epochs = [h["epoch"] for h in history]
    with figure(figsize=(6, 4.0)) as (fig, ax):
        ax.plot(epochs, [h["train_loss"] for h in history], marker=".", label="train soft cross-entropy")
        ax.plot(epochs, [h["valid_log_loss"] for h in history], marker=".", label="valid log loss (gold)")
        ax2 = ax.twinx()
        ax2.plot(epochs, [h["valid_accuracy"] for h in history], color="#2ca02c", marker=".", label="valid accuracy")
        ax2.set_ylabel("valid accuracy")
        if best_epoch:
            label = f"kept epoch {best_epoch}"
            if refit:
                label = f"chosen epoch {best_epoch}, then refit with the {refit['valid_rows']} valid rows"
            ax.axvline(best_epoch, color="grey", linestyle=":", label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title("training (early stopping on the valid split)")
        lines = ax.get_legend_handles_labels()
        lines2 = ax2.get_legend_handles_labels()
        ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7, loc="upper center",
                  bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)  # below the axes: never over a curve
        fig.tight_layout()
        save_png(fig, path)
    return path


FAMILY_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")


def plot_search(search: dict[str, Any] | None, path: Path) -> Path | None:
    """The model search (``trials.json``): each trial's valid accuracy in the order it ran (group after group
    when the search fanned out), by family; the chosen trial ringed."""
    trials = (search or {}).get("trials") or []
    if not trials:
        return None
    families = list(dict.fromkeys(t["family"] for t in trials))
    groups = int((search or {}).get("groups", 1))
    with figure(figsize=(6, 3.4)) as (fig, ax):
        for color, family in zip(FAMILY_COLORS * 4, families, strict=False):
            mine = [(i, t) for i, t in enumerate(trials) if t["family"] == family]
            ax.scatter([i for i, _ in mine], [t["valid_accuracy"] for _, t in mine], color=color, label=family)
        for i, t in enumerate(trials):
            if t.get("chosen"):
                ax.scatter([i], [t["valid_accuracy"]], s=160, facecolors="none", edgecolors="black",
                           label=f"chosen: {t['family']} ({t['valid_accuracy']:.3f})")
        if groups > 1:  # the groups ran side by side; here one after the other, split by dashed lines
            for i in range(1, len(trials)):
                if trials[i].get("group") != trials[i - 1].get("group"):
                    ax.axvline(i - 0.5, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel("trial" if groups == 1 else "trial, group by group (dashed: the next group)")
        ax.set_ylabel("valid accuracy")
        where = "" if groups == 1 else f" in {groups} parallel groups"
        ax.set_title(f"model search: {len(trials)} trials{where} in {search.get('seconds', 0):.0f} s (valid split only)")
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        save_png(fig, path)
    return path


METRIC_KEYS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "calibration_error")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "-" if np.isnan(value) else f"{value:.4f}"
    return str(value)


LINEAGE_KEYS = (
    ("data fingerprint", lambda key: key.endswith("fingerprint")),
    ("data repair: cells changed", lambda key: key.endswith("repair.cells_repaired")),
    ("table trained on (sha256, after repair)", lambda key: key.endswith("repair.output_sha256")),
    ("LF code hash", lambda key: "lf" in key and ("sha" in key or "hash" in key)),
    ("expectation suite hash", lambda key: "suite" in key and ("sha" in key or "hash" in key)),
    ("config sha256", lambda key: key.endswith("config_sha256")),
    ("git commit", lambda key: key.endswith("git_commit")),
)


def lineage_summary(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The lineage facts a reader looks for first, found by key name among the flattened metadata of
    the step's inputs; 'not recorded' when no upstream step stored one."""
    summary = []
    for label, matches in LINEAGE_KEYS:
        found = [value for key, value in rows if matches(key.lower())]
        summary.append((label, found[0] if found else "not recorded"))
    return summary


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            _flatten(f"{prefix}.{key}" if prefix else str(key), value[key], rows)
    elif value not in (None, "", [], {}):
        rows.append((prefix, value if isinstance(value, str) else json.dumps(value, default=str)))


def write_report(*, outcome: EvaluationOutcome, report_path: Path, model_info: dict[str, Any],
                 history_path: Path, lf_analysis: str, validation_report: str, config_text: str) -> Path:
    """Render the plots and the HTML page; return the path of ``index.html`` beside the artifact."""
    assets = assets_dir(report_path)
    assets.mkdir(parents=True, exist_ok=True)
    history = json.loads(history_path.read_text()) if history_path.is_file() else []
    trials_path = history_path.parent / "trials.json"  # written by a family: auto search (training.search)
    search = json.loads(trials_path.read_text()) if trials_path.is_file() else None
    made = [
        ("Confusion matrix on the test split", plot_confusion(outcome, assets / "confusion_matrix.png")),
        ("ROC curve", plot_roc(outcome, assets / "roc_curve.png")),
        ("Calibration (reliability diagram)", plot_calibration(outcome, assets / "calibration.png")),
        ("Accuracy per slice", plot_slices(outcome, assets / "slices.png")),
        ("Paired bootstrap of the primary metric", plot_bootstrap(outcome, assets / "bootstrap.png")),
        ("Training curves", plot_training(history, model_info.get("best_epoch"), assets / "training.png",
                                                  model_info.get("refit"))),
        ("Model search (family auto)", plot_search(search, assets / "model_search.png")),
    ]
    plots = [{"title": title, "file": path.name, "link": f"{assets.name}/{path.name}",
              "data": inline_png(path.read_bytes())} for title, path in made if path]
    models = _models(outcome)
    slice_rows = [{**row, "models": [m.slices[i] for m in models]} for i, row in enumerate(outcome.challenger.slices)]
    training = {k: v for k, v in model_info.items() if k not in ("lineage",)}
    lineage_rows: list[tuple[str, str]] = []
    _flatten("", outcome.blessing["lineage"], lineage_rows)
    html = render(
        "evaluation_report.html",
        model_name=outcome.blessing["model_name"], blessed=outcome.blessed, reason=outcome.reason,
        checks=outcome.blessing["checks"], thresholds=outcome.blessing["thresholds"],
        primary_metric=outcome.blessing["primary_metric"], test_rows=outcome.blessing["test_rows"],
        averaging=outcome.blessing.get("averaging", ""),
        roles=(outcome.blessing["lineage"].get("data") or {}).get("roles") or {},
        models=models, metric_keys=METRIC_KEYS, fmt=_fmt, bootstrap=outcome.bootstrap, plots=plots,
        slice_rows=slice_rows, training={k: json.dumps(v, default=str) if isinstance(v, dict | list) else v
                                         for k, v in sorted(training.items())},
        lf_analysis=markdown_html(lf_analysis), validation_report=markdown_html(validation_report),
        lineage_rows=lineage_rows, lineage_summary=lineage_summary(lineage_rows), config_text=config_text,
        config_sha=outcome.blessing["lineage"].get("config_sha256", "")[:12],
        blessing_json=json.dumps(outcome.blessing, indent=2, default=str),
    )
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(html, encoding="utf-8")
    index = assets / "index.html"
    index.write_text(html.replace(f'href="{assets.name}/', 'href="'), encoding="utf-8")
    return index
