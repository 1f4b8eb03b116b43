"""Submission contract tests: labelgate's KFP client against a local v2beta1 API stand-in."""

from __future__ import annotations

import json
import os
import socket

import kfp_server_api
import pytest
from kfp_standin import ModelMismatch, check_model

from labelgate.cli import main
from labelgate.cluster import submit as sub
from labelgate.cluster.kfp_api import ClusterError, KfpApi
from labelgate.errors import DataError
from labelgate.run import decide, step_failures


def _upload_and_run(server, package, **parameters):
    api = KfpApi(host=server.url)
    spec = sub.read_package(package)
    params = sub.coerce_parameters(spec, [f"{k}={v}" for k, v in parameters.items()])
    uploaded = sub.upload(api, package=package, pipeline_name="labelgate-training", version_name="v1")
    run = sub.start_run(api, uploaded=uploaded, experiment="labelgate", run_name="r", parameters=params,
                        service_account="labelgate-pipeline")
    return api, uploaded, run


def test_first_submit_creates_pipeline_experiment_and_run(kfp_server, small_package):
    _, uploaded, run = _upload_and_run(kfp_server, small_package, data_uri="s3://b/d", seed="7")
    assert kfp_server.paths() == [
        "GET /apis/v2beta1/pipelines/names/labelgate-training",
        "POST /apis/v2beta1/pipelines/upload",
        "GET /apis/v2beta1/pipelines/pipeline-0001/versions",
        "GET /apis/v2beta1/experiments",
        "POST /apis/v2beta1/experiments",
        "POST /apis/v2beta1/runs",
    ]
    upload_call = kfp_server.state.calls[1]
    assert upload_call.query["name"] == "labelgate-training" and upload_call.file_name == "pipeline.yaml"
    body = kfp_server.state.calls[-1].body
    assert body["pipeline_version_reference"] == {"pipeline_id": uploaded.pipeline_id,
                                                  "pipeline_version_id": uploaded.version_id}
    assert body["runtime_config"]["parameters"] == {"data_uri": "s3://b/d", "seed": 7}
    assert body["service_account"] == "labelgate-pipeline"
    assert body["experiment_id"] in kfp_server.state.experiments
    assert run.run_id in kfp_server.state.runs


def test_second_submit_adds_a_version_and_reuses_the_experiment(kfp_server, small_package):
    _upload_and_run(kfp_server, small_package)
    before = len(kfp_server.state.calls)
    api = KfpApi(host=kfp_server.url)
    uploaded = sub.upload(api, package=small_package, pipeline_name="labelgate-training", version_name="v2")
    sub.start_run(api, uploaded=uploaded, experiment="labelgate", run_name="r2", parameters={},
                  service_account=None)
    calls = kfp_server.state.calls[before:]
    assert [f"{c.method} {c.path}" for c in calls] == [
        "GET /apis/v2beta1/pipelines/names/labelgate-training",
        "POST /apis/v2beta1/pipelines/upload_version",
        "GET /apis/v2beta1/experiments",
        "POST /apis/v2beta1/runs",
    ]
    assert calls[1].query == {"name": "v2", "display_name": "v2", "pipelineid": uploaded.pipeline_id}
    assert len(kfp_server.state.experiments) == 1
    assert uploaded.version_name == "v2"
    assert "service_account" not in calls[-1].body  # None is left out: KFP's default runner account


def test_duplicate_version_name_is_reported_with_the_servers_message(kfp_server, small_package):
    _upload_and_run(kfp_server, small_package)
    api = KfpApi(host=kfp_server.url)
    sub.upload(api, package=small_package, pipeline_name="labelgate-training", version_name="v9")
    with pytest.raises(ClusterError, match="HTTP 409 .*v9 already exists"):
        sub.upload(api, package=small_package, pipeline_name="labelgate-training", version_name="v9")


