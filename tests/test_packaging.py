"""What `pip install .` (the images, a user's non-editable install) ships: every package of the source tree.
An editable install finds a package missing from pyproject.toml anyway, so only this test catches it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_in_the_source_tree_is_listed_for_setuptools():
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setup["packages"])
    found = {".".join(init.parent.relative_to(ROOT / "src").parts) for init in (ROOT / "src").rglob("__init__.py")}
    for name, folder in setup["package-dir"].items():
        if name:  # the mapped packages (components, pipelines) and their subpackages
            found |= {".".join([name, *init.parent.relative_to(ROOT / folder).parts])
                      for init in (ROOT / folder).rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == set()


def test_the_package_data_patterns_cover_every_template_and_asset():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    src = ROOT / "src" / "labelgate"
    shipped = {p for package, patterns in data.items() for pattern in patterns
               for p in (src / Path(*package.split(".")[1:])).glob(pattern)}
    needed = {p for folder in ("templates", "validation/assets") for p in (src / folder).rglob("*") if p.is_file()}
    assert needed - shipped == set()
