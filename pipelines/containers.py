"""What `labelgate run --runner docker` adds around kfp.local's DockerRunner.

Every step runs in the component image as its non-root user (UID 10001). DockerRunner mounts only the
pipeline root (the run folder), so the run's local inputs (data, LF module, config, suite, constraints)
are copied into ``<run>/inputs/`` and the arguments point there; the run folder is made writable for
that user. The steps reach the registry over a Docker network of the run's own: an MLflow server
container started from the component image with the command and arguments of
``manifests/base/registry.yaml`` (a SQLite file inside a step's container would vanish with it).
kfp 2.17 reports success when an auto-removed container is gone before it is waited on, so each step
is also judged by its outputs (``executor_output.json``).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labelgate.errors import LabelgateError

ROOT = Path(__file__).resolve().parents[1]
REGISTRY_MANIFEST = ROOT / "manifests" / "base" / "registry.yaml"
# The component image's user (Dockerfile: ARG UID) and the registry's service name in manifests/base.
STEP_UID = 10001
REGISTRY_HOST = "labelgate-mlflow"
REGISTRY_PORT = 5000
REGISTRY_MOUNT = "/var/lib/labelgate"
REGISTRY_URI_IN_NETWORK = f"http://{REGISTRY_HOST}:{REGISTRY_PORT}"
# Pipeline parameters that name local files or folders the steps read.
INPUT_PARAMETERS = ("data_uri", "lf_module", "config_path", "suite_path", "constraints_path")
EXECUTOR_OUTPUT = "executor_output.json"


class ContainerError(LabelgateError):
    """The container run cannot start: no engine, no image, or a registry that does not come up."""


def docker_client() -> Any:
    """A client of the reachable Docker engine; ContainerError naming the fix when there is none."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as error:  # docker raises several types for "no engine"
        raise ContainerError(f"no Docker engine reachable ({error}); start one: scripts/docker_engine.sh start") from error
    return client


def engine_reachable() -> bool:
    try:
        docker_client().close()
    except ContainerError:
        return False
    return True


def require_image(client: Any, image: str) -> None:
    import docker

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound as error:
        raise ContainerError(f"image {image} not found in the engine: build it with `make image` (and set "
                             "LABELGATE_IMAGE to it)") from error


