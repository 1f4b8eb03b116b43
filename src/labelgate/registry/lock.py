"""The registry lock: one writer at a time moves a model's ``champion`` alias and its history tag.

MLflow has no compare-and-set on an alias or a tag (both are last-writer-wins), so a promote that reads
the champion and then moves it can be overtaken between the two. What MLflow does have, on every backend
(SQLite, PostgreSQL, a tracking server over HTTP), is an atomic *create*: ``create_registered_model`` of a
name that exists fails with ``RESOURCE_ALREADY_EXISTS`` (a unique key in the store's database). The lock
for model ``spam`` is therefore a registered model named ``labelgate-lock.spam``:

- acquire: create it, tagged with a random token, the holder (host, pid, what it does) and an expiry
  (wall clock, ms). If it exists, read it: a live lock means wait (jittered backoff) up to ``wait_s``; an
  expired one (its holder died) is broken by *renaming* it to ``labelgate-lock.spam.stale.<its token>``.
  Rename is atomic too and its target name is unique per dead holder, so of two processes breaking the
  same dead lock exactly one succeeds; the other goes back to creating. Tombstones are deleted once they
  are an hour old, long after anyone could still be racing on them.
- release: delete it, if it still carries our token.

While it is held, a daemon thread renews the lease every quarter lease, so a holder whose requests are
slow (an MLflow client retrying a busy server backs off for minutes) is never taken for a dead one; and
the holder checks, just before it writes, that the lock still carries its token (:meth:`HeldLock.check`).
Clocks of the processes sharing a registry are assumed to agree to well within the lease (seconds).
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from labelgate.errors import RegistryError

if TYPE_CHECKING:
    from mlflow import MlflowClient

LOCK_PREFIX = "labelgate-lock."
TOKEN_TAG = "labelgate.lock_token"
EXPIRES_TAG = "labelgate.lock_expires_ms"
HOLDER_TAG = "labelgate.lock_holder"
DEFAULT_LEASE_S = 120.0
DEFAULT_WAIT_S = 300.0
_TOMBSTONE_AGE_MS = 3600 * 1000
T = TypeVar("T")
# How many times a locked change is tried again after its lock was lost before it wrote anything.
LOST_LOCK_ATTEMPTS = 3


class LockLostError(RegistryError):
    """The lock's lease ran out before the holder wrote (its requests were slower than the lease, e.g. an
    MLflow client backing off a busy server for minutes) and another process took it. Nothing was written,
    so the whole locked change may simply be tried again (:func:`retry_lost_lock`)."""


def lock_name(model_name: str) -> str:
    """The registered model that stands for ``model_name``'s lock."""
    return f"{LOCK_PREFIX}{model_name}"


def is_lock(name: str) -> bool:
    """True for the registered models the lock protocol creates (hidden from listings)."""
    return name.startswith(LOCK_PREFIX)


def now_ms() -> int:
    return int(time.time() * 1000)


def _code(exc: Exception) -> str:
    return str(getattr(exc, "error_code", ""))


def _clean_tombstones(client: MlflowClient, name: str) -> None:
    with contextlib.suppress(Exception):
        for model in client.search_registered_models(filter_string=f"name LIKE '{name}.stale.%'"):
            expires = int(model.tags.get(EXPIRES_TAG, "0") or 0)
            if now_ms() - expires > _TOMBSTONE_AGE_MS:
                client.delete_registered_model(model.name)


