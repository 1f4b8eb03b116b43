"""The monitoring pipeline: `monitor` judges a window of the prediction log against the champion (as `labelgate
monitor`); with ``retrain_data_uri`` set, a drifted window also starts the training pipeline itself (nested, the
same definition `labelgate run` and `make submit` run) on the training data plus the window's served texts, so
its data gate, model gate and push decide whether a retrained model replaces the champion. On a cluster it runs
on a schedule: `labelgate compile --pipeline monitoring`, then `labelgate schedule --package ... --pipeline-name
labelgate-monitoring --cron ...` (`make schedule-monitor`)."""

from kfp import dsl

from labelgate.components.image import CLUSTER_DATA_URI, CLUSTER_LOG_URI, CLUSTER_REGISTRY_URI
from labelgate.components.monitor import monitor
from labelgate.components.retrain_gate import retrain_gate
from labelgate.parameters import DEFAULTS, MONITOR_PIPELINE_NAME
from labelgate.pipelines.cluster import apply_cluster_settings
from labelgate.pipelines.training import pipeline as training

__all__ = ["MONITOR_PIPELINE_NAME", "pipeline"]


@dsl.pipeline(
    name=MONITOR_PIPELINE_NAME,
    description="Served traffic (the prediction log) against the champion's profile, with its own LFs and thresholds; "
    "on drift, optionally, a training run on the training data plus the traffic.",
)
def pipeline(
    log_uri: str = CLUSTER_LOG_URI,
    registry_uri: str = CLUSTER_REGISTRY_URI,
    model_name: str = DEFAULTS.model_name,
    since: str = "24h",
    all_versions: bool = False,
    retrain_data_uri: str = "",
    data_uri: str = CLUSTER_DATA_URI,
    lf_module: str = DEFAULTS.lf_module,
    config_path: str = DEFAULTS.config_path,
    suite_path: str = DEFAULTS.suite_path,
    constraints_path: str = DEFAULTS.constraints_path,
    seed: int = DEFAULTS.seed,
    min_test_accuracy: float = DEFAULTS.min_test_accuracy,
    min_test_f1: float = DEFAULTS.min_test_f1,
    champion_tolerance: float = DEFAULTS.champion_tolerance,
    lf_shards: int = DEFAULTS.lf_shards,
    search_groups: int = DEFAULTS.search_groups,
    inference_service: str = DEFAULTS.inference_service,
    namespace: str = DEFAULTS.namespace,
    canary_traffic_percent: int = DEFAULTS.canary_traffic_percent,
    serving_image: str = DEFAULTS.serving_image,
    prediction_log: str = DEFAULTS.prediction_log,
):
    """``log_uri``: the prediction log's folder (an object-store URI on a cluster); ``since``: the window, a
    duration back from the run's start (24h: a daily schedule judges the day's traffic), an ISO time, or empty
    for the whole log. The step's ``drifted`` output and its gate record say whether the traffic drifted.

    ``retrain_data_uri`` (empty: monitoring only): a folder prefix the pods can write; on drift the monitor step
    writes ``<prefix>/<run id>`` (``data_uri``'s files plus the served texts as unlabeled train rows) and the
    training pipeline runs on it with the other parameters, which are the training pipeline's own (same names,
    same defaults: the image's LF module and config, the cluster's registry; the serving ones say where a new
    champion is deployed)."""
    watched = monitor(log_uri=log_uri, registry_uri=registry_uri, model_name=model_name, since=since,
                      all_versions=all_versions, retrain_data_uri=retrain_data_uri, data_uri=data_uri,
                      suite_path=suite_path, config_path=config_path, pipeline_run=dsl.PIPELINE_JOB_ID_PLACEHOLDER)
    gate = retrain_gate(retrain_uri=watched.outputs["retrain_uri"])
    apply_cluster_settings([watched, gate])  # the nested training pipeline's tasks carry their own (pipelines/training.py)
    with dsl.If(gate.output == True, name="drift-retrain"):  # noqa: E712 (KFP condition syntax)
        training(data_uri=watched.outputs["retrain_uri"], lf_module=lf_module, config_path=config_path,
                 suite_path=suite_path, constraints_path=constraints_path, registry_uri=registry_uri,
                 model_name=model_name, seed=seed, min_test_accuracy=min_test_accuracy, min_test_f1=min_test_f1,
                 champion_tolerance=champion_tolerance, lf_shards=lf_shards, search_groups=search_groups,
                 inference_service=inference_service, namespace=namespace,
                 canary_traffic_percent=canary_traffic_percent, serving_image=serving_image,
                 prediction_log=prediction_log)
