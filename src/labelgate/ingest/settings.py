"""Typed settings for the data and split sections of the pipeline config."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from labelgate.config import SectionSettings


def _as_names(value: Any) -> Any:
    """YAML may read a class or file name as a number (``[0, 1]``): names are text, so turn them into str."""
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else value


Names = Annotated[tuple[str, ...], Field(strict=False), BeforeValidator(_as_names)]


class DataSettings(SectionSettings):
    """Which raw columns hold the id, the text and the gold label, and the class names."""

    section: ClassVar[str] = "data"

    id_column: str = "COMMENT_ID"
    text_column: str = "CONTENT"
    label_column: str = "CLASS"
    classes: Annotated[Names, Field(min_length=2)] = ("ham", "spam")

    @property
    def cardinality(self) -> int:
        return len(self.classes)


class SplitSettings(SectionSettings):
    """The weak-supervision split: files named in ``holdout_sources`` become valid and test (stratified),
    every other file is train with its labels hidden, and ``dev_size`` train rows keep theirs."""

    section: ClassVar[str] = "split"

    holdout_sources: Annotated[Names, Field(min_length=1)] = ("Youtube05-Shakira.csv",)
    valid_size: int = Field(120, ge=1)
    test_size: int = Field(250, ge=1)
    dev_size: int = Field(100, ge=0)
    seed: int = 123
