"""`labelgate models list | promote | rollback` through the real command line entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelgate.cli import main
from labelgate.registry.push import push_model


def test_models_commands(registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--registry-uri", registry_uri, "--model-name", "spam"]
    assert main(["models", "list", *common]) == 1
    assert "no registered model named 'spam'" in capsys.readouterr().err
    for i in (0, 1):
        push_model(model_dir=model_dirs[i], profile_path=profile, blessing_path=blessing, registry_uri=registry_uri,
                   model_name="spam", run_key=f"runs/{i}", infra_validate=False)
    capsys.readouterr()

    assert main(["models", "list", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "2 version(s)" in lines[0]
    assert main(["models", "list", "--registry-uri", registry_uri]) == 0  # no name: every model, its champion
    every = capsys.readouterr().out.splitlines()
    assert "1 registered model(s)" in every[0] and every[2].split() == ["spam", "2", "2"]
    row2, row1 = lines[2].split(), lines[3].split()
    assert row2[:3] == ["2", "verified", "champion"] and row2[5:7] == ["0.9000", "-"]
    assert row1[:3] == ["1", "verified", "-"]

    assert main(["models", "rollback", *common]) == 0
    assert "version 1 (rolled back from 2)" in capsys.readouterr().out
    assert main(["models", "rollback", *common]) == 1
    assert "nothing to roll back to" in capsys.readouterr().err
    assert main(["models", "promote", "2", *common]) == 0
    assert "champion of spam: version 2 (was 1)" in capsys.readouterr().out
    assert main(["models", "promote", "9", *common]) == 1
    assert "has no version '9'" in capsys.readouterr().err
