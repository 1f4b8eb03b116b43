"""Evaluate step: gold test metrics, champion/challenger gate, blessing and the run report."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact, ClassificationMetrics, Dataset, Input, Markdown, Metrics, Model, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def evaluate(
    data: Input[Dataset],
    model: Input[Model],
    lf_analysis: Input[Markdown],
    validation_report: Input[Markdown],
    config_path: str,
    registry_uri: str,
    model_name: str,
    min_test_accuracy: float,
    min_test_f1: float,
    champion_tolerance: float,
    seed: int,
    metrics: Output[Metrics],
    classification_metrics: Output[ClassificationMetrics],
    report: Output[HTML],
    blessing: Output[Artifact],
) -> NamedTuple("Outputs", [("blessed", bool), ("reason", str)]):
    """Score the model on the gold test split; bless it only if the thresholds hold and it is not
    worse than the champion beyond the tolerance (paired bootstrap)."""
    from collections import namedtuple

    from labelgate.evaluation.step import run_evaluate
    from labelgate.registry.tracking import track_step
    from labelgate.steps import step_failures

    with step_failures("evaluate", blessing.path):
        lineage = {"data": dict(data.metadata), "lf_analysis": dict(lf_analysis.metadata),
                   "validation": dict(validation_report.metadata)}
        outcome = run_evaluate(
            data_path=data.path, model_dir=model.path, lf_analysis_path=lf_analysis.path,
            validation_report_path=validation_report.path, config_path=config_path, registry_uri=registry_uri,
            model_name=model_name, min_test_accuracy=min_test_accuracy, min_test_f1=min_test_f1,
            champion_tolerance=champion_tolerance, seed=seed, report_path=report.path,
            blessing_path=blessing.path, lineage=lineage,
        )
        for name, value in outcome.metrics.items():
            metrics.log_metric(name, value)
        classification_metrics.log_confusion_matrix(outcome.classes, outcome.challenger.confusion)
        if outcome.challenger.roc is not None:
            roc = outcome.challenger.roc
            classification_metrics.log_roc_curve(roc["fpr"], roc["tpr"], roc["thresholds"])
        blessing.metadata.update({"blessed": outcome.blessed, "reason": outcome.reason})
    # This run's metrics, reports and plots in MLflow (a tracking failure warns, never fails the step).
    track_step(
        registry_uri=registry_uri, model_name=model_name, step="evaluate",
        artifacts=[metrics, blessing, report, model, lf_analysis, validation_report, data],
        params={"min_test_accuracy": min_test_accuracy, "min_test_f1": min_test_f1,
                "champion_tolerance": champion_tolerance, "seed": seed},
    )
    return namedtuple("Outputs", ["blessed", "reason"])(outcome.blessed, outcome.reason)
