"""`labelgate run` (the pipeline on this machine, through kfp.local) and `labelgate compile` (its IR YAML)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labelgate.parameters import DEFAULTS

# flag -> (pipeline parameter, type, help)
RUN_FLAGS = {
    "--data": ("data_uri", str, "raw data: a file, folder or glob; local path or fsspec URI (s3://, gs://, ...)"),
    "--lf-module": ("lf_module", str, "labeling functions: a .py file or a dotted module"),
    "--config": ("config_path", str, "pipeline config YAML (columns, split, hyperparameters, thresholds)"),
    "--suite": ("suite_path", str, "Great Expectations suite JSON"),
    "--constraints": ("constraints_path", str, "denial constraints file (HoloClean format)"),
    "--registry-uri": ("registry_uri", str, "MLflow tracking/registry URI"),
    "--model-name": ("model_name", str, "registered model name"),
    "--seed": ("seed", int, "random seed for labeling and training"),
    "--min-test-accuracy": ("min_test_accuracy", float, "model gate: minimum accuracy on the gold test split"),
    "--min-test-f1": ("min_test_f1", float, "model gate: minimum F1 on the gold test split"),
    "--champion-tolerance": ("champion_tolerance", float,
                             "model gate: the lower bound of (challenger - champion) must exceed this"),
    "--lf-shards": ("lf_shards", int, "parallel LF-application tasks (dsl.ParallelFor); more help on a cluster"),
    "--search-groups": ("search_groups", int, "parallel train tasks the training.family auto search fans out over "
                        "(dsl.ParallelFor; the best group's model is kept); more help on a cluster"),
}


_FLAG_NAMES = frozenset(dest for dest, _, _ in RUN_FLAGS.values())
# `labelgate compile --pipeline NAME`: the module exposing `pipeline`, and the default output file.
COMPILED = {"training": ("labelgate.pipelines.training", "pipeline.yaml"),
            "monitoring": ("labelgate.pipelines.monitoring", "monitoring-pipeline.yaml")}


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run",
        help="run the whole pipeline on this machine (kfp.local)",
        description="Run the labelgate pipeline locally through kfp.local: ingest, weak labeling, validation, "
        "training, evaluation and push, with the data and model gates. Outputs land in RUNS_DIR/<run-id>/. "
        "Each parameter comes from its flag, else from the config file's `pipeline` section (paths relative to "
        "the config file), else from its default.",
        epilog="Exit codes: 0 a model was pushed, 3 a gate blocked deployment or the input was rejected, 1 error.",
    )
    for flag, (dest, kind, text) in RUN_FLAGS.items():
        # None = not given: the config's `pipeline` section, then labelgate.parameters decide.
        run.add_argument(flag, dest=dest, type=kind, default=None, help=f"{text} [default: {getattr(DEFAULTS, dest)}]")
    run.add_argument("--runner", choices=("subprocess", "docker"), default="subprocess",
                     help="subprocess: steps in this Python environment; docker: every step in the component "
                     "image (LABELGATE_IMAGE, `make image`) with an MLflow server container as the registry "
                     "[default: subprocess]")
    run.add_argument("--project", default=None, metavar="DIR",
                     help="a folder written by `labelgate init`: its config.yaml (and through it the data, LFs, "
                     "suite, constraints, model name and thresholds); flags still override")
    run.add_argument("--force", action="store_true",
                     help="run and push even when data, LFs, config and code equal the champion's")
    run.add_argument("--resume", default=None, metavar="RUN_ID",
                     help="a new run that reuses the outputs of RUN_ID's finished steps whose inputs are unchanged "
                     "by content (data, LF module, config, suite, constraints, code) and runs the rest, from the "
                     "first changed or failed step; the registry's champion is read afresh (steps that read it run "
                     "again when it changed) and push always runs. RUN_ID's flags are used, flags given now override")
    run.add_argument("--runs-dir", default="runs", help="where run outputs are written [default: runs]")
    run.add_argument("--run-id", default=None, help="name of this run's folder (default: time + random suffix)")
    run.set_defaults(handler=_run)

    compile_ = subparsers.add_parser(
        "compile",
        help="write the pipeline's KFP IR YAML",
        description="Compile the labelgate pipeline to KFP IR YAML for upload to a cluster. The component "
        "image comes from LABELGATE_IMAGE at compile time.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    compile_.add_argument("--pipeline", choices=tuple(COMPILED), default="training",
                          help="training: the labelgate pipeline; monitoring: the monitoring pipeline "
                          "(`labelgate monitor` on a schedule, and with --param retrain_data_uri=URI the training "
                          "pipeline on drift: `labelgate schedule --package FILE --pipeline-name labelgate-monitoring`)")
    compile_.add_argument("--output", default=None,
                          help="where to write the YAML (default: pipeline.yaml; monitoring-pipeline.yaml)")
    compile_.add_argument("--config", dest="config_path", default=None,
                          help="a config file whose `pipeline` section (and path) become the compiled defaults")
    compile_.set_defaults(handler=_compile)


def _run(args: argparse.Namespace) -> int:
    from labelgate.components.image import BASE_IMAGE
    from labelgate.pipelines.local import format_local_summary, run_local
    from labelgate.pipelines.training import pipeline
    from labelgate.preflight import content_digests, preflight_passed

    flags = {name: value for name, value in project_flags(args, sorted(_FLAG_NAMES)).items() if value is not None}
    resume_from = None
    if args.resume:
        resume_from, earlier_flags = earlier_run(args.resume, runs_dir=args.runs_dir, run_id=args.run_id,
                                                 runner=args.runner)
        flags = {**earlier_flags, **flags}
    values = resolved(flags)
    arguments = {dest: values[dest] for dest, _, _ in RUN_FLAGS.values()}
    failed = check_inputs(arguments, runs_dir=args.runs_dir, run_id=args.run_id)
    if isinstance(failed, int):
        return failed
    fingerprint = _unchanged_check(arguments, failed, force=args.force, runs_dir=args.runs_dir, run_id=args.run_id)
    if fingerprint is None:
        return 0
    digests = content_digests(failed, arguments, champion=champion_label(arguments))  # type: ignore[arg-type]
    with preflight_passed(digests):  # the local ingest step need not check these inputs again
        summary = run_local(pipeline_func=pipeline, arguments={**arguments, **digests}, runs_dir=args.runs_dir,
                            run_id=args.run_id, runner=args.runner, image=BASE_IMAGE, resume_from=resume_from,
                            flags=flags)
    print(format_local_summary(summary), flush=True)
    if summary.exit_code == 0 and summary.pushed and summary.pushed.get("version") and fingerprint:
        from labelgate.registry.store import record_inputs

        try:
            record_inputs(str(arguments["registry_uri"]), str(arguments["model_name"]),
                          str(summary.pushed["version"]), fingerprint)
        except Exception as exc:  # the model is pushed; only the next re-run's shortcut is lost
            print(f"labelgate run: could not record the inputs' fingerprint: {exc}", file=sys.stderr)
    return summary.exit_code


def earlier_run(resume: str, *, runs_dir: str, run_id: str | None, runner: str) -> tuple[Path, dict[str, object]]:
    """The folder of the run to resume and the flags it was started with; a ConfigError says what is wrong."""
    import json

    from labelgate.errors import ConfigError
    from labelgate.pipelines.local import CACHE_DIR

    folder = Path(runs_dir) / resume
    if runner != "subprocess":
        raise ConfigError(f"--resume {resume}: resuming works with the subprocess runner only (got --runner {runner})")
    if run_id == resume:
        raise ConfigError(f"--resume {resume}: a resumed run is a new run; give it another --run-id (or none)")
    summary = folder / "summary.json"
    if not summary.is_file():
        known = sorted(p.name for p in Path(runs_dir).iterdir() if (p / "summary.json").is_file()) \
            if Path(runs_dir).is_dir() else []
        raise ConfigError(f"--resume {resume}: no finished run {folder} (no summary.json there); runs under "
                          f"{runs_dir}/: {', '.join(known[-5:]) or 'none'}")
    if not (folder / CACHE_DIR).is_dir():
        raise ConfigError(f"--resume {resume}: {folder} ran no step or predates resuming (no {CACHE_DIR}/); "
                          "start a new run instead")
    flags = json.loads(summary.read_text()).get("flags") or {}
    return folder.resolve(), {name: value for name, value in flags.items() if name in _FLAG_NAMES}


def champion_label(arguments: dict[str, object]) -> str:
    """The registry's champion as the steps that read it see it: ``name@version``, or ``none``; an unreadable
    registry gets a label of its own, so that nothing read from it is reused."""
    import secrets

    registry, name = str(arguments["registry_uri"]), str(arguments["model_name"])
    if registry.startswith("sqlite:///") and not Path(registry.removeprefix("sqlite:///")).exists():
        return "none"  # no registry yet (and none created by looking)
    try:
        from labelgate.champion import champion_version, open_client

        version = champion_version(open_client(registry), name)
    except Exception:
        return "unreadable-" + secrets.token_hex(8)
    return f"{name}@{version}" if version else "none"


def _unchanged_check(arguments: dict[str, object], report: object, *, force: bool, runs_dir: str,
                     run_id: str | None) -> str | None:
    """The inputs' fingerprint (``""`` when unknown), or None when they equal the champion's: then the run
    is reported as unchanged (summary.json too) and nothing is trained or pushed."""
    import json
    from dataclasses import asdict

    from labelgate.pipelines.local import new_run_id
    from labelgate.preflight import inputs_fingerprint
    from labelgate.run import RunSummary

    fingerprint = inputs_fingerprint(report, arguments) or ""  # type: ignore[arg-type]
    if force or not fingerprint:
        return fingerprint
    registry = str(arguments["registry_uri"])
    if registry.startswith("sqlite:///") and not Path(registry.removeprefix("sqlite:///")).exists():
        return fingerprint  # no registry yet: nothing to compare with (and nothing created by looking)
    try:
        from labelgate.registry.store import champion_inputs

        version, recorded = champion_inputs(str(arguments["registry_uri"]), str(arguments["model_name"]))
    except Exception:  # no registry yet, or unreadable: run as usual
        return fingerprint
    if recorded != fingerprint:
        return fingerprint
    text = (f"unchanged: the data, LFs, config, suite, constraints, parameters and code are identical to those of "
            f"{arguments['model_name']} champion version {version}; nothing trained or pushed (--force runs anyway)")
    run_id = run_id or new_run_id()
    run_dir = Path(runs_dir) / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    summary = RunSummary(run_id=run_id, location=str(run_dir.resolve()), exit_code=0, outcome=text, steps=[],
                         arguments=arguments, pushed=None)
    (run_dir / "summary.json").write_text(json.dumps(asdict(summary), indent=2, default=str))
    print(text, flush=True)
    return None


def check_inputs(arguments: dict[str, object], *, runs_dir: str | None = None,
                 run_id: str | None = None) -> int | object:
    """Fail fast (``labelgate.preflight``): every problem with the config, LFs, suite, constraints
    and data, before any step runs. Returns the exit code when the run must not start (and, given
    ``runs_dir``, writes the run's summary.json saying so), else the preflight report."""
    import json
    from dataclasses import asdict

    from labelgate.errors import LabelgateError
    from labelgate.preflight import preflight
    from labelgate.run import RunSummary, StepFailure, decide_outcome, step_rows

    report = preflight(data_uri=str(arguments["data_uri"]), lf_module=str(arguments["lf_module"]),
                       config_path=str(arguments["config_path"]), suite_path=str(arguments["suite_path"]),
                       constraints_path=str(arguments["constraints_path"]))
    try:
        report.raise_if_failed()
    except LabelgateError as exc:
        print(f"labelgate run: {exc}\nNo step ran.", file=sys.stderr, flush=True)
        failure = StepFailure(step="preflight", error=type(exc).__name__, message=str(exc))
        outcome = decide_outcome(pushed=False, push_label="", failure=failure, step_failed=True, gates={})
        if runs_dir is not None:
            from labelgate.pipelines.local import new_run_id

            run_id = run_id or new_run_id()
            run_dir = Path(runs_dir) / run_id
            summary = RunSummary(run_id=run_id, location=str(run_dir.resolve()), exit_code=outcome.exit_code,
                                 outcome=outcome.text, steps=step_rows({}, blocked=False), failure=asdict(failure),
                                 arguments=arguments)
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "summary.json").write_text(json.dumps(asdict(summary), indent=2, default=str))
        return outcome.exit_code
    ingested = report.ingested
    if ingested is not None:
        roles = ", ".join(f"{role} {info['rows']}" for role, info in ingested.roles.items())
        print(f"preflight: ok ({len(report.lf_names)} LFs; rows: {roles})", flush=True)
    return report


