import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from kfp import dsl

from labelgate.components.apply_lfs import apply_lfs
from labelgate.components.ingest import ingest
from labelgate.components.plan_shards import plan_shards
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


def _shards(tmp_path, data, lf_module, config, n_shards=1):
    """The apply_lfs fan-out as the pipeline runs it: one label-matrix shard per index of plan_shards."""
    shards = []
    for shard in plan_shards.python_func(n_shards=n_shards):
        out = dsl.Dataset(uri=str(tmp_path / "apply" / str(shard) / "label_matrix"))
        apply_lfs.python_func(data=data, lf_module=lf_module, config_path=config, shard=shard, n_shards=n_shards,
                              label_matrix=out)
        shards.append(out)
    return shards


def _weak_label(tmp_path, data, lf_module, config, out, n_shards=1, seed=0):
    shards = _shards(tmp_path, data, lf_module, config, n_shards)
    weak_label.python_func(data=data, label_matrix_shards=shards, lf_module=lf_module, config_path=config,
                           seed=seed, **out)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, example_data, example_config):
    data = dsl.Dataset(uri=str(tmp_path_factory.mktemp("ingest") / "data"))
    ingest.python_func(data_uri=str(example_data), config_path=str(example_config), data=data)
    return data


def test_weak_label_component_writes_the_contract_artifacts(tmp_path, ingested, example_config, capsys):
    out = _outputs(tmp_path)
    _weak_label(tmp_path, ingested, LFS, str(example_config), out)
    printed = capsys.readouterr().out
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
    # Dev labels move the model only on a significant paired gain over the no-dev choice.
    selection = out["label_model"].metadata["dev_selection"]
    chosen = selection["candidates"][selection["choice"]]
    assert selection["choice"] == out["label_model"].metadata["method"]
    assert selection["choice"] == selection["default"] or chosen["z_vs_default"] > 2.5
    assert metrics["label_model_dev_accuracy"] == chosen["accuracy"]
    # ... and the step says which way it went and why, from that same comparison.
    if selection["choice"] == selection["default"]:
        assert f"labelgate[weak-label]: label model: kept {selection['default']}, the choice without labels" in printed
    else:
        assert (f"labelgate[weak-label]: label model: switched from {selection['default']} to "
                f"{selection['choice']} on the {selection['rows']} dev rows") in printed


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
    with pytest.raises(SystemExit) as exit_info:
        _shards(tmp_path, ingested, str(module), str(example_config))
    assert exit_info.value.code == 1
    failure = json.loads((tmp_path / "apply" / "0" / "failure.json").read_text())
    assert failure["step"] == "apply-lfs" and failure["error"] == "LabelingError"
    assert "'crashes'" in failure["message"] and "row 0" in failure["message"]
    assert "apply-lfs failed" in capsys.readouterr().err


def test_weak_label_component_rejects_lfs_that_never_vote(tmp_path, ingested, example_config):
    module = tmp_path / "silent_lfs.py"
    module.write_text(
        "from labelgate.labeling import keyword_lf\n"
        "never = keyword_lf('never', ['zzzqqq-not-in-any-comment'], label=1, column='CONTENT')\n"
    )
    out = _outputs(tmp_path)
    with pytest.raises(SystemExit):
        _weak_label(tmp_path, ingested, str(module), str(example_config), out)
    failure = json.loads((tmp_path / "wl" / "failure.json").read_text())
    assert failure["error"] == "LabelingError" and "abstains on every row" in failure["message"]


def test_dev_labels_can_be_kept_to_the_class_balance(tmp_path, ingested, example_config):
    import yaml

    config = yaml.safe_load(example_config.read_text())
    config["labeling"]["select_on_dev"] = False
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    out = _outputs(tmp_path)
    _weak_label(tmp_path, ingested, LFS, str(path), out)
    assert out["label_model"].metadata["dev_scores"] == {}
    assert "dev_accuracy_majority_vote" not in out["metrics"].metadata
    assert 0.5 < out["metrics"].metadata["label_model_dev_accuracy"] <= 1.0


def test_sharded_labels_equal_unsharded(tmp_path, ingested, example_config):
    one, three = _outputs(tmp_path / "one"), _outputs(tmp_path / "three")
    _weak_label(tmp_path / "one", ingested, LFS, str(example_config), one, n_shards=1)
    _weak_label(tmp_path / "three", ingested, LFS, str(example_config), three, n_shards=3)
    np.testing.assert_array_equal(np.load(one["label_matrix"].path), np.load(three["label_matrix"].path))
    pd.testing.assert_frame_equal(pd.read_parquet(one["probs"].path), pd.read_parquet(three["probs"].path))


def test_plan_shards_rejects_zero():
    from labelgate.errors import LabelingError

    with pytest.raises(LabelingError, match="lf_shards must be at least 1"):
        plan_shards.python_func(n_shards=0)
