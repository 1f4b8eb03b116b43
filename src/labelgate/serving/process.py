"""Processes a step starts die with it.

A step that starts a helper process (infra-validation's model server) must not leave it behind when the
step is killed: SIGKILL runs no cleanup, and Python's default SIGTERM runs none either. So a child is
started in its own process group (killed as a group) with a parent-death signal (Linux
``prctl(PR_SET_PDEATHSIG)``: the kernel signals it when the step's process dies, however it dies); and
the step turns SIGTERM into an exception, so its ``finally`` blocks run (kill the child, mark the version
failed, mark the MLflow run FAILED). :func:`die_with_parent` applies the parent-death signal to the
step's own process: on kfp.local a step runs under a shell wrapper, and when that wrapper is killed the
step must stop too instead of moving the champion as an orphan.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

_PR_SET_PDEATHSIG = 1


class Terminated(BaseException):
    """The step got SIGTERM (a BaseException, like KeyboardInterrupt, so ``except Exception`` does not
    swallow it, while ``finally`` blocks run)."""


def _prctl_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _child_setup(parent_pid: int, sig: int) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        _prctl_pdeathsig(sig)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return setup


def start_child(command: Sequence[str], **popen: Any) -> subprocess.Popen:
    """``subprocess.Popen`` of a helper that dies with this process: its own process group (see
    :func:`stop_child`) and, on Linux, SIGKILL when this process dies."""
    if sys.platform.startswith("linux"):
        popen["preexec_fn"] = _child_setup(os.getpid(), signal.SIGKILL)
    return subprocess.Popen(list(command), start_new_session=True, **popen)


def stop_child(proc: subprocess.Popen, *, grace_s: float = 15.0) -> None:
    """SIGTERM the child's process group, then SIGKILL what is left after ``grace_s``; reaps the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Have the kernel send ``sig`` to this process when its parent dies (Linux); returns whether it could."""
    parent = os.getppid()
    done = _prctl_pdeathsig(sig)
    if done and os.getppid() != parent:
        os.kill(os.getpid(), sig)
    return done


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (so cleanups run) instead of ending the
    process at once; does nothing outside the main thread, where handlers cannot be set."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated(f"terminated by signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
