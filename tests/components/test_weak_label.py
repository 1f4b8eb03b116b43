import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from kfp import dsl

from labelgate.components.ingest import ingest
from labelgate.components.weak_label import weak_label

LFS = "examples/youtube_spam/lfs.py"


def _outputs(tmp_path):
    return {
        "label_matrix": dsl.Dataset(uri=str(tmp_path / "wl" / "label_matrix")),
        "probs": dsl.Dataset(uri=str(tmp_path / "wl" / "probs")),
        "label_model": dsl.Model(uri=str(tmp_path / "wl" / "label_model")),
        "lf_analysis": dsl.Markdown(uri=str(tmp_path / "wl" / "md" / "lf_analysis")),
        "lf_analysis_html": dsl.HTML(uri=str(tmp_path / "wl" / "html" / "lf_analysis_html")),
        "metrics": dsl.Metrics(uri=str(tmp_path / "wl" / "metrics")),
    }


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, example_data, example_config):
    data = dsl.Dataset(uri=str(tmp_path_factory.mktemp("ingest") / "data"))
    ingest.python_func(data_uri=str(example_data), config_path=str(example_config), data=data)
    return data


def test_weak_label_component_writes_the_contract_artifacts(tmp_path, ingested, example_config):
    out = _outputs(tmp_path)
    weak_label.python_func(data=ingested, lf_module=LFS, config_path=str(example_config), seed=0, **out)
    frame = pd.read_parquet(ingested.path)
    L = np.load(out["label_matrix"].path)
    assert L.dtype == np.int8 and L.shape == (len(frame), len(out["label_matrix"].metadata["lf_names"]))
    assert L.shape[1] >= 8 and L.min() >= -1 and L.max() <= 1
    probs = pd.read_parquet(out["probs"].path)
    assert list(probs.columns) == ["row", "prob_0", "prob_1", "covered"]
    assert probs["row"].tolist() == list(range(len(frame)))
    np.testing.assert_allclose(probs[["prob_0", "prob_1"]].sum(axis=1), 1.0, atol=1e-9)
    assert probs["covered"].tolist() == (L != -1).any(axis=1).tolist()
    # The LF code's hash travels with the probabilistic labels into the model's lineage.
    assert out["probs"].metadata["lf_code_sha256"] == hashlib.sha256(open(LFS, "rb").read()).hexdigest()
    assert json.loads(open(out["label_model"].path).read())["selected"] == out["label_model"].metadata["method"]
    markdown = open(out["lf_analysis"].path).read()
    assert "| lf | polarity | coverage" in markdown and "keyword_subscribe" in markdown
    html = open(out["lf_analysis_html"].path).read()
    assert "<table>" in html and "data:image/png;base64," in html
    assert (tmp_path / "wl" / "html" / "lf_coverage_accuracy.png").stat().st_size > 1000
    metrics = out["metrics"].metadata
    assert 0.5 < metrics["train_coverage"] <= 1.0 and metrics["n_lfs"] == L.shape[1]
    # On the 100 dev rows the label model is at least as good as majority vote.
    assert metrics["label_model_dev_accuracy"] >= metrics["dev_accuracy_majority_vote"]


def test_weak_label_component_names_the_broken_lf(tmp_path, ingested, example_config, capsys):
    module = tmp_path / "broken_lfs.py"
    module.write_text(
        "from labelgate.labeling import labeling_function\n"
        "@labeling_function()\n"
        "def fine(x):\n    return -1\n"
        "@labeling_function()\n"
        "def broken(x):\n    return 1 if 'zzz' not in x.CONTENT else x.missing\n"
        "@labeling_function()\n"
        "def crashes(x):\n    return {}['nope'] if len(x.CONTENT) > 0 else -1\n"
    )
    out = _outputs(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        weak_label.python_func(data=ingested, lf_module=str(module), config_path=str(example_config), seed=0, **out)
    assert exit_info.value.code == 1
    failure = json.loads((tmp_path / "wl" / "failure.json").read_text())
    assert failure["step"] == "weak_label" and failure["error"] == "LabelingError"
    assert "'crashes'" in failure["message"] and "row 0" in failure["message"]
    assert "weak_label failed" in capsys.readouterr().err


def test_weak_label_component_rejects_lfs_that_never_vote(tmp_path, ingested, example_config):
    module = tmp_path / "silent_lfs.py"
    module.write_text(
        "from labelgate.labeling import keyword_lf\n"
        "never = keyword_lf('never', ['zzzqqq-not-in-any-comment'], label=1, column='CONTENT')\n"
    )
    out = _outputs(tmp_path)
    with pytest.raises(SystemExit):
        weak_label.python_func(data=ingested, lf_module=str(module), config_path=str(example_config), seed=0, **out)
    failure = json.loads((tmp_path / "wl" / "failure.json").read_text())
    assert failure["error"] == "LabelingError" and "abstains on every row" in failure["message"]


def test_dev_labels_can_be_kept_to_the_class_balance(tmp_path, ingested, example_config):
    import yaml

    config = yaml.safe_load(example_config.read_text())
    config["labeling"]["select_on_dev"] = False
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    out = _outputs(tmp_path)
    weak_label.python_func(data=ingested, lf_module=LFS, config_path=str(path), seed=0, **out)
    assert out["label_model"].metadata["dev_scores"] == {}
    assert "dev_accuracy_majority_vote" not in out["metrics"].metadata
    assert 0.5 < out["metrics"].metadata["label_model_dev_accuracy"] <= 1.0
