"""The ingest step as the pipeline runs it: paths in, a Parquet table and its metadata out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from labelgate.config import load_config
from labelgate.ingest.dataset import IngestResult, ingest
from labelgate.ingest.settings import DataSettings, SplitSettings
from labelgate.run import Step, progress


def run_ingest(*, data_uri: str, config_path: str, out_path: str,
               check: Callable[[IngestResult], None] | None = None) -> dict[str, Any]:
    """Ingest ``data_uri`` with the config's data/split sections; write Parquet to ``out_path``. ``check``
    (the ingest component passes ``labelgate.preflight``) sees the table before it is written and may
    stop the run with every problem of its inputs."""
    config = load_config(config_path)
    data = DataSettings.from_section(config["data"])
    result = ingest(data_uri, data, SplitSettings.from_section(config["split"]))
    if check is not None:
        check(result)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    result.frame.to_parquet(out_path, index=False)
    counts = result.split_counts()
    progress(Step.INGEST, f"{len(result.frame)} rows from {len(result.files)} files; splits {counts}")
    for role, info in result.roles.items():
        progress(Step.INGEST, f"  {role:<5} {info['rows']:>7} rows  from {info['origin']}")
    for drop in result.dropped:
        progress(Step.INGEST, f"left out {drop['rows']} rows of {drop['files']}: {drop['reason']}")
    for warning in result.warnings:
        progress(Step.INGEST, f"warning: {warning}")
    for note in result.notes:
        progress(Step.INGEST, f"note: {note}")
    return {
        "fingerprint": result.fingerprint,
        "files": result.files,
        "splits": counts,
        "rows": len(result.frame),
        "data_uri": data_uri,
        "columns": {"id": data.id_column, "text": data.text_column, "label": data.label_column},
        "classes": list(data.classes),
        "roles": result.roles,
        "dropped": result.dropped,
        "warnings": result.warnings,
        "notes": result.notes,
    }
