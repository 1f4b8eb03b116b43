import pytest

from labelgate.errors import ConfigError
from labelgate.repair.settings import RepairSettings, repair_settings


def test_defaults_from_an_empty_section():
    settings = RepairSettings.from_section({})
    assert settings == RepairSettings()
    assert 0.5 < settings.threshold < 1.0


def test_values_are_read_and_typed():
    settings = RepairSettings.from_section({"threshold": 0.9, "columns": ["a", "b"], "imputer_steps": 10,
                                            "dictionaries": {"a": "a.txt"}, "detect_rare": False})
    assert settings.threshold == 0.9 and settings.columns == ("a", "b") and settings.imputer_steps == 10
    assert settings.dictionaries == {"a": "a.txt"} and settings.detect_rare is False


def test_unknown_key_is_rejected_with_the_allowed_keys():
    with pytest.raises(ConfigError, match=r"unknown key repair.thresold .*did you mean 'threshold'"):
        RepairSettings.from_section({"thresold": 0.9})


@pytest.mark.parametrize(("section", "message"), [
    ({"threshold": 1.5}, r"repair.threshold must be in \[0, 1\]"),
    ({"threshold": "high"}, r"repair.threshold must be a number"),
    ({"columns": "city"}, r"repair.columns must be a list"),
    ({"columns": [1]}, r"repair.columns\[0\] must be a string"),
    ({"imputer_steps": True}, r"repair.imputer_steps must be an integer"),
    ({"max_candidates": 1}, r"repair.max_candidates must be >= 2"),
    ({"imputer_dim": 30, "imputer_heads": 4}, r"imputer_dim \(30\) must be a multiple"),
    ({"dictionaries": {"city": 3}}, r"repair.dictionaries\[city\] must be a string"),
])
def test_bad_values_name_the_key_and_what_is_allowed(section, message):
    with pytest.raises(ConfigError, match=message):
        RepairSettings.from_section(section)


def test_repair_section_is_optional(tmp_path):
    without = tmp_path / "without.yaml"
    without.write_text("training:\n  epochs: 3\n")
    empty = tmp_path / "empty.yaml"
    empty.write_text("repair:\n")
    given = tmp_path / "given.yaml"
    given.write_text("repair:\n  threshold: 0.7\n")
    assert repair_settings(without) is None
    assert repair_settings(empty) == RepairSettings()
    assert repair_settings(given) == RepairSettings(threshold=0.7)