def project_flags(args: argparse.Namespace, names: list[str]) -> dict[str, object]:
    """The flags given, with ``--project DIR`` standing for ``--config DIR/config.yaml`` (unless --config)."""
    from labelgate.errors import ConfigError

    flags = {name: getattr(args, name) for name in names}
    project = getattr(args, "project", None)
    if project and not flags.get("config_path"):
        config = Path(project) / "config.yaml"
        if not config.is_file():
            raise ConfigError(f"--project {project}: no config.yaml there; write the project with "
                              f"`labelgate init {project} --data PATH... --text-column C` first")
        flags["config_path"] = str(config)
    return flags


def resolved(flags: dict[str, object]) -> dict[str, object]:
    """Every pipeline parameter: the flags given (not None) > the config file's `pipeline` section >
    labelgate.parameters' defaults."""
    from labelgate.config import load_config
    from labelgate.parameters import SECTION, resolve

    config_path = flags.get("config_path") or DEFAULTS.config_path
    return resolve(flags, load_config(config_path)[SECTION], config_path,
                   flag_names={dest: flag for flag, (dest, _, _) in RUN_FLAGS.items()})


def _compile(args: argparse.Namespace) -> int:
    import importlib

    from kfp import compiler

    from labelgate.config import load_config
    from labelgate.errors import ConfigError
    from labelgate.parameters import SECTION, config_parameters

    module, default_output = COMPILED[args.pipeline]
    pipeline = importlib.import_module(module).pipeline
    args.output = args.output or default_output
    defaults = None
    if args.config_path and args.pipeline != "training":
        raise ConfigError(f"--config sets the training pipeline's defaults; the {args.pipeline} pipeline takes "
                          "its settings from the champion (set log_uri and since with --param when scheduling)")
    if args.config_path:
        defaults = {**config_parameters(load_config(args.config_path)[SECTION], args.config_path),
                    "config_path": args.config_path}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(pipeline_func=pipeline, package_path=args.output, pipeline_parameters=defaults)
    print(f"wrote {args.output}")
    return 0
