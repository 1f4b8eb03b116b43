"""Settings: one pydantic mechanism for every section; errors name the file, the key and what is allowed."""

import re

import pytest

from labelgate.config import SECTIONS, ConfigSection, load_config
from labelgate.errors import ConfigError
from labelgate.evaluation.settings import EvaluationSettings
from labelgate.ingest.settings import DataSettings, SplitSettings
from labelgate.labeling.settings import LabelingSettings
from labelgate.serving.settings import RequestLimits
from labelgate.training.settings import TrainingSettings
from labelgate.validation.settings import ValidationSettings

SETTINGS = {"data": DataSettings, "split": SplitSettings, "labeling": LabelingSettings,
            "validation": ValidationSettings, "training": TrainingSettings, "evaluation": EvaluationSettings}


def _write(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def _error(tmp_path, section, body):
    """The ConfigError for one section read from a real file (so the message can name it)."""
    path = _write(tmp_path, f"{section}:\n" + "".join(f"  {line}\n" for line in body))
    with pytest.raises(ConfigError) as info:
        SETTINGS[section].from_section(load_config(path)[section])
    return str(info.value), path


def test_example_config_parses_every_section(example_config):
    config = load_config(example_config)
    assert set(config) == set(SECTIONS)
    for name, cls in SETTINGS.items():
        settings = cls.from_section(config[name])
        assert settings == cls.from_section(dict(config[name]))  # plain dicts work too
    assert config["data"].source == str(example_config)


def test_defaults_equal_an_empty_section():
    for cls in SETTINGS.values():
        assert cls.from_section({}) == cls()


def test_settings_are_frozen():
    settings = TrainingSettings()
    with pytest.raises(Exception, match="frozen"):
        settings.epochs = 3  # type: ignore[misc]


def test_serving_section_is_accepted(tmp_path):
    config = load_config(_write(tmp_path, "serving:\n  anything: 1\n"))
    assert config["serving"] == {"anything": 1}


def test_choice_error_names_file_key_choices_and_value(tmp_path):
    message, path = _error(tmp_path, "training", ["family: lineer"])
    assert message == (f"config {path}: training.family must be one of 'auto', 'hashed_linear', 'hashed_embedding', "
                       "'minilm'; "
                       "got 'lineer'")


def test_unknown_key_names_the_section_suggests_and_lists_known(tmp_path):
    message, path = _error(tmp_path, "split", ["dev_szie: 5"])
    assert message == (f"config {path}: unknown key split.dev_szie in section 'split' (did you mean 'dev_size'?); "
                       "known: dev_size, holdout_sources, roles, seed, test_size, valid_size")


def test_type_error_names_the_type(tmp_path):
    message, path = _error(tmp_path, "labeling", ["n_jobs: '2'"])
    assert message == f"config {path}: labeling.n_jobs must be an integer; got '2'"


def test_every_problem_is_reported_one_per_line(tmp_path):
    message, path = _error(tmp_path, "evaluation", ["confidence: 2", "primary_metrik: f1"])
    lines = message.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"config {path}: ") for line in lines)
    assert "evaluation.confidence must be in (0.5, 1); got 2" in lines[0]
    assert "did you mean 'primary_metric'?" in lines[1]


def test_without_a_file_the_message_still_names_the_key():
    with pytest.raises(ConfigError, match=r"^config validation\.bins must be >= 2; got 1$"):
        ValidationSettings.from_section({"bins": 1})
    with pytest.raises(ConfigError, match=r"^config data\.classes must be a list; got 'ab'$"):
        DataSettings.from_section(ConfigSection({"classes": "ab"}))


