"""Each bad input fails with a clear error before any work starts (no output written)."""

import pandas as pd
import pytest

from labelgate.errors import ConfigError, DataError
from labelgate.repair.settings import RepairSettings
from labelgate.repair.step import repair_table


def _run(tmp_path, frame, constraints, settings=None):
    frame.to_parquet(tmp_path / "data.parquet", index=False)
    (tmp_path / "constraints.txt").write_text(constraints)
    return repair_table(data_path=str(tmp_path / "data.parquet"), constraints_path=str(tmp_path / "constraints.txt"),
                        settings=settings or RepairSettings(), repaired_path=str(tmp_path / "out" / "repaired"),
                        report_path=str(tmp_path / "out" / "report.md"),
                        report_html_path=str(tmp_path / "out" / "report.html"))


def test_constraint_naming_an_unknown_column(tmp_path):
    frame = pd.DataFrame({"zip": ["1", "2"], "city": ["a", "b"]})
    with pytest.raises(ConfigError, match=r"line 1 .* names column\(s\) \['town'\].*columns: \['zip', 'city'\]"):
        _run(tmp_path, frame, "t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.town,t2.town)\n")
    assert not (tmp_path / "out").exists()


def test_table_too_large_for_the_memory_budget(tmp_path):
    frame = pd.DataFrame({"zip": ["1"] * 1000, "city": ["a"] * 1000})
    with pytest.raises(DataError, match=r"1,000 rows x 2 columns needs about .* repair.max_memory_gb = 0.0001"):
        _run(tmp_path, frame, "", RepairSettings(max_memory_gb=0.0001))
    assert not (tmp_path / "out").exists()


def test_column_of_mixed_types(tmp_path):
    frame = pd.DataFrame({"zip": ["1", "2", "3"], "city": pd.Series(["a", 2, "c"], dtype=object)})
    from labelgate.repair.repairer import repair_frame
    with pytest.raises(DataError, match=r"column 'city' mixes value types \['int', 'str'\]"):
        repair_frame(frame, [], RepairSettings())


def test_settings_naming_unknown_columns(tmp_path):
    frame = pd.DataFrame({"zip": ["1", "2"], "city": ["a", "b"]})
    with pytest.raises(ConfigError, match=r"repair.exclude_columns names column\(s\) \['id'\]"):
        _run(tmp_path, frame, "", RepairSettings(exclude_columns=("id",)))


def test_missing_constraint_file(tmp_path):
    frame = pd.DataFrame({"zip": ["1", "2"], "city": ["a", "b"]})
    frame.to_parquet(tmp_path / "data.parquet")
    with pytest.raises(ConfigError, match="constraint file not found"):
        repair_table(data_path=str(tmp_path / "data.parquet"), constraints_path=str(tmp_path / "nope.txt"),
                     settings=RepairSettings(), repaired_path=str(tmp_path / "r"), report_path=str(tmp_path / "m"),
                     report_html_path=str(tmp_path / "h"))
