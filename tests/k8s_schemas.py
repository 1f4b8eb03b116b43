"""Offline schema validation of rendered manifests.

Built-in kinds: the strict Kubernetes JSON schemas shipped with `kubernetes-validate`. InferenceService
(a KServe CRD, for which no schema ships): a strict JSON schema generated from the KServe SDK's
generated models (their OpenAPI field types), whose Kubernetes parts (containers, metadata, ...) point at
the same strict Kubernetes definitions. Unknown fields fail, as with `kubectl apply --validate=strict`.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

import jsonschema
import kubernetes_validate
import referencing

K8S_VERSION = "1.32"
_K8S_DEFS_URI = "https://kubernetes.io/api/_definitions.json"
# Fields of the InferenceService whose type neither the KServe SDK nor Kubernetes 1.32's schemas define:
# the schema accepts anything there. Listed so that a new one is a decision (tests/test_stand_ins.py checks
# that building the schema leaves exactly these open).
# restartPolicyRules and schedulingGroup are pod fields newer than Kubernetes 1.32; traffic is Knative's; the metric
# quantities are KServe's own int-or-string, which its SDK leaves untyped.
UNCHECKED_FIELDS = frozenset({
    "V1beta1ARTExplainerSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1ComponentStatusSpec.traffic: list[KnativeDevServingPkgApisServingV1TrafficTarget]",
    "V1beta1ExplainerSpec.schedulingGroup: V1PodSchedulingGroup",
    "V1beta1HuggingFaceRuntimeSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1LightGBMSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1MetricTarget.averageValue: V1beta1MetricQuantity",
    "V1beta1MetricTarget.value: V1beta1MetricQuantity",
    "V1beta1ModelSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1ONNXRuntimeSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1PMMLSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1PaddleServerSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1PredictorSpec.schedulingGroup: V1PodSchedulingGroup",
    "V1beta1SKLearnSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1TFServingSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1TorchServeSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1TransformerSpec.schedulingGroup: V1PodSchedulingGroup",
    "V1beta1TritonSpec.restartPolicyRules: list[V1ContainerRestartRule]",
    "V1beta1WorkerSpec.schedulingGroup: V1PodSchedulingGroup",
    "V1beta1XGBoostSpec.restartPolicyRules: list[V1ContainerRestartRule]",
})
UNCHECKED: set[str] = set()  # what building the schema found, "<Model>.<field>: <type>"
_SCALARS = {"str": {"type": "string"}, "int": {"type": "integer"}, "bool": {"type": "boolean"},
            "float": {"type": "number"}, "object": {}, "datetime": {"type": "string"},
            "ResourceQuantity": {"type": ["string", "number"]}}


def validate(doc: dict[str, Any]) -> None:
    """Raise a jsonschema/kubernetes-validate error when ``doc`` does not fit its kind's schema."""
    if doc.get("kind") == "InferenceService":
        if doc.get("apiVersion") != "serving.kserve.io/v1beta1":
            raise ValueError(f"InferenceService apiVersion {doc.get('apiVersion')} is not serving.kserve.io/v1beta1")
        _inference_service_validator().validate(doc)
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@functools.lru_cache(maxsize=1)
def _k8s_definitions() -> dict[str, Any]:
    directory = f"v{K8S_VERSION}.0-local-strict"
    path = resources.files("kubernetes_validate") / "kubernetes-json-schema" / directory / "_definitions.json"
    return json.loads(path.read_text())


def _k8s_ref(name: str) -> dict[str, Any] | None:
    """A ref to the Kubernetes definition for a client model name such as V1Container."""
    match = re.fullmatch(r"V1(\w+)", name)
    if not match:
        return None
    defs = _k8s_definitions()["$defs"]
    for group in ("io.k8s.api.core.v1.", "io.k8s.apimachinery.pkg.apis.meta.v1.", "io.k8s.api.apps.v1."):
        if group + match[1] in defs:
            return {"$ref": f"/api/_definitions.json#/$defs/{group}{match[1]}"}
    return None


def _schema_for(type_name: str, defs: dict[str, Any], field: str = "") -> dict[str, Any]:
    import kserve
    import kserve.models

    if type_name in _SCALARS:
        return _SCALARS[type_name]
    if match := re.fullmatch(r"list\[(.+)\]", type_name):
        return {"type": "array", "items": _schema_for(match[1], defs, field)}
    if match := re.fullmatch(r"dict\(str, (.+)\)", type_name):
        return {"type": "object", "additionalProperties": _schema_for(match[1], defs, field)}
    # e.g. K8sIoApiAppsV1DeploymentStrategy, K8sIoApiAutoscalingV2HorizontalPodAutoscalerBehavior
    if match := re.fullmatch(r"K8sIoApi([A-Z][a-z]+)(V\d+(?:alpha\d+|beta\d+)?)(\w+)", type_name):
        ref = f"io.k8s.api.{match[1].lower()}.{match[2].lower()}.{match[3]}"
        if ref in _k8s_definitions()["$defs"]:
            return {"$ref": f"/api/_definitions.json#/$defs/{ref}"}
    model = getattr(kserve, type_name, None) or getattr(kserve.models, type_name, None)
    if model is not None and getattr(model, "__module__", "").startswith("kserve.") and hasattr(
            model, "openapi_types"):
        if type_name not in defs:
            defs[type_name] = {}  # placeholder: recursive types
            defs[type_name] = {
                "type": "object", "additionalProperties": False,
                "properties": {model.attribute_map[attr]: _schema_for(kind, defs, f"{type_name}.{model.attribute_map[attr]}: {kind}")
                               for attr, kind in model.openapi_types.items()},
            }
        return {"$ref": f"#/$defs/{type_name}"}
    if ref := _k8s_ref(type_name):
        return ref
    UNCHECKED.add(field or type_name)  # a type neither the KServe SDK nor Kubernetes 1.32 defines: accept anything
    return {}


@functools.lru_cache(maxsize=1)
def _inference_service_validator() -> jsonschema.protocols.Validator:
    defs: dict[str, Any] = {}
    root = _schema_for("V1beta1InferenceService", defs)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": "https://kubernetes.io/api/inferenceservice-serving-v1beta1.json",
              "$defs": defs, **root, "required": ["apiVersion", "kind", "metadata", "spec"]}
    definitions = referencing.Resource.from_contents(_k8s_definitions())
    registry = referencing.Registry().with_resource(_K8S_DEFS_URI, definitions)
    return jsonschema.Draft202012Validator(schema, registry=registry)
