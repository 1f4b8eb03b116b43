"""A model search fanned out over groups (pipeline parameter ``search_groups``): each group runs its share of
the trials, and select_model keeps the best group's model with every group's trials."""

import json

import numpy as np
import pytest

from labelgate.errors import ModelError
from labelgate.training import load_predictor
from labelgate.training.search import (
    TRIALS_FILE,
    TrainRows,
    group_seed,
    group_share,
    merge_groups,
    paired_test,
    search_groups,
    search_model,
)
from labelgate.training.settings import FAMILIES, TrainingSettings
from labelgate.training.step import run_plan_search, run_select_model, run_train
from labelgate.training.toy import keyword_votes, majority_probs, toy_frame, write_toy_inputs

FAST = dict(hash_bits=10, word_ngrams=(1, 1), char_ngrams=(2, 3), epochs=4, patience=2, batch_size=16,
            learning_rate=0.05, device="cpu", search_budget_s=600, embedding_dim=4, search_switch_z=0.0)


def test_groups_are_capped_by_the_trials_and_one_when_the_config_names_a_family():
    auto = TrainingSettings(family="auto", search_trials=5)
    assert search_groups(auto, 3) == [0, 1, 2]
    assert search_groups(auto, 9) == [0, 1, 2, 3, 4]  # a group with no trial would train nothing
    assert search_groups(TrainingSettings(family="hashed_linear"), 4) == [0]
    with pytest.raises(ModelError, match="search_groups must be at least 1, got 0"):
        search_groups(auto, 0)


@pytest.mark.parametrize("trials, groups", [(8, 1), (8, 3), (7, 7), (5, 2), (3, 3)])
def test_the_trials_and_the_config_s_families_are_dealt_out_once(trials, groups):
    settings = TrainingSettings(family="auto", search_trials=trials)
    shares = [group_share(settings, g, groups) for g in range(groups)]
    assert sum(n for n, _ in shares) == trials and min(n for n, _ in shares) >= 1
    assert max(n for n, _ in shares) - min(n for n, _ in shares) <= 1
    dealt = [f for _, families in shares for f in families]
    assert sorted(dealt) == sorted(FAMILIES)  # every family's config trial runs exactly once
    assert shares[0][1][0] == "minilm"  # the encoder first: its embedding is judged against the whole budget


def test_a_group_outside_the_search_or_without_a_trial_is_refused():
    settings = TrainingSettings(family="auto", search_trials=2)
    with pytest.raises(ModelError, match="search group 2 is not one of 0..1"):
        group_share(settings, 2, 2)
    with pytest.raises(ModelError, match="give at most that many search groups"):
        group_share(settings, 2, 3)


def test_group_seeds_keep_group_0_and_differ_between_groups():
    assert group_seed(7, 0) == 7
    seeds = {group_seed(7, g) for g in range(1, 6)} | {group_seed(8, 1)}
    assert len(seeds) == 6 and 7 not in seeds


def _search(group, groups, trials=4):
    frame = toy_frame(seed=0, n_train=120)
    probs = majority_probs(keyword_votes(frame["CONTENT"].tolist()))
    train = (frame["split"] == "train") & probs["covered"]
    valid = frame[frame["split"] == "valid"]
    texts = frame.loc[train, "CONTENT"].tolist()
    targets = probs.loc[train, ["prob_0", "prob_1"]].to_numpy()
    settings = TrainingSettings(**FAST, family="auto", search_families=["hashed_linear", "hashed_embedding"],
                                search_trials=trials)
    return search_model(rows_for=lambda dev_weight: TrainRows(texts, targets, np.ones(len(texts))),
                        valid_texts=valid["CONTENT"].tolist(), valid_labels=valid["CLASS"].to_numpy(dtype=int),
                        classes=["ham", "spam"], settings=settings, seed=0, group=group, groups=groups)


def test_each_group_runs_its_share_starting_from_its_config_trials():
    first, second = _search(0, 2, trials=5), _search(1, 2, trials=5)
    assert [len(first.trials), len(second.trials)] == [3, 2]
    # hashed_linear's config trial runs in group 0, hashed_embedding's in group 1 (each group's first trial).
    assert (first.trials[0]["family"], first.trials[0]["source"]) == ("hashed_linear", "config")
    assert (second.trials[0]["family"], second.trials[0]["source"]) == ("hashed_embedding", "config")
    assert [t["source"] for t in first.trials[1:] + second.trials[1:]] == ["sampler"] * 3
    assert {t["group"] for t in first.trials} == {0} and {t["group"] for t in second.trials} == {1}
    assert (first.record()["group"], second.record()["groups"]) == (0, 2)
    # The groups sample differently (their own seeds), and a group's search is repeatable.
    assert first.trials[1]["params"] != second.trials[1]["params"]
    assert [t["params"] for t in _search(1, 2, trials=5).trials] == [t["params"] for t in second.trials]


