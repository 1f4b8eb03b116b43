import json
import subprocess
import sys

import numpy as np
import pytest

from labelgate.errors import ModelError
from labelgate.training import load_predictor
from labelgate.training.settings import TrainingSettings
from labelgate.training.toy import keyword_votes, majority_probs, toy_frame
from labelgate.training.trainer import train_classifier


@pytest.fixture(scope="module")
def trained():
    frame = toy_frame(seed=1)
    probs = majority_probs(keyword_votes(frame["CONTENT"].tolist()))
    train = (frame["split"] == "train") & probs["covered"]
    valid = frame[frame["split"] == "valid"]
    settings = TrainingSettings(hash_bits=12, char_ngrams=(2, 4), learning_rate=0.05, epochs=4, patience=4, device="cpu",
                                family="hashed_embedding", embedding_dim=8)
    return train_classifier(train_texts=frame.loc[train, "CONTENT"].tolist(),
                            train_targets=probs.loc[train, ["prob_0", "prob_1"]].to_numpy(),
                            valid_texts=valid["CONTENT"].tolist(), valid_labels=valid["CLASS"].to_numpy(dtype=int),
                            classes=["ham", "spam"], settings=settings, seed=0).predictor


TEXTS = ["check out my channel http://x.example.com", "love this song", "", "zzzz never seen qqqq"]


def test_save_and_load_round_trip_gives_the_same_probabilities(trained, tmp_path):
    trained.save(tmp_path / "model")
    loaded = load_predictor(tmp_path / "model")
    assert loaded.classes == ["ham", "spam"]
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), trained.predict_proba(TEXTS), rtol=1e-6)
    meta = json.loads((tmp_path / "model" / "model.json").read_text())
    assert meta["features"]["hash_bits"] == 12 and meta["family"] == "hashed_embedding"


def test_probabilities_are_rows_summing_to_one_for_single_texts_and_batches(trained):
    batch = trained.predict_proba(TEXTS)
    assert batch.shape == (4, 2)
    np.testing.assert_allclose(batch.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(trained.predict_proba([TEXTS[0]])[0], batch[0], rtol=1e-6)
    assert batch[0, 1] > 0.5 > batch[1, 1]
    assert trained.predict_proba([]).shape == (0, 2)
    with pytest.raises(TypeError):
        trained.predict_proba("one string")


def test_a_directory_that_is_not_a_model_is_rejected(tmp_path):
    with pytest.raises(ModelError, match="not a labelgate model directory"):
        load_predictor(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"format": "other/9"}))
    (tmp_path / "weights.npz").write_bytes(b"")
    with pytest.raises(ModelError, match="unknown model format"):
        load_predictor(tmp_path)


def _damage(model, how):
    weights, meta = model / "weights.npz", model / "model.json"
    if how == "truncated weights":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif how == "empty weights":
        weights.write_bytes(b"")
    elif how == "weights without the model's arrays":
        np.savez(weights, other=np.zeros(3))
    elif how == "half-written model.json":
        meta.write_text(meta.read_text()[:40])
    elif how == "model.json not an object":
        meta.write_text("[1, 2]")


@pytest.mark.parametrize("how", ["truncated weights", "empty weights", "weights without the model's arrays",
                                 "half-written model.json", "model.json not an object"])
def test_a_damaged_or_half_written_model_directory_is_a_model_error_naming_the_file(trained, tmp_path, how):
    """`labelgate serve --model-dir` on a half-copied directory crashed with BadZipFile / EOFError / KeyError /
    JSONDecodeError tracebacks; it is a ModelError naming the file and saying to copy the directory again."""
    trained.save(tmp_path / "model")
    _damage(tmp_path / "model", how)
    with pytest.raises(ModelError, match=r"(model\.json|weights\.npz).*(damaged or half-written|unknown model format)"):
        load_predictor(tmp_path / "model")


def test_loading_a_predictor_does_not_import_torch(trained, tmp_path):
    trained.save(tmp_path / "model")
    code = ("import sys; from labelgate.training import load_predictor; "
            f"p = load_predictor({str(tmp_path / 'model')!r}); p.predict_proba(['hi']); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
