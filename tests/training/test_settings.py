import pytest

from labelgate.config import load_config
from labelgate.errors import ConfigError
from labelgate.training.settings import FAMILIES, TrainingSettings


def test_example_config_parses(example_config):
    settings = TrainingSettings.from_section(load_config(example_config)["training"])
    # The example names its model (README: the search measured no better there); a new project searches.
    assert settings.family == "hashed_linear" and settings.encoder_store  # set to auto, it keeps its vectors
    assert TrainingSettings().family == "auto"
    assert set(TrainingSettings().search_families) == set(FAMILIES)  # own data: every family
    assert settings.n_features == 1 << settings.hash_bits


@pytest.mark.parametrize("section, needle", [
    ({"family": "bert"}, "training.family"),
    ({"word_ngrams": [2, 1]}, "training.word_ngrams"),
    ({"word_ngrams": [0, 0], "char_ngrams": [0, 0]}, "cannot both be off"),
    ({"epochs": 0}, "training.epochs"),
    ({"learning_rate": "fast"}, "training.learning_rate"),
    ({"lr": 0.1}, "unknown key"),
    ({"device": "tpu"}, "training.device"),
    ({"family": "auto_ml"}, "training.family"),
    ({"search_budget_s": 0}, "training.search_budget_s"),
    ({"search_budget_s": "a minute"}, "training.search_budget_s"),
    ({"search_trials": 0}, "training.search_trials"),
    ({"search_families": []}, "training.search_families"),
    ({"search_families": ["hashed_linear", "bert"]}, "training.search_families"),
    ({"encoder_max_tokens": 4}, "training.encoder_max_tokens"),
])
def test_bad_settings_name_the_key(section, needle):
    with pytest.raises(ConfigError, match=needle):
        TrainingSettings.from_section(section)
