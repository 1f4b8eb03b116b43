"""Validate step: the data gate (Great Expectations suite, denial constraints, drift against the champion)."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Dataset, Input, Markdown, Metrics, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def validate(
    data: Input[Dataset],
    label_matrix: Input[Dataset],
    probs: Input[Dataset],
    suite_path: str,
    constraints_path: str,
    config_path: str,
    registry_uri: str,
    model_name: str,
    pipeline_run: str,
    report: Output[Markdown],
    report_html: Output[HTML],
    profile: Output[Dataset],
    metrics: Output[Metrics],
    suite_digest: str = "",
    setup_digest: str = "",
    champion_digest: str = "",
) -> NamedTuple("Outputs", [("passed", bool), ("reason", str)]):
    """Check the ingested data; fail closed: a crash inside validation blocks the run with its reason.
    ``pipeline_run`` (KFP's job id) names the MLflow run this step logs into. ``*_digest``: content digests of what this step reads (see ``labelgate.run.DIGESTS``); only kfp's cache reads them."""
    from collections import namedtuple

    from labelgate.contract import file_sha256
    from labelgate.registry.tracking import track_step
    from labelgate.run import Step, step_failures
    from labelgate.validation.step import run_validate

    with step_failures(Step.VALIDATE, report.path):
        passed, reason, numbers = run_validate(
            data_path=data.path, label_matrix_path=label_matrix.path,
            lf_names=label_matrix.metadata.get("lf_names"), probs_path=probs.path, suite_path=suite_path,
            constraints_path=constraints_path, config_path=config_path, registry_uri=registry_uri,
            model_name=model_name, report_path=report.path, report_html_path=report_html.path,
            profile_path=profile.path,
        )
    for name, value in numbers.items():
        metrics.log_metric(name, value)
    profile.metadata["format"] = "labelgate validation profile (JSON)"
    report.metadata.update(suite_sha256=file_sha256(suite_path), constraints_sha256=file_sha256(constraints_path))
    # This run's data checks in MLflow (a tracking failure warns, never fails the step).
    track_step(registry_uri=registry_uri, model_name=model_name, run_key=pipeline_run, step=Step.VALIDATE,
               params={"passed": passed, "reason": reason}, metrics=dict(metrics.metadata),
               metadata={"report": report.metadata, "data": data.metadata}, reports={"report.md": report.path})
    return namedtuple("Outputs", ["passed", "reason"])(passed, reason)
