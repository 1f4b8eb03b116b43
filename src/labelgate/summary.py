"""The end-of-run printout of a :class:`labelgate.run.RunSummary`: steps, gates, data, key metrics, where
the model went and the outcome. Presentation only: what a run decided lives in ``labelgate.run``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelgate.parameters import DEFAULTS
from labelgate.run import STEP_WIDTH, RunSummary, gate_hint


def format_summary(summary: RunSummary, display: Any = str) -> str:
    """The end-of-run report: steps, gates, key metrics, where the model went, and the outcome.
    ``display`` shortens local paths for the terminal."""
    lines = ["", f"Run {summary.run_id} finished in {summary.seconds:.0f}s: {summary.outcome}"]
    if summary.resumed_from:
        reused = [step["name"] for step in summary.steps if step["status"] == "reused"]
        lines.append(f"Resumed {summary.resumed_from}: reused {', '.join(reused) or 'no step'} (unchanged inputs)")
    lines += ["", "Steps:"]
    for step in summary.steps:
        took = f"{step['seconds']:.1f}s" if step["seconds"] is not None else ""
        parallel = f"  ({step['runs']} parallel tasks)" if step.get("runs", 0) > 1 else ""
        lines.append(f"  {step['name']:<{STEP_WIDTH}} {step['status']:<8} {took:>7}{parallel}")
    if summary.gates:
        lines += ["", "Gates:"]
        for name, gate in summary.gates.items():
            lines.append(f"  {name:<{STEP_WIDTH}} {'PASSED' if gate['passed'] else 'BLOCKED':<8} {gate['reason']}")
            hint = None if gate["passed"] else gate_hint(name, _dev_rows(summary.data))
            if hint:
                lines.append(f"  {'':<{STEP_WIDTH}} what to try: {hint}")
    lines += _data_lines(summary.data)
    if summary.failure:
        lines += ["", f"Failed in {summary.failure['step']}: {summary.failure['error']}: {summary.failure['message']}"]
    lines += _metric_lines(summary.metrics)
    if summary.pushed:
        lines += ["", "Pushed:"] + [f"  {k}: {v}" for k, v in summary.pushed.items()]
        if not summary.on_cluster:
            name = summary.pushed.get("model_name") or summary.arguments.get("model_name")
            model = f" MODEL_NAME={name}" if name else ""
            registry = summary.pushed.get("registry_uri") or summary.arguments.get("registry_uri")
            model += f" REGISTRY_URI={registry}" if registry and registry != DEFAULTS.registry_uri else ""
            lines.append(f"  serve it with: make serve{model}    (models: labelgate models list)")
    if summary.outputs and not summary.on_cluster:
        lines += ["", "Open:"] + [f"  {display(path)}" for path in summary.outputs.values()]
    where = (f"Run: {summary.location}" if summary.on_cluster
             else f"Outputs: {display(summary.location)}  (log: pipeline.log, summary: summary.json)")
    lines += ["", where, f"Exit code: {summary.exit_code}"]
    return "\n".join(lines)


def _dev_rows(data: Mapping[str, Any]) -> int | None:
    """The run's labeled dev rows, from the ingest step's ``data`` metadata (None: not known)."""
    dev = (data.get("roles") or {}).get("dev")
    return None if dev is None else int(dev.get("rows", 0))


def _data_lines(data: Mapping[str, Any]) -> list[str]:
    """Each role's rows and where they came from (the ingest step's ``data`` metadata), rows left out and
    why, and the ingest warnings and notes."""
    roles = data.get("roles") or {}
    if not roles:
        return []
    lines = ["", "Data:"] + [f"  {role:<6} {info.get('rows', 0):>7} rows  from {info.get('origin', '-')}"
                             for role, info in roles.items()]
    lines += [f"  left out {drop['rows']} rows of {drop['files']}: {drop['reason']}" for drop in data.get("dropped", [])]
    lines += [f"  warning: {text}" for text in data.get("warnings", [])]
    lines += [f"  note: {text}" for text in data.get("notes", [])]
    return lines


def _metric_lines(metrics: Mapping[str, Any]) -> list[str]:
    """Test metrics as a table, challenger beside champion where the evaluate step measured both."""
    numbers = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and k != "blessed"}
    if not numbers:
        return []
    tests = sorted(k for k in numbers if k.startswith("test_"))
    with_champion = any(f"champion_{k}" in numbers for k in tests)
    rest = sorted(k for k in numbers if k not in tests and not k.startswith("champion_test_"))
    width = max(len(name) for name in [*(k.removeprefix("test_") for k in tests), *rest]) + 2

    def cell(key: str) -> str:
        value = numbers.get(key)
        if value is None:
            return f"{'-':>11}"
        return f"{value:>11.0f}" if key.endswith("rows") else f"{value:>11.4f}"

    header = f"{'Test metrics:':<{width + 2}}{'challenger':>11}{'champion':>11}" if with_champion else "Test metrics:"
    lines = ["", header]
    for key in tests:
        champion = cell(f"champion_{key}") if with_champion else ""
        lines.append(f"  {key.removeprefix('test_'):<{width}}{cell(key)}{champion}")
    lines += [f"  {key:<{width}}{numbers[key]:>+11.4f}" for key in rest]
    return lines
