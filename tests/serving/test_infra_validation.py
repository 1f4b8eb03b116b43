"""Infra-validation starts the real server on a candidate and refuses one that serves wrongly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labelgate.errors import ServingError
from labelgate.serving.infra import infra_validate

pytestmark = pytest.mark.slow


@pytest.fixture
def test_loaders(monkeypatch: pytest.MonkeyPatch) -> None:
    here = str(Path(__file__).parent)
    monkeypatch.syspath_prepend(here)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("LG_TEST_PARENT_PID", str(os.getpid()))


def test_good_candidate_passes(model_dirs: list[Path]) -> None:
    report = infra_validate(model_dir=model_dirs[0], model_name="spam")
    assert report.passed and report.max_abs_diff <= 1e-5
    assert report.bad_request_status == 400 and report.requests == 5


def test_candidate_serving_other_predictions_is_refused(model_dirs: list[Path], test_loaders: None) -> None:
    with pytest.raises(ServingError, match="differ from the offline predictions"):
        infra_validate(model_dir=model_dirs[0], model_name="spam", loader="lg_test_loaders:skewed")


def test_candidate_whose_server_crashes_is_refused_with_its_log(model_dirs: list[Path], test_loaders: None) -> None:
    with pytest.raises(ServingError, match="exited with code 1 before it was ready(.|\n)*libfoo.so"):
        infra_validate(model_dir=model_dirs[0], model_name="spam", loader="lg_test_loaders:crashing")


def test_candidate_that_does_not_load_offline_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text("{}")
    with pytest.raises(ServingError, match="does not load or predict offline"):
        infra_validate(model_dir=tmp_path, model_name="spam")