@pytest.mark.parametrize(
    ("outcome", "exit_code", "pushed", "blocked_gate"),
    [("pushed", 0, True, None), ("model-blocked", 3, False, "model-gate"), ("data-blocked", 3, False, "data-gate"),
     ("ingest-failed", 1, False, None), ("shard-failed", 1, False, None)],
)
def test_wait_and_summarise_each_outcome(kfp_server, training_package, outcome, exit_code, pushed, blocked_gate):
    kfp_server.state.outcome = outcome
    api, _, run = _upload_and_run(kfp_server, training_package)
    lines: list[str] = []
    done = sub.wait_for_run(api, run.run_id, timeout_seconds=60, poll_seconds=0, echo=lines.append,
                            sleep=lambda s: None)
    summary = sub.summarise_run(done, run_url=api.run_url(run.run_id), arguments={"model_name": "m"})
    assert summary.exit_code == exit_code
    assert (summary.pushed is not None) == pushed
    blocked = [g["gate"] for g in summary.gates.values() if not g["passed"]]
    assert blocked == ([blocked_gate] if blocked_gate else [])
    statuses = {s["name"]: s["status"] for s in summary.steps}
    if outcome == "ingest-failed":
        assert statuses["ingest"] == "FAILED" and summary.failure["step"] == "ingest"
    else:
        assert statuses["ingest"] == "ok"
        assert any(line.split()[1] == "ingest" for line in lines)
    if outcome == "shard-failed":  # one of three ParallelFor iterations failed: the step failed, once
        assert statuses["apply-lfs"] == "FAILED" and summary.failure["step"] == "apply-lfs"
        assert statuses["weak-label"] == "not run"
        assert [line.split()[:2] for line in lines].count(["FAILED", "apply-lfs"]) == 1, lines
    runs = {s["name"]: s["runs"] for s in summary.steps}
    if outcome != "ingest-failed":
        assert runs["apply-lfs"] == kfp_server.state.shards and runs["plan-shards"] == 1


def test_pod_logs_give_gate_reasons_and_blocking_errors(kfp_server, training_package, tmp_path, capsys):
    kfp_server.state.outcome = "model-blocked"
    api, _, run = _upload_and_run(kfp_server, training_package)
    done = sub.wait_for_run(api, run.run_id, timeout_seconds=60, poll_seconds=0, sleep=lambda s: None,
                            echo=lambda line: None)
    # The pod logs hold what the real steps print: the gate's record line (and its prose line). The API
    # names the gate's pod only in the gate task's child_tasks (its executor), by Argo node id.
    capsys.readouterr()
    decide(gate="model-gate", passed=False, reason="test F1 0.71 < 0.85", out_path=str(tmp_path / "decision"))
    gate_task = next(t for t in done.run_details.task_details if t.display_name == "model-gate")
    assert gate_task.pod_name is None and len(sub.task_pods(gate_task)) == 1
    logs = {sub.task_pods(gate_task)[0]: "x\n" + capsys.readouterr().out}
    asked: list[str] = []
    summary = sub.summarise_run(done, run_url="u", arguments={},
                                read_log=lambda pod: asked.append(pod) or logs.get(pod, ""))
    assert set(logs) <= set(asked)
    assert summary.gates["model-gate"] == {"gate": "model-gate", "passed": False, "reason": "test F1 0.71 < 0.85"}

    kfp_server.state.outcome = "ingest-failed"
    _, _, run = _upload_and_run(kfp_server, training_package)
    done = sub.wait_for_run(api, run.run_id, timeout_seconds=60, poll_seconds=0, sleep=lambda s: None,
                            echo=lambda line: None)
    with pytest.raises(SystemExit), step_failures("ingest", str(tmp_path / "ingest" / "data")):
        raise DataError("comments.csv lacks column CONTENT")
    log = capsys.readouterr().out
    summary = sub.summarise_run(done, run_url="u", arguments={}, read_log=lambda pod: log)
    assert summary.exit_code == 3  # bad input blocks, as in `labelgate run`
    assert summary.failure == {"step": "ingest", "error": "DataError", "message": "comments.csv lacks column CONTENT"}


def test_wait_shows_what_is_running_between_steps(kfp_server, training_package):
    api, _, run = _upload_and_run(kfp_server, training_package)
    ticks = iter(range(0, 10000, 100))
    lines: list[str] = []
    sub.wait_for_run(api, run.run_id, timeout_seconds=900, poll_seconds=0, echo=lines.append,
                     sleep=lambda s: None, clock=lambda: float(next(ticks)), heartbeat_seconds=60)
    assert any(line.startswith("  ... ingest (") for line in lines), lines


