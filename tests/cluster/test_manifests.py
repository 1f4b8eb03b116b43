"""Every kustomize overlay renders with `kubectl kustomize` and passes strict offline schema validation;
the RBAC stays namespaced and least-privilege."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from ci_needs import needs
from k8s_schemas import validate

ROOT = Path(__file__).resolve().parents[2]
# Every overlay puts labelgate's objects where KFP runs the pipeline's pods: `kubeflow` for standalone KFP
# (multi-user Kubeflow: the profile namespace, set with `kustomize edit set namespace`). The service
# account, the data secret and the registry's short service name only resolve from pods in that namespace.
KFP_STANDALONE_NAMESPACE = "kubeflow"
OVERLAYS = {"kind": KFP_STANDALONE_NAMESPACE, "kind-serving": KFP_STANDALONE_NAMESPACE,
            "production": KFP_STANDALONE_NAMESPACE}
# KFP 2.17's platform-agnostic install: its S3-compatible object store (SeaweedFS; there is no minio-service).
KFP_OBJECT_STORE = "http://seaweedfs.kubeflow:9000"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


@pytest.fixture(scope="module", params=sorted(OVERLAYS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict]]:
    kubectl = shutil.which("kubectl")
    needs(kubectl is not None, "kubectl not on PATH: it renders the kustomize overlays")
    done = subprocess.run([kubectl, "kustomize", str(ROOT / "manifests" / request.param)], capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return request.param, [d for d in yaml.safe_load_all(done.stdout) if d]


def _by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def test_every_object_fits_its_schema(rendered):
    _, docs = rendered
    assert docs
    for doc in docs:
        validate(doc)  # raises with the path of the offending field


def test_objects_live_in_the_overlays_namespace(rendered):
    overlay, docs = rendered
    for doc in docs:
        if doc["kind"] not in CLUSTER_SCOPED:
            assert doc["metadata"].get("namespace") == OVERLAYS[overlay], (doc["kind"], doc["metadata"]["name"])


def test_rbac_is_namespaced_and_least_privilege(rendered):
    _, docs = rendered
    assert not _by_kind(docs, "ClusterRole") and not _by_kind(docs, "ClusterRoleBinding")
    (role,) = _by_kind(docs, "Role")
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
        if "secrets" in rule["resources"]:
            assert rule["verbs"] == ["get"] and "labelgate-data" in rule["resourceNames"]
        assert not {"delete", "deletecollection", "escalate", "bind", "impersonate"} & set(rule["verbs"])
    isvc_rules = [r for r in role["rules"] if "inferenceservices" in r["resources"]]
    assert isvc_rules and isvc_rules[0]["apiGroups"] == ["serving.kserve.io"] and "patch" in isvc_rules[0]["verbs"]
    (binding,) = _by_kind(docs, "RoleBinding")
    accounts = {d["metadata"]["name"] for d in _by_kind(docs, "ServiceAccount")}
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert {s["name"] for s in binding["subjects"]} <= accounts
    assert "labelgate-pipeline" in accounts


def test_containers_run_as_non_root_with_pinned_images(rendered):
    overlay, docs = rendered
    pods = [d["spec"]["template"]["spec"] for d in _by_kind(docs, "Deployment")]
    pods += [d["spec"]["predictor"] for d in _by_kind(docs, "InferenceService")]
    assert pods
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            name, _, tag = container["image"].rpartition(":")
            assert name and tag and tag != "latest", container["image"]
            assert container["resources"]["limits"], container["name"]


def test_serving_only_where_kserve_is_expected(rendered):
    """Defect 5: no overlay pre-creates the InferenceService (it would crash-loop with no champion); the
    first push creates it, with the predictor's service account that overlays with KServe provide."""
    overlay, docs = rendered
    assert not _by_kind(docs, "InferenceService")
    accounts = {d["metadata"]["name"] for d in _by_kind(docs, "ServiceAccount")}
    assert ("labelgate-serving" in accounts) == (overlay != "kind")


def test_kind_data_secret_matches_what_the_pipeline_reads(rendered):
    overlay, docs = rendered
    from labelgate.pipelines.cluster import DATA_SECRET, DATA_SECRET_KEYS

    secrets = {d["metadata"]["name"]: d for d in _by_kind(docs, "Secret")}
    if overlay == "production":
        assert DATA_SECRET not in secrets  # created out of band, never committed
        return
    assert set(secrets[DATA_SECRET]["data"]) == set(DATA_SECRET_KEYS)
    import base64

    endpoint = base64.b64decode(secrets[DATA_SECRET]["data"]["AWS_ENDPOINT_URL"]).decode()
    assert endpoint == KFP_OBJECT_STORE  # defect 2: the service KFP 2.17 installs


