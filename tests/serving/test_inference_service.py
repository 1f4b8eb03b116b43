"""Creating and patching the KServe InferenceService, against a loopback stand-in for the Kubernetes API
that stores objects, applies JSON merge patches, records every request and, as the real API server with
strict field validation, refuses (422) an object that does not fit the InferenceService schema the
manifests are checked with (tests/k8s_schemas.py)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from k8s_schemas import validate
from kubernetes import client

from labelgate.errors import ConfigError, RegistryError, ServingError
from labelgate.registry import champion_model_dir
from labelgate.registry.step import kserve_deployer
from labelgate.registry.store import list_versions
from labelgate.serving.inference_service import (
    STORAGE_ANNOTATION,
    VERSION_ANNOTATION,
    ServiceTarget,
    build_patch,
    deploy,
)

PREFIX = "/apis/serving.kserve.io/v1beta1/namespaces/"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


class FakeKubernetes(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeKubernetesHandler)
        self.objects: dict[tuple[str, str], dict] = {}
        self.requests: list[dict] = []
        self.refuse_writes = False
        self.invalid: list[str] = []  # the schema errors of the bodies it refused


def _invalid(obj: dict) -> str | None:
    """Why ``obj`` does not fit its kind's schema (None when it does)."""
    try:
        validate(obj)
    except (jsonschema.ValidationError, ValueError) as exc:
        return f"{'.'.join(map(str, getattr(exc, 'absolute_path', [])))}: {getattr(exc, 'message', exc)}"
    return None


