"""The push step as the pipeline runs it: KFP artifact paths in, a registered champion and a summary out."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from labelgate.registry.push import push_model
from labelgate.registry.tracking import numeric_items, pipeline_run_key


def _find(key: str, *sources: Mapping[str, Any] | None) -> str | None:
    for source in sources:
        if source and source.get(key) not in (None, ""):
            return str(source[key])
    return None


def run_push(*, model_dir: str, model_uri: str, model_metadata: Mapping[str, Any] | None, profile_path: str,
             profile_uri: str, blessing_path: str, blessing_uri: str, registry_uri: str, model_name: str,
             out_path: str) -> str:
    """Push the trained model (see :func:`labelgate.registry.push.push_model`), write the Markdown
    summary to ``out_path``; returns the new version."""
    run_key = pipeline_run_key(model_uri)
    metadata = dict(model_metadata or {})
    lineage = {
        "labelgate.model_uri": model_uri,
        "labelgate.profile_uri": profile_uri,
        "labelgate.blessing_uri": blessing_uri,
    }
    fingerprint = _find("fingerprint", metadata, metadata.get("data") if isinstance(metadata.get("data"), dict) else None)
    if fingerprint:
        lineage["labelgate.data_fingerprint"] = fingerprint
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
    )
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    Path(out_path).write_text(result.to_markdown(model_name, registry_uri))
    return result.version
