"""Data in shapes the examples do not have: each must just work, or fail naming the file, row and fix."""

import pandas as pd
import pytest

from labelgate.errors import DataError
from labelgate.ingest import DataSettings, SplitSettings, ingest


def _data(classes: tuple[str, ...], **columns: str) -> DataSettings:
    return DataSettings(id_column=columns.get("id", "id"), text_column="text", label_column="label",
                        classes=classes)


def test_numeric_class_names_match_float_labels_from_parquet(tmp_path):
    # A 1-based integer label column with one empty cell is float in Parquet (1.0, 2.0, ...): 1.0 is the class
    # named "1", not index 1 (class "2"), and 3.0 is the class named "3", not an out-of-range index.
    data = tmp_path / "data"
    data.mkdir()
    labels = [1.0, 3.0, None, 2.0] * 5
    for role in ("train", "valid", "test"):
        frame = pd.DataFrame({"id": [f"{role}{i}" for i in range(20)], "text": ["t"] * 20, "label": labels})
        if role != "train":
            frame["label"] = frame["label"].fillna(1.0)
        frame.to_parquet(data / f"{role}.parquet")
    result = ingest(str(data), _data(("1", "2", "3")), SplitSettings(dev_size=5))
    test = result.frame[result.frame["split"] == "test"]["label"].tolist()
    assert test[:4] == [0, 2, 0, 1]


def test_data_without_an_id_column_is_read_when_the_config_says_so(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for role in ("train", "valid", "test"):
        pd.DataFrame({"text": ["a", "b", "c", "d"], "label": ["x", "y", "x", "y"]}).to_csv(data / f"{role}.csv",
                                                                                         index=False)
    settings = DataSettings(id_column=None, text_column="text", label_column="label", classes=("x", "y"))
    result = ingest(str(data), settings, SplitSettings(dev_size=2))
    assert result.split_counts() == {"train": 4, "valid": 4, "test": 4, "dev": 2}
    # A configured id column the files lack is still refused, naming the way out.
    with pytest.raises(DataError, match=r"missing column\(s\) \['id'\].*data.id_column: null"):
        ingest(str(data), _data(("x", "y")), SplitSettings())


def test_an_unknown_label_in_jsonl_is_placed_by_its_row_not_a_csv_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "test.jsonl").write_text('{"id": 1, "text": "a", "label": "x"}\n{"id": 2, "text": "b", "label": "z"}\n')
    with pytest.raises(DataError, match=r"test.jsonl: column 'label' .* found \['z'\] \(rows \[2\]\)"):
        ingest(str(data), _data(("x", "y")), SplitSettings())


def test_a_latin1_file_is_named_as_such_with_the_command_that_fixes_it(tmp_path):
    from labelgate.ingest import read_file

    (tmp_path / "dev.csv").write_bytes("id;text;label\n1;crème brûlée;x\n".encode("latin-1"))
    with pytest.raises(DataError) as caught:
        read_file(str(tmp_path / "dev.csv"))
    message = str(caught.value)
    assert "read as Windows-1252/Latin-1: 'crème'" in message
    assert "set data.encoding: cp1252 in the config (labelgate init --encoding cp1252)" in message
    assert "iconv -f cp1252 -t utf-8 dev.csv > dev.csv.utf8" in message


