"""`labelgate run` (the pipeline on this machine, through kfp.local) and `labelgate compile` (its IR YAML)."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULTS = {
    "data_uri": "../shared/data/youtube-spam",
    "lf_module": "examples/youtube_spam/lfs.py",
    "config_path": "examples/youtube_spam/config.yaml",
    "suite_path": "examples/youtube_spam/expectations.json",
    "constraints_path": "examples/youtube_spam/constraints.txt",
    "registry_uri": "sqlite:///mlruns/mlflow.db",
    "model_name": "youtube-spam",
    "seed": 0,
    "min_test_accuracy": 0.85,
    "min_test_f1": 0.85,
    "champion_tolerance": -0.02,
    "lf_shards": 1,
}
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
}


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run",
        help="run the whole pipeline on this machine (kfp.local)",
        description="Run the labelgate pipeline locally through kfp.local: ingest, weak labeling, validation, "
        "training, evaluation and push, with the data and model gates. Outputs land in RUNS_DIR/<run-id>/.",
        epilog="Exit codes: 0 a model was pushed, 3 a gate blocked deployment or the input was rejected, 1 error.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for flag, (dest, kind, text) in RUN_FLAGS.items():
        run.add_argument(flag, dest=dest, type=kind, default=DEFAULTS[dest], help=text)
    run.add_argument("--runner", choices=("subprocess", "docker"), default="subprocess",
                     help="subprocess: steps in this Python environment; docker: every step in the component "
                     "image (LABELGATE_IMAGE, `make image`) with an MLflow server container as the registry")
    run.add_argument("--runs-dir", default="runs", help="where run outputs are written")
    run.add_argument("--run-id", default=None, help="name of this run's folder (default: time + random suffix)")
    run.set_defaults(handler=_run)

    compile_ = subparsers.add_parser(
        "compile",
        help="write the pipeline's KFP IR YAML",
        description="Compile the labelgate pipeline to KFP IR YAML for upload to a cluster. The component "
        "image comes from LABELGATE_IMAGE at compile time.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    compile_.add_argument("--output", default="pipeline.yaml", help="where to write the YAML")
    compile_.set_defaults(handler=_compile)


def _run(args: argparse.Namespace) -> int:
    from labelgate.pipelines.local import format_summary, run_local

    arguments = {dest: getattr(args, dest) for dest, _, _ in RUN_FLAGS.values()}
    summary = run_local(arguments=arguments, runs_dir=args.runs_dir, run_id=args.run_id, runner=args.runner)
    print(format_summary(summary), flush=True)
    return summary.exit_code


def _compile(args: argparse.Namespace) -> int:
    from kfp import compiler

    from labelgate.pipelines.training import pipeline

    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(pipeline_func=pipeline, package_path=args.output)
    print(f"wrote {args.output}")
    return 0
