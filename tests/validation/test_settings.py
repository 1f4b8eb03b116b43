import pytest

from labelgate.config import load_config
from labelgate.errors import ConfigError
from labelgate.validation.settings import ValidationSettings


def test_example_config_section_parses(example_config):
    settings = ValidationSettings.from_section(load_config(example_config)["validation"])
    assert settings.length_columns == ("CONTENT",)
    assert 0 < settings.max_js_distance < 1


def test_empty_section_gives_defaults():
    assert ValidationSettings.from_section({}) == ValidationSettings()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"max_js_distanse": 0.1}, "unknown key"),
        ({"max_js_distance": 2.0}, r"must be in \[0, 1\]"),
        ({"max_linf_distance": "high"}, "must be a number"),
        ({"drift_severity": "fatal"}, "must be one of"),
        ({"bins": 1}, "bins must be >= 2"),
    ],
)
def test_bad_values_are_config_errors(section, message):
    with pytest.raises(ConfigError, match=message):
        ValidationSettings.from_section(section)