def test_data_encoding_reads_a_cp1252_csv_and_leaves_json_lines_utf8(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_bytes("id;text\n1;café au lait – 5€\n2;naïve\n".encode("cp1252"))
    (data / "valid.tsv").write_bytes("id\ttext\tlabel\n3\tcrème\tx\n4\tbrûlée\ty\n".encode("cp1252"))
    (data / "test.jsonl").write_text('{"id": 5, "text": "piñata €", "label": "x"}\n{"id": 6, "text": "b", "label": "y"}\n',
                                     encoding="utf-8")
    settings = _data(("x", "y")).model_copy(update={"encoding": "cp1252"})
    frame = ingest(str(data), settings, SplitSettings()).frame
    assert sorted(frame["text"]) == sorted(["café au lait – 5€", "naïve", "crème", "brûlée", "piñata €", "b"])
    with pytest.raises(DataError, match=r"not valid UTF-8 at byte .*read as Windows-1252/Latin-1: 'café'"):
        ingest(str(data), _data(("x", "y")), SplitSettings())


def test_a_file_that_is_not_in_the_declared_encoding_is_named_with_the_setting(tmp_path):
    from labelgate.ingest import read_file

    (tmp_path / "train.csv").write_bytes(b"id,text\n1,odd byte \x81 here\n")  # 0x81 is unassigned in cp1252
    with pytest.raises(DataError) as caught:
        read_file(str(tmp_path / "train.csv"), "cp1252")
    assert str(caught.value) == (f"{tmp_path / 'train.csv'}: not valid cp1252 (data.encoding) at byte 19 (line 2): "
                                 "b'\\x81 he'; set data.encoding to the file's encoding, or remove it to read UTF-8")
    utf16 = "id,text\n1,ok\n".encode("utf-16-le")  # no byte-order mark: read only when declared
    (tmp_path / "train16.csv").write_bytes(utf16)
    assert read_file(str(tmp_path / "train16.csv"), "utf-16-le").frame["text"].tolist() == ["ok"]


@pytest.mark.parametrize(("given", "kept"), [("CP1252", "cp1252"), ("latin1", "iso8859-1"), ("UTF8", "utf-8")])
def test_data_encoding_is_kept_by_its_canonical_name(given, kept):
    from labelgate.ingest.settings import DataSettings

    assert DataSettings().encoding is None  # UTF-8 (or UTF-16 with its byte-order mark)
    assert DataSettings(encoding=given).encoding == kept


@pytest.mark.parametrize(("given", "message"), [
    ("latin-9x", "'latin-9x' is not a text encoding Python knows; e.g. utf-8, cp1252 (Excel on Windows)"),
    ("base64", "'base64' is not a text encoding (it is a bytes transform)"),
])
def test_an_unknown_encoding_is_refused_with_examples(given, message):
    from labelgate.errors import ConfigError
    from labelgate.ingest.settings import DataSettings

    with pytest.raises(ConfigError, match=r"data\.encoding") as caught:
        DataSettings.from_section({"encoding": given})
    assert message in str(caught.value)


def test_spaces_after_the_delimiters_are_not_part_of_column_names(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for role in ("train", "valid", "test"):
        (data / f"{role}.csv").write_text("id, text, label\n1, hello, x\n2, world, y\n")
    result = ingest(str(data), _data(("x", "y")), SplitSettings(dev_size=0))
    assert result.split_counts()["test"] == 2


def test_a_column_that_differs_in_case_is_suggested(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "test.csv").write_text("id,Text,label\n1,hello,x\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['text'\].*Did you mean 'Text' for 'text'\?"):
        ingest(str(data), _data(("x", "y")), SplitSettings())


def test_a_tiny_valid_set_and_a_test_set_missing_a_class_are_warned_about(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"id": range(40), "text": ["t"] * 40, "label": ["x", "y"] * 20}).to_csv(data / "train.csv")
    pd.DataFrame({"id": range(4), "text": ["t"] * 4, "label": ["x", "y"] * 2}).to_csv(data / "valid.csv")
    pd.DataFrame({"id": range(40), "text": ["t"] * 40, "label": ["x"] * 40}).to_csv(data / "test.csv")
    notes = ingest(str(data), _data(("x", "y")), SplitSettings(dev_size=30)).notes
    assert any(w.startswith("valid has only 4 row(s) for the model search's choice: one row moves its accuracy by 25%") for w in notes)
    assert any(w.startswith("test has no rows of class(es) ['y']") for w in notes)
    assert not any(w.startswith(("dev", "test has only")) for w in notes)


def test_a_data_column_named_source_is_refused_naming_the_file_and_fix(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "test.csv").write_text("id,text,label,source\n1,hello,x,web\n")
    with pytest.raises(DataError, match=r"test.csv: column\(s\) \['source'\] .* rename them in the file"):
        ingest(str(data), _data(("x", "y")), SplitSettings())


def test_a_holdout_file_with_a_single_row_class_is_split_unstratified_and_says_so(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"id": range(10), "text": ["t"] * 10}).to_csv(data / "unlabeled.csv", index=False)
    pd.DataFrame({"id": range(40), "text": ["t"] * 40, "label": ["a"] * 20 + ["b"] * 19 + ["c"]}).to_csv(
        data / "labeled.csv", index=False)
    result = ingest(str(data), _data(("a", "b", "c")),
                    SplitSettings(holdout_sources=("labeled.csv",), valid_size=16, test_size=24))
    assert result.split_counts() == {"train": 10, "valid": 16, "test": 24, "dev": 0}
    assert result.roles["test"]["origin"] == "holdout: labeled.csv (24 rows, not stratified: class(es) ['c'] have one row)"


@pytest.mark.parametrize("payload, what", [(b"", "the file is empty"), (b"id,text\n", "the file has a header but no rows")])
def test_an_empty_file_among_the_data_says_to_fill_or_remove_it(tmp_path, payload, what):
    from labelgate.ingest import read_file

    (tmp_path / "train_extra.csv").write_bytes(payload)
    with pytest.raises(DataError, match=f"train_extra.csv: {what}; add its rows, or remove it"):
        read_file(str(tmp_path / "train_extra.csv"))
