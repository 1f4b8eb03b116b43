"""Split roles: files (by name, glob or column) become train/dev/valid/test; given sets are used as given."""

import pandas as pd
import pytest

from labelgate.errors import DataError
from labelgate.ingest import DataSettings, SplitSettings, ingest

DATA = DataSettings(id_column="id", text_column="text", label_column="label", classes=("neg", "pos"))


def _csv(path, n, *, start=0, label=True, names=True, extra=None):
    rows = []
    for i in range(n):
        row = {"id": f"r{start + i}", "text": f"text {start + i}"}
        if label:
            row["label"] = ("neg", "pos")[i % 2] if names else i % 2
        row.update(extra or {})
        rows.append(row)
    pd.DataFrame(rows).to_csv(path, index=False)


def _project(tmp_path):
    _csv(tmp_path / "train.csv", 40, label=False)
    _csv(tmp_path / "dev.csv", 10, start=100)
    _csv(tmp_path / "valid.csv", 12, start=200)
    _csv(tmp_path / "test.csv", 17, start=300)
    return tmp_path


def test_role_files_are_used_exactly_as_given(tmp_path):
    result = ingest(str(_project(tmp_path)), DATA, SplitSettings())
    frame = result.frame
    assert result.split_counts() == {"train": 50, "valid": 12, "test": 17, "dev": 10}
    assert set(frame.loc[frame.split == "test", "source"]) == {"test.csv"}
    assert set(frame.loc[frame.dev, "source"]) == {"dev.csv"}
    # string labels map to class indices in data.classes order
    assert frame.loc[frame.split == "test", "label"].tolist() == [i % 2 for i in range(17)]
    assert frame.loc[frame.source == "train.csv", "label"].isna().all()
    assert result.roles["test"] == {"rows": 17, "origin": "file test.csv"}
    assert result.roles["train"]["rows"] == 40 and result.dropped == [] and result.warnings == []


def test_split_globs_outrank_file_names(tmp_path):
    _project(tmp_path)
    _csv(tmp_path / "holdout_b.csv", 9, start=400)
    settings = SplitSettings(roles={"test": ("test.csv", "holdout_*.csv")})
    result = ingest(str(tmp_path), DATA, settings)
    assert result.split_counts()["test"] == 26
    assert result.roles["test"]["origin"] == "split.roles test=test.csv,holdout_*.csv"


def test_role_column_assigns_rows_and_unknown_values_are_named(tmp_path):
    _csv(tmp_path / "all.csv", 30, extra={"part": "train"})
    frame = pd.read_csv(tmp_path / "all.csv")
    frame.loc[:9, "part"] = "test"
    frame.loc[10:14, "part"] = "validation"
    frame.to_csv(tmp_path / "all.csv", index=False)
    data = DATA.model_copy(update={"role_column": "part"})
    result = ingest(str(tmp_path), data, SplitSettings(dev_size=3))
    assert result.split_counts() == {"train": 15, "valid": 5, "test": 10, "dev": 3}  # a dev sample of labeled train rows
    frame.loc[0, "part"] = "eval"
    frame.to_csv(tmp_path / "all.csv", index=False)
    with pytest.raises(DataError, match=r"column 'part' \(data.role_column\) holds \['eval'\]; allowed: train, dev"):
        ingest(str(tmp_path), data, SplitSettings())


def test_without_a_dev_file_labeled_train_rows_are_sampled_else_a_warning_says_what_is_lost(tmp_path):
    _csv(tmp_path / "train.csv", 40, label=False)
    _csv(tmp_path / "valid.csv", 12, start=200)
    _csv(tmp_path / "test.csv", 17, start=300)
    result = ingest(str(tmp_path), DATA, SplitSettings())
    assert result.split_counts()["dev"] == 0
    assert len(result.warnings) == 1 and "Add a labeled dev file (dev.csv" in result.warnings[0]
    _csv(tmp_path / "train.csv", 40)  # now labeled: a dev sample is drawn, no warning
    result = ingest(str(tmp_path), DATA, SplitSettings(dev_size=8))
    assert result.split_counts()["dev"] == 8 and result.warnings == []


def test_unlabeled_test_file_names_the_file_and_the_fix(tmp_path):
    _project(tmp_path)
    _csv(tmp_path / "test.csv", 5, label=False)
    with pytest.raises(DataError, match=r"\['test.csv'\]: 5 test row\(s\) lack a gold label.*a train file needs no"):
        ingest(str(tmp_path), DATA, SplitSettings())


def test_missing_valid_and_test_say_how_to_add_them(tmp_path):
    _csv(tmp_path / "train.csv", 40, label=False)
    with pytest.raises(DataError, match=r"no valid and no test rows: add a labeled file whose name starts with"):
        ingest(str(tmp_path), DATA, SplitSettings())


def test_holdout_rows_beyond_valid_and_test_are_counted_not_silently_dropped(tmp_path):
    _csv(tmp_path / "a.csv", 40)
    _csv(tmp_path / "hold.csv", 50, start=100)
    settings = SplitSettings(holdout_sources=("hold.csv",), valid_size=10, test_size=20)
    result = ingest(str(tmp_path), DATA, settings)
    assert result.dropped == [{"rows": 20, "files": "hold.csv",
                               "reason": "holdout rows beyond split.valid_size + split.test_size = 30"}]
    assert len(result.frame) == 70


def test_a_given_test_file_with_a_holdout_fills_only_valid(tmp_path):
    _csv(tmp_path / "a.csv", 40)
    _csv(tmp_path / "hold.csv", 10, start=100)
    _csv(tmp_path / "test.csv", 7, start=200, names=False)
    settings = SplitSettings(holdout_sources=("hold.csv",), valid_size=10)
    result = ingest(str(tmp_path), DATA, settings)
    assert result.split_counts()["test"] == 7 and result.split_counts()["valid"] == 10
    assert set(result.frame.loc[result.frame.split == "valid", "source"]) == {"hold.csv"}


def test_unlabeled_train_file_needs_no_label_column_but_id_and_text_are_named(tmp_path):
    _project(tmp_path)
    pd.DataFrame({"id": ["a"], "body": ["x"]}).to_csv(tmp_path / "train.csv", index=False)
    with pytest.raises(DataError, match=r"missing column\(s\) \['text'\].*Set data.text_column in the config"):
        ingest(str(tmp_path), DATA, SplitSettings())
