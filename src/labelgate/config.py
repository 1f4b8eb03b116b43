"""The pipeline configuration: one YAML file per pipeline, versioned with the code.

Each stage reads its own section (``data``, ``split``, ``labeling``, ``validation``, ``training``,
``evaluation``, ``serving``, ``monitoring``) into a :class:`SectionSettings` model that declares each key once, with its
type and default; ``pipeline`` sets pipeline parameters (``labelgate.parameters``). This module loads the
file and turns pydantic's validation errors into one :class:`ConfigError` that names the file, the
``section.key``, what was found and what is allowed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import annotated_types
import fsspec
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from labelgate.errors import ConfigError

SECTIONS = ("pipeline", "data", "split", "repair", "labeling", "validation", "training", "evaluation", "serving",
            "monitoring")


class ConfigSection(dict[str, Any]):
    """One section's keys as read from a config file; ``source`` remembers the file so that errors
    about the section can name it, and ``present`` whether the file has the section at all (an optional
    step such as ``repair`` is on when its section is there, even empty)."""

    def __init__(self, values: Mapping[str, Any] | None = None, *, source: str | None = None,
                 present: bool = True) -> None:
        super().__init__(values or {})
        self.source = source
        self.present = present


def load_config(uri: str | Path) -> dict[str, ConfigSection]:
    """Read the YAML config at ``uri`` (a path or fsspec URI) and check its top-level sections; every
    known section is present in the result (empty when the file leaves it out)."""
    try:
        with fsspec.open(str(uri), "r", encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {uri}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {uri} is not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {uri} must hold a mapping of sections, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        hints = "".join(_did_you_mean(str(name), SECTIONS) for name in unknown)
        raise ConfigError(f"config file {uri}: unknown section(s) {unknown}{hints}; known: {list(SECTIONS)}")
    for name, value in raw.items():
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"config file {uri}: section '{name}' must be a mapping")
    return {name: ConfigSection(raw.get(name), source=str(uri), present=name in raw) for name in SECTIONS}


class SectionSettings(BaseModel):
    """Base of each stage's settings: one config section, each key declared once as a typed field with
    its default. Unknown keys are errors (a typo fails loudly), values are frozen, and types are strict
    (``"5"`` is not an int; an int is accepted where a float is expected)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    section: ClassVar[str]

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> Self:
        """Build the settings from the section's keys, raising a :class:`ConfigError` that names the
        config file (when ``section`` came from :func:`load_config`), the key and what is allowed."""
        try:
            return cls.model_validate(dict(section))
        except ValidationError as exc:
            raise config_error(exc, model=cls, section=cls.section,
                               source=getattr(section, "source", None)) from None


_EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "float_type": "a number",
    "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "a string", "tuple_type": "a list", "list_type": "a list", "dict_type": "a mapping",
}
_BOUNDS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def config_error(exc: ValidationError, *, model: type[BaseModel], section: str,
                 source: str | None = None) -> ConfigError:
    """Turn pydantic's errors for one section into a ConfigError: one line per problem, each naming the
    file (when known), ``section.key``, the allowed values or type, and the value found."""
    head = f"config {source}: " if source else "config "
    lines = [head + _describe(error, model, section) for error in exc.errors()]
    return ConfigError("\n".join(lines))


def _describe(error: Mapping[str, Any], model: type[BaseModel], section: str) -> str:
    loc = error["loc"]
    kind = error["type"]
    key = str(loc[0]) if loc else ""
    path = section + (f".{key}" if key else "") + "".join(f"[{part}]" for part in loc[1:])
    found = f"; got {error['input']!r}" if loc else ""
    if kind == "extra_forbidden":
        known = sorted(model.model_fields)
        return (f"unknown key {path} in section '{section}'{_did_you_mean(key, known)}; "
                f"known: {', '.join(known)}")
    if kind == "literal_error":
        return f"{path} must be one of {error['ctx']['expected'].replace(' or ', ', ')}{found}"
    if kind == "value_error":  # a rule written in a validator: its message says what is allowed
        return f"{path}{' ' if key else ': '}{str(error['ctx']['error'])}{found}"
    if kind in ("too_short", "too_long"):
        size = error["ctx"].get("min_length" if kind == "too_short" else "max_length")
        return f"{path} must hold {'at least' if kind == 'too_short' else 'at most'} {size} item(s){found}"
    if kind in _BOUNDS and key in model.model_fields:
        return f"{path} must be {_interval(model, key, error.get('ctx', {}))}{found}"
    if kind in _EXPECTED:
        return f"{path} must be {_EXPECTED[kind]}{found}"
    message = str(error["msg"]).replace("Input should be", "must be")
    return f"{path} {message[0].lower()}{message[1:]}{found}"


def _interval(model: type[BaseModel], key: str, ctx: Mapping[str, Any]) -> str:
    """The allowed range of a bounded field, e.g. ``in [0, 1]`` or ``>= 2``: its Field constraints, or the
    violated bound alone when the constraint sits inside a union (``int >= 1 or null``)."""
    bounds: dict[str, Any] = {}
    for meta in model.model_fields[key].metadata:
        for name in ("ge", "gt", "le", "lt"):
            if isinstance(meta, getattr(annotated_types, name.capitalize())):
                bounds[name] = getattr(meta, name)
    bounds = bounds or {name: value for name, value in ctx.items() if name in ("ge", "gt", "le", "lt")}
    low = [f"{'[' if n == 'ge' else '('}{_num(v)}" for n, v in bounds.items() if n in ("ge", "gt")]
    high = [f"{_num(v)}{']' if n == 'le' else ')'}" for n, v in bounds.items() if n in ("le", "lt")]
    if low and high:
        return f"in {low[0]}, {high[0]}"
    if low:
        return f"{'>=' if low[0][0] == '[' else '>'} {low[0][1:]}"
    return f"{'<=' if high[0][-1] == ']' else '<'} {high[0][:-1]}"


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _did_you_mean(word: str, known: Any) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
