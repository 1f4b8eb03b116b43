"""A local SQLite registry takes turns with other writers instead of failing with "database is locked".

Concurrent pushes to one SQLite registry on a loaded machine failed in CI: MLflow waits 20 s for the
write lock, and a transaction that read before writing gets SQLITE_BUSY at once while another commits."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    BAD_REQUEST,
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    TEMPORARILY_UNAVAILABLE,
)

from labelgate.champion import open_client
from labelgate.errors import RegistryError

MLFLOW_WAIT_S = 20.0  # MLflow's own PRAGMA busy_timeout for SQLite sessions


class _Flaky:
    """Answers "database is locked" ``fails`` times, then works; counts calls."""

    def __init__(self, fails: int, error: Exception) -> None:
        self.fails, self.error, self.calls = fails, error, 0
        self.name = "not callable"

    def create(self, value: str) -> str:
        self.calls += 1
        if self.calls <= self.fails:
            raise self.error
        return value


LOCKED = MlflowException("(sqlite3.OperationalError) database is locked", error_code=TEMPORARILY_UNAVAILABLE)


def test_a_locked_database_is_tried_again_until_it_answers() -> None:
    from labelgate.champion import _LockPatientClient

    flaky = _Flaky(3, LOCKED)
    client = _LockPatientClient(flaky, delays_s=(0.0,) * 5)
    assert client.create("v") == "v" and flaky.calls == 4
    assert client.name == "not callable"


def test_the_retries_are_bounded_and_the_last_error_is_the_registrys() -> None:
    from labelgate.champion import _LockPatientClient

    flaky = _Flaky(100, LOCKED)
    client = _LockPatientClient(flaky, delays_s=(0.0,) * 3)
    with pytest.raises(RegistryError) as refused:
        client.create("v")
    assert flaky.calls == 4
    assert refused.value.__cause__ is LOCKED  # the registry's own last error, with the cause and the fix added
    assert str(refused.value).startswith(f"{LOCKED}; ") and "locked through every retry" in str(refused.value)
    assert "one MLflow tracking server" in str(refused.value)


@pytest.mark.parametrize("error", [
    MlflowException("model 'm' already exists", error_code=RESOURCE_ALREADY_EXISTS),
    MlflowException("database is locked", error_code=INVALID_PARAMETER_VALUE),
    RuntimeError("database is locked"),
])
def test_every_other_error_passes_through_at_once(error: Exception) -> None:
    from labelgate.champion import _LockPatientClient

    flaky = _Flaky(1, error)
    with pytest.raises(type(error)):
        _LockPatientClient(flaky, delays_s=(0.0,) * 3).create("v")
    assert flaky.calls == 1


LOST_RACE = MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed: tags.key, tags.run_uuid",
                            error_code=BAD_REQUEST)


class _Store(_Flaky):
    """An upsert (``set_tag``) and an insert (``create_run``) that both lose an insert race once."""

    def set_tag(self, value: str) -> str:
        return self.create(value)

    def create_run(self, value: str) -> str:
        return self.create(value)


def test_an_upsert_that_lost_an_insert_race_is_tried_again_and_an_insert_is_not() -> None:
    """Two pushes of one pipeline run set the same new tag on its MLflow run at once: MLflow's SQL store reads,
    then inserts, so the later insert fails on the unique key. Set again, the tag is found and updated; a
    create that collided is a real conflict and is not repeated."""
    from labelgate.champion import _LockPatientClient

    store = _Store(1, LOST_RACE)
    assert _LockPatientClient(store, delays_s=(0.0,) * 3).set_tag("v") == "v" and store.calls == 2
    store = _Store(1, LOST_RACE)
    with pytest.raises(MlflowException, match="UNIQUE constraint failed"):
        _LockPatientClient(store, delays_s=(0.0,) * 3).create_run("v")
    assert store.calls == 1


_SET_TAGS = """
import sys, time
from pathlib import Path
from labelgate.champion import open_client
uri, run_id, ready, go = sys.argv[1:5]
client = open_client(uri)
client.get_run(run_id)
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.005)
for i in range(40):
    client.set_tag(run_id, f"key-{i}", ready)
