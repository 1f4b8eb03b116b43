"""Typed settings for the ``training`` section of the pipeline config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelgate.config import check_keys, take
from labelgate.errors import ConfigError

FAMILIES = ("hashed_linear", "hashed_embedding")
STOP_METRICS = ("log_loss", "accuracy")


def _pair(section: dict[str, Any], key: str, default: tuple[int, int], where: str) -> tuple[int, int]:
    value = take(section, key, list(default), list, where)
    if len(value) != 2 or not all(isinstance(v, int) for v in value) or not 0 <= value[0] <= value[1]:
        raise ConfigError(f"config {where}.{key} must be [min_n, max_n] with 0 <= min_n <= max_n, got {value!r}")
    return int(value[0]), int(value[1])


def _number(section: dict[str, Any], key: str, default: float, where: str) -> float:
    return float(take(section, key, default, (int, float), where))


@dataclass(frozen=True)
class TrainingSettings:
    """The end model: hashed word and character n-grams into a linear model (``hashed_linear``) or a
    fastText-style embedding bag plus a linear layer (``hashed_embedding``), trained with soft
    cross-entropy on the label model's probabilities and early-stopped on the gold valid split.
    ``[0, 0]`` switches an n-gram range off. Noise handling: ``min_confidence`` drops covered rows whose
    top probability is lower; ``dev_weight`` > 0 adds the gold-labeled dev rows with that weight (0: the
    label model's output only). ``calibrate`` fits a softmax temperature on the valid split after
    training (predictions unchanged). ``cpu_threads``: torch threads while training; batches are tiny,
    so one thread is fastest and does not fight other processes for cores (0 keeps torch's default)."""

    family: str = "hashed_linear"
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    hash_bits: int = 18
    lowercase: bool = True
    sublinear_tf: bool = True
    embedding_dim: int = 32
    epochs: int = 80
    batch_size: int = 32
    learning_rate: float = 0.005
    weight_decay: float = 0.0
    patience: int = 10
    early_stopping_metric: str = "accuracy"
    min_confidence: float = 0.0
    dev_weight: float = 0.0
    calibrate: bool = True
    min_train_rows: int = 10
    device: str = "auto"
    cpu_threads: int = 1

    @property
    def n_features(self) -> int:
        return 1 << self.hash_bits

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> TrainingSettings:
        where = "training"
        check_keys(section, set(cls.__dataclass_fields__), where)
        settings = cls(
            family=take(section, "family", cls.family, str, where),
            word_ngrams=_pair(section, "word_ngrams", cls.word_ngrams, where),
            char_ngrams=_pair(section, "char_ngrams", cls.char_ngrams, where),
            hash_bits=take(section, "hash_bits", cls.hash_bits, int, where),
            lowercase=take(section, "lowercase", cls.lowercase, bool, where),
            sublinear_tf=take(section, "sublinear_tf", cls.sublinear_tf, bool, where),
            embedding_dim=take(section, "embedding_dim", cls.embedding_dim, int, where),
            epochs=take(section, "epochs", cls.epochs, int, where),
            batch_size=take(section, "batch_size", cls.batch_size, int, where),
            learning_rate=_number(section, "learning_rate", cls.learning_rate, where),
            weight_decay=_number(section, "weight_decay", cls.weight_decay, where),
            patience=take(section, "patience", cls.patience, int, where),
            early_stopping_metric=take(section, "early_stopping_metric", cls.early_stopping_metric, str, where),
            min_confidence=_number(section, "min_confidence", cls.min_confidence, where),
            dev_weight=_number(section, "dev_weight", cls.dev_weight, where),
            calibrate=take(section, "calibrate", cls.calibrate, bool, where),
            min_train_rows=take(section, "min_train_rows", cls.min_train_rows, int, where),
            device=take(section, "device", cls.device, str, where),
            cpu_threads=take(section, "cpu_threads", cls.cpu_threads, int, where),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Reject values that cannot train, naming the key to fix."""
        if self.family not in FAMILIES:
            raise ConfigError(f"config training.family must be one of {list(FAMILIES)}, got {self.family!r}")
        if self.early_stopping_metric not in STOP_METRICS:
            raise ConfigError(f"config training.early_stopping_metric must be one of {list(STOP_METRICS)}, "
                              f"got {self.early_stopping_metric!r}")
        if self.word_ngrams[1] == 0 and self.char_ngrams[1] == 0:
            raise ConfigError("config training: word_ngrams and char_ngrams cannot both be off")
        if not 8 <= self.hash_bits <= 24:
            raise ConfigError(f"config training.hash_bits must be in 8..24, got {self.hash_bits}")
        for key in ("epochs", "batch_size", "patience", "min_train_rows", "embedding_dim"):
            if getattr(self, key) < 1:
                raise ConfigError(f"config training.{key} must be at least 1, got {getattr(self, key)}")
        if self.learning_rate <= 0 or self.weight_decay < 0:
            raise ConfigError("config training.learning_rate must be > 0 and weight_decay >= 0")
        if not 0.0 <= self.min_confidence < 1.0 or self.dev_weight < 0:
            raise ConfigError("config training.min_confidence must be in [0, 1) and dev_weight >= 0")
        if self.cpu_threads < 0:
            raise ConfigError("config training.cpu_threads must be >= 0 (0: torch's default)")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"config training.device must be auto, cpu or cuda[:N], got {self.device!r}")
