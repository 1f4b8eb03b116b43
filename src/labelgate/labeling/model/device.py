"""Where the label model's tensors live, and the single-thread guard for its small CPU fits."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def resolve_device(device: str) -> torch.device:
    """``auto`` means a GPU when torch sees one, else the CPU; any other string is a torch device name."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextlib.contextmanager
def single_thread(device: torch.device) -> Iterator[None]:
    """Run the fit's many small CPU tensor ops on one thread: intra-op threading only adds
    synchronisation at these sizes (and stalls badly when other processes hold the cores)."""
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