def test_wait_times_out_with_the_run_url(kfp_server, training_package):
    api, _, run = _upload_and_run(kfp_server, training_package)
    ticks = iter(range(100))
    with pytest.raises(ClusterError, match=r"still (PENDING|RUNNING) after 1s.*#/runs/details/run-"):
        sub.wait_for_run(api, run.run_id, timeout_seconds=1, poll_seconds=0, echo=lambda line: None,
                         sleep=lambda s: None, clock=lambda: float(next(ticks)))


def test_schedule_creates_a_recurring_run_with_kfp_cron(kfp_server, small_package):
    api = KfpApi(host=kfp_server.url)
    uploaded = sub.upload(api, package=small_package, pipeline_name="labelgate-training", version_name="v1")
    recurring = sub.schedule(api, uploaded=uploaded, experiment="labelgate", name="nightly", cron="0 3 * * *",
                             parameters={"seed": 1}, max_concurrency=1, service_account=None)
    body = kfp_server.state.calls[-1].body
    assert kfp_server.paths()[-1] == "POST /apis/v2beta1/recurringruns"
    assert body["trigger"] == {"cron_schedule": {"cron": "0 0 3 * * *"}}
    assert body["mode"] == "ENABLE" and body["max_concurrency"] == "1" and body["no_catchup"] is True
    assert recurring.recurring_run_id in kfp_server.state.recurring


@pytest.mark.parametrize("cron", ["0 3 * *", "every day", "0 3 * * * * *"])
def test_bad_cron_is_refused_before_any_call(cron):
    with pytest.raises(ClusterError, match="5 fields"):
        sub.normalise_cron(cron)


def test_parameters_are_checked_against_the_pipeline(small_package):
    spec = sub.read_package(small_package)
    assert sub.coerce_parameters(spec, ["seed=3", "min_test_accuracy=0.9"]) == {"seed": 3, "min_test_accuracy": 0.9}
    with pytest.raises(ClusterError, match="no parameter 'sede'.*seed"):
        sub.coerce_parameters(spec, ["sede=3"])
    with pytest.raises(ClusterError, match="not a valid NUMBER_INTEGER"):
        sub.coerce_parameters(spec, ["seed=three"])


def test_unreachable_host_fails_at_once_with_advice():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ClusterError, match=r"cannot reach the KFP API at http://127.0.0.1:\d+.*port-forward"):
        KfpApi(host=f"http://127.0.0.1:{port}", timeout_seconds=5).healthz()


def test_standin_answers_have_the_api_models_fields(kfp_server, training_package):
    """The stand-in must not invent fields: every answer it stored fits its kfp_server_api model (the
    stand-in also checks each answer as it sends it), and the real server's empty fields stay empty."""
    kfp_server.state.outcome = "pushed"
    api, uploaded, run = _upload_and_run(kfp_server, training_package)
    sub.wait_for_run(api, run.run_id, timeout_seconds=60, poll_seconds=0, sleep=lambda s: None,
                     echo=lambda line: None)
    sub.schedule(api, uploaded=uploaded, experiment="labelgate", name="n", cron="0 3 * * *", parameters={},
                 max_concurrency=1, service_account=None)
    state = kfp_server.state
    checks = [("V2beta1Pipeline", p) for p in state.pipelines.values()]
    checks += [("V2beta1PipelineVersion", v) for vs in state.versions.values() for v in vs]
    checks += [("V2beta1Experiment", e) for e in state.experiments.values()]
    checks += [("V2beta1Run", r) for r in state.runs.values()]
    checks += [("V2beta1RecurringRun", r) for r in state.recurring.values()]
    for model, record in checks:
        check_model(record, model)
        assert set(record) <= set(getattr(kfp_server_api, model).attribute_map.values())
    tasks = state.runs[run.run_id]["run_details"]["task_details"]
    assert all("pod_name" not in t for t in tasks)
    assert any(t.get("child_tasks") for t in tasks)


