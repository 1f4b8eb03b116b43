"""`labelgate submit`, `labelgate schedule` and `labelgate trigger`: the pipeline on a KFP cluster."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from labelgate.parameters import PIPELINE_NAME

DEFAULT_EXPERIMENT = "labelgate"
DEFAULT_SERVICE_ACCOUNT = "labelgate-pipeline"


def register(subparsers: argparse._SubParsersAction) -> None:
    submit = subparsers.add_parser(
        "submit", help="upload the compiled pipeline as a new version and start a run on a KFP cluster",
        description="Upload PACKAGE as a new version of the pipeline, start a run in the experiment and, with "
        "--wait, follow it and print the same summary as `labelgate run`.",
        epilog="Exit codes with --wait: 0 a model was pushed, 3 a gate blocked deployment, 1 error.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _connection_args(submit)
    _upload_args(submit)
    submit.add_argument("--run-name", default=None, help="run display name (default: pipeline + version)")
    submit.add_argument("--wait", action="store_true", help="wait for the run to end and summarise it")
    wait_args(submit)
    submit.set_defaults(handler=_submit)

    sched = subparsers.add_parser(
        "schedule", help="upload the compiled pipeline and create a recurring run (cron) on a KFP cluster",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _connection_args(sched)
    _upload_args(sched)
    sched.add_argument("--cron", required=True,
                       help="when to run: 5-field cron ('0 3 * * *') or KFP's 6-field form with seconds first")
    sched.add_argument("--name", default=None, help="recurring run name (default: pipeline + '-schedule')")
    sched.add_argument("--max-concurrency", type=int, default=1, help="runs of this schedule at once (1-10)")
    sched.set_defaults(handler=_schedule)

    trig = subparsers.add_parser(
        "trigger", help="start a run when new data files appear under a URI (state kept between checks)",
        description="List data files under DATA_URI; when some were never handed to a run, start one run "
        "with data_uri=DATA_URI and record those files in STATE so that they never start another.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    trig.add_argument("--data-uri", required=True, help="folder or glob of data files (local path or fsspec URI)")
    trig.add_argument("--state", required=True,
                      help="where the processed-file record lives (local path or fsspec URI); keep it somewhere "
                      "that outlives the machine running the trigger, e.g. beside the data in the bucket")
    trig.add_argument("--dry-run", action="store_true", help="list the new files; submit and record nothing")
    _connection_args(trig)
    _upload_args(trig, package=None,
                 package_help="upload this compiled pipeline as a new version first (default: use the latest "
                 "version already on the cluster)")
    trig.set_defaults(handler=_trigger)


def _connection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=os.environ.get("KFP_HOST"),
                        help="KFP API endpoint, e.g. http://localhost:8080 (env KFP_HOST)")
    parser.add_argument("--token", default=os.environ.get("KFP_TOKEN"),
                        help="bearer token for the KFP API, if it needs one (env KFP_TOKEN)")
    parser.add_argument("--namespace", default=os.environ.get("KFP_NAMESPACE"),
                        help="KFP namespace in multi-user deployments (env KFP_NAMESPACE)")
    parser.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")


def _upload_args(parser: argparse.ArgumentParser, package: Path | None = Path("pipeline.yaml"),
                 package_help: str = "compiled pipeline (`labelgate compile --output ...`)") -> None:
    parser.add_argument("--package", type=Path, default=package, help=package_help)
    parser.add_argument("--pipeline-name", default=PIPELINE_NAME, help="pipeline name on the cluster")
    parser.add_argument("--version", default=None, help="version name (default: v<UTC time>)")
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT, help="experiment the run goes to")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="pipeline parameter, e.g. data_uri=s3://bucket/data (repeatable)")
    parser.add_argument("--service-account", default=DEFAULT_SERVICE_ACCOUNT,
                        help="Kubernetes service account of the run's pods ('' for KFP's default); "
                        "manifests/ creates labelgate-pipeline")


def _api(args: argparse.Namespace):
    from labelgate.cluster.kfp_api import ClusterError, KfpApi

    if not args.host:
        raise ClusterError("no KFP host: pass --host or set KFP_HOST (e.g. http://localhost:8080 after "
                           "`kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80`)")
    api = KfpApi(host=args.host, token=args.token, namespace=args.namespace, verify_ssl=not args.insecure)
    api.healthz()
    return api


def _upload(api, args: argparse.Namespace):
    from labelgate.cluster import submit as sub

    version = args.version or sub.default_version_name()
    uploaded = sub.upload(api, package=args.package, pipeline_name=args.pipeline_name, version_name=version,
                          description=f"uploaded by labelgate from {args.package}")
    print(f"pipeline {args.pipeline_name} ({uploaded.pipeline_id}) version {uploaded.version_name} "
          f"({uploaded.version_id})", flush=True)
    return uploaded


def wait_args(parser: argparse.ArgumentParser, *, what: str = "with --wait") -> None:
    """How to follow a submitted run (`labelgate submit --wait`, `labelgate monitor --retrain --host`)."""
    parser.add_argument("--timeout", type=float, default=3600, help=f"seconds to wait {what}")
    parser.add_argument("--poll", type=float, default=10, help=f"seconds between status checks {what}")
    parser.add_argument("--kube-namespace", default=None,
                        help="namespace of the run's pods; with kubectl on PATH, gate reasons and step "
                        "errors are read from their logs")
    parser.add_argument("--summary-out", default=None, help="also write the run's summary as JSON here")


def cluster_args(parser: argparse.ArgumentParser) -> None:
    """The connection and upload flags of `labelgate submit`, for another command that submits a run."""
    _connection_args(parser)
    _upload_args(parser)


def _submit(args: argparse.Namespace) -> int:
    from labelgate.cluster import submit as sub

    parameters = sub.coerce_parameters(sub.read_package(args.package), args.param)
    return submit_run(args, parameters, run_name=args.run_name, wait=args.wait)


def submit_run(args: argparse.Namespace, parameters: dict[str, Any], *, run_name: str | None, wait: bool) -> int:
    """Upload ``args.package``, start a run with ``parameters`` and, with ``wait``, follow it and return its exit
    code as `labelgate run` would (0 without ``wait``). ``args`` carries the flags of :func:`cluster_args` and
    :func:`wait_args`."""
    from labelgate.cluster import submit as sub

    api = _api(args)
    uploaded = _upload(api, args)
    run_name = run_name or f"{args.pipeline_name} {uploaded.version_name}"
    run = sub.start_run(api, uploaded=uploaded, experiment=args.experiment, run_name=run_name,
                        parameters=parameters, service_account=args.service_account)
    print(f"run {run.run_id} started: {api.run_url(run.run_id)}", flush=True)
    if not wait:
        return 0
    run = sub.wait_for_run(api, run.run_id, timeout_seconds=args.timeout, poll_seconds=args.poll)
    summary = sub.summarise_run(run, run_url=api.run_url(run.run_id), arguments=parameters,
                                read_log=_kubectl_log_reader(args.kube_namespace))
    print(sub.format_cluster_summary(summary), flush=True)
    if args.summary_out:
        Path(args.summary_out).write_text(json.dumps(summary.__dict__, indent=2, default=str))
    return summary.exit_code


def _schedule(args: argparse.Namespace) -> int:
    from labelgate.cluster import submit as sub

    parameters = sub.coerce_parameters(sub.read_package(args.package), args.param)
    cron = sub.normalise_cron(args.cron)
    api = _api(args)
    uploaded = _upload(api, args)
    recurring = sub.schedule(api, uploaded=uploaded, experiment=args.experiment,
                             name=args.name or f"{args.pipeline_name}-schedule", cron=cron, parameters=parameters,
                             max_concurrency=args.max_concurrency, service_account=args.service_account)
    print(f"recurring run {recurring.recurring_run_id} created: cron '{cron}' (KFP cron, seconds first)")
    return 0


def _trigger(args: argparse.Namespace) -> int:
    from labelgate.cluster import submit as sub
    from labelgate.cluster import trigger
    from labelgate.cluster.kfp_api import ClusterError

    def start(files: list[str]) -> str:
        api = _api(args)
        if args.package is not None:
            spec = sub.read_package(args.package)
            uploaded = _upload(api, args)
        else:
            pipeline = api.find_pipeline(args.pipeline_name)
            if pipeline is None:
                raise ClusterError(f"no pipeline {args.pipeline_name!r} on {args.host}: upload it first "
                                   "(`make submit`) or pass --package")
            version = api.latest_version(pipeline.pipeline_id)
            uploaded = sub.Uploaded(pipeline.pipeline_id, version.pipeline_version_id, version.display_name)
            spec = version.pipeline_spec if isinstance(version.pipeline_spec, dict) else {}
            spec = spec.get("pipeline_spec", spec)  # a version with platform specs nests the IR one level down
            if "root" not in spec:
                raise ClusterError(f"the latest version of {args.pipeline_name!r} carries no pipeline spec; "
                                   "pass --package to upload one")
        params: dict[str, Any] = {"data_uri": args.data_uri}
        params.update(sub.coerce_parameters(spec, args.param))
        run = sub.start_run(api, uploaded=uploaded, experiment=args.experiment,
                            run_name=f"{args.pipeline_name} data arrival ({len(files)} new files)",
                            parameters=params, service_account=args.service_account)
        print(f"run {run.run_id} started: {api.run_url(run.run_id)}", flush=True)
        return run.run_id

    result = trigger.check(data_uri=args.data_uri, state_uri=args.state, submit=start, dry_run=args.dry_run)
    if not result.new_files:
        print(f"no new data files under {args.data_uri} ({result.already_processed} already processed)")
    else:
        verb = "would start a run for" if args.dry_run else f"run {result.run_id} started for"
        print(f"{verb} {len(result.new_files)} new file(s):")
        print("\n".join(f"  {f}" for f in result.new_files))
    return 0


# Argo writes each pod's workflow node id here; KFP's API names a step's pods by node id (child_tasks).
NODE_ID_ANNOTATION = "workflows.argoproj.io/node-id"


def _kubectl_log_reader(namespace: str | None):
    """Read a pod's main-container log with kubectl (None when there is no namespace or no kubectl). The
    API gives Argo node ids: one `kubectl get pods` maps them to pod names (an id no pod carries is tried
    as the pod's own name, as Argo's v1 pod naming makes it)."""
    kubectl = shutil.which("kubectl")
    if not namespace or not kubectl:
        return None
    pods_by_node: dict[str, str] = {}

    def pod_name(node: str) -> str:
        if not pods_by_node:
            done = subprocess.run([kubectl, "get", "pods", "-n", namespace, "-l", "workflows.argoproj.io/workflow",
                                   "-o", "json"], capture_output=True, text=True, timeout=60, check=False)
            try:
                items = json.loads(done.stdout or "{}").get("items", [])
            except ValueError:
                items = []
            for item in items:
                meta = item.get("metadata", {})
                pods_by_node[(meta.get("annotations") or {}).get(NODE_ID_ANNOTATION, meta.get("name"))] = meta.get(
                    "name")
        return pods_by_node.get(node, node)

    def read(node: str) -> str:
        done = subprocess.run([kubectl, "logs", "-n", namespace, pod_name(node), "-c", "main"],
                              capture_output=True, text=True, timeout=60, check=False)
        return done.stdout

    return read
