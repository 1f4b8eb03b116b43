import pytest

from labelgate.errors import ConfigError
from labelgate.repair.settings import RepairSettings, load_repair_section


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
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['thresold'\].*'threshold'"):
        RepairSettings.from_section({"thresold": 0.9})


@pytest.mark.parametrize(("section", "message"), [
    ({"threshold": 1.5}, r"repair.threshold must be in \[0.0, 1.0\]"),
    ({"threshold": "high"}, r"repair.threshold must be int or float"),
    ({"columns": "city"}, r"repair.columns must be list"),
    ({"columns": [1]}, r"repair.columns must be a list of column names"),
    ({"imputer_steps": True}, r"repair.imputer_steps must be int"),
    ({"max_candidates": 1}, r"repair.max_candidates must be >= 2"),
    ({"imputer_dim": 30, "imputer_heads": 4}, r"repair.imputer_dim \(30\) must be a multiple"),
    ({"dictionaries": {"city": 3}}, r"repair.dictionaries must map column names to file paths"),
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
    assert load_repair_section(without) is None
    assert load_repair_section(empty) == {}
    assert load_repair_section(given) == {"threshold": 0.7}
