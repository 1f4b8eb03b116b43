"""The repair component through its python_func, with artifacts in tmp_path."""

import json

import pandas as pd
import pytest
from kfp import dsl

from labelgate.components.repair import repair
from labelgate.contract import file_sha256


def _artifact(kind, path):
    return kind(uri=str(path))


def _outputs(tmp_path):
    out = tmp_path / "repair"
    return {"repaired": _artifact(dsl.Dataset, out / "repaired"), "report": _artifact(dsl.Markdown, out / "report"),
            "report_html": _artifact(dsl.HTML, out / "report_html"), "metrics": _artifact(dsl.Metrics, out / "metrics")}


def _config(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


SMALL = ("repair:\n  threshold: 0.6\n  imputer_dim: 16\n  imputer_heads: 2\n  imputer_steps: 60\n"
         "  imputer_batch: 64\n  model_epochs: 60\n  max_training_cells: 1500\n")


def test_component_writes_the_repaired_table_report_and_metrics(tmp_path, dirty, constraints_text):
    clean, frame = dirty
    frame.to_parquet(tmp_path / "data", index=False)
    (tmp_path / "constraints.txt").write_text(constraints_text)
    outputs = _outputs(tmp_path)
    repair.python_func(data=_artifact(dsl.Dataset, tmp_path / "data"),
                       constraints_path=str(tmp_path / "constraints.txt"), config_path=_config(tmp_path, SMALL),
                       **outputs)
    repaired = pd.read_parquet(outputs["repaired"].path)
    pd.testing.assert_frame_equal(repaired, clean)
    import pyarrow.parquet as pq
    assert pq.read_schema(outputs["repaired"].path).equals(pq.read_schema(tmp_path / "data"), check_metadata=False)
    report = open(outputs["report"].path).read()
    assert "# Data repair: 3 cells changed" in report and "| 3 | city | chicxgo |" in report
    assert "<table>" in open(outputs["report_html"].path).read()
    assert outputs["metrics"].metadata["cells_repaired"] == 3 and outputs["metrics"].metadata["repair_on"] == 1
    meta = outputs["repaired"].metadata
    assert meta["source_uri"] == str(tmp_path / "data")
    assert meta["repair"]["on"] is True and meta["repair"]["cells_repaired"] == 3
    assert meta["repair"]["input_sha256"] != meta["repair"]["output_sha256"]
    assert meta["repair"]["output_sha256"] == file_sha256(outputs["repaired"].path)


def test_component_passes_the_table_through_without_a_repair_section(tmp_path, dirty):
    _, frame = dirty
    frame.to_parquet(tmp_path / "data", index=False)
    outputs = _outputs(tmp_path)
    data = _artifact(dsl.Dataset, tmp_path / "data")
    data.metadata.update(fingerprint="abc", rows=len(frame))
    repair.python_func(data=data, constraints_path="", config_path=_config(tmp_path, "training:\n  epochs: 1\n"),
                       **outputs)
    assert open(outputs["repaired"].path, "rb").read() == open(tmp_path / "data", "rb").read()
    assert open(outputs["report"].path).read().startswith("# Data repair: off")
    assert "repair</code> section" in open(outputs["report_html"].path).read()
    assert outputs["metrics"].metadata == {"repair_on": 0, "cells_repaired": 0}
    meta = outputs["repaired"].metadata
    assert meta["fingerprint"] == "abc" and meta["rows"] == len(frame)  # ingest's lineage carried on
    assert meta["repair"]["on"] is False and meta["repair"]["input_sha256"] == meta["repair"]["output_sha256"]
    assert not (tmp_path / "repair" / "failure.json").exists()


def test_component_reports_a_bad_constraint_before_work(tmp_path, dirty):
    _, frame = dirty
    frame.to_parquet(tmp_path / "data", index=False)
    (tmp_path / "constraints.txt").write_text("t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.town,t2.town)\n")
    outputs = _outputs(tmp_path)
    with pytest.raises(SystemExit):
        repair.python_func(data=_artifact(dsl.Dataset, tmp_path / "data"),
                           constraints_path=str(tmp_path / "constraints.txt"), config_path=_config(tmp_path, SMALL),
                           **outputs)
    failure = json.loads((tmp_path / "repair" / "failure.json").read_text())
    assert failure["error"] == "ConfigError" and "['town']" in failure["message"]


def test_component_compiles_with_its_typed_artifacts(tmp_path):
    from kfp import compiler

    compiler.Compiler().compile(repair, str(tmp_path / "repair.yaml"))
    text = (tmp_path / "repair.yaml").read_text()
    for line in ("data: system.Dataset", "repaired: system.Dataset", "report: system.Markdown",
                 "report_html: system.HTML", "metrics: system.Metrics"):
        assert line in text
