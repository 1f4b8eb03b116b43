"""A local stand-in for the KFP v2beta1 REST API: records every call and answers as the real server does.

It keeps pipelines, versions, experiments, runs and recurring runs in memory, checks what the real API
server checks (required fields, unknown references, duplicate names, 6-field cron, parameter names and
types against the uploaded pipeline spec), and answers errors as google.rpc.Status JSON. Runs advance
one state per GET: PENDING, RUNNING, then the outcome the test scripted, with the task list of the
uploaded pipeline spec as KFP on Argo reports it (``_Workflow``).

Every answer is checked against the ``kfp_server_api`` model of its route before it is sent
(``check_model``): no field the model lacks, each value of the model's type, enums within their values,
and none of the fields the real server leaves empty (``NEVER_FILLED``).
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml

_GRPC_CODES = {400: 3, 404: 5, 409: 6}
# Fields the real server never fills, though the model has them: toApiPipelineTaskDetail
# (backend/src/apiserver/server/api_converter.go) sets no pod_name; a task's pod is named only in its
# parent's child_tasks.
NEVER_FILLED = {"V2beta1PipelineTaskDetail": {"pod_name"}}
_SCALAR_TYPES = {"str": str, "bool": bool, "float": (int, float)}
_TYPES = {"STRING": str, "NUMBER_INTEGER": int, "NUMBER_DOUBLE": (int, float), "BOOLEAN": bool}


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    file_name: str | None = None


@dataclass
class State:
    calls: list[Call] = field(default_factory=list)
    pipelines: dict[str, dict] = field(default_factory=dict)
    versions: dict[str, list[dict]] = field(default_factory=dict)
    specs: dict[str, dict] = field(default_factory=dict)  # version id -> pipeline spec document
    experiments: dict[str, dict] = field(default_factory=dict)
    runs: dict[str, dict] = field(default_factory=dict)
    run_polls: dict[str, int] = field(default_factory=dict)
    recurring: dict[str, dict] = field(default_factory=dict)
    outcome: str = "pushed"  # pushed | model-blocked | data-blocked | ingest-failed | shard-failed
    shards: int = 3  # ParallelFor iterations a run fans out to
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    clock: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def new_id(self, kind: str) -> str:
        return f"{kind}-{next(self.ids):04d}"

    def now(self) -> str:
        self.clock += timedelta(seconds=7)
        return self.clock.isoformat().replace("+00:00", "Z")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class ModelMismatch(Exception):
    """An answer of the stand-in that the real API could not give."""


def check_model(value: Any, type_name: str, where: str = "") -> None:
    """Raise ModelMismatch unless ``value`` (JSON) fits the kfp_server_api type ``type_name``."""
    import kfp_server_api.models as models

    if value is None or type_name == "object":
        return
    if match := re.fullmatch(r"list\[(.+)\]", type_name):
        if not isinstance(value, list):
            raise ModelMismatch(f"{where or '.'}: {value!r} is not a list")
        for i, item in enumerate(value):
            check_model(item, match[1], f"{where}[{i}]")
        return
    if match := re.fullmatch(r"dict\(str, (.+)\)", type_name):
        if not isinstance(value, dict):
            raise ModelMismatch(f"{where or '.'}: {value!r} is not an object")
        for key, item in value.items():
            check_model(item, match[1], f"{where}.{key}")
        return
    if type_name in ("int", "datetime"):  # proto int64 travels as a JSON string; timestamps as RFC 3339
        ok = isinstance(value, int | str) and not isinstance(value, bool) if type_name == "int" else (
            isinstance(value, str) and bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", value)))
        if not ok:
            raise ModelMismatch(f"{where or '.'}: {value!r} is not a {type_name}")
        return
    if type_name in _SCALAR_TYPES:
        if not isinstance(value, _SCALAR_TYPES[type_name]) or (type_name != "bool" and isinstance(value, bool)):
            raise ModelMismatch(f"{where or '.'}: {value!r} is not a {type_name}")
        return
    model = getattr(models, type_name)
    if allowed := getattr(model, "allowable_values", None):
        if value not in allowed:
            raise ModelMismatch(f"{where or '.'}: {value!r} is not one of {type_name} {allowed}")
        return
    if not isinstance(value, dict):
        raise ModelMismatch(f"{where or '.'}: {value!r} is not a {type_name} object")
    fields = {json_name: model.openapi_types[attr] for attr, json_name in model.attribute_map.items()}
    extra = set(value) - set(fields)
    if extra:
        raise ModelMismatch(f"{where or '.'}: {type_name} has no field {sorted(extra)}")
    never = set(value) & NEVER_FILLED.get(type_name, set())
    if never:
        raise ModelMismatch(f"{where or '.'}: the real server never fills {type_name} {sorted(never)}")
    for key, item in value.items():
        check_model(item, fields[key], f"{where}.{key}")


class KfpStandIn:
    """``with KfpStandIn() as api: api.url``; ``api.state`` holds what was called and stored."""

    def __init__(self, port: int = 0) -> None:
        self.state = State()
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"standin": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> KfpStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        return [f"{c.method} {c.path}" for c in self.state.calls]

    # -- routing ----------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], body: Any, file: tuple[str, bytes] | None):
        with self.lock:
            self.state.calls.append(Call(method, path, query, body, file[0] if file else None))
            for pattern, verb, action in _ROUTES:
                match = re.fullmatch(pattern, path)
                if match and verb == method:
                    answer = action(self.state, query=query, body=body, file=file, **match.groupdict())
                    check_model(answer, _MODELS[action.__name__])
                    return answer
            raise ApiError(404, f"no route {method} {path}")


class _Handler(BaseHTTPRequestHandler):
    standin: KfpStandIn

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body, file = None, None
        ctype = self.headers.get("Content-Type", "")
        try:
            if ctype.startswith("multipart/form-data"):
                file = _multipart_file(ctype, raw)
            elif raw:
                body = json.loads(raw)
            status, answer = 200, self.standin.handle(method, url.path, query, body, file)
        except ApiError as exc:
            status = exc.status
            answer = {"error": exc.message, "code": _GRPC_CODES.get(exc.status, 2), "message": exc.message,
                      "details": []}
        except ModelMismatch as exc:  # the stand-in drifted from the API: fail the test loudly
            status, answer = 500, {"error": f"stand-in answer does not fit kfp_server_api: {exc}", "code": 13,
                                   "message": f"stand-in answer does not fit kfp_server_api: {exc}", "details": []}
        except (ValueError, KeyError) as exc:
            status, answer = 400, {"error": str(exc), "code": 3, "message": str(exc), "details": []}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")


def _multipart_file(ctype: str, raw: bytes) -> tuple[str, bytes]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "uploadfile":
            return part.get_filename() or "", part.get_payload(decode=True)
    raise ApiError(400, "Failed to read pipeline from file: missing multipart field 'uploadfile'")


# -- the API ----------------------------------------------------------------------------------------
def _healthz(state: State, **_: Any) -> dict:
    return {"multi_user": False}


def _pipeline_by_name(state: State, *, name: str, **_: Any) -> dict:
    for pipeline in state.pipelines.values():
        if pipeline["display_name"] == name:
            return pipeline
    raise ApiError(404, f"Failed to get pipeline by name: pipeline {name} not found")


def _parse_spec(file: tuple[str, bytes] | None) -> dict:
    if file is None:
        raise ApiError(400, "Failed to create a pipeline: no uploadfile")
    try:
        docs = list(yaml.safe_load_all(file[1]))
    except yaml.YAMLError as exc:
        raise ApiError(400, f"Failed to parse pipeline spec: {exc}") from None
    spec = docs[0] if docs else None
    if not isinstance(spec, dict) or "pipelineInfo" not in spec or "root" not in spec:
        raise ApiError(400, "Failed to create a pipeline: invalid pipeline spec (no pipelineInfo/root)")
    return {"pipeline_spec": spec, "platform_spec": docs[1]} if len(docs) > 1 else spec


def _add_version(state: State, pipeline_id: str, name: str, description: str, spec: dict) -> dict:
    if any(v["display_name"] == name for v in state.versions.get(pipeline_id, [])):
        raise ApiError(409, f"Failed to create a pipeline version: version {name} already exists")
    version = {"pipeline_id": pipeline_id, "pipeline_version_id": state.new_id("version"), "name": name,
               "display_name": name, "description": description, "created_at": state.now(),
               "pipeline_spec": spec}
    state.versions.setdefault(pipeline_id, []).append(version)
    state.specs[version["pipeline_version_id"]] = spec.get("pipeline_spec", spec)
    return version


def _upload(state: State, *, query: dict, file: Any, **_: Any) -> dict:
    name = query.get("name") or query.get("display_name") or (file[0] if file else "")
    spec = _parse_spec(file)
    if any(p["display_name"] == name for p in state.pipelines.values()):
        raise ApiError(409, f"Failed to create a pipeline: pipeline {name} already exists")
    pipeline = {"pipeline_id": state.new_id("pipeline"), "name": name, "display_name": name,
                "description": query.get("description", ""), "created_at": state.now(), "namespace": ""}
    state.pipelines[pipeline["pipeline_id"]] = pipeline
    _add_version(state, pipeline["pipeline_id"], name, pipeline["description"], spec)  # the server does this too
    return pipeline


def _upload_version(state: State, *, query: dict, file: Any, **_: Any) -> dict:
    pipeline_id = query.get("pipelineid", "")
    if pipeline_id not in state.pipelines:
        raise ApiError(404, f"Failed to create a pipeline version: pipeline {pipeline_id!r} not found")
    name = query.get("name") or query.get("display_name") or ""
    if not name:
        raise ApiError(400, "Failed to create a pipeline version: name is empty")
    return _add_version(state, pipeline_id, name, query.get("description", ""), _parse_spec(file))


def _list_versions(state: State, *, pipeline_id: str, query: dict, **_: Any) -> dict:
    if pipeline_id not in state.pipelines:
        raise ApiError(404, f"pipeline {pipeline_id} not found")
    versions = list(state.versions.get(pipeline_id, []))
    if query.get("sort_by", "").endswith(" desc"):
        versions.reverse()
    size = int(query.get("page_size") or len(versions) or 1)
    return {"pipeline_versions": versions[:size], "total_size": len(versions), "next_page_token": ""}


def _list_experiments(state: State, *, query: dict, **_: Any) -> dict:
    found = list(state.experiments.values())
    if "filter" in query:
        for predicate in json.loads(query["filter"])["predicates"]:
            if predicate["operation"] not in (1, "EQUALS") or predicate["key"] not in ("display_name", "name"):
                raise ApiError(400, f"unsupported filter predicate {predicate}")
            found = [e for e in found if e["display_name"] == predicate["stringValue"]]
    return {"experiments": found, "total_size": len(found), "next_page_token": ""}


def _create_experiment(state: State, *, body: dict, **_: Any) -> dict:
    if not body or not body.get("display_name"):
        raise ApiError(400, "Failed to create experiment: experiment name is empty")
    experiment = {"experiment_id": state.new_id("experiment"), "display_name": body["display_name"],
                  "description": body.get("description", ""), "created_at": state.now(),
                  "namespace": body.get("namespace") or "", "storage_state": "AVAILABLE"}
    state.experiments[experiment["experiment_id"]] = experiment
    return experiment


def _check_reference(state: State, body: dict) -> dict:
    ref = body.get("pipeline_version_reference") or {}
    if ref.get("pipeline_id") not in state.pipelines:
        raise ApiError(400, f"Failed to create a run: pipeline {ref.get('pipeline_id')!r} not found")
    if ref.get("pipeline_version_id") not in state.specs:
        raise ApiError(400, f"Failed to create a run: pipeline version {ref.get('pipeline_version_id')!r} not found")
    if body.get("experiment_id") and body["experiment_id"] not in state.experiments:
        raise ApiError(400, f"Failed to create a run: experiment {body['experiment_id']!r} not found")
    spec = state.specs[ref["pipeline_version_id"]]
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    for name, value in ((body.get("runtime_config") or {}).get("parameters") or {}).items():
        if name not in declared:
            raise ApiError(400, f"Failed to create a run: unknown input parameter {name!r}")
        expected = _TYPES[declared[name]["parameterType"]]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ApiError(400, f"Failed to create a run: parameter {name!r} must be "
                                f"{declared[name]['parameterType']}, got {value!r}")
    return ref


def _create_run(state: State, *, body: dict, **_: Any) -> dict:
    if not body or not body.get("display_name"):
        raise ApiError(400, "Failed to create a run: run name is empty")
    _check_reference(state, body)
    run = {**body, "run_id": state.new_id("run"), "state": "PENDING", "created_at": state.now(),
           "storage_state": "AVAILABLE"}
    state.runs[run["run_id"]] = run
    state.run_polls[run["run_id"]] = 0
    return run


def _fnv32a(text: str) -> int:
    """Argo's node-id hash (FNV-1a, 32 bits) of a node's name."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


