"""A local stand-in for the KFP v2beta1 REST API: records every call and answers as the real server does.

It keeps pipelines, versions, experiments, runs and recurring runs in memory, checks what the real API
server checks (required fields, unknown references, duplicate names, 6-field cron, parameter names and
types against the uploaded pipeline spec), and answers errors as google.rpc.Status JSON. Runs advance
one state per GET: PENDING, RUNNING, then the outcome the test scripted.
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

STEPS = ("ingest", "repair", "weak-label", "validate", "data-gate", "train", "evaluate", "model-gate", "push")
_GRPC_CODES = {400: 3, 404: 5, 409: 6}
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
    outcome: str = "pushed"  # pushed | model-blocked | data-blocked | ingest-failed
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
                    return action(self.state, query=query, body=body, file=file, **match.groupdict())
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


def _task(state: State, run_id: str, name: str, status: str) -> dict:
    start = state.now()
    return {"run_id": run_id, "task_id": f"{run_id}-{name}", "display_name": name, "create_time": start,
            "start_time": start, "end_time": state.now(), "state": status, "pod_name": f"{run_id}-{name}-pod"}


def _outcome_tasks(state: State, run_id: str, outcome: str) -> tuple[str, list[dict]]:
    ran = {"pushed": STEPS, "model-blocked": STEPS[:STEPS.index("push")],
           "data-blocked": STEPS[:STEPS.index("train")], "ingest-failed": ()}[outcome]
    tasks = [_task(state, run_id, name, "SUCCEEDED") for name in ran]
    if outcome == "ingest-failed":
        task = _task(state, run_id, "ingest", "FAILED")
        task["error"] = {"code": 2, "message": "failed to execute component: exit status 1"}
        return "FAILED", [task]
    tasks += [_task(state, run_id, name, "SKIPPED") for name in STEPS if name not in ran]
    return "SUCCEEDED", tasks


def _get_run(state: State, *, run_id: str, **_: Any) -> dict:
    if run_id not in state.runs:
        raise ApiError(404, f"Failed to get run: run {run_id} not found")
    run = state.runs[run_id]
    state.run_polls[run_id] += 1
    if state.run_polls[run_id] == 1:
        run.update(state="RUNNING", run_details={"task_details": [_task(state, run_id, "ingest", "RUNNING")]})
    elif state.run_polls[run_id] >= 2 and run["state"] == "RUNNING":
        final, tasks = _outcome_tasks(state, run_id, state.outcome)
        run.update(state=final, finished_at=state.now(), run_details={"task_details": tasks})
    return run


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


_ROUTES = [
    (r"/apis/v2beta1/healthz", "GET", _healthz),
    (r"/apis/v2beta1/pipelines/names/(?P<name>[^/]+)", "GET", _pipeline_by_name),
    (r"/apis/v2beta1/pipelines/upload", "POST", _upload),
    (r"/apis/v2beta1/pipelines/upload_version", "POST", _upload_version),
    (r"/apis/v2beta1/pipelines/(?P<pipeline_id>[^/]+)/versions", "GET", _list_versions),
    (r"/apis/v2beta1/experiments", "GET", _list_experiments),
    (r"/apis/v2beta1/experiments", "POST", _create_experiment),
    (r"/apis/v2beta1/runs", "POST", _create_run),
    (r"/apis/v2beta1/runs/(?P<run_id>[^/]+)", "GET", _get_run),
    (r"/apis/v2beta1/recurringruns", "POST", _create_recurring),
]
