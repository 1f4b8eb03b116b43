"""A `python -m labelgate.serving` subprocess on loopback serving a model directory, for the server tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import requests

from labelgate.serving.infra import free_port, wait_ready


class RunningServer:
    def __init__(self, model_dir: Path, log: Path, *args: str, env: dict[str, str] | None = None,
                 name: str = "spam"):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        environment = {k: v for k, v in os.environ.items() if k != "LABELGATE_REPOSITORY_TOKEN"}
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "labelgate.serving", "--model-dir", str(model_dir), "--model-name", name,
                 "--port", str(self.port), *args], stdout=out, stderr=subprocess.STDOUT,
                env={**environment, **(env or {})})
        wait_ready(url=f"{self.url}/v2/models/{name}/ready", proc=self.proc, timeout_s=120, log_path=log)

    def post(self, path: str, **kwargs: object) -> requests.Response:
        return requests.post(f"{self.url}{path}", timeout=kwargs.pop("timeout", 60), **kwargs)  # type: ignore[arg-type]

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=kwargs.pop("timeout", 60), **kwargs)  # type: ignore[arg-type]

    def metric(self, name: str, **labels: str) -> float:
        """A sample of /metrics (0 when the series is absent)."""
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in self.get("/metrics").text.splitlines():
            match = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})? (\S+)", line)
            if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
                return float(match.group(2))
        return 0.0

    def stop(self) -> str:
        """Stop the server; returns its log."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.log.read_text()
