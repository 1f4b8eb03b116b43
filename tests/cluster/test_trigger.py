"""`labelgate trigger`: a run per batch of new files, state kept so that no file starts two runs."""

from __future__ import annotations

import json

import pytest

from labelgate.cli import main
from labelgate.cluster import trigger
from labelgate.cluster.kfp_api import ClusterError
from labelgate.errors import ConfigError


def _write(folder, name, text="COMMENT_ID,CONTENT,CLASS\n1,hi,0\n"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    def __call__(self, files: list[str]) -> str:
        if self.fail:
            raise ClusterError("KFP said no")
        self.batches.append(files)
        return f"run-{len(self.batches)}"


def test_each_file_starts_one_run_only(tmp_path):
    data, state = tmp_path / "incoming", str(tmp_path / "state" / "trigger.json")
    _write(data, "a.csv")
    _write(data, "b.csv")
    submit = Recorder()
    first = trigger.check(data_uri=str(data), state_uri=state, submit=submit)
    assert [f.rsplit("/", 1)[-1] for f in first.new_files] == ["a.csv", "b.csv"] and first.run_id == "run-1"

    again = trigger.check(data_uri=str(data), state_uri=state, submit=submit)
    assert again.new_files == [] and again.run_id is None and again.already_processed == 2

    _write(data, "c.csv")
    _write(data, "notes.txt", "not data")  # ignored: not a data file
    third = trigger.check(data_uri=str(data), state_uri=state, submit=submit)
    assert [f.rsplit("/", 1)[-1] for f in third.new_files] == ["c.csv"]
    assert len(submit.batches) == 2
    recorded = json.loads(open(state).read())["processed"]
    assert {k.rsplit("/", 1)[-1]: v["run_id"] for k, v in recorded.items()} == {
        "a.csv": "run-1", "b.csv": "run-1", "c.csv": "run-2"}


def test_a_failed_submission_records_nothing_and_is_retried(tmp_path):
    data, state = tmp_path / "incoming", str(tmp_path / "trigger.json")
    _write(data, "a.csv")
    with pytest.raises(ClusterError):
        trigger.check(data_uri=str(data), state_uri=state, submit=Recorder(fail=True))
    assert trigger.load_state(state)["processed"] == {}
    retry = trigger.check(data_uri=str(data), state_uri=state, submit=Recorder())
    assert retry.run_id == "run-1" and len(retry.new_files) == 1


def test_dry_run_and_empty_folders_submit_nothing(tmp_path):
    state = str(tmp_path / "trigger.json")
    submit = Recorder()
    assert trigger.check(data_uri=str(tmp_path / "missing"), state_uri=state, submit=submit).new_files == []
    _write(tmp_path / "incoming", "a.csv")
    dry = trigger.check(data_uri=str(tmp_path / "incoming"), state_uri=state, submit=submit, dry_run=True)
    assert len(dry.new_files) == 1 and dry.run_id is None
    assert submit.batches == [] and not (tmp_path / "trigger.json").exists()


def test_a_broken_state_file_is_an_error_not_a_reset(tmp_path):
    state = tmp_path / "trigger.json"
    state.write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable"):
        trigger.load_state(str(state))
    state.write_text(json.dumps({"version": 1}))
    with pytest.raises(ConfigError, match="'processed'"):
        trigger.load_state(str(state))


def test_s3_data_and_state_through_the_data_secret_variables(tmp_path, monkeypatch):
    """Data and state in an S3 bucket (moto on loopback), reached only through the variables the pipeline's
    `labelgate-data` secret provides (AWS_ENDPOINT_URL and keys), as the ingest step does on a cluster."""
    import moto.server as moto_server
    import s3fs

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://{host}:{port}"}.items():
            monkeypatch.setenv(key, value)
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        fs.mkdir("incoming")
        fs.pipe("incoming/youtube/a.csv", b"COMMENT_ID,CONTENT,CLASS\n1,hi,0\n")
        submit = Recorder()
        first = trigger.check(data_uri="s3://incoming/youtube", state_uri="s3://incoming/state/trigger.json",
                              submit=submit)
        assert first.new_files == ["s3://incoming/youtube/a.csv"]
        fs.invalidate_cache()
        fs.pipe("incoming/youtube/b.csv", b"COMMENT_ID,CONTENT,CLASS\n2,yo,1\n")
        second = trigger.check(data_uri="s3://incoming/youtube", state_uri="s3://incoming/state/trigger.json",
                               submit=submit)
        assert second.new_files == ["s3://incoming/youtube/b.csv"]
        assert submit.batches == [["s3://incoming/youtube/a.csv"], ["s3://incoming/youtube/b.csv"]]
    finally:
        server.stop()


def test_cli_trigger_submits_against_the_api(kfp_server, small_package, tmp_path, capsys):
    data = tmp_path / "incoming"
    _write(data, "a.csv")
    args = ["trigger", "--data-uri", str(data), "--state", str(tmp_path / "state.json"), "--host", kfp_server.url,
            "--package", str(small_package), "--param", "seed=5"]
    assert main(args) == 0
    run_call = next(c for c in kfp_server.state.calls if c.path == "/apis/v2beta1/runs")
    assert run_call.body["runtime_config"]["parameters"] == {"data_uri": str(data), "seed": 5}
    assert "run run-" in capsys.readouterr().out

    calls = len(kfp_server.state.calls)
    assert main(args) == 0
    assert "no new data files" in capsys.readouterr().out
    assert len(kfp_server.state.calls) == calls  # nothing new: the API is not even contacted


def test_cli_trigger_uses_the_latest_version_already_uploaded(kfp_server, small_package, tmp_path, capsys):
    assert main(["submit", "--host", kfp_server.url, "--package", str(small_package)]) == 0
    data = tmp_path / "incoming"
    _write(data, "a.csv")
    assert main(["trigger", "--data-uri", str(data), "--state", str(tmp_path / "s.json"),
                 "--host", kfp_server.url, "--param", "seed=4"]) == 0
    runs = [c for c in kfp_server.state.calls if c.path == "/apis/v2beta1/runs"]
    assert len(runs) == 2 and runs[-1].body["runtime_config"]["parameters"]["seed"] == 4
    assert not any(c.path.endswith("upload_version") for c in kfp_server.state.calls)
