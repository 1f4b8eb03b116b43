"""`labelgate monitor`: a window of served traffic (the prediction log) against the champion's profile."""

from __future__ import annotations

import argparse
from pathlib import Path

from labelgate.errors import ConfigError
from labelgate.parameters import DEFAULTS
from labelgate.run import EXIT_BLOCKED, EXIT_ERROR, EXIT_OK, EXIT_RETRAINED


def register(subparsers: argparse._SubParsersAction) -> None:
    monitor = subparsers.add_parser(
        "monitor", help="compare served traffic (the prediction log) with the champion's profile; exit 3 on drift",
        description="Read the server's prediction log (labelgate serve --prediction-log DIR), run the champion's "
        "own LFs on the served texts and compare text lengths, predicted-class shares and LF coverage with the "
        "profile stored with the champion, using the thresholds of the config it was trained with. Writes "
        "monitor.md, monitor.html and monitor.json.",
        epilog=f"Exit codes: {EXIT_OK} no drift (nothing started), {EXIT_ERROR} error (also: too few rows), "
        f"{EXIT_BLOCKED} drift detected. With --retrain, on drift: {EXIT_RETRAINED} a training run was started and "
        f"pushed a new champion; {EXIT_BLOCKED} the run was started and a gate blocked it (the champion stays); "
        f"{EXIT_ERROR} the run was started and broke, or none could be started (also: a hash-only log).")
    monitor.add_argument("--log", required=True, metavar="DIR", help="the prediction-log directory")
    monitor.add_argument("--since", default=None,
                         help="only rows served since then: an ISO time (UTC unless it says) or a duration "
                         "back from now such as 30m, 24h, 7d (default: the whole log)")
    monitor.add_argument("--registry-uri", default=DEFAULTS.registry_uri, help="MLflow registry holding the champion")
    monitor.add_argument("--model-name", default=DEFAULTS.model_name, help="registered model name")
    monitor.add_argument("--model-version", default=None, help="compare with this version instead of the champion")
    monitor.add_argument("--bundle", default=None, metavar="DIR",
                         help="an unpacked bundle (profile.json beside model/) instead of the registry")
    monitor.add_argument("--all-versions", action="store_true",
                         help="judge rows served by every version (default: only the compared version's rows)")
    monitor.add_argument("--config", default=None,
                         help="config whose monitoring section to use (and settings for a champion without its own)")
    monitor.add_argument("--out", default="monitoring", metavar="DIR", help="where the report goes (default: monitoring)")
    retrain = monitor.add_argument_group(
        "retraining on drift (--retrain)",
        "On drift, start a training run: `labelgate run` here, a submission with a KFP host. Its data is the training "
        "data (--data, else --project/--config's pipeline section, else the default) plus the window's served texts "
        "as unlabeled train rows; locally it uses the champion's own LF module and config. The run's gates decide "
        "as always: a blocked run keeps the champion.")
    retrain.add_argument("--retrain", action="store_true", help="on drift, start a training run with the traffic added")
    retrain.add_argument("--retrain-data", default=None, metavar="DIR|URI",
                         help="where the run's data folder is written (default: OUT/retrain-<run-id>; on a cluster "
                         "required: a URI the pipeline's pods read, e.g. s3://bucket/retrain/<name>)")
    retrain.add_argument("--data", dest="data_uri", default=None, help="the training data the traffic is added to")
    retrain.add_argument("--suite", dest="suite_path", default=None, help="expectation suite of the run")
    retrain.add_argument("--constraints", dest="constraints_path", default=None, help="denial constraints of the run")
    retrain.add_argument("--project", default=None, metavar="DIR",
                         help="a `labelgate init` folder whose config.yaml's pipeline section gives the run's data, "
                         "suite, constraints, seed and thresholds")
    retrain.add_argument("--runs-dir", default="runs", help="where the local run's outputs go (default: runs)")
    retrain.add_argument("--run-id", default=None, help="the local run's folder name (default: time + suffix)")
    from labelgate.cli.cluster import cluster_args, wait_args

    cluster = monitor.add_argument_group(
        "retraining on a cluster", "--retrain with a KFP host (--host or KFP_HOST) uploads --package and submits the "
        "run, as `labelgate submit --wait`, and follows it to its end")
    cluster_args(cluster)
    wait_args(cluster, what="for the submitted run")
    monitor.set_defaults(handler=_monitor)


def _monitor(args: argparse.Namespace) -> int:
    from labelgate.monitoring.report import write_report
    from labelgate.monitoring.retrain import served_texts
    from labelgate.monitoring.step import watch

    watched = watch(log_uri=args.log, registry_uri=args.registry_uri, model_name=args.model_name,
                    model_version=args.model_version, bundle=args.bundle, since=args.since,
                    all_versions=args.all_versions, config_path=args.config,
                    check_log=served_texts if args.retrain else None)
    result, champion, log, version = watched.result, watched.champion, watched.log, watched.version
    paths = write_report(result, args.out, classes=list(champion.data.classes))
    for note in result.notes:
        print(f"labelgate monitor: note: {note}")
    print(f"labelgate monitor: {'DRIFT' if result.drifted else 'OK'}: {result.reason}")
    print(f"labelgate monitor: report {paths['html']} ({paths['markdown'].name}, {paths['json'].name})")
    if not result.drifted:
        if args.retrain:
            print("labelgate monitor: no drift: no training run started")
        return EXIT_OK
    if not args.retrain:
        return EXIT_BLOCKED
    return _retrain(args, champion, log, version)


