"""A pipeline run with a ``repair`` section on a dirty table: the repair step fixes the injected errors and
nulls, the data gate checks the repaired table, and the pushed model was trained on it, with the repaired
columns as features beside the text."""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelgate.contract import file_sha256
from labelgate.run import EXIT_OK
from labelgate.validation.constraints import check_constraints, load_constraints
from tests.e2e.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
sys.path.insert(0, str(ROOT / "examples" / "support_tickets"))
import make_data  # noqa: E402

COUNTRIES = {"DE": "europe", "FR": "europe", "IT": "europe", "ES": "europe", "US": "americas", "CA": "americas",
             "BR": "americas", "JP": "asia", "IN": "asia", "KR": "asia"}
PRODUCTS = {"router": "hardware", "modem": "hardware", "camera": "hardware", "crm": "software", "mail": "software",
            "vpn": "software", "backup": "service", "setup": "service"}
# Shipping and bug tickets come mostly from hardware customers: the product line helps the model.
HARDWARE_HEAVY = {"shipping", "bug"}
CONSTRAINTS = """# The tabular columns' dependencies (what repair learns from), and one on the id and text (repair skips it).
# severity: warning
t1&t2&EQ(t1.country,t2.country)&IQ(t1.region,t2.region)
# severity: warning
t1&t2&EQ(t1.product,t2.product)&IQ(t1.product_line,t2.product_line)
t1&t2&EQ(t1.ticket_id,t2.ticket_id)&IQ(t1.body,t2.body)
"""
SUITE = {"name": "dirty_tickets", "expectations": [
    {"type": "expect_column_values_to_not_be_null", "severity": "critical", "kwargs": {"column": "body"}},
    # The dirty table has 4% nulls here: only a repaired table passes.
    {"type": "expect_column_values_to_not_be_null", "severity": "critical",
     "kwargs": {"column": "region", "mostly": 0.985}},
]}
CONFIG = """pipeline:
  data_uri: data
  lf_module: lfs.py
  suite_path: expectations.json
  constraints_path: constraints.txt
  model_name: dirty-tickets
  min_test_accuracy: 0.6
  min_test_f1: 0.5
data:
  id_column: ticket_id
  text_column: body
  label_column: category
  classes: ["account", "billing", "bug", "feature_request", "praise", "shipping"]
labeling:
  label_model: auto
validation:
  length_columns: [body]
  categorical_columns: [category, region, product_line]
training:
  feature_columns: [product, product_line, region, seats]
  epochs: 30
repair:
  threshold: 0.8
  imputer_steps: 150
  model_epochs: 100
"""


def _tables(seed: int = 11) -> dict[str, pd.DataFrame]:
    """Support tickets (text and label) with tabular columns: country -> region, product -> product_line."""
    rng = random.Random(seed)
    out, start = {}, 0
    for name, n in (("train", 700), ("dev", 120), ("valid", 150), ("test", 200)):
        rows = make_data.rows(rng, n, start)
        start += n
        products = [rng.choice(["router", "modem", "camera"]) if label in HARDWARE_HEAVY and rng.random() < 0.8
                    else rng.choice(list(PRODUCTS)) for *_, label in rows]
        countries = [rng.choice(list(COUNTRIES)) for _ in rows]
        out[name] = pd.DataFrame({
            "ticket_id": [r[0] for r in rows], "body": [r[1] for r in rows], "channel": [r[2] for r in rows],
            "country": countries, "region": [COUNTRIES[c] for c in countries],
            "product": products, "product_line": [PRODUCTS[p] for p in products],
            "seats": [rng.randint(1, 5) * (10 if PRODUCTS[p] == "software" else 1) for p in products],
            "category": [r[3] for r in rows],
        })
    return out


def _dirty(clean: pd.DataFrame, seed: int = 5) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """Typos and wrong values in region/product_line, nulls in region; returns the cells changed."""
    rng = np.random.default_rng(seed)
    frame = clean.copy()
    touched: set[tuple[str, str]] = set()
    ids = frame["ticket_id"].to_numpy()
    picks = rng.choice(len(frame), size=int(0.1 * len(frame)), replace=False)
    nulls, typos, swaps = np.array_split(picks, 3)
    frame["region"] = frame["region"].astype(object)
    for i in nulls[: int(0.04 * len(frame))]:
        frame.loc[i, "region"] = None
        touched.add((ids[i], "region"))
    for i in typos:
        column = "region" if i % 2 else "product_line"
        value = frame.loc[i, column]
        frame.loc[i, column] = value[:2] + value[3:]  # drop a letter
        touched.add((ids[i], column))
    for i in swaps:
        column = "region" if i % 2 else "product_line"
        choices = sorted(set(COUNTRIES.values() if column == "region" else PRODUCTS.values()) - {frame.loc[i, column]})
        frame.loc[i, column] = choices[int(rng.integers(len(choices)))]
        touched.add((ids[i], column))
    return frame, touched


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("dirty-project")
    shutil.copy(ROOT / "examples" / "support_tickets" / "lfs.py", root / "lfs.py")
    (root / "config.yaml").write_text(CONFIG)
    (root / "constraints.txt").write_text(CONSTRAINTS)
    (root / "expectations.json").write_text(json.dumps(SUITE))
    (root / "data").mkdir()
    clean, errors = [], set()
    for name, table in _tables().items():
        dirty, touched = _dirty(table, seed=len(name))
        errors |= touched
        written = dirty if name != "train" else dirty.drop(columns=["category"])
        written.to_csv(root / "data" / f"{name}.csv", index=False)
        clean.append(table)
    return root, pd.concat(clean, ignore_index=True), errors