class HeldLock:
    """A lock this process holds: its token, renewed in a daemon thread until released."""

    def __init__(self, client: MlflowClient, model_name: str, token: str, lease_s: float) -> None:
        self.client, self.model_name, self.token, self.lease_s = client, model_name, token, lease_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="labelgate-registry-lock", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        name = lock_name(self.model_name)
        while not self._stop.wait(self.lease_s / 4):
            with contextlib.suppress(Exception):
                if self.client.get_registered_model(name).tags.get(TOKEN_TAG) == self.token:
                    self.client.set_registered_model_tag(name, EXPIRES_TAG, str(now_ms() + int(self.lease_s * 1000)))

    def check(self) -> None:
        """Raise RegistryError unless the lock still carries our token (call it just before writing)."""
        try:
            held = self.client.get_registered_model(lock_name(self.model_name)).tags.get(TOKEN_TAG)
        except Exception as exc:
            if _code(exc) == "RESOURCE_DOES_NOT_EXIST":  # broken by a process that took this one for dead
                raise LockLostError(f"the registry lock on {self.model_name!r} was lost (its lease ran out while "
                                    "the registry was slow); nothing was changed, try again") from exc
            raise RegistryError(f"cannot confirm the registry lock on {self.model_name!r}: {exc}; nothing was "
                                "changed, try again") from exc
        if held != self.token:
            raise LockLostError(f"the registry lock on {self.model_name!r} was lost (its lease ran out while the "
                                "registry was slow); nothing was changed, try again")

    def stop(self) -> None:
        self._stop.set()


@contextlib.contextmanager
def registry_lock(client: MlflowClient, model_name: str, *, purpose: str, lease_s: float = DEFAULT_LEASE_S,
                  wait_s: float = DEFAULT_WAIT_S) -> Iterator[HeldLock]:
    """Hold ``model_name``'s registry lock for the ``with`` block (see the module docstring). Raises
    RegistryError when another holder keeps it past ``wait_s``."""
    name = lock_name(model_name)
    token = uuid.uuid4().hex
    holder = f"{socket.gethostname()} pid {os.getpid()}: {purpose}"[:250]
    deadline = time.monotonic() + wait_s
    delay = 0.02
    while True:
        expires = now_ms() + int(lease_s * 1000)
        try:
            client.create_registered_model(name, tags={TOKEN_TAG: token, EXPIRES_TAG: str(expires),
                                                       HOLDER_TAG: holder},
                                           description=f"labelgate's lock on {model_name!r}; do not edit")
            break
        except Exception as exc:
            # MLflow reads the existing model back to report the clash: if its holder released it in
            # between, the create says "not found". Both mean: somebody held it; look again.
            if _code(exc) not in ("RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST"):
                raise RegistryError(f"cannot take the registry lock {name!r} for {purpose}: {exc}") from exc
        try:
            held = client.get_registered_model(name)
        except Exception:  # released between our create and this read: try again at once
            continue
        held_expires = int(held.tags.get(EXPIRES_TAG, "0") or 0)
        if held_expires < now_ms() and time.monotonic() <= deadline:
            # its holder died: break it (atomic; one breaker wins), then try again
            with contextlib.suppress(Exception):
                client.rename_registered_model(name, f"{name}.stale.{held.tags.get(TOKEN_TAG, 'unknown')}")
            _clean_tombstones(client, name)
            continue
        if time.monotonic() > deadline:
            raise RegistryError(
                f"the registry lock on model {model_name!r} is held by {held.tags.get(HOLDER_TAG, 'unknown')!r} "
                f"for {max(0, held_expires - now_ms()) / 1000:.0f} s more; waited {wait_s:.0f} s. If that "
                f"process is gone, the lock frees itself when its lease ends (or delete the registered model "
                f"{name!r})"
            )
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 1.0)
    held_lock = HeldLock(client, model_name, token, lease_s)
    try:
        yield held_lock
    finally:
        held_lock.stop()
        release(client, model_name, token)


def retry_lost_lock(change: Callable[[], T], *, attempts: int = LOST_LOCK_ATTEMPTS) -> T:
    """Run ``change`` (a whole take-lock, read, check, write sequence) again when it lost its lock before
    writing; the last attempt's LockLostError goes to the caller."""
    for attempt in range(1, attempts + 1):
        try:
            return change()
        except LockLostError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def release(client: MlflowClient, model_name: str, token: str) -> None:
    """Delete the lock if it is still ours (a lock whose lease ran out may have been broken and retaken)."""
    name = lock_name(model_name)
    with contextlib.suppress(Exception):
        held = client.get_registered_model(name)
        if held.tags.get(TOKEN_TAG) == token:
            client.delete_registered_model(name)
