"""Where tensors live and how many CPU threads torch uses: one home for the label model, the trainer and
repair, which all run many small tensor operations where intra-op threading only adds synchronisation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from labelgate.errors import ConfigError


def resolve_device(name: str, *, setting: str = "device") -> torch.device:
    """``auto``: a GPU when torch sees one, else the CPU; any other name is a torch device. Asking for CUDA
    where there is none is a ConfigError naming ``setting``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"config {setting} is {name!r} but no CUDA device is available; use 'auto' or 'cpu'")
    return torch.device(name)


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run with ``count`` torch CPU threads (None or 0: leave torch's setting), restoring it afterwards."""
    if not count:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
