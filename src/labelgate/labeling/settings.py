"""Typed settings for the ``labeling`` section of the pipeline config."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import Field

from labelgate.config import SectionSettings

LabelModelName = Literal["auto", "majority_vote", "matrix_completion", "one_coin", "dawid_skene",
                         "dawid_skene_abstain"]
LABEL_MODELS: tuple[str, ...] = get_args(LabelModelName)


class LabelingSettings(SectionSettings):
    """How the weak_label step applies LFs and which label model it fits. ``select_on_dev``: the dev
    labels may switch the label model to a clearly better candidate; when false they only estimate the
    class balance (Snorkel's use of ``Y_dev``). ``max_fit_rows``: null fits on every row."""

    section: ClassVar[str] = "labeling"

    label_model: LabelModelName = "auto"
    class_balance: Annotated[tuple[float, ...], Field(strict=False)] | None = None
    max_iter: int = Field(100, ge=1)
    max_fit_rows: Annotated[int, Field(ge=1)] | None = 100_000
    chunk_size: int = Field(100_000, ge=1)
    n_jobs: int = 1
    fault_tolerant: bool = False
    device: str = "auto"
    select_on_dev: bool = True
