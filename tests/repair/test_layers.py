"""The repair library stays a library: no KFP, no CLI, no other stage's step module."""

import ast
from pathlib import Path

import labelgate.repair

PACKAGE = Path(labelgate.repair.__file__).parent


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_repair_modules_import_no_kfp_cli_or_other_steps():
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    for module in modules:
        for name in _imports(module):
            assert not name.startswith(("kfp", "labelgate.cli", "labelgate.components", "labelgate.pipelines")), \
                (module.name, name)
            assert not (name.endswith(".step") and not name.startswith("labelgate.repair")), (module.name, name)
