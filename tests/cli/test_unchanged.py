"""A re-run whose inputs equal the champion's is reported as unchanged and pushes nothing."""

import json
from pathlib import Path

from labelgate.cli import main
from labelgate.preflight import inputs_fingerprint, preflight
from labelgate.registry.push import push_model
from labelgate.registry.store import list_versions, record_inputs
from tests.ingest.test_preflight import _project


def test_identical_inputs_push_nothing_and_a_changed_lf_does_not_match(
        tmp_path: Path, registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path, capsys) -> None:
    paths = _project(tmp_path)
    push_model(model_dir=model_dirs[0], profile_path=profile, blessing_path=blessing, registry_uri=registry_uri,
               model_name="own", run_key="runs/0", infra_validate=False)
    arguments = {**paths, "registry_uri": registry_uri, "model_name": "own"}
    flags = ["run", "--data", paths["data_uri"], "--lf-module", paths["lf_module"], "--config", paths["config_path"],
             "--suite", paths["suite_path"], "--constraints", paths["constraints_path"],
             "--registry-uri", registry_uri, "--model-name", "own", "--runs-dir", str(tmp_path / "runs"),
             "--run-id", "again"]
    from labelgate.cli.pipeline import RUN_FLAGS, resolved

    full = resolved(arguments)
    run_arguments = {dest: full[dest] for dest, _, _ in RUN_FLAGS.values()}  # what `labelgate run` passes
    fingerprint = inputs_fingerprint(preflight(**paths), run_arguments)
    record_inputs(registry_uri, "own", "1", fingerprint)
    capsys.readouterr()

    assert main(flags) == 0
    out = capsys.readouterr().out
    assert "unchanged: the data, LFs, config, suite, constraints, parameters and code are identical" in out
    assert "champion version 1" in out
    summary = json.loads((tmp_path / "runs" / "again" / "summary.json").read_text())
    assert summary["outcome"].startswith("unchanged") and summary["pushed"] is None
    assert [v.version for v in list_versions(registry_uri, "own")] == ["1"]

    Path(paths["lf_module"]).write_text(Path(paths["lf_module"]).read_text() + "\n# edited\n")
    assert inputs_fingerprint(preflight(**paths), run_arguments) != fingerprint
