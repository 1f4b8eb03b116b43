import json

import pandas as pd
import pytest

from labelgate.errors import DataError
from labelgate.ingest import list_data_files, read_file


def test_reads_csv_parquet_and_jsonl_alike(tmp_path):
    frame = pd.DataFrame({"COMMENT_ID": ["a", "b"], "CONTENT": ["hi", "there"], "CLASS": [0, 1]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")))
    for name in ("t.csv", "t.parquet", "t.jsonl"):
        got = read_file(str(tmp_path / name)).frame
        assert list(got.columns) == ["COMMENT_ID", "CONTENT", "CLASS"], name
        assert list(got.CONTENT) == ["hi", "there"], name


def test_folder_listing_skips_unknown_files(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "README.md").write_text("not data")
    assert [p.rsplit("/", 1)[-1] for p in list_data_files(str(tmp_path))] == ["a.csv"]


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("header.csv", b"a,b\n", "header but no rows"),
        ("latin.csv", b"a,b\n1,caf\xe9\n", "not valid UTF-8 at byte 9 \\(line 2\\)"),
        ("bad.csv", b"a,b\n1,2\n3,4,5\n", "malformed CSV"),
        ("fake.parquet", b"a,b\n1,2\n", "not a Parquet file"),
        ("bad.jsonl", b'{"a": 1}\n{oops\n', "line 2 is not valid JSON"),
        ("data.xlsx", b"PK", "unsupported file extension"),
        ("cut.csv", b"COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n" + b'a,b,c,"never closed', r"EOF inside string.*a quoted cell is never closed"),
        ("binary.csv", b"COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n" + b"a,b,c,d\x00,1\n", "contains NUL bytes; it is probably a binary file"),
        ("torn.parquet", b"PAR1" + b"not really parquet", "unreadable Parquet file"),
        ("wide.csv", b"\xff\xfe\x00\xd8", "byte-order mark but is not valid UTF-16; re-encode the file as UTF-8"),
        ("cut.json", b'[{"CONTENT": "hi"},', r"starts like a JSON array but is not valid JSON: .*\(line 1, column 20\)"),
        ("typo.jsonl", b'{"CONTENT": "hi"}\n{oops\n', "line 2 is not valid JSON: Expecting property name"),
        ("list.jsonl", b'{"CONTENT": "hi"}\n[1]\n', "line 2 is a JSON list, expected an object"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, name, payload, message):
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(DataError, match=message) as info:
        read_file(str(path))
    assert str(info.value).startswith(str(path))  # the file first, then what is wrong and the fix


def test_parquet_with_csv_extension_is_explained(tmp_path):
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "x.csv")
    with pytest.raises(DataError, match="rename it to .parquet"):
        read_file(str(tmp_path / "x.csv"))


def test_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no data files found"):
        list_data_files(str(tmp_path / "nothing-here"))


@pytest.mark.parametrize("name, text", [
    ("semicolon.csv", 'id;text;label\n1;"a, b; c";spam\n2;hello;ham\n'),  # Excel in many locales
    ("tabs.tsv", "id\ttext\tlabel\n1\ta, b; c\tspam\n2\thello\tham\n"),
    ("pipes.csv", "id|text|label\n1|a, b; c|spam\n2|hello|ham\n"),
    ("commas.csv", 'id,text,label\n1,"a, b; c",spam\n2,hello;there,ham\n'),  # semicolons in texts stay text
    ("excel.csv", 'sep=;\r\nid;text;label\r\n1;"a, b; c";spam\r\n2;hello;ham\r\n'),  # Excel's delimiter line
])
def test_csv_delimiter_is_read_from_the_header(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    frame = read_file(str(tmp_path / name)).frame
    assert list(frame.columns) == ["id", "text", "label"]
    assert frame["text"].tolist()[0] == "a, b; c" and frame["label"].tolist() == ["spam", "ham"]


def test_ragged_row_in_a_semicolon_file_is_located(tmp_path):
    (tmp_path / "semi.csv").write_text("id;text;label\n1;ok;spam\n2;one;too;many\n")
    with pytest.raises(DataError, match="line 3 has 4 cells but the header has 3"):
        read_file(str(tmp_path / "semi.csv"))


def test_folder_listing_skips_hidden_files_and_folders(tmp_path):
    (tmp_path / "train.csv").write_text("id,text\n1,a\n")
    (tmp_path / "._train.csv").write_bytes(b"\x00\x05\x16\x07\x00\x02Mac OS X")  # macOS resource fork
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "train-checkpoint.csv").write_text("id,text\n1,a\n")
    (tmp_path / "_temporary").mkdir()
    (tmp_path / "_temporary" / "part-0.parquet").write_bytes(b"PAR1")
    assert [f.rsplit("/", 1)[-1] for f in list_data_files(str(tmp_path))] == ["train.csv"]
    assert list_data_files(str(tmp_path / "._train.csv"))  # a hidden file named on its own is still read
