"""The layers at the serving/registry/CLI seam, read from the source (every import, including those inside
functions): serving imports neither the CLI nor the registry, the registry does not import the CLI, and
nothing outside ``labelgate.cli`` imports the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "labelgate"


def imported_modules(path: Path, src: Path = SRC) -> set[str]:
    """Every module ``path`` (a file under ``src``) imports anywhere in its body, functions included;
    ``from a import b`` counts as ``a`` and ``a.b`` (``b`` may be a submodule), relative imports are
    resolved against the file's package."""
    package = ".".join(path.relative_to(src).parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _imports_of(modules: set[str], target: str) -> list[str]:
    return sorted(m for m in modules if m == target or m.startswith(f"{target}."))


def _files(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).glob("*.py"))


def test_the_walk_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    sample = tmp_path / "labelgate" / "serving" / "sample.py"
    sample.parent.mkdir(parents=True)
    sample.write_text("def f():\n    from labelgate.cli.serve import handle\n\n\n"
                      "class C:\n    def g(self):\n        from ..registry import store\n        import labelgate.cli\n")
    modules = imported_modules(sample, src=tmp_path)
    assert _imports_of(modules, "labelgate.cli") == ["labelgate.cli", "labelgate.cli.serve", "labelgate.cli.serve.handle"]
    assert _imports_of(modules, "labelgate.registry") == ["labelgate.registry", "labelgate.registry.store"]


def test_there_are_files_to_check() -> None:
    assert {"loader.py", "options.py", "__main__.py", "model.py"} <= {p.name for p in _files("serving")}
    assert {"push.py", "step.py", "store.py"} <= {p.name for p in _files("registry")}


@pytest.mark.parametrize("path", _files("serving"), ids=lambda p: p.name)
def test_serving_imports_neither_cli_nor_registry(path: Path) -> None:
    modules = imported_modules(path)
    assert _imports_of(modules, "labelgate.cli") == []
    assert _imports_of(modules, "labelgate.registry") == []


@pytest.mark.parametrize("path", _files("registry"), ids=lambda p: p.name)
def test_registry_does_not_import_cli(path: Path) -> None:
    assert _imports_of(imported_modules(path), "labelgate.cli") == []


def test_only_the_cli_imports_the_cli() -> None:
    offenders = {
        str(path.relative_to(SRC)): _imports_of(imported_modules(path), "labelgate.cli")
        for path in sorted(PACKAGE.rglob("*.py"))
        if "cli" not in path.relative_to(PACKAGE).parts[:1]
    }
    assert {k: v for k, v in offenders.items() if v} == {}
