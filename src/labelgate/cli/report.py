"""`labelgate report <run>`: print (or open) the HTML run report that the evaluate step wrote."""

from __future__ import annotations

import argparse
from pathlib import Path

from labelgate.errors import LabelgateError

REPORT_ARTIFACT = "report"
BLESSING_ARTIFACT = "blessing"


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "report", help="print the path of a run's HTML report (gate decisions, metrics, plots, lineage)",
        description="Find the run report that the evaluate step wrote under runs/<run-id>/ and print its path.")
    report.add_argument("run", nargs="?", default="latest",
                        help="a run id under --runs-dir, a run directory, or 'latest' (default)")
    report.add_argument("--runs-dir", default="runs", help="where `labelgate run` writes runs (default: runs)")
    report.add_argument("--open", action="store_true", help="also open the report in a web browser")
    report.set_defaults(handler=_report)


def run_directory(run: str, runs_dir: str | Path) -> Path:
    """The directory of ``run``: a path as given, ``<runs_dir>/<run>``, or the newest run for 'latest'."""
    given = Path(run)
    if given.exists():
        return given
    runs = Path(runs_dir)
    if run == "latest":
        candidates = [p for p in runs.iterdir() if p.is_dir()] if runs.is_dir() else []
        if not candidates:
            raise LabelgateError(f"no runs under {runs}/; run `labelgate run` first")
        return max(candidates, key=lambda p: p.stat().st_mtime)
    if (runs / run).is_dir():
        return runs / run
    raise LabelgateError(f"no run {run!r}: neither a directory nor a run id under {runs}/")


def find_report(run_dir: Path) -> Path:
    """The run folder's ``report.html`` (`labelgate run` puts it there), else the newest evaluate report under
    ``run_dir`` (the ``report`` file beside a ``blessing``): its browsable ``report_files/index.html`` copy
    with the PNG plots when it is there (a file without ``.html`` is shown as text by a browser)."""
    if run_dir.is_file():
        return run_dir
    if (run_dir / "report.html").is_file():
        return run_dir / "report.html"
    reports = [b.parent / REPORT_ARTIFACT for b in run_dir.rglob(BLESSING_ARTIFACT)
               if (b.parent / REPORT_ARTIFACT).is_file()]
    if not reports:
        raise LabelgateError(f"no run report under {run_dir}: the evaluate step did not run or failed "
                             "(see the run's summary.json)")
    report = max(reports, key=lambda p: p.stat().st_mtime)
    index = report.parent / f"{REPORT_ARTIFACT}_files" / "index.html"
    return index if index.is_file() else report


def _report(args: argparse.Namespace) -> int:
    path = find_report(run_directory(args.run, args.runs_dir)).resolve()
    print(path)
    if args.open:
        import webbrowser

        if not webbrowser.open(path.as_uri()):
            print("labelgate: no web browser found; open the path above yourself")
    return 0
