"""The pipeline's parameters and their defaults: the one home of every per-run default.

``labelgate.pipelines.training.pipeline`` takes its signature's defaults from :data:`DEFAULTS`, and every
command (``labelgate run``, ``compile``, ``serve``, ``models``, the cluster commands) derives its defaults
from here. One precedence, wherever a run is started:

    command-line flag  >  the project's config file (its ``pipeline`` section)  >  the default here

A compiled pipeline (``labelgate compile --config FILE``) carries the config's ``pipeline`` section as its
parameters' defaults, so a run started from the KFP UI or by a trigger without parameters uses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, ValidationError

from labelgate.config import ConfigSection, SectionSettings, config_error
from labelgate.errors import ConfigError

PIPELINE_NAME = "labelgate-training"
MONITOR_PIPELINE_NAME = "labelgate-monitoring"  # pipelines/monitoring.py: `labelgate monitor`, then retraining on drift
# The config file's section that sets pipeline parameters.
SECTION = "pipeline"


class PipelineParameters(SectionSettings):
    """Every parameter of the training pipeline with its default (the example's)."""

    section: ClassVar[str] = SECTION

    data_uri: str = "../shared/data/youtube-spam"
    lf_module: str = "examples/youtube_spam/lfs.py"
    config_path: str = "examples/youtube_spam/config.yaml"
    suite_path: str = "examples/youtube_spam/expectations.json"
    constraints_path: str = "examples/youtube_spam/constraints.txt"
    registry_uri: str = "sqlite:///mlruns/mlflow.db"
    model_name: str = "youtube-spam"
    seed: int = 0
    min_test_accuracy: float = Field(0.85, ge=0.0, le=1.0)
    min_test_f1: float = Field(0.85, ge=0.0, le=1.0)
    champion_tolerance: float = Field(-0.02, ge=-1.0, le=1.0)  # challenger - champion accuracy, lower bound
    lf_shards: int = Field(1, ge=1)
    search_groups: int = Field(1, ge=1)  # train tasks the family: auto search fans out over
    inference_service: str = ""
    namespace: str = ""
    canary_traffic_percent: int = Field(0, ge=0, le=100)
    serving_image: str = ""
    # Where the InferenceService's server appends its prediction log (an s3:// prefix on a cluster; empty: off).
    prediction_log: str = ""
    # Content digests (labelgate.run.DIGESTS): set by `labelgate run` for kfp.local's cache; empty elsewhere.
    data_digest: str = ""
    lfs_digest: str = ""
    suite_digest: str = ""
    setup_digest: str = ""
    champion_digest: str = ""


DEFAULTS = PipelineParameters()
# Parameters that name files next to the config: relative values in its ``pipeline`` section are taken
# relative to the config file's folder (a URI with a scheme, or a dotted module name, is left alone).
PATH_PARAMETERS = ("data_uri", "lf_module", "suite_path", "constraints_path")


def _relative_to(folder: Path, value: str, name: str) -> str:
    if not value or "://" in value or Path(value).is_absolute():
        return value
    if name == "lf_module" and not value.endswith(".py"):
        return value  # a dotted module name
    return str(folder / value)


def config_parameters(section: Mapping[str, Any], config_path: str | Path) -> dict[str, Any]:
    """The parameters a config file's ``pipeline`` section sets, checked, with its relative paths resolved
    against the config file's folder. Raises ConfigError naming the file and the key."""
    if "config_path" in section:
        raise ConfigError(f"config {config_path}: pipeline.config_path cannot be set inside the config itself")
    checked = PipelineParameters.from_section(ConfigSection(section, source=str(config_path)))
    folder = Path(config_path).parent
    values = checked.model_dump(include=set(section))
    return {name: _relative_to(folder, value, name) if name in PATH_PARAMETERS else value
            for name, value in values.items()}


def resolve(flags: Mapping[str, Any], config_section: Mapping[str, Any] | None = None,
            config_path: str | Path | None = None, flag_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every pipeline parameter for a run: ``flags`` (those given, not None) over the config's ``pipeline``
    section over :data:`DEFAULTS`. A flag's bad value is refused here, named by ``flag_names`` (parameter ->
    the command-line flag that set it, e.g. ``search_groups`` -> ``--search-groups``) when given."""
    values = DEFAULTS.model_dump()
    if config_section:
        values.update(config_parameters(config_section, config_path or values["config_path"]))
    given = {name: value for name, value in flags.items() if value is not None}
    values.update(given)
    if config_path is not None:
        values["config_path"] = str(config_path)
    try:  # a flag's value is checked like the config's, before any step runs
        PipelineParameters.model_validate(given)
    except ValidationError as exc:
        message = str(config_error(exc, model=PipelineParameters, section="pipeline", source="flags"))
        for name, flag in (flag_names or {}).items():
            message = message.replace(f"config flags: pipeline.{name} ", f"flag {flag} ")
        raise ConfigError(message) from None
    return values
