"""family auto: the search scores on the valid split only, keeps every trial, and the encoder family round trips."""

import json

import numpy as np
import pandas as pd
import pytest

from labelgate.training import load_predictor
from labelgate.training.search import TRIALS_FILE, TrainRows, search_model
from labelgate.training.settings import TrainingSettings
from labelgate.training.step import run_train
from labelgate.training.toy import keyword_votes, majority_probs, toy_frame, write_toy_inputs
from labelgate.training.trainer import train_classifier

FAST = dict(hash_bits=10, word_ngrams=(1, 1), char_ngrams=(2, 3), epochs=6, patience=3, batch_size=16,
            learning_rate=0.05, device="cpu", search_budget_s=600, search_switch_z=0.0)


def _toy(seed=0, n_train=120):
    frame = toy_frame(seed=seed, n_train=n_train)
    probs = majority_probs(keyword_votes(frame["CONTENT"].tolist()))
    train = (frame["split"] == "train") & probs["covered"]
    valid = frame[frame["split"] == "valid"]
    texts = frame.loc[train, "CONTENT"].tolist()
    targets = probs.loc[train, ["prob_0", "prob_1"]].to_numpy()
    return texts, targets, valid["CONTENT"].tolist(), valid["CLASS"].to_numpy(dtype=int)


def test_the_search_picks_the_family_with_the_best_valid_score_and_records_every_trial():
    texts, targets, valid_texts, valid_labels = _toy()
    # hashed_embedding with a 1-wide bottleneck and one epoch cannot fit; hashed_linear can.
    settings = TrainingSettings(**FAST, family="auto", search_families=["hashed_embedding", "hashed_linear"],
                                search_trials=4, embedding_dim=1)
    seen = []
    result = search_model(rows_for=lambda dev_weight: TrainRows(texts, targets, np.ones(len(texts))), valid_texts=valid_texts,
                          valid_labels=valid_labels, classes=["ham", "spam"], settings=settings, seed=0,
                          on_trial=seen.append)
    assert len(result.trials) == 4 == len(seen)
    best = max(result.trials, key=lambda t: (t["valid_accuracy"], -t["valid_log_loss"]))
    assert [t["chosen"] for t in result.trials].count(True) == 1 and best["chosen"]
    assert result.settings.family == best["family"] and result.best.valid_accuracy == best["valid_accuracy"]
    record = result.record()
    assert record["scored_on"] == "valid" and record["chosen_family"] == best["family"]
    assert {t["family"] for t in result.trials} == {"hashed_embedding", "hashed_linear"}


def test_a_family_clearly_better_on_valid_is_chosen():
    texts, targets, valid_texts, valid_labels = _toy()
    # Valid labels flipped: whatever fits the training labels scores ~0 on valid; the search must prefer the
    # family that fits worst there, which shows it scores on valid and not on the training labels.
    settings = TrainingSettings(**{**FAST, "epochs": 1, "patience": 1}, family="auto",
                                search_families=["hashed_linear", "hashed_embedding"], search_trials=2,
                                embedding_dim=1)
    result = search_model(rows_for=lambda dev_weight: TrainRows(texts, targets, np.ones(len(texts))), valid_texts=valid_texts,
                          valid_labels=1 - valid_labels, classes=["ham", "spam"], settings=settings, seed=0)
    by_family = {t["family"]: t["valid_accuracy"] for t in result.trials}
    assert by_family["hashed_linear"] != by_family["hashed_embedding"]
    assert result.settings.family == max(by_family, key=by_family.get)


def test_train_step_with_family_auto_writes_trials_into_the_model_directory(tmp_path):
    paths = write_toy_inputs(tmp_path / "in")
    config = tmp_path / "in" / "config.yaml"
    config.write_text(config.read_text().replace("family: hashed_linear", "family: auto, search_trials: 3, "
                                                  "search_families: [hashed_linear, hashed_embedding], embedding_dim: 4"))
    metrics = run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=str(config), seed=0,
                        model_dir=str(tmp_path / "model"))
    trials = json.loads((tmp_path / "model" / TRIALS_FILE).read_text())
    assert metrics["search_trials"] == len(trials["trials"]) == 3 and metrics["family"] == trials["chosen_family"]
    predictor = load_predictor(tmp_path / "model")
    assert predictor.info["family"] == trials["chosen_family"] and predictor.info["search"]["trials"] == 3
    chosen = [t for t in trials["trials"] if t["chosen"]]
    assert len(chosen) == 1 and chosen[0]["valid_accuracy"] == pytest.approx(metrics["valid_accuracy"])


