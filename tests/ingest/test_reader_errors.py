"""More bad raw files a user meets, each refused with a DataError naming the file and what to fix."""

import pytest

from labelgate.errors import DataError
from labelgate.ingest import list_data_files, read_file

HEADER = b"COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="gone.csv: file not found"):
        read_file(str(tmp_path / "gone.csv"))


def test_a_single_file_is_its_own_list(tmp_path):
    path = tmp_path / "one.csv"
    path.write_bytes(HEADER + b"a,b,c,d,1\n")
    assert list_data_files(str(path)) == [str(path)]
