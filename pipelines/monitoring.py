"""The monitoring pipeline: one step, `monitor`, that judges a window of the prediction log against the champion
(as `labelgate monitor`). On a cluster it runs on a schedule: `labelgate compile --pipeline monitoring`, then
`labelgate schedule --package ... --pipeline-name labelgate-monitoring --cron ...` (`make schedule-monitor`)."""

from kfp import dsl

from labelgate.components.image import CLUSTER_LOG_URI, CLUSTER_REGISTRY_URI
from labelgate.components.monitor import monitor
from labelgate.parameters import DEFAULTS, MONITOR_PIPELINE_NAME
from labelgate.pipelines.cluster import apply_cluster_settings

__all__ = ["MONITOR_PIPELINE_NAME", "pipeline"]


@dsl.pipeline(
    name=MONITOR_PIPELINE_NAME,
    description="Served traffic (the prediction log) against the champion's profile, with its own LFs and thresholds.",
)
def pipeline(
    log_uri: str = CLUSTER_LOG_URI,
    registry_uri: str = CLUSTER_REGISTRY_URI,
    model_name: str = DEFAULTS.model_name,
    since: str = "24h",
    all_versions: bool = False,
):
    """``log_uri``: the prediction log's folder (an object-store URI on a cluster); ``since``: the window, a
    duration back from the run's start (24h: a daily schedule judges the day's traffic), an ISO time, or empty
    for the whole log. The step's ``drifted`` output and its gate record say whether the traffic drifted."""
    monitor(log_uri=log_uri, registry_uri=registry_uri, model_name=model_name, since=since,
            all_versions=all_versions)
    apply_cluster_settings()