def stage_inputs(arguments: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Copy the local files and folders the steps read into ``<run_dir>/inputs/``; return the arguments
    pointing at the copies. URIs (``s3://...``) and dotted module names are passed through unchanged."""
    inputs = run_dir / "inputs"
    staged = dict(arguments)
    for name in INPUT_PARAMETERS:
        value = arguments.get(name)
        if not isinstance(value, str) or not value or "://" in value or not Path(value).exists():
            continue
        source = Path(value).resolve()
        target = inputs / name / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
        staged[name] = str(target)
    if inputs.exists():
        open_to_all(inputs, writable=False)
    return staged


def open_to_all(path: Path, *, writable: bool) -> None:
    """Make ``path`` (and what is below it) readable, or writable, by the steps' user."""
    dir_mode, file_mode = (0o777, 0o666) if writable else (0o755, 0o644)
    path.chmod(dir_mode)
    for below in path.rglob("*"):
        below.chmod(dir_mode if below.is_dir() else file_mode)


def registry_command(manifest: Path = REGISTRY_MANIFEST) -> tuple[list[str], dict[str, str], str]:
    """The MLflow server's command and arguments, its environment and its memory limit, as the
    Deployment in ``manifests/base/registry.yaml`` runs it."""
    documents = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {item["name"]: item["value"] for item in container.get("env", [])}
    return [*container["command"], *container["args"]], env, container["resources"]["limits"]["memory"]


def docker_memory(quantity: str) -> str:
    """A Kubernetes memory quantity (``1Gi``, ``512Mi``, ``2G``) as Docker's ``mem_limit`` in bytes."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for unit, factor in sorted(units.items(), key=lambda item: -len(item[0])):
        if quantity.endswith(unit):
            return str(int(float(quantity[: -len(unit)]) * factor))
    return str(int(quantity))


@dataclass
class RegistryServer:
    """An MLflow server container on ``network``, reachable there as ``http://labelgate-mlflow:5000``."""

    container: Any
    network: str
    store: Path

    @property
    def uri(self) -> str:
        return REGISTRY_URI_IN_NETWORK

    def address(self) -> str:
        """``host:port`` of the server from this machine (the container's address on the network)."""
        self.container.reload()
        ip = self.container.attrs["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        return f"{ip}:{REGISTRY_PORT}"


@contextlib.contextmanager
def docker_network(client: Any, name: str) -> Iterator[str]:
    """A bridge network of this run's own, removed afterwards with whatever is still attached."""
    network = client.networks.create(name, driver="bridge")
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            network.reload()
            for container in network.containers:
                network.disconnect(container, force=True)
            network.remove()


@contextlib.contextmanager
def registry_server(client: Any, *, image: str, network: str, store: Path, name: str,
                    mem_limit: str | None = None, timeout: float = 360) -> Iterator[RegistryServer]:
    """Start the MLflow server of ``manifests/base/registry.yaml`` in ``image`` with its store on the
    host folder ``store``; wait until ``/health`` answers; remove the container afterwards."""
    command, env, manifest_limit = registry_command()
    store.mkdir(parents=True, exist_ok=True)
    open_to_all(store, writable=True)
    container = client.containers.create(
        image, command=command, name=name, detach=True, environment=env, user=f"{STEP_UID}:{STEP_UID}",
        network=network, read_only=True, tmpfs={"/tmp": ""},
        volumes={str(store.resolve()): {"bind": REGISTRY_MOUNT, "mode": "rw"}},
        mem_limit=docker_memory(mem_limit or manifest_limit), labels={"app.kubernetes.io/part-of": "labelgate"},
    )
    # Known on the network by the manifest's service name, as the pipeline's steps expect it.
    client.networks.get(network).disconnect(container)
    client.networks.get(network).connect(container, aliases=[REGISTRY_HOST])
    container.start()
    server = RegistryServer(container=container, network=network, store=store)
    try:
        wait_for_health(server, timeout=timeout)
        yield server
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)


HEALTH_PROBE = ("import sys, urllib.request; "
                "sys.exit(urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=2).status != 200)")


def wait_for_health(server: RegistryServer, *, timeout: float) -> None:
    """Probe ``/health`` from inside the container (the manifest's --allowed-hosts admit loopback and
    the service name, not this machine's view of the container's address)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.container.reload()
        if server.container.status != "running":
            if server.container.status == "exited":
                break
        elif server.container.exec_run(["python", "-c", HEALTH_PROBE]).exit_code == 0:
            return
        time.sleep(1)
    logs = server.container.logs(tail=30).decode(errors="replace")
    raise ContainerError(f"the MLflow server container did not become healthy in {timeout:.0f}s:\n{logs}")


def check_outputs(steps: dict[str, Any], task_root: Path | None) -> list[str]:
    """Steps that kfp reported as finished ok but left no executor output (a vanished container):
    their status becomes FAILED; returns their names."""
    vanished = []
    for name, step in steps.items():
        if step.status != "ok":
            continue
        written = len(list(task_root.rglob(f"{name}/{EXECUTOR_OUTPUT}"))) if task_root else 0
        if written < step.runs:
            step.status = "FAILED"
            vanished.append(name)
    return vanished


@dataclass
class DockerSettings:
    """Optional settings of a DockerRunner run: an existing ``network`` to join (its registry and object
    store already there) instead of a new one, and ``environment`` for every step (e.g. S3 credentials)."""

    network: str | None = None
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class ContainerRun:
    """What `run_local` needs for a DockerRunner run: the runner, the rewritten arguments, the registry."""

    runner: Any
    arguments: dict[str, Any]
    registry: RegistryServer | None


@contextlib.contextmanager
def container_run(arguments: dict[str, Any], run_dir: Path, *, image: str, settings: DockerSettings | None = None,
                  registry_store: Path | None = None) -> Iterator[ContainerRun]:
    """Prepare ``run_dir`` and the arguments for DockerRunner, with a registry server when the registry
    is not already an ``http(s)://`` server the containers reach."""
    from kfp import local

    settings = settings or DockerSettings()
    client = docker_client()
    require_image(client, image)
    open_to_all(run_dir, writable=True)
    staged = stage_inputs(arguments, run_dir)
    name = f"labelgate-{run_dir.name}".lower()
    try:
        with contextlib.ExitStack() as stack:
            network = settings.network or stack.enter_context(docker_network(client, name))
            runner = local.DockerRunner(network=network, **({"environment": settings.environment}
                                                            if settings.environment else {}))
            registry_uri = str(arguments.get("registry_uri", ""))
            if registry_uri.startswith(("http://", "https://")):
                yield ContainerRun(runner=runner, arguments=staged, registry=None)
                return
            store = registry_store or default_registry_store(registry_uri)
            server = stack.enter_context(registry_server(client, image=image, network=network, store=store,
                                                         name=f"{name}-mlflow"))
            yield ContainerRun(runner=runner, arguments={**staged, "registry_uri": server.uri}, registry=server)
    finally:
        client.close()


def default_registry_store(registry_uri: str) -> Path:
    """Where the registry container keeps its store on this machine: ``containers/`` beside the SQLite
    file of a ``sqlite:///`` registry URI (its own store: its artifacts go through the server)."""
    if registry_uri.startswith("sqlite:///"):
        return Path(registry_uri.removeprefix("sqlite:///")).parent / "containers"
    return Path("mlruns") / "containers"
