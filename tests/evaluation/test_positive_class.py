"""evaluation.positive_class: optional (default the second class), checked for binary tasks, ignored for
multi-class ones (macro averages, labelled as such)."""

import pytest

from labelgate.errors import ConfigError
from labelgate.evaluation.settings import EvaluationSettings


def test_default_is_the_second_class_and_multi_class_ignores_it():
    assert EvaluationSettings().positive_index(["ham", "spam"]) == 1
    six = ["a", "b", "c", "d", "e", "f"]
    copied = EvaluationSettings(positive_class="spam")  # copied from the example onto a 6-class task
    assert copied.positive_index(six) == 0
    assert copied.averaging(six) == "macro average over 6 classes"
    assert EvaluationSettings(positive_class="ham").averaging(["ham", "spam"]) == "binary, positive class 'ham'"


def test_a_wrong_binary_positive_class_names_the_file_and_the_fix():
    with pytest.raises(ConfigError, match=r"config cfg.yaml: evaluation.positive_class 'spam' is not one of "
                                          r"data.classes \['neg', 'pos'\]; set it to one of them or remove it"):
        EvaluationSettings(positive_class="spam").positive_index(["neg", "pos"], "cfg.yaml")
