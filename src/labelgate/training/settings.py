"""Typed settings for the ``training`` section of the pipeline config."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from labelgate.config import SectionSettings

Family = Literal["hashed_linear", "hashed_embedding", "minilm"]
FAMILIES: tuple[str, ...] = get_args(Family)
AUTO = "auto"  # training.family: search the families and their hyperparameters (labelgate.training.search)
FamilyChoice = Literal["auto", "hashed_linear", "hashed_embedding", "minilm"]
StopMetric = Literal["log_loss", "accuracy"]
STOP_METRICS: tuple[str, ...] = get_args(StopMetric)


def _ngram_range(value: Any) -> Any:
    """``[min_n, max_n]``: two integers with 0 <= min_n <= max_n (``[0, 0]`` switches the kind off)."""
    if (not isinstance(value, list | tuple) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or not 0 <= value[0] <= value[1]):
        raise ValueError("must be [min_n, max_n] with 0 <= min_n <= max_n")
    return tuple(value)


def _device(value: str) -> str:
    if value not in ("auto", "cpu", "cuda") and not value.startswith("cuda:"):
        raise ValueError("must be auto, cpu or cuda[:N]")
    return value


NgramRange = Annotated[tuple[int, int], BeforeValidator(_ngram_range)]


class TrainingSettings(SectionSettings):
    """The end model: hashed word and character n-grams into a linear model (``hashed_linear``) or a
    fastText-style embedding bag plus a linear layer (``hashed_embedding``), trained with soft
    cross-entropy on the label model's probabilities and early-stopped on the gold valid split.
    ``[0, 0]`` switches an n-gram range off. Noise handling: ``min_confidence`` drops covered rows whose
    top probability is lower; ``dev_weight`` > 0 adds the gold-labeled dev rows with that weight (0: the
    label model's output only). ``calibrate`` fits a softmax temperature on the valid split after
    training (predictions unchanged). ``cpu_threads``: torch threads while training; batches are tiny,
    so one thread is fastest and does not fight other processes for cores (0 keeps torch's default).

    ``minilm``: the packaged all-MiniLM-L6-v2 sentence encoder, frozen, its mean-pooled text vectors (texts
    cut to ``encoder_max_tokens`` tokens) into a linear head (``head_hidden`` > 0: one hidden ReLU layer),
    plus (``encoder_ngrams``) the hashed n-gram linear part beside it. ``family: auto`` (the default)
    searches ``search_families`` and their hyperparameters with Optuna (seeded TPE) for at most
    ``search_trials`` trials or ``search_budget_s`` CPU seconds of the step's process (a busy machine
    slows the search but does not change its trials), scored on the valid split only; the config's
    own hyperparameters are each family's first trial. The search keeps the config's ``hashed_linear`` trial
    (the baseline: cheapest to train and serve) unless a trial beats it on the valid rows by more than
    ``search_switch_z`` standard deviations in a paired sign test (0: the best valid accuracy, however small
    its lead): 120 valid rows cannot tell one- or two-row leads from noise. ``confidence_weight``: weigh each covered row by
    its top label probability (rows the label model is unsure of count less).

    ``refit_valid_weight`` > 0: once the epoch (and, with ``auto``, the family and hyperparameters) is chosen on
    valid, the chosen model is trained again from scratch with the gold valid rows added at that weight, for
    exactly the chosen epochs, keeping the first fit's temperature and valid scores (0: no refit; the model is
    the one valid chose, never trained on valid)."""

    section: ClassVar[str] = "training"

    family: FamilyChoice = "auto"
    search_budget_s: float = Field(90.0, gt=0.0)
    search_trials: int = Field(8, ge=1)
    search_switch_z: float = Field(2.0, ge=0.0)
    search_families: list[Family] = Field(default_factory=lambda: list(FAMILIES), min_length=1)
    encoder_max_tokens: int = Field(64, ge=8, le=512)
    # A folder that keeps the encoder's text vectors between runs (keyed by each text's SHA-256; no text is
    # stored): a rerun on the same texts embeds none again. Empty: embed every run.
    encoder_store: str = "~/.cache/labelgate/encoder"
    encoder_ngrams: bool = True
    head_hidden: int = Field(0, ge=0)
    confidence_weight: bool = False
    word_ngrams: NgramRange = (1, 2)
    char_ngrams: NgramRange = (2, 5)
    hash_bits: int = Field(18, ge=8, le=24)
    lowercase: bool = True
    sublinear_tf: bool = True
    embedding_dim: int = Field(32, ge=1)
    epochs: int = Field(80, ge=1)
    batch_size: int = Field(32, ge=1)
    learning_rate: float = Field(0.005, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    patience: int = Field(10, ge=1)
    early_stopping_metric: StopMetric = "accuracy"
    min_confidence: float = Field(0.0, ge=0.0, lt=1.0)
    dev_weight: float = Field(0.0, ge=0.0)
    calibrate: bool = True
    refit_valid_weight: float = Field(1.0, ge=0.0)
    min_train_rows: int = Field(10, ge=1)
    device: Annotated[str, AfterValidator(_device)] = "auto"
    cpu_threads: int = Field(1, ge=0)
    # Tabular columns of the data read beside the text (labelgate.training.tabular): numeric ones
    # standardized, the others hashed one-hot into 2**feature_hash_bits columns. Empty: text only.
    feature_columns: Annotated[tuple[str, ...], Field(strict=False)] = ()
    feature_hash_bits: int = Field(10, ge=4, le=20)

    @property
    def n_features(self) -> int:
        return 1 << self.hash_bits

    @model_validator(mode="after")
    def _some_ngrams(self) -> TrainingSettings:
        """A model with neither word nor character n-grams would see no features at all."""
        if self.word_ngrams[1] == 0 and self.char_ngrams[1] == 0:
            raise ValueError("word_ngrams and char_ngrams cannot both be off")
        return self
