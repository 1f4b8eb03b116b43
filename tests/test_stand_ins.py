"""Every stand-in the tests use is listed here with what keeps it true to what it stands for.

A fake is found by its name (modules ``fake_*.py`` / ``*_standin.py``, classes ``Fake*`` / ``*StandIn``,
functions ``fake_*``), by a script it writes (a ``#!`` string) or by starting moto. Each entry names the
checks that keep it honest: ``file.py:attribute`` (a checker the fake runs) or ``path::test`` (a test that
fails when the fake drifts), or says plainly why nothing automatic can.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@dataclass(frozen=True)
class StandIn:
    stands_for: str
    checks: tuple[str, ...] = ()
    replaces: str = ""  # "module:function" a test double swaps out: it must take the same parameters
    unchecked_because: str = ""  # why no automatic check is possible (required when ``checks`` is empty)


_KFP = StandIn(
    "the KFP v2beta1 REST API server (KFP 2.17 on Argo)",
    checks=("cluster/kfp_standin.py:check_model", "cluster/kfp_standin.py:NEVER_FILLED",
            "cluster/test_submit.py::test_standin_answers_have_the_api_models_fields",
            "cluster/test_submit.py::test_standin_runs_the_compiled_pipelines_task_list",
            "cluster/test_submit.py::test_the_model_check_refuses_what_the_api_cannot_answer"))
_KUBE = StandIn(
    "the Kubernetes API server, for serving.kserve.io/v1beta1 InferenceServices",
    checks=("k8s_schemas.py:validate", "k8s_schemas.py:UNCHECKED_FIELDS",
            "serving/test_inference_service.py::test_the_stand_in_refuses_what_the_schema_refuses",
            "test_stand_ins.py::test_the_inference_service_schema_leaves_only_the_listed_fields_unchecked"))
_MOTO = StandIn("S3 (moto's server)", unchecked_because="moto is an emulation of S3 kept by its own authors; "
                "labelgate reaches it only through s3fs/boto3, the clients it uses against real S3")

STAND_INS: dict[str, StandIn] = {
    "cluster/kfp_standin.py": _KFP,
    "cluster/kfp_standin.py::KfpStandIn": _KFP,
    "serving/test_inference_service.py::FakeKubernetes": _KUBE,
    "serving/test_inference_service.py::FakeKubernetesHandler": _KUBE,
    "cluster/fake_port_forward.py": StandIn(
        "`kubectl port-forward` to KFP 2.17's ml-pipeline-ui and seaweedfs services",
        checks=("cluster/test_run_local_rehearsal.py::test_make_run_local_rehearsal",)),
    "cluster/fake_port_forward.py::moto": _MOTO,
    "cluster/fake_argo_pods.py": StandIn(
        "`kubectl get pods` / `kubectl logs` on a run's Argo executor pods",
        unchecked_because="no Argo here: the v2 pod naming (<workflow>-<template>-<hash>, node id "
                          "<workflow>-<hash>) and the node-id annotation are Argo's documented behaviour, "
                          "copied by hand"),
    "cluster/test_run_local_rehearsal.py::scripts": StandIn(
        "kind, docker and kubectl on PATH during the `make run-local` rehearsal",
        unchecked_because="they log their arguments (the test asserts those); the overlay is rendered by "
                          "the real kubectl, and port-forward/pods go to the stand-ins above"),
    "cluster/test_submit.py::scripts": StandIn(
        "kubectl answering `get pods -o json` and `logs` for one Argo pod",
        unchecked_because="the PodList shape and the node-id annotation are Kubernetes' and Argo's, copied "
                          "by hand; the reader's contract with the KFP API is checked through the stand-in"),
    "cluster/test_make_targets.py::scripts": StandIn(
        "a docker whose engine is unreachable", unchecked_because="prints Docker's own message for that case"),
    "cluster/test_trigger.py::moto": _MOTO,
    "containers/test_rehearsal.py::moto": _MOTO,
    "serving/test_prediction_log.py::moto": _MOTO,
    "pipelines/test_compile.py::fake_pipeline": StandIn(
        "the training pipeline function, to see what `labelgate run` passes it",
        replaces="labelgate.pipelines.training:pipeline"),
    "validation/test_step.py::fake_champion_file": StandIn(
        "the registry lookup of the champion's profile", replaces="labelgate.validation.step:champion_file"),
}


def _found() -> dict[str, ast.AST | None]:
    """Every stand-in in tests/, keyed as STAND_INS is, with its definition where it has one."""
    found: dict[str, ast.AST | None] = {}
    for path in sorted(TESTS.rglob("*.py")):
        if path == Path(__file__).resolve():  # this registry names them; it is none
            continue
        rel = path.relative_to(TESTS).as_posix()
        source = path.read_text()
        tree = ast.parse(source)
        if re.fullmatch(r"fake_\w+\.py|\w+_standin\.py", path.name):
            found[rel] = None
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and (node.name.startswith("Fake") or node.name.endswith("StandIn")):
                found[f"{rel}::{node.name}"] = node
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(("fake_", "stub_")):
                found[f"{rel}::{node.name}"] = node
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("#!"):
                found[f"{rel}::scripts"] = None
        if re.search(r"ThreadedMotoServer|mock_aws", source):
            found[f"{rel}::moto"] = None
    return found


def test_every_stand_in_is_listed_with_what_keeps_it_true():
    found = _found()
    assert set(found) - set(STAND_INS) == set(), "a new stand-in: list it in STAND_INS with its checks"
    assert set(STAND_INS) - set(found) == set(), "STAND_INS lists a stand-in that is gone"
    for key, entry in STAND_INS.items():
        assert entry.checks or entry.replaces or entry.unchecked_because, f"{key}: nothing keeps it true"


@pytest.mark.parametrize("check", sorted({c for entry in STAND_INS.values() for c in entry.checks}))
def test_each_check_exists(check):
    if "::" in check:
        path, test = check.split("::")
        tree = ast.parse((TESTS / path).read_text())
        assert test in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, check
    else:
        path, attribute = check.split(":")
        name = f"_stand_in_check_{Path(path).stem}"
        spec = importlib.util.spec_from_file_location(name, TESTS / path)
        module = sys.modules.setdefault(name, importlib.util.module_from_spec(spec))
        spec.loader.exec_module(module)
        assert hasattr(module, attribute), check


def _parameters(node: ast.FunctionDef | ast.Lambda) -> tuple[set[str], bool]:
    args = node.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    return names, args.kwarg is not None


@pytest.mark.parametrize("key", sorted(k for k, v in STAND_INS.items() if v.replaces))
def test_a_replaced_function_and_its_double_take_the_same_parameters(key):
    module, name = STAND_INS[key].replaces.split(":")
    real = inspect.signature(getattr(importlib.import_module(module), name))
    fake, takes_any_keyword = _parameters(_found()[key])
    wanted = {p.name for p in real.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    assert takes_any_keyword or fake == wanted, (key, sorted(fake), sorted(wanted))


def test_the_inference_service_schema_leaves_only_the_listed_fields_unchecked():
    import k8s_schemas

    k8s_schemas._inference_service_validator()
    assert k8s_schemas.UNCHECKED == set(k8s_schemas.UNCHECKED_FIELDS)