class FakeKubernetesHandler(BaseHTTPRequestHandler):
    server: FakeKubernetes

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.requests.append({"method": self.command, "path": self.path,
                                     "content_type": self.headers.get("Content-Type"), "body": body})
        if not self.path.startswith(PREFIX):
            return self._reply(404, {"kind": "Status", "code": 404})
        parts = self.path[len(PREFIX):].split("?")[0].split("/")
        namespace, name = parts[0], (parts[2] if len(parts) > 2 else None)
        if self.server.refuse_writes and self.command in ("POST", "PATCH"):
            return self._reply(403, {"kind": "Status", "code": 403, "reason": "Forbidden",
                                     "message": "inferenceservices is forbidden"})
        if self.command == "GET":
            obj = self.server.objects.get((namespace, name))
            return self._reply(200, obj) if obj else self._reply(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
        if self.command == "POST":
            key = (namespace, body["metadata"]["name"])
            created = {**body, "status": {}}
        else:  # PATCH
            key = (namespace, name)
            if key not in self.server.objects:
                return self._reply(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
            created = merge_patch(self.server.objects[key], body)  # a merge patch is checked by its result
        if problem := _invalid(created):
            self.server.invalid.append(problem)
            return self._reply(422, {"kind": "Status", "code": 422, "reason": "Invalid", "message": problem})
        self.server.objects[key] = created
        return self._reply(201 if self.command == "POST" else 200, created)

    do_GET = do_POST = do_PATCH = _handle


@pytest.fixture
def kube() -> Iterator[tuple[FakeKubernetes, client.ApiClient]]:
    server = FakeKubernetes()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = client.Configuration(host=f"http://127.0.0.1:{server.server_address[1]}")
    api_client = client.ApiClient(config)
    yield server, api_client
    assert server.invalid == [], "labelgate sent a body the Kubernetes API would refuse"
    api_client.close()
    server.shutdown()
    server.server_close()


MANIFEST_LIKE = {
    "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
    "metadata": {"name": "labelgate-spam", "namespace": "ml", "annotations": {VERSION_ANNOTATION: "none"}},
    "spec": {"predictor": {"minReplicas": 1, "serviceAccountName": "labelgate-serving", "containers": [{
        "name": "kserve-container", "image": "labelgate-serving",
        "args": ["--registry-uri=http://labelgate-mlflow:5000", "--model-name=youtube-spam", "--model-version", "3",
                 "--host=0.0.0.0", "--port=8080"],
        "resources": {"limits": {"cpu": "1"}}}]}},
}


def _target(canary: int = 0, mode: str = "RawDeployment") -> ServiceTarget:
    return ServiceTarget(name="labelgate-spam", namespace="ml", registry_uri="http://labelgate-mlflow:5000",
                         model_name="youtube-spam", canary_traffic_percent=canary, deployment_mode=mode)


def test_patch_pins_the_version_keeps_the_rest_and_sets_the_canary() -> None:
    patch = build_patch(MANIFEST_LIKE, _target(canary=20), version="4", storage_uri="mlflow-artifacts:/1/abc/x")
    (container,) = patch["spec"]["predictor"]["containers"]
    assert container["args"] == ["--registry-uri=http://labelgate-mlflow:5000", "--model-name=youtube-spam",
                                 "--host=0.0.0.0", "--port=8080", "--model-version=4"]
    assert container["resources"] == {"limits": {"cpu": "1"}}
    assert patch["spec"]["predictor"]["canaryTrafficPercent"] == 20
    assert patch["metadata"]["annotations"] == {VERSION_ANNOTATION: "4", STORAGE_ANNOTATION: "mlflow-artifacts:/1/abc/x"}
    assert build_patch(MANIFEST_LIKE, _target(canary=0), version="4", storage_uri="s")["spec"]["predictor"][
        "canaryTrafficPercent"] is None  # merge patch: remove it, all traffic to the new revision
    with pytest.raises(ConfigError, match="0..100"):
        _target(canary=120)


def test_the_stand_in_refuses_what_the_schema_refuses(kube: tuple[FakeKubernetes, client.ApiClient]) -> None:
    server, api_client = kube
    api = client.CustomObjectsApi(api_client)
    typo = copy.deepcopy(MANIFEST_LIKE)
    typo["spec"]["predictor"]["minReplica"] = 1
    with pytest.raises(client.ApiException) as refused:
        api.create_namespaced_custom_object("serving.kserve.io", "v1beta1", "ml", "inferenceservices", typo)
    assert refused.value.status == 422 and "minReplica" in refused.value.body
    api.create_namespaced_custom_object("serving.kserve.io", "v1beta1", "ml", "inferenceservices", MANIFEST_LIKE)
    with pytest.raises(client.ApiException, match="422"):  # a patch is judged by the object it makes
        api.patch_namespaced_custom_object("serving.kserve.io", "v1beta1", "ml", "inferenceservices",
                                           "labelgate-spam", {"spec": {"predictor": {"minReplicas": "one"}}})
    assert len(server.invalid) == 2
    server.invalid.clear()  # refused on purpose: the fixture's check is for labelgate's own requests


def test_deploy_creates_then_patches_with_merge_patch(kube: tuple[FakeKubernetes, client.ApiClient]) -> None:
    server, api_client = kube
    action, created = deploy(api_client=api_client, target=_target(canary=30, mode="Serverless"), version="1",
                             storage_uri="s1")
    assert action == "created" and "canaryTrafficPercent" not in created["spec"]["predictor"]
    assert created["spec"]["predictor"]["containers"][0]["args"][-1] == "--model-version=1"
    action, patched = deploy(api_client=api_client, target=_target(canary=30, mode="Serverless"), version="2",
                             storage_uri="s2")
    assert action == "patched"
    assert patched["spec"]["predictor"]["canaryTrafficPercent"] == 30
    assert patched["metadata"]["annotations"][VERSION_ANNOTATION] == "2"
    assert [a for a in patched["spec"]["predictor"]["containers"][0]["args"] if "model-version" in a] == [
        "--model-version=2"]
    _, full = deploy(api_client=api_client, target=_target(canary=0), version="3", storage_uri="s3")
    assert "canaryTrafficPercent" not in full["spec"]["predictor"]
    assert [r["method"] for r in server.requests] == ["GET", "POST", "GET", "PATCH", "GET", "PATCH"]
    assert {r["content_type"] for r in server.requests if r["method"] == "PATCH"} == {"application/merge-patch+json"}
    assert all(r["path"].startswith(PREFIX + "ml/inferenceservices") for r in server.requests)


def test_deploy_of_a_service_without_our_container_is_refused(kube: tuple[FakeKubernetes, client.ApiClient]) -> None:
    server, api_client = kube
    server.objects[("ml", "labelgate-spam")] = {"metadata": {"name": "labelgate-spam"},
                                                "spec": {"predictor": {"sklearn": {"storageUri": "gs://x"}}}}
    with pytest.raises(ServingError, match="no custom predictor container"):
        deploy(api_client=api_client, target=_target(), version="1", storage_uri="s")


def test_push_points_the_service_at_the_version_before_the_alias_moves(
        kube: tuple[FakeKubernetes, client.ApiClient], registry_uri: str, model_dirs: list[Path],
        profile: Path, blessing: Path) -> None:
    from labelgate.registry.push import push_model

    server, api_client = kube
    server.objects[("ml", "labelgate-spam")] = json.loads(json.dumps(MANIFEST_LIKE))

    def push(model_dir: Path) -> str:
        hook = kserve_deployer(registry_uri=registry_uri, model_name="spam", inference_service="labelgate-spam",
                               namespace="ml", canary_traffic_percent=10, serving_image="", api_client=api_client)
        return push_model(model_dir=model_dir, profile_path=profile, blessing_path=blessing,
                          registry_uri=registry_uri, model_name="spam", run_key="runs/x/p", infra_validate=False,
                          before_promote=hook).version

    assert push(model_dirs[0]) == "1"
    stored = server.objects[("ml", "labelgate-spam")]
    assert stored["metadata"]["annotations"][VERSION_ANNOTATION] == "1"
    assert stored["metadata"]["annotations"][STORAGE_ANNOTATION].endswith("/labelgate_model")
    assert stored["spec"]["predictor"]["canaryTrafficPercent"] == 10

    server.refuse_writes = True  # e.g. the pipeline's Role lacks `patch`
    with pytest.raises(RegistryError, match="champion stays 1.*cannot patch .* HTTP 403"):
        push(model_dirs[1])
    assert champion_model_dir(registry_uri, "spam").parent.name == "1"
    assert {v.version: v.aliases for v in list_versions(registry_uri, "spam")} == {"1": ("champion",), "2": ()}
    assert server.objects[("ml", "labelgate-spam")]["metadata"]["annotations"][VERSION_ANNOTATION] == "1"


def test_the_prediction_log_location_is_set_on_create_and_replaced_on_patch() -> None:
    from dataclasses import replace

    from labelgate.serving.inference_service import build_inference_service

    target = replace(_target(), prediction_log="s3://logs/spam")
    (created,) = build_inference_service(target, version="1", storage_uri="s")["spec"]["predictor"]["containers"]
    assert created["args"][-2:] == ["--prediction-log=s3://logs/spam", "--model-version=1"]
    assert {"secretRef": {"name": "labelgate-data", "optional": True}} in created["envFrom"]  # its AWS_* keys
    existing = {**MANIFEST_LIKE, "spec": {"predictor": {"containers": [{
        **MANIFEST_LIKE["spec"]["predictor"]["containers"][0],
        "args": [*MANIFEST_LIKE["spec"]["predictor"]["containers"][0]["args"], "--prediction-log", "/old"]}]}}}
    (patched,) = build_patch(existing, target, version="2", storage_uri="s")["spec"]["predictor"]["containers"]
    assert [a for a in patched["args"] if "prediction-log" in a or a == "/old"] == ["--prediction-log=s3://logs/spam"]
    (kept,) = build_patch(existing, _target(), version="2", storage_uri="s")["spec"]["predictor"]["containers"]
    assert kept["args"][-3:] == ["--prediction-log", "/old", "--model-version=2"]  # not set: left as it is
    (plain,) = build_inference_service(_target(), version="1", storage_uri="s")["spec"]["predictor"]["containers"]
    assert not any("prediction-log" in a for a in plain["args"])


def test_the_first_push_creates_a_complete_predictor() -> None:
    """Defect 5: the InferenceService is created by the first push (none exists before a champion does), so
    what the manifest used to carry comes with it: service account, pull secret, resources, non-root."""
    from labelgate.serving.inference_service import DEPLOYMENT_MODE_ANNOTATION, build_inference_service

    body = build_inference_service(_target(), version="1", storage_uri="s")
    predictor = body["spec"]["predictor"]
    assert predictor["serviceAccountName"] == "labelgate-serving"
    assert predictor["imagePullSecrets"] == [{"name": "labelgate-pull"}]
    assert predictor["securityContext"]["runAsNonRoot"] is True
    (container,) = predictor["containers"]
    assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["cpu"]
    assert body["metadata"]["annotations"][DEPLOYMENT_MODE_ANNOTATION] == "RawDeployment"


def test_a_canary_is_refused_where_the_deployment_mode_ignores_it() -> None:
    """Defect 5: RawDeployment ignores canaryTrafficPercent; a push asking for one must not pretend."""
    from labelgate.serving.inference_service import DEPLOYMENT_MODE_ANNOTATION

    raw = copy.deepcopy(MANIFEST_LIKE)
    raw["metadata"]["annotations"][DEPLOYMENT_MODE_ANNOTATION] = "RawDeployment"
    with pytest.raises(ConfigError, match="RawDeployment"):
        build_patch(raw, _target(canary=20), version="4", storage_uri="s")
    assert build_patch(raw, _target(canary=0), version="4", storage_uri="s")["spec"]["predictor"][
        "containers"][0]["args"][-1] == "--model-version=4"
    serverless = copy.deepcopy(MANIFEST_LIKE)
    serverless["metadata"]["annotations"][DEPLOYMENT_MODE_ANNOTATION] = "Serverless"
    assert build_patch(serverless, _target(canary=20), version="4", storage_uri="s")["spec"]["predictor"][
        "canaryTrafficPercent"] == 20


def test_the_predictor_has_probes_on_the_health_endpoints_and_an_optional_repository_token() -> None:
    """Readiness follows the loaded model; liveness tolerates busy predictions (they run beside the event
    loop) and starts counting after the model has loaded; the repository endpoints need a secret's token."""
    from labelgate.serving.inference_service import build_inference_service
    from labelgate.serving.settings import REPOSITORY_TOKEN_ENV

    (container,) = build_inference_service(_target(), version="1", storage_uri="s")["spec"]["predictor"]["containers"]
    port = container["ports"][0]["containerPort"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": port}
    assert container["startupProbe"]["httpGet"]["path"] == "/v2/health/live"
    liveness = container["livenessProbe"]
    assert liveness["timeoutSeconds"] > 1 and liveness["periodSeconds"] * liveness["failureThreshold"] >= 30
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300
    assert container["readinessProbe"]["timeoutSeconds"] < container["readinessProbe"]["periodSeconds"]
    (token,) = [e for e in container["env"] if e["name"] == REPOSITORY_TOKEN_ENV]
    assert token["valueFrom"]["secretKeyRef"]["optional"] is True
    assert not any(a.startswith("--repository-token") for a in container["args"])  # not in the process list
