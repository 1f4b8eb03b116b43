"""`make data`'s downloader: verification logic, offline (the archive is built from the shared copy)."""

import importlib.util
import io
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("fetch_data", ROOT / "scripts" / "fetch_data.py")
fetch_data = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fetch_data)


def _nested_zip(files: dict[str, bytes]) -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        for name, payload in files.items():
            archive.writestr(name, payload)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as archive:
        archive.writestr("YouTube-Spam-Collection-v1.zip", inner.getvalue())
    return outer.getvalue()


def test_verified_files_are_extracted_from_a_nested_zip(tmp_path, example_data):
    files = {p.name: p.read_bytes() for p in example_data.glob("*.csv")}
    written = fetch_data.extract_verified(_nested_zip(files), tmp_path)
    assert sorted(p.name for p in written) == sorted(fetch_data.SHA256)


def test_a_tampered_file_is_refused(tmp_path, example_data):
    files = {p.name: p.read_bytes() for p in example_data.glob("*.csv")}
    files["Youtube01-Psy.csv"] += b"\n"
    with pytest.raises(ValueError, match="Youtube01-Psy.csv: sha256"):
        fetch_data.extract_verified(_nested_zip(files), tmp_path)
    assert not (tmp_path / "Youtube01-Psy.csv").exists()
