"""MLflow tracking of pipeline runs: each step may log its parameters, metrics and files into the one
MLflow run that stands for its pipeline run.

A step knows its pipeline run only through its artifacts' URIs, which KFP builds as
``<pipeline root>/<pipeline run>/<task>/...`` (locally ``runs/<id>/<pipeline>-<time>/<task>/<output>``, on a
cluster ``.../<pipeline>/<run uuid>/<task>/<execution>/<output>``); :func:`pipeline_run_key` takes the
part before the task. The MLflow run carries that key as a tag, so steps running in separate processes
(or pods) find the same run, in an experiment named after the registered model. It works with any
tracking URI: the local SQLite store, or an MLflow server on a cluster.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from labelgate.registry.store import ensure_experiment, open_client

PIPELINE_TASKS = ("ingest", "weak-label", "validate", "data-gate", "train", "evaluate", "model-gate", "push")
RUN_KEY_TAG = "labelgate.pipeline_run"
_TASK_SEGMENT = re.compile("^(" + "|".join(re.escape(t) for t in PIPELINE_TASKS) + r")(-\d+)?$")
_MAX_PARAM_CHARS = 6000


def pipeline_run_key(artifact_uri: str) -> str:
    """The pipeline run an artifact belongs to: its URI up to (not including) the producing task."""
    uri = str(artifact_uri).rstrip("/")
    parts = uri.split("/")
    for i in range(len(parts) - 1, 0, -1):
        if _TASK_SEGMENT.match(parts[i]):
            return "/".join(parts[:i])
    return "/".join(parts[:-2]) if len(parts) > 3 else uri


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = value


def flatten(values: Mapping[str, Any]) -> dict[str, Any]:
    """Nested mappings to dotted keys: ``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    _flatten("", values, out)
    return out


def numeric_items(values: Mapping[str, Any]) -> dict[str, float]:
    """The finite numbers (bools excluded) of a flattened mapping, as MLflow metrics."""
    out = {}
    for key, value in flatten(values).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(float(value)):
            out[key] = float(value)
    return out


def find_or_create_run(*, registry_uri: str, experiment: str, run_key: str, run_name: str | None = None) -> str:
    """The MLflow run id of pipeline run ``run_key`` in ``experiment``, created on first use."""
    client = open_client(registry_uri)
    experiment_id = ensure_experiment(client, registry_uri, experiment)
    escaped = run_key.replace("'", "\\'")
    found = client.search_runs([experiment_id], filter_string=f"tags.`{RUN_KEY_TAG}` = '{escaped}'", max_results=1)
    if found:
        return found[0].info.run_id
    name = run_name or run_key.rstrip("/").rsplit("/", 1)[-1]
    run = client.create_run(experiment_id, run_name=name, tags={RUN_KEY_TAG: run_key, "mlflow.source.name": "labelgate"})
    return run.info.run_id


def log_step(*, registry_uri: str, experiment: str, run_key: str, step: str,
             params: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None,
             files: Mapping[str, str | Path] | None = None, tags: Mapping[str, str] | None = None) -> str:
    """Log one step into its pipeline run's MLflow run: params as ``<step>.<name>``, numeric metrics as
    ``<step>/<name>``, files or folders under ``<step>/``. Returns the MLflow run id."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.utils.time import get_current_time_millis

    client = open_client(registry_uri)
    run_id = find_or_create_run(registry_uri=registry_uri, experiment=experiment, run_key=run_key)
    existing = client.get_run(run_id).data.params
    now = get_current_time_millis()
    param_list = []
    for key, value in flatten(params or {}).items():
        name = f"{step}.{key}"
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        text = text[:_MAX_PARAM_CHARS]
        if existing.get(name, text) == text:  # MLflow params are immutable; a rerun keeps the first value
            param_list.append(Param(name, text))
    metric_list = [Metric(f"{step}/{k}", v, now, 0) for k, v in numeric_items(metrics or {}).items()]
    tag_list = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
    for start in range(0, max(len(param_list), len(metric_list), len(tag_list), 1), 100):
        client.log_batch(run_id, metrics=metric_list[start:start + 100], params=param_list[start:start + 100],
                         tags=tag_list[start:start + 100])
    for name, path in (files or {}).items():
        path = Path(path)
        if path.is_dir():
            client.log_artifacts(run_id, str(path), f"{step}/{name}")
        elif path.is_file():
            client.log_artifact(run_id, str(path), f"{step}")
    return run_id


def finish_run(*, registry_uri: str, run_id: str, status: str = "FINISHED") -> None:
    """Mark a pipeline run's MLflow run as ended (``FINISHED`` or ``FAILED``)."""
    open_client(registry_uri).set_terminated(run_id, status=status)