"""


@pytest.mark.slow
def test_processes_setting_the_same_new_tags_at_once_all_succeed(tmp_path) -> None:
    """Six processes set the same 40 new tags of one run at once (with MLflow's own client, 9 of their 240
    calls failed with "UNIQUE constraint failed" when this was written)."""
    import subprocess
    import sys

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = open_client(uri)
    run_id = client.create_run(client.create_experiment("race", artifact_location=str(tmp_path / "a"))).info.run_id
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(6)]
    procs = [subprocess.Popen([sys.executable, "-c", _SET_TAGS, uri, run_id, str(r), str(go)], stderr=subprocess.PIPE,
                              text=True) for r in ready]
    deadline = time.monotonic() + 300
    while not all(r.exists() for r in ready):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), \
            [p.communicate()[1] for p in procs if p.poll() is not None]
        time.sleep(0.05)
    go.touch()
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    tags = client.get_run(run_id).data.tags
    assert all(tags[f"key-{i}"] in {str(r) for r in ready} for i in range(40))


@contextlib.contextmanager
def _exclusive_lock(db, seconds: float):
    """Another connection holds ``db``'s EXCLUSIVE lock for ``seconds`` from entry; the block runs meanwhile.
    Yields an Event set once the lock was released (the block must have waited for it)."""
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    released = threading.Event()

    def release() -> None:
        time.sleep(seconds)
        holder.execute("COMMIT")
        released.set()

    thread = threading.Thread(target=release)
    thread.start()
    try:
        yield released
    finally:
        thread.join()
        holder.close()


def test_a_write_outlasts_a_lock_held_longer_than_mlflows_wait(tmp_path) -> None:
    db = tmp_path / "mlflow.db"
    client = open_client(f"sqlite:///{db}")
    client.create_registered_model("first")  # the schema exists before the lock is taken
    with _exclusive_lock(db, MLFLOW_WAIT_S + 2) as released:
        client.create_registered_model("second")
    assert released.is_set()
    assert {m.name for m in client.search_registered_models()} == {"first", "second"}


PYSQLITE_WAIT_S = 5.0  # Python's sqlite3 default timeout: what MLflow's schema checks wait when a client opens


def test_opening_a_registry_outlasts_a_lock_held_longer_than_the_driver_waits(tmp_path, empty_registry_db) -> None:
    """Opening a client reads the schema outside MLflow's sessions (their 20 s wait does not apply; the driver
    waits 5 s): three pushes opening one registry together crashed in CI with "database is locked"."""
    import shutil

    db = tmp_path / "mlflow.db"
    shutil.copyfile(empty_registry_db, db)  # tables exist; no client in this process has opened this URI yet
    with _exclusive_lock(db, PYSQLITE_WAIT_S + 3) as released:
        client = open_client(f"sqlite:///{db}")
    assert released.is_set()
    client.create_registered_model("after")
    assert [m.name for m in client.search_registered_models()] == ["after"]


def test_mlflows_traceback_for_a_retried_lock_is_not_printed_but_other_errors_are(tmp_path) -> None:
    """MLflow logs a full traceback for every "database is locked" before raising it; the call is tried again,
    so that traceback only alarms. Other database errors are still logged."""
    import logging

    import sqlalchemy.exc

    open_client(f"sqlite:///{tmp_path}/mlflow.db")
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("mlflow.store.db.utils")
    logger.addHandler(handler)
    try:
        for message in ("database is locked", "disk I/O error"):
            try:
                raise sqlalchemy.exc.OperationalError("UPDATE x", {}, Exception(message))
            except sqlalchemy.exc.OperationalError:
                logger.exception("SQLAlchemy database error: %s", message)
    finally:
        logger.removeHandler(handler)
    assert seen == ["SQLAlchemy database error: disk I/O error"]


def test_a_lock_that_outlasts_every_retry_is_refused_naming_the_cause_and_the_fix(
        tmp_path, empty_registry_db, monkeypatch) -> None:
    import shutil

    from labelgate import champion

    monkeypatch.setattr(champion, "LOCKED_RETRY_DELAYS_S", ())  # one try: the driver's 5 s wait, then the error
    db = tmp_path / "mlflow.db"
    shutil.copyfile(empty_registry_db, db)
    with _exclusive_lock(db, PYSQLITE_WAIT_S + 3), pytest.raises(RegistryError) as refused:
        open_client(f"sqlite:///{db}")
    message = str(refused.value)
    assert f"cannot open the model registry at 'sqlite:///{db}'" in message and "database is locked" in message
    assert "locked through every retry" in message and "one MLflow tracking server" in message