def _record(group, accuracy, log_loss, *, cpu=1.0, seconds=2.0, skipped=None):
    trial = {"number": 0, "group": group, "family": "hashed_linear", "valid_accuracy": accuracy,
             "valid_log_loss": log_loss, "chosen": True, "params": {"family": "hashed_linear"}}
    other = {**trial, "number": 1, "valid_accuracy": accuracy - 0.1, "chosen": False}
    return {"chosen_family": "hashed_linear", "chosen": trial["params"], "valid_accuracy": accuracy,
            "valid_log_loss": log_loss, "seconds": seconds, "cpu_seconds": cpu, "budget_s": 90.0,
            "skipped": skipped or {}, "trials": [trial, other], "scored_on": "valid", "group": group, "groups": 3}


def test_merging_keeps_the_best_group_and_every_trial():
    records = [_record(0, 0.90, 0.3, cpu=5.0, seconds=6.0), _record(1, 0.95, 0.4, cpu=7.0, seconds=9.0,
                                                                  skipped={"minilm": "too slow"}),
               _record(2, 0.95, 0.2, cpu=1.0, seconds=3.0)]
    best, merged = merge_groups(records)
    assert best == 2  # tied accuracy with group 1: the lower valid log loss
    assert len(merged["trials"]) == 6 and [t["chosen"] for t in merged["trials"]].count(True) == 1
    assert next(t for t in merged["trials"] if t["chosen"])["group"] == 2
    assert (merged["seconds"], merged["cpu_seconds"], merged["groups"]) == (9.0, 13.0, 3)
    assert merged["skipped"] == {"minilm": "too slow"} and "group" not in merged
    assert merged["valid_accuracy"] == 0.95 and merged["valid_log_loss"] == 0.2
    # An exact tie goes to the lower group, so the choice does not depend on which pod finished first.
    assert merge_groups([_record(0, 0.9, 0.3), _record(1, 0.9, 0.3)])[0] == 0
    with pytest.raises(ModelError, match="no search group produced a model"):
        merge_groups([])


@pytest.fixture(scope="module")
def grouped_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("groups")
    paths = write_toy_inputs(root / "in")
    config = root / "in" / "config.yaml"
    config.write_text(config.read_text().replace(
        "family: hashed_linear", "family: auto, search_trials: 3, search_families: [hashed_linear, hashed_embedding], "
        "embedding_dim: 4, search_switch_z: 0"))
    metrics = []
    for group in range(2):
        metrics.append(run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=str(config), seed=0,
                                 model_dir=str(root / f"model{group}"), group=group, groups=2))
    return root, paths, config, metrics


def test_the_plan_and_the_train_step_split_the_search(grouped_models):
    root, _, config, metrics = grouped_models
    assert run_plan_search(config_path=str(config), search_groups=2) == [0, 1]
    assert run_plan_search(config_path=str(config), search_groups=5) == [0, 1, 2]  # 3 trials
    assert [m["search_trials"] for m in metrics] == [2, 1]
    for group in range(2):
        trials = json.loads((root / f"model{group}" / TRIALS_FILE).read_text())
        assert (trials["group"], trials["groups"]) == (group, 2)


def test_select_model_keeps_the_best_group_s_model_with_all_trials(grouped_models, tmp_path):
    root, _, _, metrics = grouped_models
    dirs = [str(root / "model0"), str(root / "model1")]
    best, changed = run_select_model(model_dirs=dirs, out_dir=str(tmp_path / "model"))
    expected = max(range(2), key=lambda g: (metrics[g]["valid_accuracy"], -metrics[g]["valid_log_loss"], -g))
    assert best == expected and changed["search_trials"] == 3
    trials = json.loads((tmp_path / "model" / TRIALS_FILE).read_text())
    assert sorted(t["group"] for t in trials["trials"]) == [0, 0, 1] and trials["groups"] == 2
    chosen = [t for t in trials["trials"] if t["chosen"]]
    assert len(chosen) == 1 and chosen[0]["group"] == best
    kept, source = load_predictor(tmp_path / "model"), load_predictor(dirs[best])
    probe = ["check out my channel", "great song", ""]
    np.testing.assert_array_equal(kept.predict_proba(probe), source.predict_proba(probe))
    assert kept.info["search"]["groups"] == 2 and kept.info["search"]["trials"] == 3


