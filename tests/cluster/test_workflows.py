"""The GitHub Actions workflows: valid against the workflow schema, and every command they run exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from ci_needs import needs

from labelgate.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def _run_lines(doc: dict) -> list[str]:
    return [step["run"] for job in doc["jobs"].values() for step in job["steps"] if "run" in step]


def test_workflows_fit_the_github_workflow_schema():
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    needs(checker is not None, "check-jsonschema is not installed (it is in the dev extra)")
    done = subprocess.run([checker, "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflows_are_there_with_their_triggers():
    docs = {p.stem: _load(p) for p in WORKFLOWS}
    assert {"pr", "main", "retrain", "mutation"} <= set(docs)
    assert docs["mutation"]["on"]["schedule"][0]["cron"] and "workflow_dispatch" in docs["mutation"]["on"]
    assert "pull_request" in docs["pr"]["on"]
    assert docs["main"]["on"]["push"]["branches"] == ["main"]
    assert docs["retrain"]["on"]["schedule"][0]["cron"]
    assert "data_uri" in docs["retrain"]["on"]["workflow_dispatch"]["inputs"]


def test_jobs_need_only_jobs_that_exist():
    for path in WORKFLOWS:
        jobs = _load(path)["jobs"]
        for name, job in jobs.items():
            needs = job.get("needs", [])
            for need in [needs] if isinstance(needs, str) else needs:
                assert need in jobs, f"{path.name}: {name} needs unknown job {need}"


def test_make_targets_and_labelgate_commands_they_run_exist():
    targets = set(re.findall(r"^([a-zA-Z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.M))
    subcommands = set(build_parser()._subparsers._group_actions[0].choices)
    for path in WORKFLOWS:
        for script in _run_lines(_load(path)):
            for target in re.findall(r"\bmake ([a-z][\w-]*)", script):
                assert target in targets, f"{path.name} runs `make {target}`, which the Makefile lacks"
            for command in re.findall(r"labelgate ([a-z][\w-]*)", script):
                assert command in subcommands, f"{path.name} runs `labelgate {command}`, which does not exist"


def test_the_cluster_run_on_main_waits_so_a_blocked_gate_fails_the_job():
    deploy = _load(ROOT / ".github/workflows/main.yml")["jobs"]["deploy"]
    (submit,) = [s["run"] for s in deploy["steps"] if "labelgate submit" in s.get("run", "")]
    assert "--wait" in submit
    assert deploy["needs"] == "images"


def test_image_names_are_lower_case_for_ghcr(tmp_path):
    """Defect 7: GHCR refuses upper-case names and `github.repository_owner` keeps the owner's case. Every
    job that names an image runs scripts/image_names.sh first; run it as Actions would."""
    env_file = tmp_path / "github_env"
    for doc in map(_load, WORKFLOWS):
        for job in doc["jobs"].values():
            steps = yaml.safe_dump(job["steps"])
            assert "repository_owner" not in steps
            if "COMPONENT_IMAGE" in steps or "SERVING_IMAGE" in steps:
                runs = [step.get("run", "") for step in job["steps"]]
                naming = next(i for i, run in enumerate(runs) if "scripts/image_names.sh" in run)
                first_use = next(i for i, step in enumerate(job["steps"]) if "_IMAGE" in yaml.safe_dump(step)
                                 and i != naming)
                assert naming < first_use
    env = {"GITHUB_REPOSITORY_OWNER": "LabelGate-Org", "GITHUB_SHA": "0123abcd", "PATH": "/usr/bin:/bin",
           "GITHUB_ENV": str(env_file)}
    subprocess.run(["bash", "-c", 'scripts/image_names.sh >> "$GITHUB_ENV"'], cwd=ROOT, env=env, check=True)
    names = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert names == {"COMPONENT_IMAGE": "ghcr.io/labelgate-org/labelgate-component:0123abcd",
                     "SERVING_IMAGE": "ghcr.io/labelgate-org/labelgate-serving:0123abcd"}


def test_pods_pull_with_the_pull_secret():
    """Defect 7: the pipeline's and the registry's pods name the pull secret (rendered base)."""
    kubectl = shutil.which("kubectl")
    needs(kubectl is not None, "kubectl not on PATH: it renders the kustomize overlays")
    from labelgate.pipelines.cluster import PULL_SECRET

    done = subprocess.run([kubectl, "kustomize", str(ROOT / "manifests" / "base")], capture_output=True, text=True,
                          check=True)
    docs = {d["kind"]: d for d in yaml.safe_load_all(done.stdout) if d}
    assert docs["ServiceAccount"]["imagePullSecrets"] == [{"name": PULL_SECRET}]
    assert docs["Deployment"]["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": PULL_SECRET}]


def test_make_turns_every_failure_into_2_so_ci_calls_the_cli(tmp_path):
    """Defect 8: a recipe exiting 3 (a gate blocked) makes `make` exit 2, like any error. Where blocked
    and broken must stay apart, the workflows call the CLI, and the README says what make returns."""
    needs(shutil.which("make") is not None, "make is not installed")
    (tmp_path / "Makefile").write_text("blocked:\n\t@exit 3\n")
    assert subprocess.run(["make", "-s", "-C", str(tmp_path), "blocked"], capture_output=True).returncode == 2
    for path in WORKFLOWS:
        for script in _run_lines(_load(path)):
            assert not re.search(r"\bmake (run|submit|run-local|run-containers)\b", script), (path.name, script)
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert not re.search(r"`make (submit|run-local)`[^.]*0/3/1", readme)
    assert "make exits 2" in readme
