"""The push step as the pipeline runs it: KFP artifact paths in, a registered champion and a summary out."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from labelgate.registry.push import push_model
from labelgate.registry.tracking import numeric_items
from labelgate.run import Step, progress
from labelgate.serving.inference_service import (
    ServiceTarget,
    api_client_from_environment,
    default_namespace,
    deploy,
)
from labelgate.serving.process import die_with_parent


def _data_lineage(blessing_path: str, model_metadata: Mapping[str, Any]) -> dict[str, str]:
    """The ingested data's fingerprint and URI, from the blessing's or the model's lineage if recorded."""
    try:
        blessing = json.loads(Path(blessing_path).read_text())
    except (OSError, ValueError):
        blessing = {}
    sources = [((blessing.get("lineage") or {}) if isinstance(blessing, dict) else {}).get("data"),
               (model_metadata.get("lineage") or {}).get("data") if isinstance(model_metadata.get("lineage"), dict)
               else None]
    found: dict[str, str] = {}
    for source in sources:
        if isinstance(source, Mapping):
            for key in ("fingerprint", "data_uri"):
                name = key.removeprefix("data_")
                if name not in found and source.get(key) not in (None, ""):
                    found[name] = str(source[key])
    return found


def kserve_deployer(*, registry_uri: str, model_name: str, inference_service: str, namespace: str,
                    canary_traffic_percent: int, serving_image: str, prediction_log: str = "",
                    api_client: Any | None = None) -> Callable[[str, str], None]:
    """A ``before_promote`` hook creating or patching the KServe InferenceService for a version."""
    fields = {"image": serving_image} if serving_image else {}
    target = ServiceTarget(name=inference_service, namespace=namespace or default_namespace(),
                           registry_uri=registry_uri, model_name=model_name,
                           canary_traffic_percent=canary_traffic_percent, prediction_log=prediction_log, **fields)

    def hook(version: str, source: str) -> None:
        action, _ = deploy(api_client=api_client or api_client_from_environment(), target=target,
                           version=version, storage_uri=source)
        canary = f" with {target.canary_traffic_percent}% canary traffic" if 0 < target.canary_traffic_percent < 100 else ""
        progress(Step.PUSH, f"InferenceService {target.namespace}/{target.name} {action}: version {version}{canary}")

    return hook


def run_push(*, model_dir: str, model_uri: str, model_metadata: Mapping[str, Any] | None, profile_path: str,
             profile_uri: str, blessing_path: str, blessing_uri: str, registry_uri: str, model_name: str,
             run_key: str, out_path: str, inference_service: str = "", namespace: str = "", canary_traffic_percent: int = 0,
             serving_image: str = "", prediction_log: str = "", api_client: Any | None = None) -> str:
    """Push the trained model (see :func:`labelgate.registry.push.push_model`), write the Markdown
    summary to ``out_path``; returns the new version. With ``inference_service`` set (on a cluster),
    that KServe InferenceService is pointed at the version before the champion alias moves. ``run_key``
    is the pipeline run's id, which names its MLflow run."""
    # On kfp.local the step runs under a shell wrapper: if that is killed, stop here rather than go on as an
    # orphan and move the champion of a run already reported failed (SIGTERM: the push cleans up).
    die_with_parent()
    metadata = dict(model_metadata or {})
    lineage = {
        "labelgate.model_uri": model_uri,
        "labelgate.profile_uri": profile_uri,
        "labelgate.blessing_uri": blessing_uri,
    }
    for key, value in _data_lineage(blessing_path, metadata).items():
        lineage[f"labelgate.data_{key}"] = value
    profile = Path(profile_path)
    result = push_model(
        model_dir=model_dir,
        profile_path=profile if profile.is_file() else None,
        blessing_path=blessing_path,
        registry_uri=registry_uri,
        model_name=model_name,
        run_key=run_key,
        lineage=lineage,
        model_metrics=numeric_items(metadata),
        before_promote=kserve_deployer(
            registry_uri=registry_uri, model_name=model_name, inference_service=inference_service,
            namespace=namespace, canary_traffic_percent=canary_traffic_percent, serving_image=serving_image,
            prediction_log=prediction_log,
            api_client=api_client,
        ) if inference_service else None,
    )
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    Path(out_path).write_text(result.to_markdown(model_name, registry_uri))
    return result.version
