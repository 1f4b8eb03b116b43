"""The layers of docs/architecture.md, enforced on every import (function-local ones included).

entry points (cli, components, pipelines.training, pipelines.monitoring, pipelines.cluster) may import everything below;
orchestration (cluster, pipelines.local, pipelines.containers) imports the run model and the stages, never each other;
stages (ingest, labeling, validation, training, evaluation, registry, serving, ...) import the core and
each other's library modules, never another stage's ``step`` module, and never KFP, the CLI or a runner;
the core (errors, config, contract, run, parameters, plots, rendering, champion, devices) imports only the core.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = {"errors", "config", "contract", "run", "summary", "parameters", "plots", "rendering", "champion", "devices"}
ENTRY = {"cli", "components", "pipelines.training", "pipelines.monitoring", "pipelines.cluster", "pipelines"}
ORCHESTRATION = {"cluster", "pipelines.local", "preflight"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    parts = parts[1:] if parts[0] == "src" else ["labelgate", *parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(source: str, module: str, *, is_package: bool = False) -> list[tuple[str, str, int]]:
    """(module, imported module, line) for every import in ``source``, those inside functions included;
    relative imports are resolved against the module's package, and ``from a import b`` also counts
    ``a.b`` (``b`` may be a submodule: ``from labelgate import contract``)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - (node.level - 1)] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.append((module, target, node.lineno))
            found += [(module, f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _imports() -> list[tuple[str, str, int]]:
    """Every import in the project's code."""
    found = []
    for folder in ("src/labelgate", "components", "pipelines"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            found += imports_in(path.read_text(encoding="utf-8"), _module_name(path),
                                is_package=path.name == "__init__.py")
    return found


def _unit(module: str) -> str:
    """The layer unit a module belongs to: ``labelgate.pipelines.local`` -> ``pipelines.local``,
    ``labelgate.labeling.model.fit`` -> ``labeling``."""
    parts = module.split(".")[1:]
    if not parts:
        return ""
    if parts[0] == "pipelines" and len(parts) > 1:
        # pipelines/containers.py is the local runner's Docker support: one unit with pipelines/local.py
        return "pipelines.local" if parts[1] == "containers" else f"pipelines.{parts[1]}"
    return parts[0]


def _layer(unit: str) -> str:
    if unit in CORE or unit == "":
        return "core"
    if unit in ENTRY:
        return "entry"
    if unit in ORCHESTRATION:
        return "orchestration"
    return "stage"


IMPORTS = _imports()


def _violations() -> list[str]:
    bad = []
    for source, target, line in IMPORTS:
        where = f"{source}:{line} imports {target}"
        src_unit, src_layer = _unit(source), _layer(_unit(source))
        if target.split(".")[0] == "kfp" and src_layer in ("core", "stage"):
            bad.append(f"{where}: the library never imports KFP")
        if not target.startswith("labelgate.") or target in ("labelgate",):
            continue
        dst_unit = _unit(target)
        dst_layer = _layer(dst_unit)
        if src_unit == dst_unit:
            continue
        if src_layer == "core" and dst_layer != "core":
            bad.append(f"{where}: the core imports only the core")
        elif src_layer == "stage" and dst_layer in ("entry", "orchestration"):
            bad.append(f"{where}: a stage never imports the CLI, a runner or the pipeline")
        elif src_layer == "stage" and dst_layer == "stage" and target.split(".")[-1] == "step":
            bad.append(f"{where}: stages talk through the artifact contract, not each other's step module")
        elif src_layer == "orchestration" and dst_layer in ("entry", "orchestration"):
            bad.append(f"{where}: orchestration imports the run model, never another runner or an entry point")
        elif src_unit == "serving" and dst_unit == "registry":
            bad.append(f"{where}: the server reads the champion through labelgate.champion, never the registry's write side")
    return bad


def test_every_import_respects_the_layers():
    assert _violations() == []


def test_no_import_cycles_between_packages():
    graph: dict[str, set[str]] = {}
    for source, target, _ in IMPORTS:
        if target.startswith("labelgate.") and _unit(source) != _unit(target):
            graph.setdefault(_unit(source), set()).add(_unit(target))
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycles.append(" -> ".join([*path[path.index(nxt):], nxt]))
            elif len(path) < 12:
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == []


@pytest.mark.parametrize(("source", "target", "message"), [
    ("labelgate.serving.model", "labelgate.cli.serve", "never imports the CLI"),
    ("labelgate.evaluation.step", "labelgate.training.step", "not each other's step module"),
    ("labelgate.contract", "labelgate.ingest.settings", "core imports only the core"),
    ("labelgate.cluster.submit", "labelgate.pipelines.local", "never another runner"),
    ("labelgate.labeling.model", "kfp.dsl", "never imports KFP"),
    ("labelgate.serving.loader", "labelgate.registry.store", "never the registry's write side"),
])
def test_the_checker_catches_each_kind_of_violation(monkeypatch, source, target, message):
    monkeypatch.setattr(f"{__name__}.IMPORTS", [(source, target, 1)])
    assert any(message in problem for problem in _violations())


def test_the_walk_sees_imports_inside_functions_and_relative_ones():
    source = ("def f():\n    from labelgate.cli.serve import handle\n\n\n"
              "class C:\n    def g(self):\n        from ..registry import store\n        import labelgate.cli\n")
    targets = {target for _, target, _ in imports_in(source, "labelgate.serving.sample")}
    assert {"labelgate.cli.serve", "labelgate.registry", "labelgate.registry.store", "labelgate.cli"} <= targets
