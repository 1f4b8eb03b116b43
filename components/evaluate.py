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
    pipeline_run: str,
    metrics: Output[Metrics],
    classification_metrics: Output[ClassificationMetrics],
    report: Output[HTML],
    blessing: Output[Artifact],
    setup_digest: str = "",
    champion_digest: str = "",
) -> NamedTuple("Outputs", [("blessed", bool), ("reason", str)]):
    """Score the model on the gold test split; bless it only if the thresholds hold and it is not
    worse than the champion beyond the tolerance (paired bootstrap). ``pipeline_run`` (KFP's job id)
    names the MLflow run this step logs into. ``*_digest``: content digests of what this step reads (see ``labelgate.run.DIGESTS``); only kfp's cache reads them."""
    from collections import namedtuple

    from labelgate.evaluation.step import run_evaluate
    from labelgate.registry.tracking import track_step
    from labelgate.run import Step, step_failures

    with step_failures(Step.EVALUATE, blessing.path):
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
        registry_uri=registry_uri, model_name=model_name, run_key=pipeline_run, step=Step.EVALUATE,
        params={"min_test_accuracy": min_test_accuracy, "min_test_f1": min_test_f1,
                "champion_tolerance": champion_tolerance, "seed": seed},
        metrics=dict(metrics.metadata),
        metadata={"blessing": blessing.metadata, "model": model.metadata, "lf_analysis": lf_analysis.metadata,
                  "validation_report": validation_report.metadata, "data": data.metadata},
        reports={"blessing.json": blessing.path, "report.html": report.path, "lf_analysis.md": lf_analysis.path,
                 "validation_report.md": validation_report.path,
                 # the model search's trials (family auto); absent for a fixed family, and then not uploaded
                 "trials.json": f"{model.path}/trials.json"},
    )
    return namedtuple("Outputs", ["blessed", "reason"])(outcome.blessed, outcome.reason)
