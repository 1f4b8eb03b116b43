"""Typed settings for the data and split sections of the pipeline config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labelgate.config import check_keys, take
from labelgate.errors import ConfigError


@dataclass(frozen=True)
class DataSettings:
    """Which raw columns hold the id, the text and the gold label, and the class names."""

    id_column: str = "COMMENT_ID"
    text_column: str = "CONTENT"
    label_column: str = "CLASS"
    classes: tuple[str, ...] = ("ham", "spam")

    @property
    def cardinality(self) -> int:
        return len(self.classes)

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> DataSettings:
        check_keys(section, {"id_column", "text_column", "label_column", "classes"}, "data")
        classes = take(section, "classes", list(cls.classes), list, "data")
        if len(classes) < 2:
            raise ConfigError("config data.classes must name at least two classes")
        return cls(
            id_column=take(section, "id_column", cls.id_column, str, "data"),
            text_column=take(section, "text_column", cls.text_column, str, "data"),
            label_column=take(section, "label_column", cls.label_column, str, "data"),
            classes=tuple(str(c) for c in classes),
        )


@dataclass(frozen=True)
class SplitSettings:
    """The weak-supervision split: files named in ``holdout_sources`` become valid and test (stratified),
    every other file is train with its labels hidden, and ``dev_size`` train rows keep theirs."""

    holdout_sources: tuple[str, ...] = field(default_factory=lambda: ("Youtube05-Shakira.csv",))
    valid_size: int = 120
    test_size: int = 250
    dev_size: int = 100
    seed: int = 123

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> SplitSettings:
        check_keys(section, {"holdout_sources", "valid_size", "test_size", "dev_size", "seed"}, "split")
        holdout = take(section, "holdout_sources", ["Youtube05-Shakira.csv"], list, "split")
        settings = cls(
            holdout_sources=tuple(str(s) for s in holdout),
            valid_size=take(section, "valid_size", cls.valid_size, int, "split"),
            test_size=take(section, "test_size", cls.test_size, int, "split"),
            dev_size=take(section, "dev_size", cls.dev_size, int, "split"),
            seed=take(section, "seed", cls.seed, int, "split"),
        )
        if not settings.holdout_sources:
            raise ConfigError("config split.holdout_sources must name at least one file for valid/test")
        if min(settings.valid_size, settings.test_size) < 1 or settings.dev_size < 0:
            raise ConfigError("config split sizes must be positive (dev_size may be 0)")
        return settings
