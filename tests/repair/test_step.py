"""The pipeline's repair step (labelgate.repair.step.run_repair): ids, text, labels and splits pass through
untouched, constraints naming them are skipped and listed, and the lineage metadata names both tables."""

import numpy as np
import pandas as pd
import pytest

from labelgate.contract import DEV, SOURCE, SPLIT, file_sha256
from labelgate.errors import ConfigError
from labelgate.repair.step import pipeline_keep_out, run_repair
from tests.repair.conftest import CONSTRAINTS

CONFIG = """data:
  id_column: id
  text_column: body
  label_column: label
  classes: [a, b]
repair:
  threshold: 0.6
  imputer_dim: 16
  imputer_heads: 2
  imputer_steps: 60
  imputer_batch: 64
  model_epochs: 60
  max_training_cells: 1500
"""


def _ingested(clean: pd.DataFrame) -> pd.DataFrame:
    """The clean table as ingest would write it: id, text, a label hidden on train rows, split columns."""
    n = len(clean)
    frame = clean.copy()
    frame.insert(0, "id", [f"r{i}" for i in range(n)])
    frame["body"] = [f"about {p}" for p in clean["product"]]
    frame["label"] = pd.array([pd.NA if i % 3 else i % 2 for i in range(n)], dtype="Int64")
    frame[SOURCE] = "train.csv"
    frame[SPLIT] = np.where(np.arange(n) % 5 == 0, "test", "train")
    frame[DEV] = False
    return frame


def _run(tmp_path, frame, config=CONFIG, constraints=CONSTRAINTS):
    frame.to_parquet(tmp_path / "data.parquet", index=False)
    (tmp_path / "config.yaml").write_text(config)
    (tmp_path / "constraints.txt").write_text(constraints)
    out = tmp_path / "out"
    outcome = run_repair(data_path=str(tmp_path / "data.parquet"), constraints_path=str(tmp_path / "constraints.txt"),
                         config_path=str(tmp_path / "config.yaml"), repaired_path=str(out / "repaired"),
                         report_path=str(out / "report.md"), report_html_path=str(out / "report.html"))
    return outcome, out


def test_keep_out_columns_are_the_data_sections_and_ingests(tmp_path):
    (tmp_path / "config.yaml").write_text(CONFIG)
    assert pipeline_keep_out(str(tmp_path / "config.yaml")) == ("id", "body", "label", SOURCE, SPLIT, DEV)


def test_repairs_feature_columns_and_leaves_ids_text_labels_and_splits_alone(tmp_path, dirty):
    clean, dirty_frame = dirty
    frame = _ingested(dirty_frame)
    # A constraint on the text column: repair must skip it (and say so), not repair text.
    constraints = CONSTRAINTS + "t1&t2&EQ(t1.id,t2.id)&IQ(t1.body,t2.body)\n"
    outcome, out = _run(tmp_path, frame, constraints=constraints)
    repaired = pd.read_parquet(out / "repaired")
    expected = _ingested(clean)
    pd.testing.assert_frame_equal(repaired, expected)  # the three dirty cells fixed, nothing else changed
    assert repaired["label"].isna().sum() == frame["label"].isna().sum()  # hidden labels stay hidden
    report = (out / "report.md").read_text()
    assert "constraint line 3 skipped" in report and "'body'" in report
    assert outcome.metrics["repair_on"] == 1 and outcome.metrics["cells_repaired"] == 3
    lineage = outcome.metadata["repair"]
    assert lineage["input_sha256"] == file_sha256(tmp_path / "data.parquet")
    assert lineage["output_sha256"] == file_sha256(out / "repaired") != lineage["input_sha256"]


def test_repair_columns_naming_the_label_is_refused(tmp_path, dirty):
    _, dirty_frame = dirty
    with pytest.raises(ConfigError, match=r"repair.columns names \['label'\].*never changes"):
        _run(tmp_path, _ingested(dirty_frame), config=CONFIG + "  columns: [city, label]\n")
    assert not (tmp_path / "out" / "repaired").exists()


def test_constraint_on_an_unknown_column_is_still_an_error(tmp_path, dirty):
    _, dirty_frame = dirty
    with pytest.raises(ConfigError, match=r"names column\(s\) \['town'\]"):
        _run(tmp_path, _ingested(dirty_frame), constraints="t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.town,t2.town)\n")
