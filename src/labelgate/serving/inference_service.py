"""Point a KServe InferenceService at a pushed version, optionally as a canary (on a cluster).

The predictor is `labelgate serve` (the `serving` image) pinned to one registered version with
``--model-version``, so each KServe revision serves a fixed model: with ``canaryTrafficPercent`` the new
revision gets that share of traffic while the previous revision keeps serving the previous version.
The version's storage URI is recorded in an annotation. The service is created when missing, else
merge-patched (only the fields labelgate owns change; resources, probes and security settings from
``manifests/`` are kept).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelgate.errors import ConfigError, ServingError
from labelgate.serving.settings import REPOSITORY_TOKEN_ENV

GROUP = "serving.kserve.io"
API_VERSION = "v1beta1"
PLURAL = "inferenceservices"
VERSION_ANNOTATION = "labelgate.dev/model-version"
STORAGE_ANNOTATION = "labelgate.dev/storage-uri"
CONTAINER_NAME = "kserve-container"
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# KServe's deployment mode annotation. RawDeployment (plain Deployments, what `make run-local` installs)
# ignores canaryTrafficPercent; only Serverless (Knative revisions) splits traffic.
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
RAW_DEPLOYMENT = "RawDeployment"
SERVERLESS = "Serverless"
# The predictor's pod settings (the first push creates the InferenceService: there is none before a
# champion exists). The service account is manifests/components/serving/serviceaccount.yaml's.
SERVING_SERVICE_ACCOUNT = "labelgate-serving"
# The cluster's secrets (their one home; pipelines/cluster.py gives them to the steps): the image pull
# secret, the MLflow server's optional credentials, and the object store's (AWS_* variables; the data and the
# prediction log).
PULL_SECRET = "labelgate-pull"
REGISTRY_SECRET = "labelgate-registry"
DATA_SECRET = "labelgate-data"
PREDICTOR_RESOURCES = {"requests": {"cpu": "250m", "memory": "768Mi"}, "limits": {"cpu": "1", "memory": "1536Mi"}}
# The repository (load/unload) endpoints are on only where this optional secret exists; its token is then
# needed as `Authorization: Bearer <token>` (`kubectl create secret generic labelgate-serving-admin
# --from-literal=repository-token=...`).
ADMIN_SECRET = "labelgate-serving-admin"
ADMIN_SECRET_KEY = "repository-token"
# Probes. Predictions run beside the event loop, so health answers while the largest requests are being
# predicted. Readiness (/v2/health/ready) is false while no model is loaded (after an unload or a failed
# load): two misses (10 s) take the pod out of rotation. Liveness (/v2/health/live) restarts the pod only
# after 30 s without an answer (3 x 10 s, 5 s timeout). The server listens only once the model is loaded
# (downloaded from the registry first): the startup probe allows 5 minutes for that before liveness counts.
PROBES = {
    "startupProbe": {"httpGet": {"path": "/v2/health/live", "port": 8080},
                     "periodSeconds": 5, "timeoutSeconds": 5, "failureThreshold": 60},
    "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": 8080},
                       "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 2, "successThreshold": 1},
    "livenessProbe": {"httpGet": {"path": "/v2/health/live", "port": 8080},
                      "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
}


@dataclass(frozen=True)
class ServiceTarget:
    """Which InferenceService to point where, and how much traffic the new version gets at first."""

    name: str
    namespace: str
    registry_uri: str
    model_name: str
    image: str = "ghcr.io/labelgate/labelgate-serving:0.1.0"
    canary_traffic_percent: int = 0
    deployment_mode: str = RAW_DEPLOYMENT  # of an InferenceService this creates
    prediction_log: str = ""  # where the server appends its prediction log (set on create and patch); "" = as it is

    def __post_init__(self) -> None:
        if not 0 <= self.canary_traffic_percent <= 100:
            raise ConfigError(f"canary traffic percent must be within 0..100, got {self.canary_traffic_percent}")
        if self.deployment_mode not in (RAW_DEPLOYMENT, SERVERLESS):
            raise ConfigError(f"KServe deployment mode must be {RAW_DEPLOYMENT} or {SERVERLESS}, got {self.deployment_mode}")
        if not self.name:
            raise ConfigError("the InferenceService needs a name")


def default_namespace() -> str:
    """The pod's own namespace in a cluster, else ``default``."""
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "default"
    except OSError:
        return "default"


