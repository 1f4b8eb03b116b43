"""`labelgate models promote|rollback --expect-champion`: a champion that moved meanwhile changes nothing
and exits 3 (blocked), as a gate does; the expected one lets the change through."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelgate.cli import main
from labelgate.registry.push import push_model
from labelgate.run import EXIT_BLOCKED


def test_a_moved_champion_blocks_promote_and_rollback(registry_uri: str, model_dirs: list[Path], profile: Path,
                                                      blessing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--registry-uri", registry_uri, "--model-name", "spam"]
    for i in (0, 1):
        push_model(model_dir=model_dirs[i], profile_path=profile, blessing_path=blessing, registry_uri=registry_uri,
                   model_name="spam", run_key=f"runs/{i}", infra_validate=False)
    capsys.readouterr()

    assert main(["models", "promote", "1", "--expect-champion", "1", *common]) == EXIT_BLOCKED
    assert capsys.readouterr().err.startswith("labelgate: ")
    assert main(["models", "rollback", "--expect-champion", "none", *common]) == EXIT_BLOCKED
    capsys.readouterr()
    assert main(["models", "list", *common]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[:3] == ["2", "verified", "champion"]  # unchanged

    assert main(["models", "promote", "1", "--expect-champion", "2", *common]) == 0
    assert "champion of spam: version 1 (was 2)" in capsys.readouterr().out
