"""Kubernetes settings of the pipeline's steps on a cluster: resources, secrets, pull policy, labels,
no caching.

``apply_cluster_settings()`` is called once at the end of the pipeline body and adjusts every task
defined so far. The settings land in the compiled YAML's platform spec (kfp-kubernetes) and in each
container's resources; ``kfp.local`` ignores both, so `labelgate run` is unaffected.
"""

from __future__ import annotations

from kfp import kubernetes
from kfp.dsl import PipelineTask, pipeline_context

from labelgate.run import MONITOR_STEP, Step, task_name
from labelgate.serving.inference_service import DATA_SECRET, PULL_SECRET, REGISTRY_SECRET

# DATA_SECRET: object-store credentials for the data URI (s3://, MinIO); manifests/ creates or documents it.
# REGISTRY_SECRET: optional credentials for an MLflow server that wants them. PULL_SECRET: GHCR packages
# start private: every step's pod may pull with this docker-registry secret (a missing secret only makes the
# kubelet try anonymously). manifests/base puts it on the service account too.
DATA_SECRET_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")
REGISTRY_SECRET_KEYS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
# Which steps read what.
DATA_STEPS = frozenset({Step.INGEST, MONITOR_STEP})  # monitor reads the prediction log in the object store
REGISTRY_STEPS = frozenset({Step.VALIDATE, Step.EVALUATE, Step.PUSH, MONITOR_STEP})
# step -> (cpu request, cpu limit, memory request, memory limit); the rest get DEFAULT_RESOURCES.
STEP_RESOURCES: dict[str, tuple[str, str, str, str]] = {
    Step.REPAIR: ("1", "2", "2G", "8G"),  # 8G: repair.max_memory_gb's default; it refuses larger tables first
    Step.WEAK_LABEL: ("1", "2", "1G", "4G"),
    Step.VALIDATE: ("500m", "2", "1G", "4G"),
    Step.TRAIN: ("2", "4", "2G", "8G"),  # one per search group
    Step.EVALUATE: ("1", "2", "1G", "4G"),
}
DEFAULT_RESOURCES = ("250m", "1", "512M", "2G")


def apply_cluster_settings(tasks: list[PipelineTask] | None = None) -> list[PipelineTask]:
    """Set cluster settings on ``tasks`` (default: every task of the pipeline being defined)."""
    if tasks is None:
        pipeline = pipeline_context.Pipeline.get_default_pipeline()
        if pipeline is None:
            raise RuntimeError("apply_cluster_settings() must be called inside a @dsl.pipeline body")
        tasks = list(pipeline.tasks.values())
    for task in tasks:
        configure_task(task)
    return tasks


def configure_task(task: PipelineTask) -> PipelineTask:
    """One step's settings; the step is known by its component name (ingest, weak-label, ...)."""
    step = task_name(task.component_spec.name)
    cpu_request, cpu_limit, memory_request, memory_limit = STEP_RESOURCES.get(step, DEFAULT_RESOURCES)
    task.set_cpu_request(cpu_request).set_cpu_limit(cpu_limit)
    task.set_memory_request(memory_request).set_memory_limit(memory_limit)
    kubernetes.set_image_pull_policy(task, "IfNotPresent")
    kubernetes.set_image_pull_secrets(task, [PULL_SECRET])
    # KFP 2.17's cache key is the task's inputs, image and command: a retrain on the same data_uri (new
    # files under the same prefix) or against a registry whose champion moved would reuse an old run's
    # outputs. Every step reads a URI (data or registry) or depends on one that does: none is cached.
    task.set_caching_options(enable_caching=False)
    kubernetes.add_pod_label(task, "app.kubernetes.io/part-of", "labelgate")
    kubernetes.add_pod_label(task, "labelgate.dev/step", step)
    if step in DATA_STEPS:
        kubernetes.use_secret_as_env(task, secret_name=DATA_SECRET, optional=True,
                                     secret_key_to_env={key: key for key in DATA_SECRET_KEYS})
    if step in REGISTRY_STEPS:
        kubernetes.use_secret_as_env(task, secret_name=REGISTRY_SECRET, optional=True,
                                     secret_key_to_env={key: key for key in REGISTRY_SECRET_KEYS})
    return task
