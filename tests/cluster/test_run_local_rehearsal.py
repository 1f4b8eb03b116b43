"""`make run-local` rehearsed end to end without Docker or a cluster: kind, docker and kubectl are fakes
that log their arguments; `kubectl port-forward` serves the KFP API stand-in and an S3 store on the
local ports. Checks the upstream KFP install order, the images loaded, the overlay rendered with this
run's images, the data upload, and that the run's summary and exit code come back through make."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ci_needs import needs

from labelgate.run import GateDecision, record_json

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

KUBECTL = r"""#!/bin/sh
echo "kubectl $*" >> "$FAKE_DIR/calls.log"
case "$*" in
  *"get deployment ml-pipeline"*) exit 1 ;;
  *" port-forward "*)
    for a in "$@"; do case "$a" in svc/*) svc=${a#svc/} ;; *:*) ports=$a ;; esac; done
    exec "$FAKE_PYTHON" "$FAKE_PF" "$svc" "${ports%%:*}" model-blocked ;;
  *"apply -k build/kind-overlay"*) exec "$REAL_KUBECTL" kustomize build/kind-overlay > "$FAKE_DIR/overlay.yaml" ;;
  "get pods "*) exec "$FAKE_PYTHON" "$FAKE_PODS" "$KFP_UI_PORT" get ;;
  "logs "*)
    for a in "$@"; do case "$a" in labelgate-training-*) pod=$a ;; esac; done
    exec "$FAKE_PYTHON" "$FAKE_PODS" "$KFP_UI_PORT" logs "$pod" ;;
esac
exit 0
"""
# The model gate's pod log: the record line the real step prints.
STEP_LOGS = {"model-gate": record_json(GateDecision("model-gate", False, "test F1 0.70 < 0.85"))}
LOGGER = """#!/bin/sh
echo "{name} $*" >> "$FAKE_DIR/calls.log"
exit 0
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_make_run_local_rehearsal(tmp_path):
    real_kubectl = shutil.which("kubectl")
    needs(real_kubectl is not None and shutil.which("make") is not None,
          "needs make and kubectl (to render the generated overlay)")
    fakes = tmp_path / "bin"
    fakes.mkdir()
    (fakes / "kubectl").write_text(KUBECTL)
    for name in ("kind", "docker"):
        (fakes / name).write_text(LOGGER.format(name=name))
    for tool in fakes.iterdir():
        tool.chmod(0o755)
    data = tmp_path / "data"
    data.mkdir()
    (data / "Youtube01-Psy.csv").write_text("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\na,b,c,hello,0\n")
    env = {**os.environ, "PATH": f"{fakes}:{os.environ['PATH']}", "FAKE_DIR": str(tmp_path),
           "FAKE_PYTHON": sys.executable, "FAKE_PF": str(HERE / "fake_port_forward.py"),
           "FAKE_PODS": str(HERE / "fake_argo_pods.py"), "FAKE_STEP_LOGS": json.dumps(STEP_LOGS),
           "REAL_KUBECTL": real_kubectl, "KFP_UI_PORT": str(_free_port()), "KFP_S3_PORT": str(_free_port())}
    done = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "run-local", f"DATA={data}",
                           "IMAGE_TAG=rehearsal"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    out = done.stdout + done.stderr
    (tmp_path / "make.out").write_text(out)
    assert done.returncode != 0 and "Error 3" in done.stderr, out  # the gate blocked: exit 3 through make
    assert "blocked by model-gate" in out and "test F1 0.70 < 0.85" in out and "Traceback" not in out

    calls = (tmp_path / "calls.log").read_text().splitlines()
    kfp = "github.com/kubeflow/pipelines/manifests/kustomize"
    expected_order = [
        "kind create cluster --name labelgate --config manifests/kind/cluster.yaml",
        f"apply -k {kfp}/cluster-scoped-resources?ref=2.17.3",
        "wait --for condition=established --timeout=60s crd/applications.app.k8s.io",
        f"apply -k {kfp}/env/platform-agnostic?ref=2.17.3",
        "docker build --target component --build-arg GIT_COMMIT=",
        "docker build --target serving --build-arg GIT_COMMIT=",
        "kind load docker-image --name labelgate labelgate-component:rehearsal labelgate-serving:rehearsal",
        "apply -k build/kind-overlay",
    ]
    positions = [next(i for i, c in enumerate(calls) if step in c) for step in expected_order]
    assert positions == sorted(positions), calls

    overlay = list(yaml.safe_load_all((tmp_path / "overlay.yaml").read_text()))
    mlflow = next(d for d in overlay if d["kind"] == "Deployment")
    assert mlflow["spec"]["template"]["spec"]["containers"][0]["image"] == "labelgate-component:rehearsal"
    assert (tmp_path / "s3-objects.txt").read_text().split() == ["labelgate/data/youtube-spam/Youtube01-Psy.csv"]
    summary = yaml.safe_load((ROOT / "build" / "kind-summary.json").read_text())
    assert summary["exit_code"] == 3 and summary["gates"]["model-gate"]["reason"] == "test F1 0.70 < 0.85"
