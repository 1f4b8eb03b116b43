"""`labelgate init` on data in shapes the examples do not have."""

import pandas as pd
import yaml

from labelgate.cli import main


def _write_parquet(folder, labels, *, train_rows=12):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": range(train_rows), "text": ["a b c"] * train_rows}).to_parquet(folder / "train.parquet")
    for role in ("dev", "valid", "test"):
        pd.DataFrame({"id": range(len(labels)), "text": ["word"] * len(labels),
                      "label": labels}).to_parquet(folder / f"{role}.parquet")


def test_integer_labels_become_integer_class_names_in_numeric_order(tmp_path, capsys):
    # The train file has no label column: the combined column is float (1.0 ... 10.0); the classes are the
    # numbers as written, in numeric order (2 before 10), and every labeled row maps to its own class.
    _write_parquet(tmp_path / "data", [1, 2, 10, 2, 1, 10])
    assert main(["init", str(tmp_path / "proj"), "--data", str(tmp_path / "data"), "--text-column", "text"]) == 0
    config = yaml.safe_load((tmp_path / "proj" / "config.yaml").read_text())
    assert [str(c) for c in config["data"]["classes"]] == ["1", "2", "10"]
    assert "0=1 " in capsys.readouterr().out