def _without(args: list[str], flag: str) -> list[str]:
    """``args`` less ``flag`` and its value (``--flag value`` or ``--flag=value``)."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == flag:
            skip = True
            continue
        if not arg.startswith(f"{flag}="):
            out.append(arg)
    return out


def _args(existing: list[str], target: ServiceTarget, version: str) -> list[str]:
    """Container args with ``--model-version`` set to ``version``, and ``--prediction-log`` to the target's
    when it names one (other args kept, in order)."""
    out = _without(existing, "--model-version")
    if not out:
        out = [f"--registry-uri={target.registry_uri}", f"--model-name={target.model_name}",
               "--host=0.0.0.0", "--port=8080"]
    if target.prediction_log:
        out = [*_without(out, "--prediction-log"), f"--prediction-log={target.prediction_log}"]
    return [*out, f"--model-version={version}"]


def _canary(target: ServiceTarget) -> int | None:
    return target.canary_traffic_percent if 0 < target.canary_traffic_percent < 100 else None


def build_inference_service(target: ServiceTarget, *, version: str, storage_uri: str) -> dict[str, Any]:
    """A new InferenceService serving ``version`` (all traffic: a first version has nothing to canary
    against), with the predictor's service account, pull secret, resources and non-root settings."""
    return {
        "apiVersion": f"{GROUP}/{API_VERSION}",
        "kind": "InferenceService",
        "metadata": {
            "name": target.name,
            "namespace": target.namespace,
            "annotations": {VERSION_ANNOTATION: version, STORAGE_ANNOTATION: storage_uri,
                            DEPLOYMENT_MODE_ANNOTATION: target.deployment_mode},
            "labels": {"app.kubernetes.io/part-of": "labelgate"},
        },
        "spec": {
            "predictor": {
                "minReplicas": 1,
                "maxReplicas": 2,
                "serviceAccountName": SERVING_SERVICE_ACCOUNT,
                "imagePullSecrets": [{"name": PULL_SECRET}],
                "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{
                    "name": CONTAINER_NAME,
                    "image": target.image,
                    "args": _args([], target, version),
                    "env": [{"name": "HOME", "value": "/tmp"},
                            {"name": REPOSITORY_TOKEN_ENV, "valueFrom": {"secretKeyRef": {
                                "name": ADMIN_SECRET, "key": ADMIN_SECRET_KEY, "optional": True}}}],
                    "envFrom": [{"secretRef": {"name": REGISTRY_SECRET, "optional": True}},
                                {"secretRef": {"name": DATA_SECRET, "optional": True}}],
                    "ports": [{"name": "http1", "containerPort": 8080, "protocol": "TCP"}],
                    **copy.deepcopy(PROBES),
                    "resources": copy.deepcopy(PREDICTOR_RESOURCES),
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                }],
            }
        },
    }


def deployment_mode(existing: dict[str, Any]) -> str:
    """The KServe deployment mode an existing InferenceService declares (KServe's default: Serverless)."""
    return ((existing.get("metadata") or {}).get("annotations") or {}).get(DEPLOYMENT_MODE_ANNOTATION, SERVERLESS)


def build_patch(existing: dict[str, Any], target: ServiceTarget, *, version: str, storage_uri: str) -> dict[str, Any]:
    """The JSON merge patch moving an existing InferenceService to ``version`` (a canary if asked)."""
    predictor = (existing.get("spec") or {}).get("predictor") or {}
    containers = copy.deepcopy(predictor.get("containers") or [])
    if not containers:
        raise ServingError(
            f"InferenceService {target.namespace}/{target.name} has no custom predictor container; labelgate "
            "serves with its own image (manifests/components/serving/inferenceservice.yaml)"
        )
    if _canary(target) is not None and deployment_mode(existing) == RAW_DEPLOYMENT:
        raise ConfigError(
            f"InferenceService {target.namespace}/{target.name} runs in {RAW_DEPLOYMENT} mode, which ignores "
            f"canaryTrafficPercent: push with canary_traffic_percent=0, or use KServe's {SERVERLESS} mode "
            f"(annotation {DEPLOYMENT_MODE_ANNOTATION}: {SERVERLESS})"
        )
    index = next((i for i, c in enumerate(containers) if c.get("name") == CONTAINER_NAME), 0)
    containers[index]["args"] = _args(list(containers[index].get("args") or []), target, version)
    return {
        "metadata": {"annotations": {VERSION_ANNOTATION: version, STORAGE_ANNOTATION: storage_uri}},
        "spec": {"predictor": {"containers": containers, "canaryTrafficPercent": _canary(target)}},
    }


def api_client_from_environment() -> Any:
    """A Kubernetes API client: the pod's service account in a cluster, else the local kubeconfig."""
    from kubernetes import client, config

    try:
        config.load_incluster_config()
    except config.ConfigException:
        try:
            config.load_kube_config()
        except (config.ConfigException, OSError) as exc:
            raise ServingError(f"no Kubernetes credentials (not in a pod, no kubeconfig): {exc}") from exc
    return client.ApiClient()


def deploy(*, api_client: Any, target: ServiceTarget, version: str, storage_uri: str) -> tuple[str, dict[str, Any]]:
    """Create or patch the InferenceService; returns (``created`` | ``patched``, the object as stored)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    api = client.CustomObjectsApi(api_client)
    where = f"InferenceService {target.namespace}/{target.name}"
    try:
        existing = api.get_namespaced_custom_object(GROUP, API_VERSION, target.namespace, PLURAL, target.name)
    except ApiException as exc:
        if exc.status != 404:
            raise ServingError(f"cannot read {where}: HTTP {exc.status} {exc.reason}") from exc
        existing = None
    try:
        if existing is None:
            body = build_inference_service(target, version=version, storage_uri=storage_uri)
            return "created", api.create_namespaced_custom_object(GROUP, API_VERSION, target.namespace, PLURAL, body)
        patch = build_patch(existing, target, version=version, storage_uri=storage_uri)
        return "patched", api.patch_namespaced_custom_object(GROUP, API_VERSION, target.namespace, PLURAL,
                                                             target.name, patch)
    except ApiException as exc:
        raise ServingError(f"cannot {'create' if existing is None else 'patch'} {where}: HTTP {exc.status} "
                           f"{exc.reason}: {str(exc.body)[:300]}") from exc
