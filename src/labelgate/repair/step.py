"""The repair step as the pipeline runs it: the ingested table and a constraint file in; the repaired table
(same Parquet schema), a report (Markdown + HTML) and metrics out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from labelgate.errors import ConfigError, DataError
from labelgate.repair.repairer import check_inputs, repair_frame
from labelgate.repair.report import render_html, render_markdown
from labelgate.repair.settings import RepairSettings, repair_settings
from labelgate.run import progress
from labelgate.validation.constraints import load_constraints


def load_dictionaries(settings: RepairSettings) -> dict[str, set[str]]:
    """Read each column's dictionary file (one allowed value per line)."""
    out = {}
    for column, path in settings.dictionaries.items():
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (FileNotFoundError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config repair.dictionaries.{column}: cannot read {path} ({exc})") from exc
        out[column] = {line.strip() for line in lines if line.strip()}
    return out


def repair_table(*, data_path: str, constraints_path: str, settings: RepairSettings, repaired_path: str,
                 report_path: str, report_html_path: str) -> dict[str, Any]:
    """Repair the Parquet table at ``data_path``; write the repaired table and the reports; return metrics.
    Bad input (unknown constraint columns, too large for the memory budget, mixed types) fails before
    the table is read in full."""
    constraints = load_constraints(constraints_path) if constraints_path else []
    try:
        schema = pq.read_schema(data_path)
        n_rows = pq.ParquetFile(data_path).metadata.num_rows
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the table to repair at {data_path}: {exc}") from exc
    check_inputs(list(schema.names), n_rows, constraints, settings)
    dictionaries = load_dictionaries(settings)
    frame = pd.read_parquet(data_path)
    progress("repair", f"{len(frame)} rows x {frame.shape[1]} columns, {len(constraints)} constraints")
    result = repair_frame(frame, constraints, settings, dictionaries)
    Path(repaired_path).parent.mkdir(parents=True, exist_ok=True)
    table = result.repaired
    table.to_parquet(repaired_path, index=False, schema=schema)
    notes = [f"constraints: {constraints_path}"] if constraints_path else ["no constraint file given"]
    for path, text in ((report_path, render_markdown(result.changes, result.flagged, result.metrics, notes,
                                                     settings.max_report_rows)),
                       (report_html_path, render_html(result.changes, result.flagged, result.metrics, notes,
                                                      settings.max_report_rows))):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    progress("repair", f"{result.metrics['cells_repaired']} cells repaired, "
                       f"{result.metrics['cells_left_flagged']} left flagged")
    return {k: v for k, v in result.metrics.items() if isinstance(v, (int, float))}


def settings_from_config(config_path: str) -> RepairSettings | None:
    """The repair settings of a pipeline config, or None when it has no ``repair`` section (repair is off)."""
    return repair_settings(config_path)
