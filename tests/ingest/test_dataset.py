import pandas as pd
import pytest

from labelgate.config import load_config
from labelgate.errors import DataError
from labelgate.ingest import DataSettings, SplitSettings, ingest, load_raw, split

DATA = DataSettings()


def _write_csv(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _rows(n, start=0, source_label=None):
    return [
        {"COMMENT_ID": f"c{start + i}", "AUTHOR": "a", "DATE": "2015", "CONTENT": f"text {i}",
         "CLASS": (i % 2) if source_label is None else source_label}
        for i in range(n)
    ]


def test_example_split_matches_the_spam_tutorial(example_data, example_config):
    config = load_config(example_config)
    result = ingest(str(example_data), DataSettings.from_section(config["data"]),
                    SplitSettings.from_section(config["split"]))
    assert result.split_counts() == {"train": 1586, "valid": 120, "test": 250, "dev": 100}
    frame = result.frame
    train = frame[frame.split == "train"]
    # Gold labels are hidden on train rows outside the dev sample.
    assert train.loc[~train.dev, "CLASS"].isna().all()
    assert train.loc[train.dev, "CLASS"].notna().all()
    assert set(frame.loc[frame.split != "train", "source"]) == {"Youtube05-Shakira.csv"}
    assert len(result.files) == 5 and len(result.fingerprint) == 64


def test_split_is_deterministic_and_stratified(tmp_path):
    _write_csv(tmp_path / "a.csv", _rows(60))
    _write_csv(tmp_path / "hold.csv", _rows(30, start=100))
    frame, _ = load_raw(str(tmp_path), DATA)
    settings = SplitSettings(holdout_sources=("hold.csv",), valid_size=10, test_size=20, dev_size=5, seed=1)
    first, second = split(frame, DATA, settings), split(frame, DATA, settings)
    pd.testing.assert_frame_equal(first, second)
    test = first[first.split == "test"]
    assert len(test) == 20 and test.CLASS.mean() == pytest.approx(0.5)
    assert first.dev.sum() == 5


def test_fingerprint_changes_with_content(tmp_path):
    _write_csv(tmp_path / "a.csv", _rows(5))
    _, before = load_raw(str(tmp_path), DATA)
    _write_csv(tmp_path / "a.csv", _rows(6))
    _, after = load_raw(str(tmp_path), DATA)
    assert before["a.csv"] != after["a.csv"]


def test_missing_column_names_the_file_and_column(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "CONTENT"} for r in _rows(3)]
    _write_csv(tmp_path / "broken.csv", rows)
    with pytest.raises(DataError, match=r"broken.csv: missing column\(s\) \['CONTENT'\]"):
        load_raw(str(tmp_path), DATA)


def test_unknown_labels_are_rejected_with_examples(tmp_path):
    rows = _rows(3)
    rows[1]["CLASS"] = "eggs"
    _write_csv(tmp_path / "a.csv", rows)
    with pytest.raises(DataError, match=r"column 'CLASS' must hold a class name.*'ham', 'spam'.*'eggs'.*rows \[3\]"):
        load_raw(str(tmp_path), DATA)


def test_holdout_file_must_exist(tmp_path):
    _write_csv(tmp_path / "a.csv", _rows(10))
    frame, _ = load_raw(str(tmp_path), DATA)
    with pytest.raises(DataError, match="not in the data"):
        split(frame, DATA, SplitSettings(holdout_sources=("nope.csv",)))
