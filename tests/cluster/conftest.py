"""Fixtures for the cluster tests: a local KFP API stand-in, a small compiled pipeline and the real one."""

# No `from __future__ import annotations` here: KFP reads the component annotations as types.

from collections.abc import Iterator
from pathlib import Path

import pytest
from kfp_standin import KfpStandIn


@pytest.fixture
def kfp_server() -> Iterator[KfpStandIn]:
    with KfpStandIn() as server:
        yield server


@pytest.fixture(scope="session")
def small_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A compiled pipeline with labelgate's parameter names and types (fast to compile, no components needed)."""
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11-slim")
    def echo(text: str) -> str:
        return text

    @dsl.pipeline(name="labelgate-training")
    def small(data_uri: str = "data", model_name: str = "youtube-spam", seed: int = 0,
              min_test_accuracy: float = 0.85):
        echo(text=data_uri)

    path = tmp_path_factory.mktemp("package") / "pipeline.yaml"
    compiler.Compiler().compile(pipeline_func=small, package_path=str(path))
    return path


@pytest.fixture(scope="session")
def training_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """labelgate's own pipeline, compiled: the stand-in runs its real task list (ParallelFor, conditions)."""
    from kfp import compiler

    from labelgate.pipelines.training import pipeline

    path = tmp_path_factory.mktemp("training") / "pipeline.yaml"
    compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(path))
    return path