def test_standin_runs_the_compiled_pipelines_task_list(kfp_server, training_package):
    """Every task of the compiled spec (at every DAG level) is a task of the run; the ParallelFor task has
    one child node per iteration, each holding an apply-lfs task whose executor pod is its child."""
    spec = sub.read_package(training_package)
    names = set(spec["root"]["dag"]["tasks"])
    for component in spec["components"].values():
        names |= set(component.get("dag", {}).get("tasks", {}))
    assert {"ingest", "plan-shards", "apply-lfs", "weak-label", "push"} <= names
    api, _, run = _upload_and_run(kfp_server, training_package)
    done = sub.wait_for_run(api, run.run_id, timeout_seconds=60, poll_seconds=0, sleep=lambda s: None,
                            echo=lambda line: None)
    tasks = done.run_details.task_details
    assert names <= {t.display_name for t in tasks}
    loop = next(n for n, t in spec["root"]["dag"]["tasks"].items() if "parameterIterator" in t)
    loop_task = next(t for t in tasks if t.display_name == loop)
    shards = kfp_server.state.shards
    assert len(loop_task.child_tasks) == shards
    assert [t.display_name for t in tasks].count("apply-lfs") == shards
    assert {t.display_name for t in tasks if t.display_name.startswith(f"{loop}(")} == {
        f"{loop}({i})" for i in range(shards)}
    assert all(len(sub.task_pods(t)) == 1 for t in tasks if t.display_name == "apply-lfs")


@pytest.mark.parametrize(("record", "model", "complaint"), [
    ({"display_name": "ingest", "pod_name": "p-1"}, "V2beta1PipelineTaskDetail", "never fills"),
    ({"display_name": "ingest", "node_name": "n"}, "V2beta1PipelineTaskDetail", "no field"),
    ({"state": "DONE"}, "V2beta1PipelineTaskDetail", "not one of"),
    ({"child_tasks": [{"pod": "x"}]}, "V2beta1PipelineTaskDetail", "no field"),
    ({"created_at": "yesterday"}, "V2beta1Run", "not a datetime"),
    ({"max_concurrency": True}, "V2beta1RecurringRun", "not a str"),
])
def test_the_model_check_refuses_what_the_api_cannot_answer(record, model, complaint):
    with pytest.raises(ModelMismatch, match=complaint):
        check_model(record, model)



def test_cli_submit_waits_and_prints_the_run_summary(kfp_server, training_package, tmp_path, capsys):
    kfp_server.state.outcome = "model-blocked"
    out = tmp_path / "summary.json"
    code = main(["submit", "--host", kfp_server.url, "--package", str(training_package), "--param", "seed=2",
                 "--wait", "--poll", "0", "--summary-out", str(out)])
    printed = capsys.readouterr().out
    assert code == 3
    assert "blocked by model-gate" in printed and "Steps:" in printed
    assert f"Run: {kfp_server.url}/#/runs/details/run-" in printed and "Outputs:" not in printed
    assert json.loads(out.read_text())["exit_code"] == 3


def test_cli_without_host_says_how_to_get_one(small_package, capsys, monkeypatch):
    monkeypatch.delenv("KFP_HOST", raising=False)
    assert main(["submit", "--package", str(small_package)]) == 1
    assert "no KFP host: pass --host or set KFP_HOST" in capsys.readouterr().err


def test_a_server_error_is_reported_once_with_its_status():
    """A proxy answering 503 (KFP still starting) is one ClusterError, not a retry loop."""
    import http.server
    import threading

    class Unavailable(http.server.BaseHTTPRequestHandler):
        calls = 0

        def do_GET(self):  # noqa: N802
            Unavailable.calls += 1
            body = b'{"code": 14, "message": "upstream connect error"}'
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ClusterError, match="refused to check its health: HTTP 503 upstream connect error"):
            KfpApi(host=f"http://127.0.0.1:{server.server_address[1]}").healthz()
    finally:
        server.shutdown()
        server.server_close()
    assert Unavailable.calls == 1


KUBECTL_WITH_ONE_POD = """#!/bin/sh
case "$1" in
  get) echo '{"items": [{"metadata": {"name": "wf-system-container-impl-42",
                         "annotations": {"workflows.argoproj.io/node-id": "wf-42"}}}]}' ;;
  logs) echo "log of $4" ;;
esac
"""


def test_kubectl_reads_a_pod_by_the_argo_node_id_the_api_gives(tmp_path, monkeypatch):
    from labelgate.cli.cluster import _kubectl_log_reader

    (tmp_path / "kubectl").write_text(KUBECTL_WITH_ONE_POD)
    (tmp_path / "kubectl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    read = _kubectl_log_reader("kubeflow")
    assert read("wf-42") == "log of wf-system-container-impl-42\n"  # Argo v2 pod naming, by annotation
    assert read("wf-7") == "log of wf-7\n"  # no pod carries the id: the id is the pod's name (v1 naming)
    assert _kubectl_log_reader(None) is None
