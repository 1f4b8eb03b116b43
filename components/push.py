"""Push step: infra-validate the blessed model, register it in MLflow, verify it, move `champion`."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, Markdown, Model, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def push(
    model: Input[Model],
    profile: Input[Dataset],
    blessing: Input[Artifact],
    registry_uri: str,
    model_name: str,
    pipeline_run: str,
    pushed: Output[Markdown],
    inference_service: str = "",
    namespace: str = "",
    canary_traffic_percent: int = 0,
    serving_image: str = "",
    prediction_log: str = "",
) -> NamedTuple("Outputs", [("version", str)]):
    """Serve the candidate in a subprocess and check its answers, then register it (model, profile,
    blessing, lineage) and point the `champion` alias at it; the old champion stays on any failure.
    On a cluster, ``inference_service`` names the KServe InferenceService to create or patch (pinned
    to the new version, ``canary_traffic_percent`` of traffic first, its server appending a
    ``prediction_log`` there when that is set); empty locally. ``pipeline_run``
    (KFP's job id) names the MLflow run the version is logged into."""
    from collections import namedtuple

    from labelgate.registry.step import run_push
    from labelgate.run import Step, step_failures

    with step_failures(Step.PUSH, pushed.path):
        version = run_push(
            model_dir=model.path, model_uri=model.uri, model_metadata=model.metadata,
            profile_path=profile.path, profile_uri=profile.uri,
            blessing_path=blessing.path, blessing_uri=blessing.uri,
            registry_uri=registry_uri, model_name=model_name, run_key=pipeline_run, out_path=pushed.path,
            inference_service=inference_service, namespace=namespace,
            canary_traffic_percent=canary_traffic_percent, serving_image=serving_image,
            prediction_log=prediction_log,
        )
    return namedtuple("Outputs", ["version"])(version)
