"""The Dockerfile, read as a build would read it (no Docker engine here): targets, pins, user, contents."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(ln for ln in DOCKERFILE.splitlines() if not ln.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined.splitlines() if line.strip()]


def _stages() -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current = None
    for op, args in _instructions():
        if op == "FROM":
            current = args.split(" AS ")[-1].strip() if " AS " in args else args
            stages[current] = [(op, args)]
        elif current is not None:
            stages[current].append((op, args))
    return stages


def test_component_and_serving_targets_run_as_a_non_root_user():
    stages = _stages()
    assert {"build", "component", "serving"} <= set(stages)
    users = [args for op, args in stages["component"] if op == "USER"]
    assert users and not users[-1].startswith(("0", "root"))
    assert stages["serving"][0][1].startswith("component")  # serving adds its entrypoint on top of component
    assert not any(op == "USER" for op, _ in stages["serving"])  # and stays non-root
    assert ("ENTRYPOINT", '["labelgate", "serve"]') in stages["serving"]


def test_torch_is_the_pinned_cpu_build_and_base_images_are_pinned():
    pinned = next(d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
                  if d.startswith("torch"))
    assert f"ARG TORCH_VERSION={pinned.split('==')[1]}" in DOCKERFILE
    # The CPU index stays the default for users; a host-filled wheelhouse/ (make wheelhouse) comes first.
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in DOCKERFILE
    assert "--index-url ${TORCH_INDEX_URL}" in DOCKERFILE and '"torch==${TORCH_VERSION}+cpu"' in DOCKERFILE
    base = re.search(r"ARG PYTHON_IMAGE=(\S+)", DOCKERFILE)[1]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), base


def test_the_requirements_step_reads_every_dependency_from_pyproject(tmp_path):
    """Run the Dockerfile's own requirements one-liner on our pyproject.toml."""
    run = next(args for op, args in _stages()["build"] if op == "RUN" and "tomllib" in args)
    code = re.search(r'python -c "(.*?)" > requirements.txt', run, flags=re.S)[1]
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    requirements = done.stdout.splitlines()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert requirements == project["dependencies"] + project["optional-dependencies"]["cluster"]
    assert any(r.startswith("s3fs") for r in requirements)


def test_the_image_holds_what_the_pipeline_defaults_point_at():
    component = _stages()["component"]
    assert ("WORKDIR", "/app") in component
    assert any(op == "COPY" and "examples ./examples" in args for op, args in component)
    from labelgate.parameters import DEFAULTS

    for key in ("lf_module", "config_path", "suite_path", "constraints_path"):
        assert (ROOT / getattr(DEFAULTS, key)).exists(), getattr(DEFAULTS, key)  # copied to /app/<same path> in the image
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ignored[ignored.index("*") + 1:] and all(f"!{p}/" in ignored for p in ("src", "components",
                                                                                  "pipelines", "examples"))