class _Workflow:
    """The Argo workflow a KFP v2 pipeline spec compiles to, run once, as the API server reports it.

    The server stores one task per Argo node (api_converter.go toModelTask: name = the node's display name,
    children = the child nodes' ids) and answers each with toApiPipelineTaskDetail, which fills
    ``child_tasks[].pod_name`` with those ids and never the task's own ``pod_name``. The nodes follow
    KFP's Argo compiler: each DAG task has a ``<name>-driver`` pod; a component task is a DAG node whose
    child is its ``executor`` pod; a ``ParallelFor`` task has one ``<name>(<i>)`` child node per iteration
    holding that iteration's tasks; a condition whose gate blocked is a skipped node with no children.
    """

    def __init__(self, state: State, run_id: str, spec: dict, outcome: str, *, stop_after: int | None) -> None:
        self.state, self.run_id, self.spec, self.outcome = state, run_id, spec, outcome
        self.name = f"labelgate-training-{run_id.rsplit('-', 1)[-1]}"
        self.tasks: list[dict] = []
        self.components_started = 0
        self.stop_after = stop_after  # an unfinished run: stop at the n-th component task, RUNNING
        self.failed = False

    def run(self) -> tuple[str, list[dict]]:
        inner, state = self._dag(self.spec["root"]["dag"], f"{self.name}.root")
        root = self._node(f"{self.name}.root", "root", state, inner)
        driver = self._node(f"{self.name}.root-driver", "root-driver", "SUCCEEDED")
        self._node(self.name, self.name, state, [driver, root])
        return state, self.tasks

    def _node(self, path: str, display: str, status: str, children: list[str] = ()) -> str:
        start = self.state.now()
        task = {"run_id": self.run_id, "task_id": f"{self.run_id}-task-{len(self.tasks) + 1:03d}",
                "display_name": display, "create_time": start, "start_time": start,
                "end_time": self.state.now() if status not in ("RUNNING", "PENDING") else None, "state": status}
        if task["end_time"] is None:
            del task["end_time"]
        if children:
            task["child_tasks"] = [{"pod_name": child} for child in children]
        self.tasks.append(task)
        return path if path == self.name else f"{self.name}-{_fnv32a(path)}"

    def _blocked(self, task: dict) -> bool:
        condition = (task.get("triggerPolicy") or {}).get("condition", "")
        gate = {"data-blocked": "data-gate", "model-blocked": "model-gate"}.get(self.outcome)
        return bool(gate) and gate in condition

    def _fails(self, name: str, path: str) -> bool:
        return (self.outcome == "ingest-failed" and name == "ingest") or (
            self.outcome == "shard-failed" and name == "apply-lfs" and "(1)" in path)

    def _dag(self, dag: dict, path: str) -> tuple[list[str], str]:
        """Run a DAG's tasks in dependency order; after a failure nothing downstream starts."""
        tasks, done, children, status = dag["tasks"], set(), [], "SUCCEEDED"
        while len(done) < len(tasks) and status == "SUCCEEDED":
            name = next(n for n in sorted(tasks) if n not in done
                        and set(tasks[n].get("dependentTasks", [])) <= done)
            done.add(name)
            task = tasks[name]
            component = self.spec["components"][task["componentRef"]["name"]]
            children.append(self._node(f"{path}.{name}-driver", f"{name}-driver", "SUCCEEDED"))
            if "dag" not in component:
                self.components_started += 1
                running = self.components_started == self.stop_after
                state = "RUNNING" if running else "FAILED" if self._fails(name, path) else "SUCCEEDED"
                executor = self._node(f"{path}.{name}.executor", "executor", state)
                children.append(self._node(f"{path}.{name}", name, state, [executor]))
            elif self._blocked(task):
                state = "SKIPPED"
                children.append(self._node(f"{path}.{name}", name, state))
            elif "parameterIterator" in task or "artifactIterator" in task:
                iterations, state = [], "SUCCEEDED"
                for i in range(self.state.shards):
                    inner, inner_state = self._dag(component["dag"], f"{path}.{name}({i})")
                    iterations.append(self._node(f"{path}.{name}({i})", f"{name}({i})", inner_state, inner))
                    state = inner_state if state == "SUCCEEDED" else state
                children.append(self._node(f"{path}.{name}", name, state, iterations))
            else:
                inner, state = self._dag(component["dag"], f"{path}.{name}")
                children.append(self._node(f"{path}.{name}", name, state, inner))
            if state in ("FAILED", "RUNNING"):
                status = state
        return children, status