def test_unknown_section_suggests_one(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown section\(s\) \['trainig'\] \(did you mean 'training'\?\)"):
        load_config(_write(tmp_path, "trainig: {}\n"))


# Every rule the hand-written parsers enforced, each with the text its message must contain.
RULES = [
    ("data", {"classes": ["spam"]}, "data.classes must hold at least 2 item(s)"),
    ("data", {"text_column": 3}, "data.text_column must be a string; got 3"),
    ("split", {"roles": {"eval": "e*.csv"}}, "split.roles has unknown role(s) ['eval']; allowed: train, dev, valid, test"),
    ("split", {"valid_size": 0}, "split.valid_size must be >= 1; got 0"),
    ("split", {"test_size": 0}, "split.test_size must be >= 1"),
    ("split", {"dev_size": -1}, "split.dev_size must be >= 0; got -1"),
    ("split", {"seed": "x"}, "split.seed must be an integer"),
    ("labeling", {"label_model": "snorkel"}, "labeling.label_model must be one of 'auto', 'majority_vote'"),
    ("labeling", {"max_iter": 0}, "labeling.max_iter must be >= 1"),
    ("labeling", {"chunk_size": 0}, "labeling.chunk_size must be >= 1"),
    ("labeling", {"max_fit_rows": 0}, "labeling.max_fit_rows must be >= 1; got 0"),
    ("labeling", {"class_balance": "even"}, "labeling.class_balance must be a list"),
    ("labeling", {"fault_tolerant": 1}, "labeling.fault_tolerant must be true or false; got 1"),
    ("validation", {"max_js_distance": 2.0}, "validation.max_js_distance must be in [0, 1]; got 2.0"),
    ("validation", {"max_linf_distance": -0.1}, "validation.max_linf_distance must be in [0, 1]"),
    ("validation", {"min_lf_coverage_change": 1.5}, "validation.min_lf_coverage_change must be in [0, 1]"),
    ("validation", {"max_class_balance_shift": 3}, "validation.max_class_balance_shift must be in [0, 1]"),
    ("validation", {"max_lf_coverage_change": -1}, "validation.max_lf_coverage_change must be >= 0"),
    ("validation", {"max_linf_distance": "high"}, "validation.max_linf_distance must be a number; got 'high'"),
    ("validation", {"drift_severity": "fatal"}, "validation.drift_severity must be one of 'critical', 'warning'"),
    ("validation", {"constraint_severity": "info"}, "validation.constraint_severity must be one of"),
    ("validation", {"bins": 1}, "validation.bins must be >= 2"),
    ("validation", {"top_categories": 0}, "validation.top_categories must be >= 1"),
    ("validation", {"max_examples": -1}, "validation.max_examples must be >= 0"),
    ("validation", {"length_columns": "CONTENT"}, "validation.length_columns must be a list"),
    ("training", {"early_stopping_metric": "f1"}, "training.early_stopping_metric must be one of 'log_loss'"),
    ("training", {"word_ngrams": [2, 1]}, "training.word_ngrams must be [min_n, max_n] with 0 <= min_n <= max_n"),
    ("training", {"char_ngrams": [1, 2, 3]}, "training.char_ngrams must be [min_n, max_n]"),
    ("training", {"word_ngrams": [0, 0], "char_ngrams": [0, 0]},
     "training: word_ngrams and char_ngrams cannot both be off"),
    ("training", {"hash_bits": 30}, "training.hash_bits must be in [8, 24]; got 30"),
    ("training", {"epochs": 0}, "training.epochs must be >= 1"),
    ("training", {"batch_size": 0}, "training.batch_size must be >= 1"),
    ("training", {"patience": 0}, "training.patience must be >= 1"),
    ("training", {"min_train_rows": 0}, "training.min_train_rows must be >= 1"),
    ("training", {"embedding_dim": 0}, "training.embedding_dim must be >= 1"),
    ("training", {"learning_rate": 0}, "training.learning_rate must be > 0"),
    ("training", {"learning_rate": "fast"}, "training.learning_rate must be a number; got 'fast'"),
    ("training", {"weight_decay": -0.1}, "training.weight_decay must be >= 0"),
    ("training", {"min_confidence": 1.0}, "training.min_confidence must be in [0, 1); got 1.0"),
    ("training", {"dev_weight": -1}, "training.dev_weight must be >= 0"),
    ("training", {"cpu_threads": -1}, "training.cpu_threads must be >= 0"),
    ("training", {"device": "tpu"}, "training.device must be auto, cpu or cuda[:N]; got 'tpu'"),
    ("training", {"epochs": 2.0}, "training.epochs must be an integer; got 2.0"),
    ("evaluation", {"primary_metric": "auc"}, "evaluation.primary_metric must be one of 'accuracy', 'f1'; got 'auc'"),
    ("evaluation", {"bootstrap_resamples": 10}, "evaluation.bootstrap_resamples must be >= 100"),
    ("evaluation", {"confidence": 0.5}, "evaluation.confidence must be in (0.5, 1); got 0.5"),
    ("evaluation", {"calibration_bins": 1}, "evaluation.calibration_bins must be >= 2"),
    ("evaluation", {"length_buckets": [80, 40]}, "evaluation.length_buckets must be increasing positive integers"),
    ("evaluation", {"length_buckets": [0, 40]}, "evaluation.length_buckets must be increasing positive integers"),
    ("evaluation", {"length_buckets": [1.5]}, "evaluation.length_buckets[0] must be an integer; got 1.5"),
]


@pytest.mark.parametrize(("section", "values", "needle"), RULES, ids=[f"{s}-{'-'.join(v)}" for s, v, _ in RULES])
def test_each_rule_is_a_config_error_naming_the_key(section, values, needle):
    with pytest.raises(ConfigError, match=re.escape(needle)) as info:
        SETTINGS[section].from_section(ConfigSection(values, source="cfg.yaml"))
    assert str(info.value).startswith("config cfg.yaml: ")


def test_valid_edge_values_pass():
    assert TrainingSettings.from_section({"device": "cuda:1", "word_ngrams": [0, 0]}).device == "cuda:1"
    assert LabelingSettings.from_section({"max_fit_rows": None, "class_balance": [1, 0]}).class_balance == (1.0, 0.0)
    assert DataSettings.from_section({"classes": [0, 1]}).classes == ("0", "1")  # YAML numbers become names
    assert EvaluationSettings.from_section({"length_buckets": []}).length_buckets == ()


def test_request_limits_are_positive():
    assert RequestLimits(max_batch=4).max_batch == 4
    with pytest.raises(ValueError, match="max_batch"):
        RequestLimits(max_batch=0)
