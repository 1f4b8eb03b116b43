"""`labelgate monitor` on the example: a bundle holding the champion's profile, LFs and config, and prediction
logs of served traffic (undrifted: comments the profile did not see; drifted: synthetic texts)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelgate.cli import main
from labelgate.contract import LF_MODULE_FILE, PROFILE_FILE, TRAINING_CONFIG_FILE, prob_column
from labelgate.labeling.applier import LFApplier
from labelgate.labeling.loader import load_lfs
from labelgate.run import EXIT_BLOCKED, EXIT_ERROR, EXIT_OK
from labelgate.serving.prediction_log import PredictionLog
from labelgate.validation.drift import build_profile
from labelgate.validation.settings import ValidationSettings

ROOT = Path(__file__).resolve().parents[2]
LFS = ROOT / "examples" / "youtube_spam" / "lfs.py"
CLASSES = ["ham", "spam"]


@pytest.fixture(scope="module")
def comments(example_data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reference, traffic): random halves of the example's comments (the held-out Shakira video alone does
    drift from the other four: its comments are longer and link less)."""
    frame = pd.concat([pd.read_csv(p) for p in sorted(example_data.glob("*.csv"))], ignore_index=True)
    traffic = frame.sample(frac=0.5, random_state=0)
    return frame.drop(traffic.index).reset_index(drop=True), traffic.reset_index(drop=True)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, comments: tuple[pd.DataFrame, pd.DataFrame],
           example_config: Path) -> Path:
    """A bundle as the registry stores a version: profile.json beside model/, which keeps its LFs and config."""
    reference, _ = comments
    root = tmp_path_factory.mktemp("bundle")
    (root / "model").mkdir()
    shutil.copyfile(LFS, root / "model" / LF_MODULE_FILE)
    shutil.copyfile(example_config, root / "model" / TRAINING_CONFIG_FILE)
    applier = LFApplier(load_lfs(str(LFS)), cardinality=2, classes=CLASSES)
    gold = reference["CLASS"].to_numpy(dtype=int)
    probs = pd.DataFrame({prob_column(0): 1.0 - gold, prob_column(1): gold.astype(float), "covered": True})
    applied = applier.apply_frame(reference)
    profile = build_profile(frame=reference, label_matrix=applied.matrix, lf_names=applied.lf_names, probs=probs,
                            settings=ValidationSettings())
    (root / PROFILE_FILE).write_text(json.dumps(profile))
    return root


def _log(directory: Path, texts: list[str], spam: np.ndarray, *, privacy: str = "text") -> Path:
    """A prediction log of ``texts`` answered with spam probability ``spam``, as the server writes it."""
    log = PredictionLog(directory, privacy=privacy, start=False, queue_size=len(texts) + 1)  # type: ignore[arg-type]
    probs = np.column_stack([1.0 - spam, spam])
    for start in range(0, len(texts), 50):
        log.offer(model="spam", version="7", texts=texts[start:start + 50], probs=probs[start:start + 50],
                  classes=CLASSES)
    log.close()
    return directory


def _run(log: Path, bundle: Path, out: Path, *extra: str) -> int:
    return main(["monitor", "--log", str(log), "--bundle", str(bundle), "--out", str(out), *extra])


def test_undrifted_traffic_passes(comments, bundle: Path, tmp_path: Path, capsys) -> None:
    _, traffic = comments
    sample = traffic.sample(300, random_state=0)
    log = _log(tmp_path / "log", sample["CONTENT"].tolist(), sample["CLASS"].to_numpy(dtype=float) * 0.9 + 0.05)
    assert _run(log, bundle, tmp_path / "out") == EXIT_OK, capsys.readouterr().out
    record = json.loads((tmp_path / "out" / "monitor.json").read_text())
    names = {f["name"] for f in record["findings"]}
    assert {"drift: CONTENT length (chars)", "drift: predicted class shares"} <= names
    assert any(n.startswith("drift: LF '") for n in names)
    assert sum(row["served_coverage"] > 0 for row in record["lf_votes"]) >= 3  # the champion's LFs ran on traffic
    html = (tmp_path / "out" / "monitor.html").read_text()
    assert "no drift" in html and "data:image/png;base64," in html
    assert "| check |" in (tmp_path / "out" / "monitor.md").read_text()


def test_drifted_traffic_is_blocked_naming_the_checks(bundle: Path, tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "tempor"]
    texts = [" ".join(rng.choice(words, size=int(rng.integers(60, 120)))) for _ in range(300)]
    log = _log(tmp_path / "log", texts, np.full(len(texts), 0.02))  # long texts, all answered ham
    assert _run(log, bundle, tmp_path / "out") == EXIT_BLOCKED
    out = capsys.readouterr().out
    assert "DRIFT" in out
    failed = {f["name"] for f in json.loads((tmp_path / "out" / "monitor.json").read_text())["findings"]
              if not f["passed"] and f["severity"] == "critical"}
    assert "drift: CONTENT length (chars)" in failed and "drift: predicted class shares" in failed
    assert any(name.startswith("drift: LF '") and name.endswith("coverage") for name in failed)  # collapsed
    for name in failed:
        assert name in out


