"""MLflow tracking of pipeline runs: each step may log its parameters, metrics and files into the one
MLflow run that stands for its pipeline run.

A step is handed its pipeline run's id (the pipeline passes KFP's ``dsl.PIPELINE_JOB_ID_PLACEHOLDER``,
which kfp.local and a cluster both resolve). The MLflow run carries that id as a tag, so steps running in
separate processes (or pods) find the same run, in an experiment named after the registered model. It
works with any tracking URI: the local SQLite store, or an MLflow server on a cluster.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from labelgate.registry.store import ensure_experiment, open_client
from labelgate.run import progress

RUN_KEY_TAG = "labelgate.pipeline_run"
_MAX_PARAM_CHARS = 6000


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = value


_INVALID_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. :/]")


def clean_key(key: str) -> str:
    """A param/metric name MLflow accepts (letters, digits and ``_-. :/``; others become ``_``)."""
    return _INVALID_KEY_CHARS.sub("_", key)[:250]


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
    name = run_name or run_key
    run = client.create_run(experiment_id, run_name=name, tags={RUN_KEY_TAG: run_key, "mlflow.source.name": "labelgate"})
    return run.info.run_id


def log_step(*, registry_uri: str, experiment: str, run_key: str, step: str,
             params: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None,
             files: Mapping[str, str | Path] | None = None, tags: Mapping[str, str] | None = None) -> str:
    """Log one step into its pipeline run's MLflow run: params as ``<step>.<name>``, numeric metrics as
    ``<step>/<name>``, ``files`` (name -> file or folder) as ``<step>/<name>``. Returns the MLflow run id."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.utils.time import get_current_time_millis

    client = open_client(registry_uri)
    run_id = find_or_create_run(registry_uri=registry_uri, experiment=experiment, run_key=run_key)
    existing = client.get_run(run_id).data.params
    now = get_current_time_millis()
    param_list = []
    for key, value in flatten(params or {}).items():
        name = clean_key(f"{step}.{key}")
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        text = text[:_MAX_PARAM_CHARS]
        if existing.get(name, text) == text:  # MLflow params are immutable; a rerun keeps the first value
            param_list.append(Param(name, text))
    metric_list = [Metric(clean_key(f"{step}/{k}"), v, now, 0) for k, v in numeric_items(metrics or {}).items()]
    tag_list = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
    for start in range(0, max(len(param_list), len(metric_list), len(tag_list), 1), 100):
        client.log_batch(run_id, metrics=metric_list[start:start + 100], params=param_list[start:start + 100],
                         tags=tag_list[start:start + 100])
    for name, path in (files or {}).items():
        path = Path(path)
        if path.is_dir():
            client.log_artifacts(run_id, str(path), f"{step}/{name}")
        elif path.is_file():
            with tempfile.TemporaryDirectory() as tmp:  # upload under ``name`` (KFP files have no extension)
                named = Path(tmp) / name
                shutil.copyfile(path, named)
                client.log_artifact(run_id, str(named), step)
    return run_id


def finish_run(*, registry_uri: str, run_id: str, status: str = "FINISHED") -> None:
    """Mark a pipeline run's MLflow run as ended (``FINISHED`` or ``FAILED``)."""
    open_client(registry_uri).set_terminated(run_id, status=status)


_MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def report_files(name: str, path: str | Path) -> dict[str, Path]:
    """A report file to upload as ``name``, with what it keeps beside it: the ``<file>_files`` folder of an
    HTML report's plots and the PNG plots in its folder. Missing or oversized files are left out."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size > _MAX_UPLOAD_BYTES:
        return {}
    files = {name: path}
    sidecar = path.parent / f"{path.name}_files"
    if sidecar.is_dir():
        files[sidecar.name] = sidecar
    for png in sorted(path.parent.glob("*.png")):
        if png.stat().st_size <= _MAX_UPLOAD_BYTES:
            files[png.name] = png
    return files


def track_step(*, registry_uri: str, model_name: str, run_key: str, step: str,
               params: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None,
               metadata: Mapping[str, Mapping[str, Any]] | None = None,
               reports: Mapping[str, str | Path] | None = None) -> str | None:
    """Log a pipeline step into its pipeline run's MLflow run: ``params`` as params, ``metrics`` as metrics,
    each artifact's ``metadata`` (name -> mapping) with numbers as metrics and the rest as params, and
    ``reports`` (upload name -> file; never datasets or models) with the plots beside them. Best-effort: a
    tracking failure is printed, and the step goes on. Returns the MLflow run id (None on failure)."""
    try:
        all_params: dict[str, Any] = dict(flatten(dict(params or {})))
        all_metrics: dict[str, float] = numeric_items(dict(metrics or {}))
        for name, values in (metadata or {}).items():
            numbers = numeric_items({name: dict(values)})
            all_metrics.update(numbers)
            all_params.update({k: v for k, v in flatten({name: dict(values)}).items() if k not in numbers})
        files: dict[str, Path] = {}
        for name, path in (reports or {}).items():
            files.update(report_files(name, path))
        run_id = log_step(registry_uri=registry_uri, experiment=model_name, run_key=run_key, step=step,
                          params=all_params, metrics=all_metrics, files=files)
        finish_run(registry_uri=registry_uri, run_id=run_id)
        return run_id
    except Exception as exc:  # tracking must not take the pipeline down
        progress(step, f"warning: MLflow tracking failed ({type(exc).__name__}: {exc}); the step goes on")
        return None
