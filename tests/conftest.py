"""Shared fixtures: the example data and config; two tiny trained models and a fresh local registry."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from ci_needs import needs

# Test modules import kserve directly; load it first with a clean command line (it parses sys.argv).
import labelgate.serving.kserve_argv  # noqa: F401, E402, I001

ROOT = Path(__file__).resolve().parents[1]
# Where the example data is: the shared read-only copy, else where `make data` puts it (the Makefile's order).
EXAMPLE_DATA_PLACES = (ROOT.parent / "shared" / "data" / "youtube-spam", ROOT / "data" / "youtube-spam")
EXAMPLE_CONFIG = ROOT / "examples" / "youtube_spam" / "config.yaml"
def find_example_data() -> Path | None:
    return next((place for place in EXAMPLE_DATA_PLACES if any(place.glob("*.csv"))), None)


@pytest.fixture(scope="session")
def example_data() -> Path:
    found = find_example_data()
    needs(found is not None, f"example data not found at {' or '.join(map(str, EXAMPLE_DATA_PLACES))}; "
                             "run `make data`")
    return found


@pytest.fixture(scope="session")
def example_config() -> Path:
    return EXAMPLE_CONFIG

TINY_TEXTS = ["check out my channel", "subscribe to me", "free gift cards here", "click this link now",
         "love this song", "great video", "so many memories", "beautiful voice"]
SPAM = [1, 1, 1, 1, 0, 0, 0, 0]


def train_tiny_model(out_dir: Path, *, seed: int, flip: bool) -> Path:
    """Train the real end model on eight texts; ``flip`` swaps the labels so the two models disagree."""
    from labelgate.training.settings import TrainingSettings
    from labelgate.training.trainer import train_classifier

    labels = np.array([1 - s if flip else s for s in SPAM])
    targets = np.eye(2, dtype=np.float32)[labels]
    settings = TrainingSettings(family="hashed_linear", hash_bits=10, epochs=5, device="cpu", word_ngrams=(1, 1), char_ngrams=(2, 3),
                                min_train_rows=4)
    result = train_classifier(train_texts=TINY_TEXTS, train_targets=targets, valid_texts=TINY_TEXTS, valid_labels=labels,
                              classes=["ham", "spam"], settings=settings, seed=seed)
    return result.predictor.save(out_dir)


@pytest.fixture(scope="session")
def tiny_texts() -> list[str]:
    return list(TINY_TEXTS)


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("models")
    return [train_tiny_model(root / f"m{i}", seed=i, flip=bool(i % 2)) for i in range(3)]


# A prebuilt empty registry database to copy instead of creating one per session (scripts/mutation.py sets it:
# every mutant is a pytest session of its own, and creating the tables took most of each one).
REGISTRY_TEMPLATE_ENV = "LABELGATE_TEST_REGISTRY_TEMPLATE"


def build_empty_registry_db(db: Path) -> Path:
    """Create MLflow's tables in a new SQLite file ``db`` (seconds: every schema migration runs)."""
    from labelgate.registry.store import open_client

    open_client(f"sqlite:///{db}").search_experiments()
    return db


@pytest.fixture(scope="session")
def empty_registry_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised, empty MLflow SQLite database (creating its tables takes seconds; copying, none)."""
    db = tmp_path_factory.mktemp("template") / "mlflow.db"
    prebuilt = os.environ.get(REGISTRY_TEMPLATE_ENV)
    if prebuilt:
        if not Path(prebuilt).is_file():
            raise FileNotFoundError(f"{REGISTRY_TEMPLATE_ENV}={prebuilt}: no such file; unset it, or build one with "
                                    "`python scripts/mutation.py` (it writes mutants/registry-template.db)")
        shutil.copyfile(prebuilt, db)
        return db
    return build_empty_registry_db(db)


@pytest.fixture
def registry_uri(tmp_path: Path, empty_registry_db: Path) -> str:
    (tmp_path / "mlruns").mkdir()
    shutil.copyfile(empty_registry_db, tmp_path / "mlruns" / "mlflow.db")
    return f"sqlite:///{tmp_path}/mlruns/mlflow.db"


@pytest.fixture
def blessing(tmp_path: Path) -> Path:
    path = tmp_path / "blessing.json"
    path.write_text(json.dumps({"blessed": True, "reason": "test accuracy 0.9 >= 0.85", "test_accuracy": 0.9}))
    return path


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"rows": 8, "columns": {"CONTENT": {"mean_length": 17.5}}}))
    return path


@contextlib.contextmanager
def _shared_once(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """A folder ``name`` that every pytest-xdist worker of this session shares (the session's own temp folder
    without xdist), held under an exclusive lock while the block runs: the first worker makes what it holds,
    the others wait for it and read it."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            folder.mkdir(exist_ok=True)
            yield folder
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def example_champion(example_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One real `labelgate run` on the example (as `make run` calls it) into a registry of its own, shared by
    the tests that need a champion made by the pipeline: {registry (its folder), registry_uri, run_dir,
    exit_code, output, summary}. Tests that move the champion work on a copy (:func:`copy_registry`).
    Made once per test session, also when pytest-xdist runs the tests in several workers."""
    import subprocess
    import sys

    with _shared_once(tmp_path_factory, "example-champion") as base:
        registry = base / "registry"
        uri = f"sqlite:///{registry}/mlflow.db"
        done_path = base / "done.json"
        if not done_path.exists():
            registry.mkdir()
            done = subprocess.run([sys.executable, "-m", "labelgate.cli", "run", "--data", str(example_data),
                                   "--runs-dir", str(base / "runs"), "--run-id", "champion", "--registry-uri", uri],
                                  cwd=ROOT, capture_output=True, text=True, timeout=1200,
                                  env={**os.environ, "PYTHONUNBUFFERED": "1"})
            done_path.write_text(json.dumps({"exit_code": done.returncode, "output": done.stdout + done.stderr}))
        done = json.loads(done_path.read_text())
    summary_path = base / "runs" / "champion" / "summary.json"
    return {"registry": registry, "registry_uri": uri, "run_dir": base / "runs" / "champion",
            "exit_code": done["exit_code"], "output": done["output"],
            "summary": json.loads(summary_path.read_text()) if summary_path.exists() else {}}


def copy_registry(champion: dict, target: Path) -> str:
    """A copy of ``champion``'s SQLite registry database in ``target`` (the versions' files stay where they
    are, read-only to the copy's users); returns the copy's URI. Moving its champion leaves the original's."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(champion["registry"] / "mlflow.db", target / "mlflow.db")
    return f"sqlite:///{target}/mlflow.db"



_PRINT = __import__("builtins").print


@pytest.fixture(autouse=True)
def _plain_print():
    """Every test starts with Python's own print: kfp.local swaps in an indenting one while it runs a task,
    and a run inside a test process must not change what later tests print (run_local restores it too)."""
    import builtins

    builtins.print = _PRINT
    yield
    builtins.print = _PRINT
