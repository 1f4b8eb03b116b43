"""The registry lock on one process: taking, waiting, breaking a dead holder's lock, and trying a change
again when its lock was lost before it wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from labelgate.champion import champion_version
from labelgate.errors import RegistryError
from labelgate.registry import lock as lock_module
from labelgate.registry.lock import (
    EXPIRES_TAG,
    HOLDER_TAG,
    TOKEN_TAG,
    LockLostError,
    lock_name,
    registry_lock,
    retry_lost_lock,
)
from labelgate.registry.push import push_model
from labelgate.registry.store import HISTORY_TAG, open_client, promote


@pytest.fixture()
def registry(tmp_path: Path, empty_registry_db: Path) -> str:
    (tmp_path / "mlruns").mkdir()
    shutil.copyfile(empty_registry_db, tmp_path / "mlruns" / "mlflow.db")
    return f"sqlite:///{tmp_path}/mlruns/mlflow.db"


def test_retry_lost_lock_tries_again_only_for_a_lost_lock() -> None:
    calls = []

    def lost_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise LockLostError("lost")
        return "done"

    assert retry_lost_lock(lost_twice) == "done" and len(calls) == 3

    calls.clear()
    with pytest.raises(LockLostError):
        retry_lost_lock(lost_twice, attempts=2)
    assert len(calls) == 2

    def other() -> None:
        calls.append(1)
        raise RegistryError("not verified")

    calls.clear()
    with pytest.raises(RegistryError, match="not verified"):
        retry_lost_lock(other)
    assert len(calls) == 1


def test_a_held_lock_makes_the_next_taker_wait_and_name_the_holder(registry: str) -> None:
    client = open_client(registry)
    with registry_lock(client, "spam", purpose="first"):
        with pytest.raises(RegistryError, match="held by .*first") as caught:
            with registry_lock(client, "spam", purpose="second", wait_s=0.3):
                pass
        assert lock_name("spam") in str(caught.value)
    # released: the next one takes it at once
    with registry_lock(client, "spam", purpose="third", wait_s=0.3) as held:
        held.check()


def test_a_dead_holder_s_expired_lock_is_broken(registry: str) -> None:
    client = open_client(registry)
    client.create_registered_model(lock_name("spam"), tags={TOKEN_TAG: "dead", HOLDER_TAG: "a killed process",
                                                             EXPIRES_TAG: str(lock_module.now_ms() - 1000)})
    with registry_lock(client, "spam", purpose="after the dead one", wait_s=5) as held:
        held.check()
        assert client.get_registered_model(lock_name("spam")).tags[TOKEN_TAG] == held.token
    # its tombstone stays until it is an hour old (nobody can still be racing on it by then)
    assert client.get_registered_model(f"{lock_name('spam')}.stale.dead").tags[TOKEN_TAG] == "dead"


def test_check_fails_once_another_process_took_the_lock(registry: str) -> None:
    client = open_client(registry)
    with registry_lock(client, "spam", purpose="slow holder") as held:
        client.set_registered_model_tag(lock_name("spam"), TOKEN_TAG, "someone-else")
        with pytest.raises(LockLostError, match="was lost"):
            held.check()


def test_a_promote_whose_lock_was_lost_once_tries_again_and_moves_the_champion(
        registry: str, model_dirs: list[Path], profile: Path, blessing: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(2):
        push_model(model_dir=model_dirs[i], profile_path=profile, blessing_path=blessing, registry_uri=registry,
                   model_name="spam", run_key=f"runs/{i}", infra_validate=False)
    client = open_client(registry)
    assert champion_version(client, "spam") == "2"
    real_check, checks = lock_module.HeldLock.check, []

    def stolen_the_first_time(self: lock_module.HeldLock) -> None:
        checks.append(self.token)
        if len(checks) == 1:  # another process took this one for dead and broke its lock
            client.rename_registered_model(lock_name("spam"), f"{lock_name('spam')}.stale.{self.token}")
        real_check(self)

    monkeypatch.setattr(lock_module.HeldLock, "check", stolen_the_first_time)
    assert promote(registry, "spam", "1") == "2"
    assert len(checks) == 2 and checks[0] != checks[1]
    assert champion_version(client, "spam") == "1"
    assert client.get_registered_model("spam").tags[HISTORY_TAG] == '["1", "2", "1"]'
