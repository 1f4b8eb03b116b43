"""Ingest: read raw tables from paths or fsspec URIs, fingerprint them, split them."""

from labelgate.ingest.dataset import IngestResult, ingest, load_raw, split
from labelgate.ingest.readers import list_data_files, read_file
from labelgate.ingest.settings import DataSettings, SplitSettings

__all__ = [
    "DataSettings", "IngestResult", "SplitSettings",
    "ingest", "list_data_files", "load_raw", "read_file", "split",
]
