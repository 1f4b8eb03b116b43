"""Stands in for `kubectl get pods` and `kubectl logs` on a run's Argo pods in the `make run-local`
rehearsal. The pods are the executor pods that the KFP API stand-in's runs name in ``child_tasks``
(by Argo node id), named as Argo's v2 pod naming names them (``<workflow>-system-container-impl-<hash>``
for node id ``<workflow>-<hash>``) and annotated with their node id, as Argo annotates them. A pod's log is
what ``FAKE_STEP_LOGS`` (JSON: step name -> log text) gives for its step.

    python fake_argo_pods.py KFP_PORT get         # the pods, as `kubectl get pods -o json`
    python fake_argo_pods.py KFP_PORT logs POD    # the pod's main-container log
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

NODE_ID_ANNOTATION = "workflows.argoproj.io/node-id"


def _get(port: str, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/apis/v2beta1/{path}", timeout=30) as answer:
        return json.load(answer)


def executor_pods(port: str) -> dict[str, tuple[str, str]]:
    """pod name -> (node id, step) for every step task's executor in the stand-in's runs."""
    pods = {}
    for run in _get(port, "runs").get("runs", []):
        for task in (run.get("run_details") or {}).get("task_details", []):
            if task["display_name"] == "executor":
                continue
            for child in task.get("child_tasks", []):
                workflow, _, node_hash = child["pod_name"].rpartition("-")
                if node_hash.isdigit():  # a node id: <workflow>-<hash>; iterations and DAGs have ids too
                    pods[f"{workflow}-system-container-impl-{node_hash}"] = (child["pod_name"], task["display_name"])
    return pods


def main(port: str, command: str, pod: str = "") -> None:
    pods = executor_pods(port)
    if command == "get":
        print(json.dumps({"kind": "PodList", "items": [
            {"metadata": {"name": name, "annotations": {NODE_ID_ANNOTATION: node},
                          "labels": {"workflows.argoproj.io/workflow": node.rpartition("-")[0]}}}
            for name, (node, _) in pods.items()]}))
    elif command == "logs":
        if pod not in pods:
            sys.exit(f'Error from server (NotFound): pods "{pod}" not found')
        print(json.loads(os.environ.get("FAKE_STEP_LOGS", "{}")).get(pods[pod][1], ""))


if __name__ == "__main__":
    main(*sys.argv[1:])
