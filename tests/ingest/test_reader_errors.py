"""More bad raw files a user meets, each refused with a DataError naming the file and what to fix."""

import pytest

from labelgate.errors import DataError
from labelgate.ingest import list_data_files, read_file

HEADER = b"COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("cut.csv", HEADER + b'a,b,c,"never closed', r"EOF inside string.*a quoted cell is never closed"),
        ("binary.csv", HEADER + b"a,b,c,d\x00,1\n", "contains NUL bytes; it is probably a binary file"),
        ("torn.parquet", b"PAR1" + b"not really parquet", "unreadable Parquet file"),
        ("wide.csv", b"\xff\xfe\x00\xd8", "byte-order mark but is not valid UTF-16; re-encode the file as UTF-8"),
        ("cut.json", b'[{"CONTENT": "hi"},', r"starts like a JSON array but is not valid JSON: .*\(line 1, column 20\)"),
        ("typo.jsonl", b'{"CONTENT": "hi"}\n{oops\n', "line 2 is not valid JSON: Expecting property name"),
        ("list.jsonl", b'{"CONTENT": "hi"}\n[1]\n', "line 2 is a JSON list, expected an object"),
    ],
)
def test_each_bad_file_is_refused_with_what_to_fix(tmp_path, name, payload, message):
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(DataError, match=message) as info:
        read_file(str(path))
    assert str(info.value).startswith(str(path))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="gone.csv: file not found"):
        read_file(str(tmp_path / "gone.csv"))


def test_a_single_file_is_its_own_list(tmp_path):
    path = tmp_path / "one.csv"
    path.write_bytes(HEADER + b"a,b,c,d,1\n")
    assert list_data_files(str(path)) == [str(path)]
