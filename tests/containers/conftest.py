"""Container fixtures: a reachable Docker engine and the images `make image` built. Without them these
tests skip with the reason, except under CI=true (.ci/run starts an engine and builds the images),
where they fail."""

from __future__ import annotations

import os

import pytest


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run should have provided it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client():
    from labelgate.pipelines.containers import ContainerError, docker_client

    try:
        client = docker_client()
    except ContainerError as error:
        unavailable(str(error))
    yield client
    client.close()


def _image(client, variable: str, default: str) -> str:
    import docker

    image = os.environ.get(variable, default)
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        unavailable(f"image {image} not built: run `make image` (or set {variable})")
    return image


@pytest.fixture(scope="session")
def component_image(docker_client) -> str:
    return _image(docker_client, "LABELGATE_COMPONENT_IMAGE", "labelgate-component:latest")


@pytest.fixture(scope="session")
def serving_image(docker_client) -> str:
    return _image(docker_client, "LABELGATE_SERVING_IMAGE", "labelgate-serving:latest")
