import pytest

from labelgate.config import load_config
from labelgate.errors import ConfigError
from labelgate.labeling.settings import LabelingSettings


def test_example_config_parses(example_config):
    settings = LabelingSettings.from_section(load_config(example_config)["labeling"])
    assert settings.label_model == "auto" and settings.chunk_size > 0 and settings.select_on_dev is True
    assert LabelingSettings.from_section({"select_on_dev": False}).select_on_dev is False


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="label_model"):
        LabelingSettings.from_section({"label_model": "snorkel"})
    with pytest.raises(ConfigError, match="unknown key"):
        LabelingSettings.from_section({"labelmodel": "auto"})
    with pytest.raises(ConfigError, match="labeling.n_jobs must be an integer"):
        LabelingSettings.from_section({"n_jobs": "2"})
