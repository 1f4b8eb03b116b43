"""The label model on a CUDA device gives what it gives on the CPU (skipped where there is no GPU)."""

import numpy as np
import pytest
import torch

from labelgate.labeling.model import LabelModel
from labelgate.labeling.synthetic import make_votes

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.mark.parametrize("method", ["matrix_completion", "dawid_skene_abstain", "auto"])
def test_cuda_fit_matches_cpu(method):
    data = make_votes(n=20000, m=30, k=4, unipolar=0.5, seed=3)
    cpu = LabelModel(cardinality=4, method=method, device="cpu", seed=0).fit(data.L)
    gpu = LabelModel(cardinality=4, method=method, device="cuda", seed=0).fit(data.L)
    assert gpu.selected_method == cpu.selected_method
    np.testing.assert_allclose(gpu.predict_proba(data.L), cpu.predict_proba(data.L), atol=1e-3)
