"""A config file that cannot be read as sections says which file and what is wrong with it."""

import pytest

from labelgate.config import SECTIONS, load_config
from labelgate.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("labeling: [unclosed\n", "is not valid YAML"),
        ("- labeling\n- training\n", "must hold a mapping of sections, got list"),
        ("labeling: 3\n", "section 'labeling' must be a mapping"),
    ],
)
def test_a_config_that_is_no_mapping_of_sections_is_refused(tmp_path, text, message):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="config file not found: .*nowhere.yaml"):
        load_config(tmp_path / "nowhere.yaml")


def test_an_empty_config_file_leaves_every_section_at_its_defaults(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("# nothing set yet\n")
    sections = load_config(path)
    assert set(sections) == set(SECTIONS)
    assert not any(section.present for section in sections.values())
