"""Exceptions users see. Each message says what is wrong, where, and how to fix it."""


class LabelgateError(Exception):
    """Base class: a problem labelgate can explain (not a bug)."""


class DataError(LabelgateError):
    """The input data is unusable: unreadable, empty, missing columns, wrong types."""


class LabelingError(LabelgateError):
    """A labeling function is broken or returned something outside its label space."""


class ConfigError(LabelgateError):
    """The pipeline configuration, a suite or a constraint file is invalid."""


class ModelError(LabelgateError):
    """Training or evaluation cannot go on (degenerate labels, NaN probabilities, empty split)."""


class RegistryError(LabelgateError):
    """The model registry refused an operation or holds something unexpected."""


class ServingError(LabelgateError):
    """A model failed to start, answer, or agree with its offline predictions when served."""


class ChampionMovedError(RegistryError):
    """A compare-and-set on the ``champion`` alias lost: the champion is not the one the caller expected
    (another push, promote or rollback moved it first). Nothing was changed."""