def _get_run(state: State, *, run_id: str, **_: Any) -> dict:
    if run_id not in state.runs:
        raise ApiError(404, f"Failed to get run: run {run_id} not found")
    run = state.runs[run_id]
    state.run_polls[run_id] += 1
    spec = state.specs[run["pipeline_version_reference"]["pipeline_version_id"]]
    if state.run_polls[run_id] == 1:
        _, tasks = _Workflow(state, run_id, spec, state.outcome, stop_after=1).run()
        run.update(state="RUNNING", run_details={"task_details": tasks})
    elif state.run_polls[run_id] >= 2 and run["state"] == "RUNNING":
        final, tasks = _Workflow(state, run_id, spec, state.outcome, stop_after=None).run()
        run.update(state=final, finished_at=state.now(), run_details={"task_details": tasks})
    return run


def _list_runs(state: State, **_: Any) -> dict:
    """ListRuns: the stored runs as they are (listing advances none)."""
    return {"runs": list(state.runs.values()), "total_size": len(state.runs), "next_page_token": ""}


def _create_recurring(state: State, *, body: dict, **_: Any) -> dict:
    if not body or not body.get("display_name"):
        raise ApiError(400, "Failed to create a recurring run: name is empty")
    cron = ((body.get("trigger") or {}).get("cron_schedule") or {}).get("cron", "")
    if len(cron.split()) != 6:
        raise ApiError(400, f"Failed to create a recurring run: invalid cron {cron!r} (6 fields, seconds first)")
    if not 1 <= int(body.get("max_concurrency") or 0) <= 10:
        raise ApiError(400, "Failed to create a recurring run: max_concurrency must be within 1-10")
    if body.get("mode") not in ("ENABLE", "DISABLE"):
        raise ApiError(400, f"Failed to create a recurring run: mode {body.get('mode')!r}")
    _check_reference(state, body)
    recurring = {**body, "recurring_run_id": state.new_id("recurring"), "status": "ENABLED",
                 "created_at": state.now(), "updated_at": state.now()}
    state.recurring[recurring["recurring_run_id"]] = recurring
    return recurring