def _task_root(run_dir: Path) -> Path:
    return max((p for p in run_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)


def _metadata(task_root: Path, task: str, artifact: str) -> dict:
    output = json.loads((task_root / task / "executor_output.json").read_text())
    return output["artifacts"][artifact]["artifacts"][0]["metadata"]


def _violating_rows(frame: pd.DataFrame, constraints: Path) -> int:
    return sum(len(r.rows) for r in check_constraints(frame, load_constraints(constraints), max_examples=0))


def test_repair_section_pushes_a_model_trained_on_the_repaired_table(labelgate_run, project, tmp_path):
    root, clean, errors = project
    registry = tmp_path / "registry"
    result = labelgate_run("--project", str(root), run_id="dirty", registry=registry)
    assert result.exit_code == EXIT_OK, result.output
    steps = {s["name"]: s["status"] for s in result.summary["steps"]}
    assert steps["repair"] == "ok" and steps["push"] == "ok"
    run_dir = Path(result.summary["location"])
    tasks = _task_root(run_dir)
    ingested = pd.read_parquet(tasks / "ingest" / "data")
    repaired = pd.read_parquet(tasks / "repair" / "repaired")
    assert (run_dir / "repair.html").is_file() and "Data repair:" in (run_dir / "repair.md").read_text()

    # Cells changed: those the repair reports, and nearly all of them back to the clean value.
    truth = clean.set_index("ticket_id").loc[repaired["ticket_id"]].reset_index()
    changed = {(tid, c) for c in ("country", "region", "product", "product_line")
               for tid, before, after in zip(repaired["ticket_id"], ingested[c], repaired[c], strict=True)
               if not (pd.isna(before) and pd.isna(after)) and before != after}
    right = {(tid, c) for tid, c in changed if repaired.loc[repaired["ticket_id"] == tid, c].item()
             == truth.loc[truth["ticket_id"] == tid, c].item()}
    metrics = _metadata(tasks, "repair", "metrics")
    found = (f"{len(changed)} cells changed, {len(right)} to the clean value; {len(right & errors)} of "
             f"{len(errors)} injected errors fixed")
    print(f"repair on the dirty tickets: {found}")
    assert metrics["repair_on"] == 1 and metrics["cells_repaired"] >= len(changed) > 0, found
    assert len(right) >= 0.9 * len(changed), found  # precision of the repairs
    assert len(right & errors) >= 0.6 * len(errors), found  # most injected errors fixed
    # Ids, text, labels and splits untouched.
    for column in ("ticket_id", "body", "category", "split", "dev", "source"):
        pd.testing.assert_series_equal(repaired[column], ingested[column])

    # The data gate checked the repaired table (fewer violations than the ingested one; nulls imputed).
    validate = _metadata(tasks, "validate", "metrics")
    constraints = root / "constraints.txt"
    assert validate["constraint_violating_rows"] == _violating_rows(repaired, constraints)
    assert _violating_rows(repaired, constraints) < _violating_rows(ingested, constraints)
    assert ingested["region"].isna().mean() > 0.015 >= repaired["region"].isna().mean()

    # The pushed model: trained on the repaired table (its lineage names it) with the repaired columns as features.
    from labelgate.registry import champion_model_dir

    model = json.loads((Path(champion_model_dir(f"sqlite:///{registry}/mlflow.db", "dirty-tickets"))
                        / "model.json").read_text())
    lineage = model["lineage"]["data"]["repair"]
    assert lineage["on"] is True
    assert lineage["output_sha256"] == file_sha256(tasks / "repair" / "repaired")
    assert lineage["input_sha256"] == file_sha256(tasks / "ingest" / "data") != lineage["output_sha256"]
    assert set(model["tabular"]["categorical"]) == {"product", "product_line", "region"}
    assert [c["name"] for c in model["tabular"]["numeric"]] == ["seats"]