def test_hashed_logs_say_lf_monitoring_is_off(comments, bundle: Path, tmp_path: Path, capsys) -> None:
    _, traffic = comments
    sample = traffic.sample(300, random_state=1)
    log = _log(tmp_path / "log", sample["CONTENT"].tolist(), sample["CLASS"].to_numpy(dtype=float), privacy="hash")
    assert _run(log, bundle, tmp_path / "out") == EXIT_OK
    out = capsys.readouterr().out
    assert "LF monitoring is off" in out and "hash" in out
    record = json.loads((tmp_path / "out" / "monitor.json").read_text())
    assert [f["name"] for f in record["findings"]] == ["drift: predicted class shares"]
    assert record["lf_votes"] == []


def test_too_few_rows_is_a_clear_error(bundle: Path, tmp_path: Path, capsys) -> None:
    log = _log(tmp_path / "log", ["hello there", "nice song"], np.array([0.1, 0.2]))
    assert _run(log, bundle, tmp_path / "out") == EXIT_ERROR
    err = capsys.readouterr().err
    assert "too few served rows" in err and "2 in the prediction log" in err and "min_rows" in err


def test_since_keeps_a_window(comments, bundle: Path, tmp_path: Path, capsys) -> None:
    _, traffic = comments
    sample = traffic.sample(300, random_state=2)
    log = _log(tmp_path / "log", sample["CONTENT"].tolist(), sample["CLASS"].to_numpy(dtype=float))
    assert _run(log, bundle, tmp_path / "out", "--since", "2999-01-01T00:00") == EXIT_ERROR
    assert "0 in the prediction log since 2999-01-01" in capsys.readouterr().err
    assert _run(log, bundle, tmp_path / "out", "--since", "1h") == EXIT_OK


def test_no_log_and_no_bundle_config_are_clear_errors(bundle: Path, tmp_path: Path, capsys) -> None:
    assert _run(tmp_path / "empty", bundle, tmp_path / "out") == EXIT_ERROR
    assert "no prediction-log files" in capsys.readouterr().err
    bare = tmp_path / "bare"
    shutil.copytree(bundle, bare)
    (bare / "model" / TRAINING_CONFIG_FILE).unlink()
    log = _log(tmp_path / "log", ["a text"] * 300, np.full(300, 0.5))
    assert _run(log, bare, tmp_path / "out") == EXIT_ERROR
    assert "--config" in capsys.readouterr().err


def test_monitor_reads_the_registry_champion_and_its_rows(comments, bundle: Path, model_dirs: list[Path],
                                                          registry_uri: str, blessing: Path, tmp_path: Path,
                                                          capsys) -> None:
    from labelgate.registry.push import push_model

    model_dir = tmp_path / "model"
    shutil.copytree(model_dirs[0], model_dir)
    for name in (LF_MODULE_FILE, TRAINING_CONFIG_FILE):  # as the train step keeps them
        shutil.copyfile(bundle / "model" / name, model_dir / name)
    push_model(model_dir=model_dir, profile_path=bundle / PROFILE_FILE, blessing_path=blessing,
               registry_uri=registry_uri, model_name="spam", run_key="runs/0/p", infra_validate=False)
    _, traffic = comments
    sample = traffic.sample(300, random_state=3)
    log = _log(tmp_path / "log", sample["CONTENT"].tolist(), sample["CLASS"].to_numpy(dtype=float))  # version "7"
    args = ["monitor", "--log", str(log), "--registry-uri", registry_uri, "--model-name", "spam",
            "--out", str(tmp_path / "out")]
    assert main(args) == EXIT_ERROR  # the champion is version 1: no row was served by it
    assert "by version 1" in capsys.readouterr().err
    assert main([*args, "--all-versions"]) == EXIT_OK
    assert "version 1" in (tmp_path / "out" / "monitor.md").read_text()


def test_a_typo_in_the_monitoring_section_fails_preflight(tmp_path: Path, example_config: Path) -> None:
    from labelgate.config import load_config
    from labelgate.errors import ConfigError
    from labelgate.monitoring.settings import MonitoringSettings

    assert MonitoringSettings.from_section(load_config(example_config)["monitoring"]).min_rows == 300
    bad = tmp_path / "config.yaml"
    bad.write_text(example_config.read_text().replace("  min_rows: 300", "  min_row: 300"))
    with pytest.raises(ConfigError, match="monitoring.min_row.*did you mean 'min_rows'"):
        MonitoringSettings.from_section(load_config(bad)["monitoring"])
