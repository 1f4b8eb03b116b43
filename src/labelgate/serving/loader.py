"""How serving gets a predictor: from a model directory, a pinned registered version, or the champion.

The one place that names the default predictor loader and turns a ``module:function`` spec into it; the
server, infra-validation and the push's offline checks all load through here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelgate.champion import registered_model_dir
from labelgate.errors import ConfigError, RegistryError, ServingError

DEFAULT_LOADER = "labelgate.training:load_predictor"

PredictorLoader = Callable[[Path], Any]


def resolve_loader(spec: str) -> PredictorLoader:
    """Import ``module:function``, the function that turns a model directory into a predictor."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise ConfigError(f"the predictor loader (--loader) must look like 'package.module:function', got {spec!r}")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot import the predictor loader {spec!r}: {exc}") from exc


@dataclass(frozen=True)
class ModelSource:
    """Where the served model comes from: a model directory, a pinned registered version, or the champion."""

    model_dir: Path | None = None
    registry_uri: str | None = None
    registered_name: str | None = None
    version: str | None = None  # a pinned registered version instead of the champion

    def resolve(self) -> tuple[Path, str]:
        """The local model directory to load and a version label for responses (``local`` for a directory)."""
        if self.model_dir is not None:
            return Path(self.model_dir), "local"
        if not self.registry_uri or not self.registered_name:
            raise RegistryError("serving needs either a model directory or a registry URI and model name")
        return registered_model_dir(self.registry_uri, self.registered_name, self.version)


@dataclass(frozen=True)
class LoadedModel:
    """A predictor with its class names and where it came from."""

    predictor: Any
    classes: list[str]
    version: str
    model_dir: Path


def load_model(source: ModelSource, loader: PredictorLoader | str = DEFAULT_LOADER) -> LoadedModel:
    """Resolve ``source`` and load it with ``loader`` (a function or a ``module:function`` spec)."""
    load = resolve_loader(loader) if isinstance(loader, str) else loader
    model_dir, version = source.resolve()
    predictor = load(model_dir)
    if getattr(predictor, "encoder", None) is not None:
        # A minilm model reads its encoder's weights on first use: pay that here, before the server is
        # ready, not in the first request.
        predictor.predict_proba([""])
    classes = [str(c) for c in predictor.classes]
    if len(classes) < 2:
        raise ServingError(f"the predictor at {model_dir} has {len(classes)} classes; need at least 2")
    return LoadedModel(predictor=predictor, classes=classes, version=version, model_dir=model_dir)
