"""A thin client for the Kubeflow Pipelines v2beta1 REST API, built on the generated ``kfp_server_api``.

Why not ``kfp.Client``: it is made for notebooks. Its constructor calls the server and retries a failing
health check five times, 5 s apart (25 s before a 503 from a proxy is reported; bench/cluster_client.py),
connection failures surface as urllib3 tracebacks, and importing the SDK costs ~4x this module's start.
Here every call is one attempt with a timeout, and every failure is a :class:`ClusterError` naming the
host, the call and the server's own message. The REST shapes are kfp_server_api's models either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from labelgate.errors import LabelgateError

T = TypeVar("T")

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})
# KFP's filter.proto operation enum: EQUALS is 1 (the REST gateway accepts the number).
_EQUALS = 1


class ClusterError(LabelgateError):
    """The cluster or its KFP API cannot do what was asked (unreachable, refused, unexpected answer)."""


class KfpApi:
    """Calls to one KFP API server: pipelines, versions, experiments, runs and recurring runs."""

    def __init__(self, *, host: str, token: str | None = None, namespace: str | None = None,
                 timeout_seconds: float = 30.0, verify_ssl: bool = True) -> None:
        import kfp_server_api

        if not host.startswith(("http://", "https://")):
            raise ClusterError(f"KFP host {host!r} must start with http:// or https:// "
                               "(e.g. http://localhost:8080 after `kubectl port-forward -n kubeflow "
                               "svc/ml-pipeline-ui 8080:80`)")
        self.host = host.rstrip("/")
        self.namespace = namespace or None
        self.timeout_seconds = timeout_seconds
        config = kfp_server_api.Configuration(host=self.host)
        config.verify_ssl = verify_ssl
        config.retries = False  # one attempt: a dead host fails at once, with our message
        client = kfp_server_api.ApiClient(config)
        if token:
            client.set_default_header("Authorization", f"Bearer {token}")
        self._healthz = kfp_server_api.HealthzServiceApi(client)
        self._pipelines = kfp_server_api.PipelineServiceApi(client)
        self._upload = kfp_server_api.PipelineUploadServiceApi(client)
        self._experiments = kfp_server_api.ExperimentServiceApi(client)
        self._runs = kfp_server_api.RunServiceApi(client)
        self._recurring = kfp_server_api.RecurringRunServiceApi(client)

    # -- plumbing -------------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[..., T], *args: Any, none_if_missing: bool = False,
              **kwargs: Any) -> T:
        """Run one API call; any failure becomes a ClusterError naming the call and the host
        (HTTP 404 gives None instead when ``none_if_missing``)."""
        import kfp_server_api
        import urllib3

        # (connect, read): the generated client ignores a float given alone.
        kwargs.setdefault("_request_timeout", (self.timeout_seconds, self.timeout_seconds))
        try:
            return fn(*args, **kwargs)
        except kfp_server_api.ApiException as exc:
            if none_if_missing and exc.status == 404:
                return None  # type: ignore[return-value]
            raise ClusterError(f"KFP API at {self.host} refused to {what}: HTTP {exc.status} "
                               f"{_server_message(exc.body) or exc.reason}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ClusterError(
                f"cannot reach the KFP API at {self.host} to {what} ({type(exc).__name__}: "
                f"{_short(exc)}). Is KFP running and KFP_HOST right? With a kind cluster: "
                "`kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80` and KFP_HOST=http://localhost:8080"
            ) from None

    # -- calls ----------------------------------------------------------------------------------
    def healthz(self) -> Any:
        """The server's health record; raises ClusterError when the host is not a reachable KFP API."""
        return self._call("check its health", self._healthz.healthz_service_get_healthz)

    def find_pipeline(self, name: str) -> Any | None:
        """The pipeline called ``name``, or None."""
        kwargs = {"namespace": self.namespace} if self.namespace else {}
        return self._call(f"look up pipeline {name!r}", self._pipelines.pipeline_service_get_pipeline_by_name,
                          name, none_if_missing=True, **kwargs)

    def upload_pipeline(self, *, package: Path, name: str, description: str) -> Any:
        """Create a pipeline (and its first version) from a compiled IR YAML."""
        kwargs = {"namespace": self.namespace} if self.namespace else {}
        return self._call(f"upload pipeline {name!r}", self._upload.upload_pipeline, str(package),
                          name=name, display_name=name, description=description, **kwargs)

    def upload_version(self, *, package: Path, pipeline_id: str, name: str, description: str) -> Any:
        """Add a version to an existing pipeline."""
        return self._call(f"upload version {name!r}", self._upload.upload_pipeline_version, str(package),
                          name=name, display_name=name, pipelineid=pipeline_id, description=description)

    def latest_version(self, pipeline_id: str) -> Any:
        """The newest version of a pipeline."""
        page = self._call("list pipeline versions", self._pipelines.pipeline_service_list_pipeline_versions,
                          pipeline_id, page_size=1, sort_by="created_at desc")
        if not page.pipeline_versions:
            raise ClusterError(f"pipeline {pipeline_id} on {self.host} has no versions")
        return page.pipeline_versions[0]

    def ensure_experiment(self, name: str, *, description: str = "") -> Any:
        """The experiment called ``name``, created when missing."""
        import kfp_server_api

        found = self._call(f"look up experiment {name!r}", self._experiments.experiment_service_list_experiments,
                           filter=_name_filter(name), page_size=2,
                           **({"namespace": self.namespace} if self.namespace else {}))
        if found.experiments:
            return found.experiments[0]
        body = kfp_server_api.V2beta1Experiment(display_name=name, description=description,
                                                namespace=self.namespace)
        return self._call(f"create experiment {name!r}", self._experiments.experiment_service_create_experiment,
                          body)

    def create_run(self, *, name: str, experiment_id: str, pipeline_id: str, version_id: str,
                   parameters: dict[str, Any], service_account: str | None) -> Any:
        """Start one run of a pipeline version."""
        import kfp_server_api

        body = kfp_server_api.V2beta1Run(
            display_name=name, experiment_id=experiment_id,
            pipeline_version_reference=kfp_server_api.V2beta1PipelineVersionReference(
                pipeline_id=pipeline_id, pipeline_version_id=version_id),
            runtime_config=kfp_server_api.V2beta1RuntimeConfig(parameters=parameters),
            service_account=service_account or None,
        )
        return self._call(f"create run {name!r}", self._runs.run_service_create_run, body)

    def get_run(self, run_id: str) -> Any:
        return self._call(f"get run {run_id}", self._runs.run_service_get_run, run_id)

    def create_recurring_run(self, *, name: str, experiment_id: str, pipeline_id: str, version_id: str,
                             parameters: dict[str, Any], cron: str, max_concurrency: int,
                             service_account: str | None) -> Any:
        """Create an enabled recurring run on a cron schedule (KFP cron: seconds first, 6 fields)."""
        import kfp_server_api

        body = kfp_server_api.V2beta1RecurringRun(
            display_name=name, experiment_id=experiment_id, mode="ENABLE",
            pipeline_version_reference=kfp_server_api.V2beta1PipelineVersionReference(
                pipeline_id=pipeline_id, pipeline_version_id=version_id),
            runtime_config=kfp_server_api.V2beta1RuntimeConfig(parameters=parameters),
            trigger=kfp_server_api.V2beta1Trigger(cron_schedule=kfp_server_api.V2beta1CronSchedule(cron=cron)),
            max_concurrency=str(max_concurrency), no_catchup=True,
            service_account=service_account or None,
        )
        return self._call(f"create recurring run {name!r}",
                          self._recurring.recurring_run_service_create_recurring_run, body)

    def run_url(self, run_id: str) -> str:
        """Where a person looks at the run (the UI is served on the same host as the API)."""
        return f"{self.host}/#/runs/details/{run_id}"


def _name_filter(name: str) -> str:
    return json.dumps({"predicates": [{"operation": _EQUALS, "key": "display_name", "stringValue": name}]})


def _server_message(body: Any) -> str:
    """The ``message`` of a google.rpc.Status error body, or the body itself, shortened."""
    if not body:
        return ""
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    try:
        return str(json.loads(text).get("message") or text)[:500]
    except (ValueError, AttributeError):
        return text[:500]


def _short(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc)[:300]