def test_train_classifier_refuses_auto():
    from labelgate.errors import ModelError

    with pytest.raises(ModelError, match="search"):
        train_classifier(train_texts=["a"], train_targets=np.eye(2)[:1], valid_texts=["a"], valid_labels=np.array([0]),
                         classes=["ham", "spam"], settings=TrainingSettings(), seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("ngrams, hidden", [(True, 0), (False, 16)])
def test_the_encoder_family_round_trips_through_the_model_directory(tmp_path, ngrams, hidden):
    texts, targets, valid_texts, valid_labels = _toy(n_train=60)
    settings = TrainingSettings(**FAST, family="minilm", encoder_ngrams=ngrams, head_hidden=hidden,
                                encoder_max_tokens=16)
    result = train_classifier(train_texts=texts, train_targets=targets, valid_texts=valid_texts,
                              valid_labels=valid_labels, classes=["ham", "spam"], settings=settings, seed=0)
    assert result.valid_accuracy >= 0.8
    result.predictor.save(tmp_path / "model")
    loaded = load_predictor(tmp_path / "model")
    meta = json.loads((tmp_path / "model" / "model.json").read_text())
    assert meta["encoder"] == {"name": "minilm", "max_tokens": 16} and ("features" in meta) == ngrams
    probe = ["check out my channel", "love this song", "", "zzzz qqqq"]
    np.testing.assert_allclose(loaded.predict_proba(probe), result.predictor.predict_proba(probe), rtol=1e-5)
    assert (loaded.first is None) == (not ngrams)
    # serving loads it the way it loads every family
    from labelgate.serving.loader import ModelSource, load_model

    served = load_model(ModelSource(model_dir=tmp_path / "model"))
    assert served.classes == ["ham", "spam"]
    np.testing.assert_allclose(served.predictor.predict_proba(probe), loaded.predict_proba(probe), rtol=1e-5)


@pytest.mark.slow
def test_the_numpy_encoder_matches_transformers():
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from labelgate.training.encoder import load_encoder, weights_dir

    texts = ["check out my channel http://x.example.com", "love this song", "a much longer comment " * 10]
    ours = load_encoder("minilm", 32).encode(texts)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(weights_dir()), local_files_only=True)
    model = transformers.AutoModel.from_pretrained(str(weights_dir()), local_files_only=True).eval()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    theirs = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert pd.Series(np.linalg.norm(ours, axis=1)).round(5).eq(1.0).all()


@pytest.mark.slow
def test_a_config_without_a_training_section_searches_and_picks_a_family(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the default encoder_store is under ~/.cache
    paths = write_toy_inputs(tmp_path / "in")
    config = tmp_path / "in" / "config.yaml"
    config.write_text("\n".join(line for line in config.read_text().splitlines() if not line.startswith(("training", " "))))
    assert "training" not in config.read_text()
    metrics = run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=str(config), seed=0,
                        model_dir=str(tmp_path / "model"))
    trials = json.loads((tmp_path / "model" / TRIALS_FILE).read_text())
    assert metrics["family"] in ("hashed_linear", "hashed_embedding", "minilm") and metrics["search_trials"] >= 1
    assert trials["chosen_family"] == metrics["family"] and trials["budget_s"] == TrainingSettings().search_budget_s
    assert load_predictor(tmp_path / "model").info["family"] == metrics["family"]
    stored = list((tmp_path / "home" / ".cache" / "labelgate" / "encoder").rglob("*.npz"))
    assert bool(stored) == ("minilm" not in trials["skipped"])  # embedded vectors are kept for the next run
