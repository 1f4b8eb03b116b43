"""`labelgate lfs`: ingest the data, apply the LFs and fit the label model, without the pipeline.

The quick loop for writing LFs: it runs the same library calls as the ingest and weak_label steps and
prints the LF analysis table, so a user sees coverage, conflicts and dev accuracy after each edit.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from labelgate.parameters import DEFAULTS

    lfs = subparsers.add_parser(
        "lfs",
        help="apply the labeling functions and print the LF analysis (no pipeline, seconds)",
        description="Ingest the data, apply the LFs, fit the label model and print the LF analysis; the "
        "artifacts the weak_label step would write (label matrix, probabilities, label model, Markdown/HTML "
        "analysis, coverage-vs-accuracy plot) land in --out.",
    )
    # None = not given: as for `labelgate run`, the config's `pipeline` section, then the defaults decide.
    lfs.add_argument("--data", dest="data_uri", default=None, help=f"data file, folder or URI [default: {DEFAULTS.data_uri}]")
    lfs.add_argument("--lf-module", default=None, help=f"LF module (.py path or dotted name) [default: {DEFAULTS.lf_module}]")
    lfs.add_argument("--config", dest="config_path", default=None, help=f"pipeline config [default: {DEFAULTS.config_path}]")
    lfs.add_argument("--project", default=None, metavar="DIR", help="a folder written by `labelgate init` "
                     "(its config.yaml); flags still override")
    lfs.add_argument("--seed", type=int, default=None, help=f"label model seed [default: {DEFAULTS.seed}]")
    lfs.add_argument("--out", default="runs/lfs", help="where the artifacts are written [default: runs/lfs]")
    lfs.set_defaults(handler=_lfs)


def _lfs(args: argparse.Namespace) -> int:
    from labelgate.cli.pipeline import project_flags, resolved
    from labelgate.ingest.step import run_ingest
    from labelgate.labeling.step import run_weak_label

    args = argparse.Namespace(**{**vars(args), **resolved(project_flags(
        args, ["data_uri", "lf_module", "config_path", "seed"]))})
    out = Path(args.out)
    data_path = out / "data.parquet"
    run_ingest(data_uri=args.data_uri, config_path=args.config_path, out_path=str(data_path))
    run_weak_label(
        data_path=str(data_path), lf_module=args.lf_module, config_path=args.config_path, seed=args.seed,
        label_matrix_path=str(out / "label_matrix.npy"), probs_path=str(out / "probs.parquet"),
        label_model_path=str(out / "label_model.json"), analysis_md_path=str(out / "lf_analysis.md"),
        analysis_html_path=str(out / "lf_analysis.html"),
    )
    print((out / "lf_analysis.md").read_text())
    print(f"artifacts in {out}/ (open {out / 'lf_analysis.html'} for the table and plot)")
    return 0
