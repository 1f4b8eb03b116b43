"""Monitor step (the monitoring pipeline's only step): served traffic against the champion, as `labelgate monitor`."""

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
) -> NamedTuple("Outputs", [("drifted", bool), ("reason", str)]):
    """Judge the prediction log's window (``since``: 24h, an ISO time, or empty for all) against the champion's
    profile with its own LFs and thresholds; record the verdict as a gate decision (``monitor``: passed = no
    drift) beside the report (HTML, Markdown, and the findings as JSON)."""
    from collections import namedtuple

    from labelgate.monitoring.step import run_monitor
    from labelgate.run import MONITOR_STEP, decide, step_failures

    with step_failures(MONITOR_STEP, decision.path):
        result = run_monitor(log_uri=log_uri, registry_uri=registry_uri, model_name=model_name, since=since,
                             all_versions=all_versions, html_path=report.path, markdown_path=report_md.path,
                             json_path=findings.path)
    decide(gate=MONITOR_STEP, passed=not result.drifted, reason=result.reason, out_path=decision.path)
    return namedtuple("Outputs", ["drifted", "reason"])(result.drifted, result.reason)
