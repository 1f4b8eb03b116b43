"""The pipeline compiles to KFP IR YAML that loads back with every step and both gates in place."""

import yaml
from kfp import compiler
from kfp.components import load_component_from_file

from labelgate.cli import main
from labelgate.parameters import DEFAULTS
from labelgate.pipelines.training import PIPELINE_NAME, pipeline

STEPS = {"ingest", "repair", "plan-shards", "apply-lfs", "weak-label", "validate", "data-gate", "plan-search", "train",
         "select-model", "evaluate", "model-gate", "push"}


def _pipeline_spec(path) -> dict:
    """The pipeline spec: the first YAML document (a second one holds cluster platform settings)."""
    return next(yaml.safe_load_all(path.read_text()))


def _all_tasks(spec: dict) -> dict[str, dict]:
    """Tasks of the root DAG and of every sub-DAG (conditions), by task name."""
    tasks = dict(spec["root"]["dag"]["tasks"])
    for component in spec["components"].values():
        tasks.update(component.get("dag", {}).get("tasks", {}))
    return tasks


def test_compiled_yaml_round_trips_with_all_steps_and_both_conditions(tmp_path):
    path = tmp_path / "pipeline.yaml"
    assert main(["compile", "--output", str(path)]) == 0
    spec = _pipeline_spec(path)
    assert spec["pipelineInfo"]["name"] == PIPELINE_NAME
    tasks = _all_tasks(spec)
    assert STEPS <= set(tasks)
    conditions = {name: t["triggerPolicy"]["condition"] for name, t in tasks.items() if "triggerPolicy" in t}
    assert len(conditions) == 2, conditions
    assert any("data-gate" in c for c in conditions.values())
    assert any("model-gate" in c for c in conditions.values())
    # training sits under the data gate's condition, push under the model gate's (nested).
    data_branch = next(n for n, c in conditions.items() if "data-gate" in c)
    data_dag = spec["components"][tasks[data_branch]["componentRef"]["name"]]["dag"]["tasks"]
    assert {"plan-search", "select-model", "evaluate", "model-gate"} <= set(data_dag)
    # Two fan-outs: apply-lfs over plan-shards' output (root DAG), train over plan-search's (under the gate).
    loops = {name: t for name, t in tasks.items() if "parameterIterator" in t}
    assert len(loops) == 2
    inside = {name: set(spec["components"][t["componentRef"]["name"]]["dag"]["tasks"]) for name, t in loops.items()}
    assert sorted(map(sorted, inside.values())) == [["apply-lfs"], ["train"]]
    search_loop = next(name for name, steps in inside.items() if steps == {"train"})
    assert search_loop in data_dag and "plan-search" in str(loops[search_loop]["parameterIterator"])
    # select-model reads every train task's model (dsl.Collected), evaluate and push read select-model's.
    selected = data_dag["select-model"]["inputs"]["artifacts"]["models"]
    assert selected["taskOutputArtifact"]["producerTask"] == search_loop
    assert data_dag["evaluate"]["inputs"]["artifacts"]["model"]["taskOutputArtifact"]["producerTask"] == "select-model"
    # Loading it back gives a component with the pipeline's parameters.
    loaded = load_component_from_file(str(path))
    assert {"data_uri", "lf_module", "registry_uri", "seed", "min_test_accuracy", "lf_shards",
            "search_groups"} <= set(loaded.component_spec.inputs)


def test_every_step_after_repair_reads_the_repaired_table(tmp_path):
    """Repair sits between ingest and everything else: LFs, the label model, the data gate, training and
    evaluation read its ``repaired`` table; only repair reads ingest's ``data`` (kept for lineage)."""
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(path))
    tasks = _all_tasks(_pipeline_spec(path))
    readers = {}
    for name, task in tasks.items():
        source = task.get("inputs", {}).get("artifacts", {}).get("data", {})
        if "taskOutputArtifact" in source:  # in the root DAG
            readers[name] = f"{source['taskOutputArtifact']['producerTask']}-{source['taskOutputArtifact']['outputArtifactKey']}"
        elif "componentInputArtifact" in source:  # inside a condition or loop: the parent's channel
            readers[name] = source["componentInputArtifact"].removeprefix("pipelinechannel--")
    assert readers.pop("repair") == "ingest-data"
    assert {"apply-lfs", "weak-label", "validate", "train", "evaluate"} <= set(readers)
    assert set(readers.values()) == {"repair-repaired"}


def test_components_use_the_project_image_and_install_nothing(tmp_path, monkeypatch):
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(path))
    spec = _pipeline_spec(path)
    executors = spec["deploymentSpec"]["executors"]
    assert len(executors) == len(STEPS)
    for executor in executors.values():
        container = executor["container"]
        assert "labelgate" in container["image"]
        assert "pip install" not in " ".join(container["command"])  # the image already has labelgate and kfp


def test_run_executes_the_same_pipeline_function(tmp_path, monkeypatch):
    """`labelgate run` (what `make run` calls) runs labelgate.pipelines.training.pipeline, nothing else."""
    import labelgate.pipelines.training as training

    called = {}

    def fake_pipeline(**arguments):
        called.update(arguments)

    monkeypatch.setattr(training, "pipeline", fake_pipeline)
    code = main(["run", "--runs-dir", str(tmp_path), "--seed", "5"])
    assert called["seed"] == 5 and called["model_name"] == DEFAULTS.model_name
    assert code == 1  # nothing ran, so nothing was pushed and no gate decided
