"""Typed settings for the data and split sections of the pipeline config."""

from __future__ import annotations

import codecs
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, field_validator

from labelgate.config import SectionSettings
from labelgate.contract import ROLES


def _as_names(value: Any) -> Any:
    """YAML may read a class or file name as a number (``[0, 1]``): names are text, so turn them into str."""
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else value


def _as_globs(value: Any) -> Any:
    """``split.roles`` values: one glob or a list of globs per role."""
    if isinstance(value, dict):
        return {str(k): (str(v),) if isinstance(v, str) else _as_names(v) for k, v in value.items()}
    return value


Names = Annotated[tuple[str, ...], Field(strict=False), BeforeValidator(_as_names)]


class DataSettings(SectionSettings):
    """Which raw columns hold the id (``None``: the data has none, and none is needed), the text and the gold
    label, the class names (a label may be a class name or its index, the position in ``classes``), and
    optionally a column naming each row's role."""

    section: ClassVar[str] = "data"

    id_column: str | None = "COMMENT_ID"
    text_column: str = "CONTENT"
    label_column: str = "CLASS"
    classes: Annotated[Names, Field(min_length=2)] = ("ham", "spam")
    role_column: str | None = None
    # The text encoding of CSV/TSV files (JSON Lines is UTF-8, Parquet binary). None: UTF-8, or UTF-16 when the
    # file starts with its byte-order mark. Excel on Windows writes cp1252.
    encoding: str | None = None

    @property
    def cardinality(self) -> int:
        return len(self.classes)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            info = codecs.lookup(value)
        except LookupError:
            raise ValueError(f"{value!r} is not a text encoding Python knows; e.g. utf-8, cp1252 (Excel on Windows), "
                             "latin-1, utf-16") from None
        if not getattr(info, "_is_text_encoding", True):
            raise ValueError(f"{value!r} is not a text encoding (it is a bytes transform); e.g. utf-8, cp1252")
        return info.name


class SplitSettings(SectionSettings):
    """Which rows are train, dev, valid and test.

    A row's role comes from ``roles`` (role -> file-name glob(s)), else from ``data.role_column``, else
    from a leading role word in its file name (``train*``, ``dev*``, ``valid*``, ``test*``). Rows without a
    role are pooled as in Snorkel's spam tutorial: files named in ``holdout_sources`` give the missing valid
    and test rows (stratified, ``valid_size``/``test_size``), the other files are train. A given dev file is
    the dev set; without one, ``dev_size`` labeled train rows keep their labels."""

    section: ClassVar[str] = "split"

    roles: Annotated[dict[str, tuple[str, ...]], Field(strict=False), BeforeValidator(_as_globs)] = {}
    holdout_sources: Names = ()
    valid_size: int = Field(120, ge=1)
    test_size: int = Field(250, ge=1)
    dev_size: int = Field(100, ge=0)
    seed: int = 123

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = sorted(set(value) - set(ROLES))
        if unknown:
            raise ValueError(f"has unknown role(s) {unknown}; allowed: {', '.join(ROLES)}")
        return value
