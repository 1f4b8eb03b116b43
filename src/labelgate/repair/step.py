"""The repair step as the pipeline runs it: the ingested table and a constraint file in; the repaired table
(same Parquet schema), a report (Markdown + HTML) and metrics out."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from labelgate.config import load_config
from labelgate.contract import DEV, REPAIR_METADATA, SOURCE, SPLIT, file_sha256
from labelgate.errors import ConfigError, DataError
from labelgate.ingest.settings import DataSettings
from labelgate.repair.repairer import check_inputs, repair_frame
from labelgate.repair.report import render_html, render_markdown, render_off_html, render_off_markdown
from labelgate.repair.settings import RepairSettings, repair_settings
from labelgate.run import progress
from labelgate.validation.constraints import DenialConstraint, load_constraints


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


def split_constraints(constraints: list[DenialConstraint], columns: list[str],
                      keep_out: set[str]) -> tuple[list[DenialConstraint], list[DenialConstraint]]:
    """The constraints repair uses and those it skips because they name a column it leaves alone (an id,
    the text, the label); a column the table does not have at all is a ConfigError (``check_inputs``)."""
    used, skipped = [], []
    for dc in constraints:
        names = {a for t in dc.tuples for a in dc.attributes(t)}
        known = names <= set(columns)  # else check_inputs names the unknown column
        (skipped if known and names & keep_out else used).append(dc)
    return used, skipped


def repair_table(*, data_path: str, constraints_path: str, settings: RepairSettings, repaired_path: str,
                 report_path: str, report_html_path: str, keep_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """Repair the Parquet table at ``data_path``; write the repaired table and the reports; return metrics.
    ``keep_out`` columns (the pipeline's id, text, label and split columns) pass through untouched and are
    not seen by the models; constraints naming them are skipped (and listed in the report).
    Bad input (unknown constraint columns, too large for the memory budget, mixed types) fails before
    the table is read in full."""
    constraints = load_constraints(constraints_path) if constraints_path else []
    try:
        schema = pq.read_schema(data_path)
        n_rows = pq.ParquetFile(data_path).metadata.num_rows
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the table to repair at {data_path}: {exc}") from exc
    columns = list(schema.names)
    keep_out_set = set(keep_out) & set(columns)
    named = sorted(keep_out_set & set(settings.columns))
    if named:
        raise ConfigError(f"config repair.columns names {named}, which repair never changes in the pipeline "
                          f"(the id, text and label columns and the columns ingest adds); remove them")
    constraints, skipped = split_constraints(constraints, columns, keep_out_set)
    repairable = [c for c in columns if c not in keep_out_set]
    check_inputs(columns, n_rows, constraints, settings)
    if not repairable:
        raise ConfigError(f"the table has no column to repair: every column ({columns}) is an id, text, label or "
                          "split column; remove the repair section or add the table's other columns")
    check_inputs(repairable, n_rows, constraints, settings)
    dictionaries = load_dictionaries(settings)
    full = pd.read_parquet(data_path)
    frame = full[repairable]
    progress("repair", f"{len(frame)} rows x {frame.shape[1]} columns, {len(constraints)} constraints")
    result = repair_frame(frame, constraints, settings, dictionaries)
    table = full.copy()
    for name in repairable:
        table[name] = result.repaired[name].to_numpy()
    Path(repaired_path).parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(repaired_path, index=False, schema=schema)
    notes = [f"constraints: {constraints_path}"] if constraints_path else ["no constraint file given"]
    if keep_out_set:
        notes.append(f"left alone (ids, text, labels, splits): {sorted(keep_out_set)}")
    notes += [f"constraint line {dc.line} skipped: it names a column repair leaves alone ({dc.text})" for dc in skipped]
    for path, text in ((report_path, render_markdown(result.changes, result.flagged, result.metrics, notes,
                                                     settings.max_report_rows)),
                       (report_html_path, render_html(result.changes, result.flagged, result.metrics, notes,
                                                      settings.max_report_rows))):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    progress("repair", f"{result.metrics['cells_repaired']} cells repaired, "
                       f"{result.metrics['cells_left_flagged']} left flagged")
    return {k: v for k, v in result.metrics.items() if isinstance(v, (int, float))}


@dataclass
class RepairOutcome:
    """What the pipeline's repair step records: its metrics and the repaired table's lineage metadata."""

    metrics: dict[str, Any]
    metadata: dict[str, Any]


def pipeline_keep_out(config_path: str) -> tuple[str, ...]:
    """The columns the pipeline's repair never touches: the data section's id, text, label and role columns
    and the columns ingest adds (source, split, dev)."""
    data = DataSettings.from_section(load_config(config_path)["data"])
    named = (data.id_column, data.text_column, data.label_column, data.role_column, SOURCE, SPLIT, DEV)
    return tuple(dict.fromkeys(n for n in named if n))


def run_repair(*, data_path: str, constraints_path: str, config_path: str, repaired_path: str, report_path: str,
               report_html_path: str) -> RepairOutcome:
    """The pipeline's repair step: with a ``repair`` section in the config, repair the ingested table (ids,
    text, labels and splits left alone); without one, pass it through unchanged and say so. Either way the
    repaired table is what every later step reads; its metadata records both tables' hashes."""
    settings = settings_from_config(config_path)
    if settings is None:
        Path(repaired_path).parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(data_path, repaired_path)
        except OSError as exc:
            raise DataError(f"cannot read the table to repair at {data_path}: {exc}") from exc
        for path, text in ((report_path, render_off_markdown()), (report_html_path, render_off_html())):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
        progress("repair", "off: the config has no repair section; the table passes through unchanged")
        metrics: dict[str, Any] = {"repair_on": 0, "cells_repaired": 0}
    else:
        metrics = {"repair_on": 1, **repair_table(
            data_path=data_path, constraints_path=constraints_path, settings=settings, repaired_path=repaired_path,
            report_path=report_path, report_html_path=report_html_path, keep_out=pipeline_keep_out(config_path))}
    lineage = {"on": settings is not None, "input_sha256": file_sha256(data_path),
               "output_sha256": file_sha256(repaired_path), "cells_repaired": int(metrics["cells_repaired"])}
    if settings is not None:
        lineage.update(cells_left_flagged=int(metrics["cells_left_flagged"]),
                       constraints_sha256=file_sha256(constraints_path) if constraints_path else None)
    return RepairOutcome(metrics=metrics, metadata={REPAIR_METADATA: lineage})


def settings_from_config(config_path: str) -> RepairSettings | None:
    """The repair settings of a pipeline config, or None when it has no ``repair`` section (repair is off)."""
    return repair_settings(config_path)
