"""Container fixtures: a reachable Docker engine and the images `make image` built. Without them these
tests skip with the reason, except under CI=true (.ci/run starts an engine and builds the images),
where they fail."""

from __future__ import annotations

import os

import pytest
from ci_needs import needs


def unavailable(reason: str) -> None:
    needs(False, f"{reason} (.ci/run starts an engine and builds the images)")


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
    """The component image: LABELGATE_COMPONENT_IMAGE, else LABELGATE_IMAGE (what the pipeline's steps are
    compiled with), else the `:latest` that `make image` tags."""
    return _image(docker_client, "LABELGATE_COMPONENT_IMAGE",
                  os.environ.get("LABELGATE_IMAGE", "labelgate-component:latest"))


@pytest.fixture(scope="session")
def pipeline_image(component_image) -> str:
    """The component image, when the pipeline imported in this process was compiled with it (components
    read LABELGATE_IMAGE once, at import)."""
    from labelgate.components.image import BASE_IMAGE

    if BASE_IMAGE != component_image:
        unavailable(f"the pipeline in this process uses {BASE_IMAGE}, not {component_image}: run pytest "
                    f"with LABELGATE_IMAGE={component_image}")
    return component_image


@pytest.fixture(scope="session")
def serving_image(docker_client) -> str:
    return _image(docker_client, "LABELGATE_SERVING_IMAGE", "labelgate-serving:latest")