def test_select_model_passes_a_model_trained_without_a_search_through(tmp_path):
    paths = write_toy_inputs(tmp_path / "in")
    run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
              model_dir=str(tmp_path / "trained"))
    best, changed = run_select_model(model_dirs=[str(tmp_path / "trained")], out_dir=str(tmp_path / "model"))
    assert (best, changed) == (0, {})
    assert (tmp_path / "model" / "model.json").read_bytes() == (tmp_path / "trained" / "model.json").read_bytes()
    assert not (tmp_path / "model" / TRIALS_FILE).exists()
    with pytest.raises(ModelError, match="only a family: auto search trains in groups"):
        run_select_model(model_dirs=[str(tmp_path / "trained")] * 2, out_dir=str(tmp_path / "other"))
    with pytest.raises(ModelError, match="there is no search to split"):
        run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
                  model_dir=str(tmp_path / "g1"), group=1, groups=2)


def test_the_paired_test_counts_the_rows_only_one_side_gets_right():
    base, other = "1100110", np.array([1, 0, 1, 1, 1, 1, 1], dtype=bool)
    assert paired_test(base, other) == {"wins": 3, "losses": 1, "z": pytest.approx(2 / np.sqrt(4))}
    assert paired_test(base, "1100110")["z"] == 0.0
    with pytest.raises(ModelError, match="different valid rows"):
        paired_test("10", "101")


def _scored(group, correct, *, baseline=False, z=2.0):
    accuracy = correct.count("1") / len(correct)
    return {**_record(group, accuracy, 0.3), "valid_correct": correct, "holds_baseline": baseline, "switch_z": z}


def test_the_baseline_s_group_is_left_only_for_a_significant_lead():
    base = "1" * 100 + "0" * 20
    close = "1" * 102 + "0" * 18  # 2 rows ahead: z 1.41
    far = "1" * 110 + "0" * 10  # 10 rows ahead: z 3.16
    kept, merged = merge_groups([_scored(0, close), _scored(1, base, baseline=True)])
    assert kept == 1 and merged["group_switch"]["switched"] is False
    assert merged["group_switch"]["wins"] == 2 and merged["group_switch"]["z"] == pytest.approx(np.sqrt(2))
    assert next(t for t in merged["trials"] if t["chosen"])["group"] == 1
    kept, merged = merge_groups([_scored(0, far), _scored(1, base, baseline=True)])
    assert kept == 0 and merged["group_switch"]["switched"] is True
    # z 0 turns the rule off; without a group that ran the baseline the best valid accuracy is kept.
    assert merge_groups([_scored(0, close, z=0.0), _scored(1, base, baseline=True, z=0.0)])[0] == 0
    assert merge_groups([_scored(0, close), _scored(1, base)])[0] == 0


@pytest.mark.parametrize("switch_z", [0.0, 50.0])
def test_a_search_keeps_its_baseline_unless_a_trial_leads_by_more_than_search_switch_z(switch_z):
    frame = toy_frame(seed=0, n_train=120)
    probs = majority_probs(keyword_votes(frame["CONTENT"].tolist()))
    train = (frame["split"] == "train") & probs["covered"]
    valid = frame[frame["split"] == "valid"]
    texts, labels = valid["CONTENT"].tolist(), valid["CLASS"].to_numpy(dtype=int)
    # A bottleneck of 1 and flipped valid labels make the two families score far apart on valid.
    settings = TrainingSettings(**{**FAST, "search_switch_z": switch_z, "epochs": 1, "patience": 1, "embedding_dim": 1},
                                family="auto", search_families=["hashed_embedding", "hashed_linear"], search_trials=4)
    result = search_model(rows_for=lambda dev_weight: TrainRows(frame.loc[train, "CONTENT"].tolist(),
                                                                probs.loc[train, ["prob_0", "prob_1"]].to_numpy(),
                                                                np.ones(int(train.sum()))),
                          valid_texts=texts, valid_labels=1 - labels, classes=["ham", "spam"], settings=settings, seed=0)
    chosen = next(t for t in result.trials if t["chosen"])
    best = max(result.trials, key=lambda t: (t["valid_accuracy"], -t["valid_log_loss"]))
    assert best["source"] != "config" or best["family"] != "hashed_linear"  # the baseline is not the best here
    if switch_z == 0:
        assert chosen is best and result.switch == {}
    else:
        assert (chosen["family"], chosen["source"]) == ("hashed_linear", "config")
        assert result.switch["switched"] is False and result.switch["best"] == best["number"]
        assert result.switch["wins"] > result.switch["losses"]
    # What the group hands to select-model: the kept model's right/wrong valid rows.
    right = result.best.predictor.predict(texts) == 1 - labels
    assert result.record()["valid_correct"] == "".join("1" if r else "0" for r in right)
    assert result.record()["holds_baseline"] is True
