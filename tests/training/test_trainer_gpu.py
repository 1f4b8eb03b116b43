"""Training on a CUDA device gives a model as good as on the CPU, saved and served from numpy."""

import numpy as np
import pytest
import torch

from labelgate.training.settings import TrainingSettings
from labelgate.training.toy import keyword_votes, majority_probs, toy_frame
from labelgate.training.trainer import train_classifier

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_cuda_training_matches_cpu_quality():
    frame = toy_frame(seed=2, n_test=200)
    probs = majority_probs(keyword_votes(frame["CONTENT"].tolist()))
    train = (frame["split"] == "train") & probs["covered"]
    valid, test = frame[frame["split"] == "valid"], frame[frame["split"] == "test"]
    accuracies = {}
    for device in ("cpu", "cuda"):
        settings = TrainingSettings(family="hashed_linear", hash_bits=12, char_ngrams=(2, 4), learning_rate=0.05, epochs=10, patience=4,
                                    device=device)
        result = train_classifier(train_texts=frame.loc[train, "CONTENT"].tolist(),
                                  train_targets=probs.loc[train, ["prob_0", "prob_1"]].to_numpy(),
                                  valid_texts=valid["CONTENT"].tolist(), valid_labels=valid["CLASS"].to_numpy(dtype=int),
                                  classes=["ham", "spam"], settings=settings, seed=0)
        assert result.device.startswith(device)
        preds = result.predictor.predict(test["CONTENT"].tolist())
        accuracies[device] = float((preds == test["CLASS"].to_numpy(dtype=int)).mean())
    assert accuracies["cuda"] >= 0.85 and abs(accuracies["cuda"] - accuracies["cpu"]) <= 0.05
    assert np.isfinite(list(accuracies.values())).all()