# The kfp_server_api model each route answers with (the REST client deserialises into it).
_MODELS = {
    "_healthz": "V2beta1GetHealthzResponse", "_pipeline_by_name": "V2beta1Pipeline", "_upload": "V2beta1Pipeline",
    "_upload_version": "V2beta1PipelineVersion", "_list_versions": "V2beta1ListPipelineVersionsResponse",
    "_list_experiments": "V2beta1ListExperimentsResponse", "_create_experiment": "V2beta1Experiment",
    "_create_run": "V2beta1Run", "_get_run": "V2beta1Run", "_list_runs": "V2beta1ListRunsResponse", "_create_recurring": "V2beta1RecurringRun",
}

_ROUTES = [
    (r"/apis/v2beta1/healthz", "GET", _healthz),
    (r"/apis/v2beta1/pipelines/names/(?P<name>[^/]+)", "GET", _pipeline_by_name),
    (r"/apis/v2beta1/pipelines/upload", "POST", _upload),
    (r"/apis/v2beta1/pipelines/upload_version", "POST", _upload_version),
    (r"/apis/v2beta1/pipelines/(?P<pipeline_id>[^/]+)/versions", "GET", _list_versions),
    (r"/apis/v2beta1/experiments", "GET", _list_experiments),
    (r"/apis/v2beta1/experiments", "POST", _create_experiment),
    (r"/apis/v2beta1/runs", "POST", _create_run),
    (r"/apis/v2beta1/runs", "GET", _list_runs),
    (r"/apis/v2beta1/runs/(?P<run_id>[^/]+)", "GET", _get_run),
    (r"/apis/v2beta1/recurringruns", "POST", _create_recurring),
]
