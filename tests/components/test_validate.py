import json

import numpy as np
import pandas as pd
from kfp import dsl

from labelgate.components.validate import validate
from labelgate.validation import step as step_module


def _artifact(kind, path, **metadata):
    artifact = kind(uri=str(path))
    artifact.metadata.update(metadata)
    return artifact


def _write_inputs(tmp_path, frame):
    votes = np.where(frame["CONTENT"].str.contains("check").to_numpy(), 1, -1).astype(np.int8)[:, None]
    p1 = np.where(votes[:, 0] == 1, 0.9, 0.5)
    (tmp_path / "wl").mkdir(parents=True, exist_ok=True)
    frame.to_parquet(tmp_path / "data", index=False)
    np.save(tmp_path / "wl" / "label_matrix.npy", votes)
    pd.DataFrame({"row": range(len(frame)), "prob_0": 1 - p1, "prob_1": p1, "covered": votes[:, 0] == 1}
                 ).to_parquet(tmp_path / "wl" / "probs", index=False)
    return (_artifact(dsl.Dataset, tmp_path / "data"),
            _artifact(dsl.Dataset, tmp_path / "wl" / "label_matrix.npy", lf_names=["lf_check"]),
            _artifact(dsl.Dataset, tmp_path / "wl" / "probs"))


def _outputs(tmp_path):
    out = tmp_path / "validate"
    return {"report": _artifact(dsl.Markdown, out / "report"), "report_html": _artifact(dsl.HTML, out / "report_html"),
            "profile": _artifact(dsl.Dataset, out / "profile"), "metrics": _artifact(dsl.Metrics, out / "metrics")}


def _run(tmp_path, frame, example_config):
    data, label_matrix, probs = _write_inputs(tmp_path, frame)
    outputs = _outputs(tmp_path)
    result = validate.python_func(
        data=data, label_matrix=label_matrix, probs=probs,
        suite_path=str(example_config.parent / "expectations.json"),
        constraints_path=str(example_config.parent / "constraints.txt"), config_path=str(example_config),
        registry_uri=f"sqlite:///{tmp_path}/registry/mlflow.db", model_name="m", pipeline_run="run-1",
        **outputs)
    return result, outputs


def _frame(n=600):
    return pd.DataFrame({
        "source": "a.csv",
        "COMMENT_ID": pd.array([f"id{i}" for i in range(n)], dtype="string"),
        "AUTHOR": [f"user{i % 7}" for i in range(n)],
        "DATE": "2014-01-01T10:00:00",
        "CONTENT": pd.array([("check out my channel " if i % 3 == 0 else "nice song ") + str(i) for i in range(n)],
                            dtype="string"),
        "CLASS": pd.array([int(i % 3 == 0) for i in range(n)], dtype="Int64"),
        "split": ["train"] * (n - 200) + ["valid", "test"] * 100,
        "dev": False,
    })


def test_validate_component_passes_clean_data_with_the_example_suite(tmp_path, example_config, monkeypatch):
    monkeypatch.setattr(step_module, "champion_profile", lambda registry_uri, model_name: (None, None))
    frame = _frame()
    frame.loc[:399, "CLASS"] = pd.NA
    result, outputs = _run(tmp_path, frame, example_config)
    assert result.passed, result.reason
    assert outputs["metrics"].metadata["passed"] == 1.0
    profile = json.loads(open(outputs["profile"].path).read())
    assert profile["lf_coverage"] == {"lf_check": 200 / 600}
    assert "PASSED" in open(outputs["report"].path).read()


def test_validate_component_blocks_a_missing_column_and_says_so(tmp_path, example_config, monkeypatch):
    monkeypatch.setattr(step_module, "champion_profile", lambda registry_uri, model_name: (None, None))
    frame = _frame().drop(columns=["AUTHOR"])
    result, outputs = _run(tmp_path, frame, example_config)
    assert not result.passed
    assert "expect_table_columns_to_match_set" in result.reason and "AUTHOR" in result.reason
    assert "BLOCKED" in open(outputs["report"].path).read()
    assert outputs["metrics"].metadata["critical_failures"] >= 1



def test_validate_component_records_suite_and_constraint_hashes_for_lineage(tmp_path, example_config, monkeypatch):
    import hashlib

    monkeypatch.setattr(step_module, "champion_profile", lambda registry_uri, model_name: (None, None))
    _, outputs = _run(tmp_path, _frame(), example_config)
    suite = (example_config.parent / "expectations.json").read_bytes()
    constraints = (example_config.parent / "constraints.txt").read_bytes()
    assert outputs["report"].metadata["suite_sha256"] == hashlib.sha256(suite).hexdigest()
    assert outputs["report"].metadata["constraints_sha256"] == hashlib.sha256(constraints).hexdigest()
