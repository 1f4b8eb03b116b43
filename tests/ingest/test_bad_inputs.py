"""Bad raw files each get a DataError that names the file and says what is wrong (and how to fix it)."""

import gzip
import io
import zipfile

import pandas as pd
import pytest

from labelgate.errors import DataError
from labelgate.ingest import DataSettings, list_data_files, load_raw, read_file

HEADER = b"COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sheet.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("blank.csv", b"  \n\n", "the file is empty"),
        ("gz.csv", gzip.compress(HEADER + b"a,b,c,d,1\n", mtime=0), "gzip-compressed file, not csv text; name it"),
        ("book.csv", _zip_bytes(), "ZIP archive .*export or extract it as CSV"),
        ("doc.csv", b"%PDF-1.7\n...", "a PDF document"),
        ("page.csv", b"\n<!DOCTYPE html><html><body>Not Found</body></html>", "HTML/XML page, not csv data"),
        ("fake.csv.gz", HEADER + b"a,b,c,d,1\n", "not valid gzip data"),
        ("row.csv", HEADER + b"a,b,c,hello, world,1\n", "line 2 has 6 cells but the header has 5"),
        ("quote.csv", HEADER + b'a,b,c,"never closed,1\nb,b,c,d,0\n', "quoted cell is never closed"),
        ("cp1252.csv", HEADER + b"a,b,c,caf\xe9,1\n", "not valid UTF-8 at byte 46 \\(line 2\\).*re-encode"),
        ("pretty.json", b'{\n  "CONTENT": "hi"\n}\n', "one JSON object per line"),
        ("mixed.json", b'[{"CONTENT": "hi"}, 3]', "item 1 of the JSON array is a int"),
        ("lines.csv", b'{"CONTENT": "hi", "CLASS": 1}\n{"CONTENT": "yo", "CLASS": 0}\n', "looks like JSON Lines"),
        ("table.jsonl", HEADER + b"a,b,c,d,1\n", "looks like CSV .*rename it to .csv"),
    ],
)
def test_each_bad_file_gets_a_clear_message(tmp_path, name, payload, message):
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(DataError, match=message) as info:
        read_file(str(path))
    assert name in str(info.value)


def test_gzip_files_and_json_arrays_are_read(tmp_path):
    (tmp_path / "a.csv.gz").write_bytes(gzip.compress(b"x,y\n1,2\n"))
    (tmp_path / "b.json").write_text('[{"x": "1", "y": "2"}]')
    assert [p.rsplit("/", 1)[-1] for p in list_data_files(str(tmp_path))] == ["a.csv.gz", "b.json"]
    for name in ("a.csv.gz", "b.json"):
        assert read_file(str(tmp_path / name)).frame.to_dict("records") == [{"x": "1", "y": "2"}], name


def test_utf16_with_byte_order_mark_is_decoded(tmp_path):
    (tmp_path / "u16.csv").write_bytes("x,y\n1,caf\u00e9\n".encode("utf-16"))
    assert read_file(str(tmp_path / "u16.csv")).frame["y"].tolist() == ["caf\u00e9"]


def test_a_ten_megabyte_cell_is_read_whole(tmp_path):
    """Ingest keeps it (it is valid CSV); the validation suite's length bound is what blocks it."""
    path = tmp_path / "big.csv"
    path.write_bytes(HEADER + b'a,b,c,"' + b"x" * 10_000_000 + b'",1\nb,b,c,short,0\n')
    frame = read_file(str(path)).frame
    assert frame["CONTENT"].str.len().tolist() == [10_000_000, 5]


def test_a_renamed_column_is_named_with_what_the_file_has(tmp_path):
    (tmp_path / "a.csv").write_text("COMMENT_ID,AUTHOR,DATE,TEXT,CLASS\n1,a,d,hi,0\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['CONTENT'\]") as info:
        load_raw(str(tmp_path), DataSettings())
    assert "'TEXT'" in str(info.value) and "a.csv" in str(info.value)


def test_a_non_integer_label_names_the_rows(tmp_path):
    (tmp_path / "a.csv").write_text("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n1,a,d,hi,0\n2,a,d,yo,eggs\n")
    with pytest.raises(DataError, match=r"\['eggs'\] \(rows \[3\]\)"):
        load_raw(str(tmp_path), DataSettings())


def test_parquet_written_with_a_jsonl_extension_is_explained(tmp_path):
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "x.jsonl")
    with pytest.raises(DataError, match="rename it to .parquet"):
        read_file(str(tmp_path / "x.jsonl"))


def test_an_extra_cell_in_the_first_row_is_not_silently_shifted(tmp_path):
    """pandas' default would make the first column an index and shift every value one column left."""
    path = tmp_path / "shift.csv"
    path.write_bytes(b"x,y\n1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match="line 2 has 3 cells but the header has 2"):
        read_file(str(path))


def test_a_ragged_row_after_a_multiline_cell_is_located_by_file_line(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_bytes(b'x,y\n"multi\nline",2\n1,2,3\n')
    with pytest.raises(DataError, match="line 4 has 3 cells but the header has 2"):
        read_file(str(path))