def test_production_runs_where_the_pipeline_pods_run(rendered):
    """Defect 4: standalone KFP starts every run's pods in `kubeflow`; an overlay in its own namespace
    leaves the service account, data secret and `labelgate-mlflow` out of the pods' reach. Nor may the
    overlay own (and relabel) KFP's namespace."""
    overlay, docs = rendered
    from labelgate.cli.cluster import DEFAULT_SERVICE_ACCOUNT

    (account,) = [d for d in _by_kind(docs, "ServiceAccount") if d["metadata"]["name"] == DEFAULT_SERVICE_ACCOUNT]
    assert account["metadata"]["namespace"] == KFP_STANDALONE_NAMESPACE
    (service,) = _by_kind(docs, "Service")
    assert service["metadata"]["namespace"] == account["metadata"]["namespace"]
    assert not _by_kind(docs, "Namespace"), overlay


def test_a_multi_user_profile_namespace_moves_everything(tmp_path):
    """Multi-user Kubeflow: one `kustomize edit set namespace` on a copy of production/ moves every object."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        needs(False, "kubectl not on PATH: it renders the kustomize overlays")
    shutil.copytree(ROOT / "manifests", tmp_path / "manifests")
    overlay = tmp_path / "manifests" / "production" / "kustomization.yaml"
    kustomization = yaml.safe_load(overlay.read_text())
    kustomization["namespace"] = "kubeflow-user-example-com"
    overlay.write_text(yaml.safe_dump(kustomization))
    done = subprocess.run([kubectl, "kustomize", str(overlay.parent)], capture_output=True, text=True, check=True)
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] not in CLUSTER_SCOPED} == {
        "kubeflow-user-example-com"}


def test_validation_catches_mistakes():
    """The validators are not vacuous: a misspelt field or a wrong type fails."""
    from labelgate.serving.inference_service import ServiceTarget, build_inference_service

    # The InferenceService the first push creates (schema-checked here, as the overlays are).
    good = build_inference_service(ServiceTarget(name="labelgate-spam", namespace="kubeflow",
                                                 registry_uri="http://labelgate-mlflow:5000", model_name="m"),
                                   version="1", storage_uri="mlflow-artifacts:/1/x")
    good["metadata"]["namespace"] = "x"
    validate(good)
    typo = copy.deepcopy(good)
    typo["spec"]["predictr"] = typo["spec"].pop("predictor")
    with pytest.raises(jsonschema.ValidationError, match="predictr"):
        validate(typo)
    bad_container = copy.deepcopy(good)
    bad_container["spec"]["predictor"]["containers"][0]["imagePullPolicy"] = 3
    with pytest.raises(jsonschema.ValidationError):
        validate(bad_container)
    deployment = next(d for d in yaml.safe_load_all((ROOT / "manifests/base/registry.yaml").read_text())
                      if d["kind"] == "Deployment")
    deployment["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)


def test_push_drives_the_inference_service_on_the_cluster_paths():
    """Defect 5: `make submit` (production) passes inference_service and the serving image, so push creates
    the InferenceService on the first blessed model and patches it afterwards; so does `make run-local`
    with KServe (WITH_KSERVE=1)."""
    if shutil.which("make") is None:
        needs(False, "make is not installed")
    done = subprocess.run(["make", "-n", "--no-print-directory", "-o", ".venv/.installed", "submit",
                           "KFP_HOST=http://kfp.example", "IMAGE_TAG=t1"], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    assert "--param inference_service=labelgate-spam --param serving_image=labelgate-serving:t1" in done.stdout
    script = (ROOT / "scripts" / "run_local_kind.sh").read_text()
    assert '--param "inference_service=labelgate-spam" --param "serving_image=$SERVING_IMAGE"' in script


# The MLflow server's largest resident memory in the rehearsal (tests/containers/test_rehearsal.py, which
# writes build/rehearsal.json), with the manifest's command: 2 workers, no job runner.
MLFLOW_MEASURED_PEAK_MIB = 630
MLFLOW_HEADROOM = 1.5


def test_the_registry_server_fits_its_memory_limit():
    """Defect 1: `mlflow server` defaults to 4 workers plus a job runner (~2.3 GiB once loaded); under the
    old 1 Gi limit its workers were killed before it answered (seen in the rehearsal). The manifest sets
    the workers and turns the job runner off, and its limit leaves room above the measured peak."""
    from labelgate.pipelines.containers import docker_memory, registry_command

    command, env, limit = registry_command()
    workers = [int(arg.split("=", 1)[1]) for arg in command if arg.startswith("--workers=")]
    assert workers and workers[0] <= 2
    assert env.get("MLFLOW_SERVER_ENABLE_JOB_EXECUTION") == "false"
    assert int(docker_memory(limit)) >= MLFLOW_MEASURED_PEAK_MIB * 2**20 * MLFLOW_HEADROOM
