"""Resuming a run: kfp.local's task cache, keyed on content digests, reuses an earlier run's unchanged steps."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Markdown, Metrics, Output

from labelgate.cli.pipeline import earlier_run
from labelgate.errors import ConfigError
from labelgate.pipelines.local import CACHE_DIR, REUSED, _task_cache_on, run_local
from labelgate.preflight import content_digests
from labelgate.run import DIGESTS, EXIT_ERROR, EXIT_OK, NEVER_REUSED


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def ingest(data_digest: str, data: Output[Dataset], metrics: Output[Metrics]):
    import time

    open(data.path, "w").write(f"rows read at {time.time()}")
    metrics.log_metric("rows", 3)  # metadata only: kfp.local writes no file for it


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def push(data: Input[Dataset], fail: bool, pushed: Output[Markdown]) -> str:
    if fail:
        raise SystemExit("forced failure")
    open(pushed.path, "w").write(open(data.path).read())
    return "1"


@dsl.pipeline(name="resume-test")
def tiny(data_digest: str = "a", fail: bool = False):
    got = ingest(data_digest=data_digest)
    push(data=got.outputs["data"], fail=fail)


def _steps(summary) -> dict[str, str]:
    return {s["name"]: s["status"] for s in summary.steps if s["name"] in ("ingest", "push")}


def test_a_resumed_run_reuses_the_unchanged_step_and_runs_the_failed_one(tmp_path):
    first = run_local(pipeline_func=tiny, arguments={"data_digest": "a", "fail": True}, runs_dir=tmp_path,
                      run_id="first", echo=lambda line: None)
    assert first.exit_code == EXIT_ERROR and _steps(first) == {"ingest": "ok", "push": "FAILED"}
    assert list((tmp_path / "first" / CACHE_DIR).glob("*.json")), "the finished step is in the run's cache"

    lines: list[str] = []
    second = run_local(pipeline_func=tiny, arguments={"data_digest": "a", "fail": False}, runs_dir=tmp_path,
                       run_id="second", echo=lines.append, resume_from=tmp_path / "first")
    assert second.exit_code == EXIT_OK, second.outcome
    assert _steps(second) == {"ingest": REUSED, "push": "ok"}
    assert second.resumed_from == "first"
    assert any("reused" in line and "ingest" in line for line in lines)
    # The reused step's outputs are the first run's, linked where this run's steps are.
    task_root = Path(second.location) / next(p.name for p in Path(second.location).iterdir()
                                             if p.name.startswith("resume-test"))
    assert (task_root / "ingest").is_symlink()
    assert (task_root / "ingest").resolve().is_relative_to((tmp_path / "first").resolve())
    pushed = (task_root / "push" / "pushed").read_text()
    assert pushed == (task_root / "ingest" / "data").read_text()

    # Changed content (another digest) runs the step again, and everything after it.
    third = run_local(pipeline_func=tiny, arguments={"data_digest": "b", "fail": False}, runs_dir=tmp_path,
                      run_id="third", echo=lambda line: None, resume_from=tmp_path / "second")
    assert _steps(third) == {"ingest": "ok", "push": "ok"}
    # A plain run (no resume) starts from an empty cache: nothing is reused.
    fourth = run_local(pipeline_func=tiny, arguments={"data_digest": "a", "fail": False}, runs_dir=tmp_path,
                       run_id="fourth", echo=lambda line: None)
    assert _steps(fourth) == {"ingest": "ok", "push": "ok"}


def test_the_cache_is_switched_on_for_the_local_run_only_and_never_for_push(tmp_path):
    from labelgate.pipelines.training import pipeline

    def flags() -> dict[str, bool]:
        spec = pipeline.pipeline_spec
        dags = [spec.root.dag, *(c.dag for c in spec.components.values() if c.HasField("dag"))]
        return {name: task.caching_options.enable_cache for dag in dags for name, task in dag.tasks.items()}

    before = flags()
    assert not any(before.values()), "the cluster settings keep kfp's cache off"
    with _task_cache_on(pipeline):
        during = flags()
    assert all(on for name, on in during.items() if name not in NEVER_REUSED) and not during["push"]
    assert flags() == before
    compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(tmp_path / "p.yaml"))
    assert "enableCache: true" not in (tmp_path / "p.yaml").read_text()


def _files(tmp_path: Path) -> dict[str, object]:
    for name, text in {"lfs.py": "LFS = []\n", "config.yaml": "data: {}\n", "suite.json": "{}",
                       "constraints.txt": ""}.items():
        (tmp_path / name).write_text(text)
    return {"lf_module": str(tmp_path / "lfs.py"), "config_path": str(tmp_path / "config.yaml"),
            "suite_path": str(tmp_path / "suite.json"), "constraints_path": str(tmp_path / "constraints.txt")}


def test_each_digest_follows_only_its_own_content(tmp_path):
    arguments = _files(tmp_path)
    report = SimpleNamespace(ingested=SimpleNamespace(fingerprint="data-1"))
    base = content_digests(report, arguments, champion="none")
    assert set(base) == set(DIGESTS)
    assert content_digests(report, arguments, champion="none") == base

    def changed(**kwargs) -> set[str]:
        now = content_digests(kwargs.pop("report", report), arguments, champion=kwargs.pop("champion", "none"))
        return {name for name in base if now[name] != base[name]}

    (tmp_path / "lfs.py").write_text("LFS = []  # edited\n")
    assert changed() == {"lfs_digest"}
    (tmp_path / "lfs.py").write_text("LFS = []\n")
    # A copy of the same file elsewhere is the same content.
    (tmp_path / "moved").mkdir()
    (tmp_path / "moved" / "lfs.py").write_text("LFS = []\n")
    assert content_digests(report, {**arguments, "lf_module": str(tmp_path / "moved" / "lfs.py")},
                           champion="none") == base
    (tmp_path / "constraints.txt").write_text("t1&EQ(t1.a,t2.a)\n")
    assert changed() == {"suite_digest"}
    (tmp_path / "constraints.txt").write_text("")
    (tmp_path / "config.yaml").write_text("data: {text_column: X}\n")
    assert changed() == {"setup_digest"}
    (tmp_path / "config.yaml").write_text("data: {}\n")
    assert changed(report=SimpleNamespace(ingested=SimpleNamespace(fingerprint="data-2"))) == {"data_digest"}
    assert changed(champion="youtube-spam@3") == {"champion_digest"}
    # Unread data matches no run.
    unread = SimpleNamespace(ingested=None)
    assert content_digests(unread, arguments, champion="none")["data_digest"] != \
        content_digests(unread, arguments, champion="none")["data_digest"]


def test_resume_names_what_is_wrong(tmp_path):
    with pytest.raises(ConfigError, match="no finished run"):
        earlier_run("nope", runs_dir=str(tmp_path), run_id=None, runner="subprocess")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "summary.json").write_text(json.dumps({"flags": {"data_uri": "d", "bogus": 1}}))
    with pytest.raises(ConfigError, match=CACHE_DIR):
        earlier_run("old", runs_dir=str(tmp_path), run_id=None, runner="subprocess")
    (tmp_path / "old" / CACHE_DIR).mkdir()
    with pytest.raises(ConfigError, match="subprocess runner"):
        earlier_run("old", runs_dir=str(tmp_path), run_id=None, runner="docker")
    with pytest.raises(ConfigError, match="another --run-id"):
        earlier_run("old", runs_dir=str(tmp_path), run_id="old", runner="subprocess")
    folder, flags = earlier_run("old", runs_dir=str(tmp_path), run_id=None, runner="subprocess")
    assert folder == (tmp_path / "old").resolve() and flags == {"data_uri": "d"}
