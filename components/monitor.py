"""Monitor step (the monitoring pipeline's first step): served traffic against the champion, as `labelgate monitor`;
on drift, with ``retrain_data_uri`` set, it also writes the retraining data the pipeline's training run reads."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact, Markdown, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def monitor(
    log_uri: str,
    registry_uri: str,
    model_name: str,
    since: str,
    all_versions: bool,
    report: Output[HTML],
    report_md: Output[Markdown],
    findings: Output[Artifact],
    decision: Output[Artifact],
    retrain_data_uri: str = "",
    data_uri: str = "",
    suite_path: str = "",
    config_path: str = "",
    pipeline_run: str = "",
) -> NamedTuple("Outputs", [("drifted", bool), ("reason", str), ("retrain_uri", str)]):
    """Judge the prediction log's window (``since``: 24h, an ISO time, or empty for all) against the champion's
    profile with its own LFs and thresholds; record the verdict as a gate decision (``monitor``: passed = no
    drift) beside the report (HTML, Markdown, and the findings as JSON). With ``retrain_data_uri`` (a folder
    prefix the pipeline's pods can read and write), a drifted window's retraining data (``data_uri``'s files plus
    the served texts) goes to ``<retrain_data_uri>/<pipeline_run>``, returned as ``retrain_uri`` (else empty)."""
    from collections import namedtuple

    from labelgate.monitoring.step import run_monitor
    from labelgate.run import MONITOR_STEP, decide, step_failures

    with step_failures(MONITOR_STEP, decision.path):
        step = run_monitor(log_uri=log_uri, registry_uri=registry_uri, model_name=model_name, since=since,
                           all_versions=all_versions, html_path=report.path, markdown_path=report_md.path,
                           json_path=findings.path, retrain_data_uri=retrain_data_uri, data_uri=data_uri,
                           suite_path=suite_path, config_path=config_path, run_id=pipeline_run)
    result = step.result
    decide(gate=MONITOR_STEP, passed=not result.drifted, reason=result.reason, out_path=decision.path)
    return namedtuple("Outputs", ["drifted", "reason", "retrain_uri"])(result.drifted, result.reason,
                                                                        step.retrain_data_uri)