def _run_arguments(args: argparse.Namespace) -> dict[str, object]:
    """The retraining run's pipeline parameters as `labelgate run` resolves them: the flags given > the pipeline
    section of --project's or --config's file > the defaults; registry and model name are the monitored ones."""
    from labelgate.cli.pipeline import RUN_FLAGS, project_flags, resolved

    flags = project_flags(args, ["data_uri", "suite_path", "constraints_path"])
    if not flags.get("config_path") and args.config:
        flags["config_path"] = args.config
    flags = {k: v for k, v in flags.items() if v is not None}
    flags.update(registry_uri=args.registry_uri, model_name=args.model_name)
    values = resolved(flags)
    return {dest: values[dest] for dest, _, _ in RUN_FLAGS.values()}


def _retrain(args: argparse.Namespace, champion, log, version: str | None) -> int:
    """Drift: build the run's data (training data + served texts) and start the run, here or on a cluster."""
    import shutil

    from labelgate.contract import LF_MODULE_FILE, TRAINING_CONFIG_FILE
    from labelgate.monitoring.retrain import champion_retrain_data
    from labelgate.pipelines.local import new_run_id

    arguments = _run_arguments(args)
    on_cluster = bool(args.host)
    run_id = args.run_id or new_run_id()
    if on_cluster and not args.retrain_data:
        raise ConfigError("--retrain on a cluster needs --retrain-data URI: a folder the pipeline's pods can read "
                          "(e.g. s3://bucket/retrain/<name>), where the training data and the traffic are written")
    out = args.retrain_data or str(Path(args.out) / f"retrain-{run_id}")
    built = champion_retrain_data(champion, log, data_uri=str(arguments["data_uri"]), out_uri=out,
                                  suite_path=str(arguments["suite_path"]), config_path=str(arguments["config_path"]))
    model_dir = champion.model_dir
    print(f"labelgate monitor: retraining on {built.data_uri}: the {len(built.original_files)} training file(s) and "
          f"{built.rows} served texts as unlabeled train rows ({Path(built.traffic_file).name}); columns filled: "
          f"{', '.join(f'{k} ({v})' for k, v in built.filled.items())}; left empty: {', '.join(built.left_empty) or 'none'}")
    for note in built.notes:
        print(f"labelgate monitor: note: {note}")
    arguments["data_uri"] = built.data_uri
    if on_cluster:
        return _submit_retrain(args, arguments, version)
    if "://" not in out:  # the champion's own LFs and config, kept beside the data for the run's lineage
        for name, key in ((LF_MODULE_FILE, "lf_module"), (TRAINING_CONFIG_FILE, "config_path")):
            if (model_dir / name).is_file():
                target = Path(out) / "champion" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(model_dir / name, target)
                arguments[key] = str(target)
    return _run_locally(arguments, runs_dir=args.runs_dir, run_id=run_id)


def _run_locally(arguments: dict[str, object], *, runs_dir: str, run_id: str) -> int:
    """`labelgate run` with every parameter given, through the CLI's own parser and handler."""
    import json

    from labelgate.cli import build_parser
    from labelgate.cli.pipeline import RUN_FLAGS

    argv = ["run", "--runs-dir", runs_dir, "--run-id", run_id]
    for flag, (dest, _, _) in RUN_FLAGS.items():
        argv += [flag, str(arguments[dest])]
    print(f"labelgate monitor: drift: starting training run {run_id}: labelgate {' '.join(argv[1:])}", flush=True)
    parsed = build_parser().parse_args(argv)
    code = int(parsed.handler(parsed))
    summary_path = Path(runs_dir) / run_id / "summary.json"
    pushed = json.loads(summary_path.read_text()).get("pushed") if summary_path.is_file() else None
    if code == EXIT_OK and pushed:
        print(f"labelgate monitor: retrained: run {run_id} pushed version {pushed.get('version')} as the new champion "
              f"(exit {EXIT_RETRAINED})")
        return EXIT_RETRAINED
    if code == EXIT_OK:  # nothing pushed (the inputs equal the champion's): drift stands, no new model
        print(f"labelgate monitor: run {run_id} pushed nothing; the champion stays (exit {EXIT_BLOCKED})")
        return EXIT_BLOCKED
    print(f"labelgate monitor: run {run_id} did not push (exit {code}); the champion stays")
    return code


def _submit_retrain(args: argparse.Namespace, arguments: dict[str, object], version: str | None) -> int:
    """On a cluster: the compiled pipeline's parameters as given (--param), with data_uri = the retraining folder
    and the monitored model name; the LF module, config and registry are the package's (in the image and its
    defaults) unless --param sets them."""
    from labelgate.cli.cluster import submit_run
    from labelgate.cluster import submit as sub

    spec = sub.read_package(args.package)
    parameters = sub.coerce_parameters(spec, args.param)
    inputs = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    # Not registry_uri: the address this command reads the champion at (often a port-forward) is not one the
    # pipeline's pods can reach; the compiled default (the cluster's registry) stays unless --param sets it.
    for name in ("data_uri", "model_name"):
        if name in inputs and (name == "data_uri" or not any(p.startswith(f"{name}=") for p in args.param)):
            parameters[name] = arguments[name]
    run_name = f"{args.pipeline_name} retrain on drift of {args.model_name} v{version or '?'}"
    print(f"labelgate monitor: drift: submitting a training run with data_uri={arguments['data_uri']}", flush=True)
    code = submit_run(args, parameters, run_name=run_name, wait=True)
    return EXIT_RETRAINED if code == EXIT_OK else code
