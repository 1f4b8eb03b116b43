"""Pipeline parameters: one home for each default, one precedence (flag > config file > default)."""

import inspect
import re

import pytest
import yaml

from labelgate.cli import main
from labelgate.cli.pipeline import RUN_FLAGS, resolved
from labelgate.errors import ConfigError
from labelgate.parameters import DEFAULTS, PipelineParameters, config_parameters, resolve
from labelgate.pipelines.training import pipeline


def test_the_pipeline_signature_takes_every_default_from_the_parameters_module():
    from labelgate.components.image import CLUSTER_DATA_URI, CLUSTER_REGISTRY_URI

    signature = inspect.signature(pipeline.pipeline_func)
    # The data and registry URIs are a cluster's, set at compile time; `labelgate run` passes its own.
    expected = {**DEFAULTS.model_dump(), "data_uri": CLUSTER_DATA_URI, "registry_uri": CLUSTER_REGISTRY_URI}
    assert {name: p.default for name, p in signature.parameters.items()} == expected
    assert {dest for dest, _, _ in RUN_FLAGS.values()} <= set(PipelineParameters.model_fields)


def test_flag_beats_config_section_beats_default(tmp_path):
    config = tmp_path / "project" / "config.yaml"
    section = {"model_name": "tickets", "data_uri": "data/", "min_test_f1": 0.7, "lf_module": "my.lfs",
               "suite_path": "/abs/suite.json", "registry_uri": "http://mlflow:5000"}
    values = resolve({"min_test_f1": 0.9, "seed": None}, section, config)
    assert values["min_test_f1"] == 0.9                       # the flag
    assert values["model_name"] == "tickets"                  # the config section
    assert values["seed"] == DEFAULTS.seed                     # the default (a flag left as None)
    assert values["data_uri"] == str(tmp_path / "project" / "data")  # relative to the config file
    assert values["lf_module"] == "my.lfs" and values["suite_path"] == "/abs/suite.json"
    assert values["registry_uri"] == "http://mlflow:5000" and values["config_path"] == str(config)


@pytest.mark.parametrize(("section", "message"), [
    ({"model_nam": "x"}, "pipeline.model_nam"),
    ({"seed": "three"}, "pipeline.seed"),
    ({"config_path": "other.yaml"}, "cannot be set inside the config"),
])
def test_bad_pipeline_section_names_the_file_and_key(tmp_path, section, message):
    with pytest.raises(ConfigError, match=message) as caught:
        config_parameters(section, tmp_path / "config.yaml")
    assert str(tmp_path / "config.yaml") in str(caught.value)


def test_run_flags_resolve_through_the_config_file(tmp_path, example_config):
    config = tmp_path / "config.yaml"
    raw = yaml.safe_load(example_config.read_text())
    raw["pipeline"] = {"model_name": "from-config", "min_test_accuracy": 0.5}
    config.write_text(yaml.safe_dump(raw))
    values = resolved({"config_path": str(config), "min_test_accuracy": 0.6, "model_name": None})
    assert values["model_name"] == "from-config" and values["min_test_accuracy"] == 0.6
    assert resolved({"config_path": None})["model_name"] == DEFAULTS.model_name


def test_compile_with_a_config_makes_its_section_the_compiled_defaults(tmp_path, example_config):
    config = tmp_path / "config.yaml"
    raw = yaml.safe_load(example_config.read_text())
    raw["pipeline"] = {"data_uri": "s3://bucket/comments", "registry_uri": "http://labelgate-mlflow:5000"}
    config.write_text(yaml.safe_dump(raw))
    out = tmp_path / "pipeline.yaml"
    assert main(["compile", "--output", str(out), "--config", str(config)]) == 0
    spec = next(yaml.safe_load_all(out.read_text()))
    params = spec["root"]["inputDefinitions"]["parameters"]
    assert params["data_uri"]["defaultValue"] == "s3://bucket/comments"
    assert params["registry_uri"]["defaultValue"] == "http://labelgate-mlflow:5000"
    assert params["config_path"]["defaultValue"] == str(config)
    assert params["model_name"]["defaultValue"] == DEFAULTS.model_name


def test_run_passes_every_parameter_so_compiled_cluster_defaults_never_apply(tmp_path, monkeypatch):
    import labelgate.pipelines.training as training

    called = {}
    monkeypatch.setattr(training, "pipeline", lambda **arguments: called.update(arguments))
    main(["run", "--runs-dir", str(tmp_path)])
    assert called["data_uri"] == DEFAULTS.data_uri and called["registry_uri"] == DEFAULTS.registry_uri


def test_a_flag_out_of_range_is_refused_before_any_step_runs():
    with pytest.raises(ConfigError, match=r"pipeline.search_groups must be >= 1; got 0"):
        resolve({"search_groups": 0})
    assert resolve({"search_groups": 2})["search_groups"] == 2


@pytest.mark.parametrize(("flags", "message"), [
    ({"lf_shards": 0}, "pipeline.lf_shards must be >= 1; got 0"),
    ({"canary_traffic_percent": 120}, "pipeline.canary_traffic_percent must be in [0, 100]; got 120"),
    ({"min_test_accuracy": 85}, "pipeline.min_test_accuracy must be in [0, 1]; got 85"),
    ({"champion_tolerance": -2}, "pipeline.champion_tolerance must be in [-1, 1]; got -2"),
])
def test_every_bounded_parameter_is_checked_before_a_run(flags, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        resolve(flags)


def test_a_bad_flag_is_named_as_the_user_typed_it(tmp_path, capsys):
    """`labelgate run --search-groups 0` names the flag, not the parameter's config key."""
    code = main(["run", "--search-groups", "0", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code != 0 and "flag --search-groups must be >= 1; got 0" in err
    assert "pipeline.search_groups" not in err and not any(tmp_path.iterdir())
