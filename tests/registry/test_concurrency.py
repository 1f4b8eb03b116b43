"""Champion moves are compare-and-set, and the history stays exact, when N processes push, promote and
roll back at once: against a local SQLite registry and an MLflow tracking server over HTTP."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labelgate.champion import champion_version
from labelgate.errors import ChampionMovedError
from labelgate.registry.push import NOT_PROMOTED_TAG, evaluated_champion, push_model
from labelgate.registry.store import HISTORY_TAG, STATUS_TAG, open_client, promote

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("workers.py")


def run_together(tmp_path: Path, verb: str, specs: list[dict], timeout_s: float = 600) -> list[tuple[int, str]]:
    """Start one worker per spec, release them at once, and return (exit code, output) in spec order."""
    go = tmp_path / "go"
    procs = []
    for i, spec in enumerate(specs):
        spec = {**spec, "ready": str(tmp_path / f"ready-{verb}-{i}"), "go": str(go)}
        procs.append((subprocess.Popen([sys.executable, str(WORKER), verb, json.dumps(spec)], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True), Path(spec["ready"])))
    deadline = time.monotonic() + timeout_s
    while not all(ready.exists() for _, ready in procs):
        assert time.monotonic() < deadline, "workers never got ready"
        assert all(p.poll() is None for p, _ in procs), [p.communicate()[0] for p, _ in procs if p.poll() is not None]
        time.sleep(0.05)
    go.touch()
    results = [(p.wait(timeout=timeout_s), p.stdout.read()) for p, _ in procs]
    go.unlink()
    for i, (code, out) in enumerate(results):  # shown in full when a test fails (its message is cut short)
        print(f"--- worker {i} ({verb}) exited {code}:\n{out}")
    return results


def _push(model_dir: Path, uri: str, name: str, profile: Path, blessing: Path, run: str) -> str:
    return push_model(model_dir=model_dir, profile_path=profile, blessing_path=blessing, registry_uri=uri,
                      model_name=name, run_key=run, infra_validate=False).version


def _history(uri: str, name: str) -> list[str]:
    return json.loads(open_client(uri).get_registered_model(name).tags[HISTORY_TAG])


def _chains(start: str, moves: list[tuple[str, str]]) -> list[list[str]]:
    """Every order of the (was, now) moves in which each starts from where the previous one left the
    champion; returned as the sequence of targets."""
    if not moves:
        return [[]]
    found = []
    for i, (was, now) in enumerate(moves):
        if was == start:
            found += [[now, *rest] for rest in _chains(now, moves[:i] + moves[i + 1:])]
    return found


def _history_after(history: list[str], targets: list[str]) -> list[str]:
    out = list(history)
    for target in targets:
        if out[-1] != target:
            out.append(target)
    return out


@pytest.fixture
def three_versions(any_registry: tuple[str, str], model_dirs: list[Path], profile: Path,
                   blessing: Path) -> tuple[str, str]:
    uri, name = any_registry
    for i in range(3):
        _push(model_dirs[i], uri, name, profile, blessing, run=f"runs/{name}/{i}")
    assert champion_version(open_client(uri), name) == "3" and _history(uri, name) == ["1", "2", "3"]
    return uri, name


def test_concurrent_promotes_form_one_chain_and_an_exact_history(three_versions: tuple[str, str],
                                                                  tmp_path: Path) -> None:
    uri, name = three_versions
    targets = ["1", "2", "3", "1", "2", "1"]
    results = run_together(tmp_path, "cli", [
        {"args": ["models", "promote", v, "--registry-uri", uri, "--model-name", name]} for v in targets])
    moves = []
    for (code, out), target in zip(results, targets, strict=True):
        assert code == 0, out
        found = re.search(rf"champion of {name}: version (\d+) \(was (\w+)\)", out)
        assert found and found.group(1) == target, out
        moves.append((found.group(2), target))
    # Each promote reports the champion it really replaced: the moves line up into one chain from 3 ...
    chains = _chains("3", moves)
    assert chains, f"no order of the promotes explains what they reported: {moves}; {results}; {_history(uri, name)}"
    # ... which ends at the champion, and the history tag is that chain: nothing lost, nothing phantom.
    final, history = champion_version(open_client(uri), name), _history(uri, name)
    assert any(chain[-1] == final and _history_after(["1", "2", "3"], chain) == history for chain in chains), \
        (moves, final, history)


def test_compare_and_set_promotes_let_exactly_one_win(three_versions: tuple[str, str], tmp_path: Path) -> None:
    uri, name = three_versions
    targets = ["1", "2", "1", "2", "1", "2"]
    results = run_together(tmp_path, "cli", [
        {"args": ["models", "promote", v, "--expect-champion", "3", "--registry-uri", uri, "--model-name", name]}
        for v in targets])
    winners = [t for (code, _), t in zip(results, targets, strict=True) if code == 0]
    assert len(winners) == 1, results
    for code, out in results:
        assert code == 0 or (code == 3 and "not version 3 as expected" in out and "was not done" in out), out
    assert champion_version(open_client(uri), name) == winners[0]
    assert _history(uri, name) == ["1", "2", "3", winners[0]]


def test_compare_and_set_rollback_refuses_a_moved_champion(three_versions: tuple[str, str]) -> None:
    uri, name = three_versions
    from labelgate.registry.store import rollback

    with pytest.raises(ChampionMovedError, match="champion is version 3, not version 2"):
        rollback(uri, name, expected="2")
    assert rollback(uri, name, expected="3") == ("3", "2")
    with pytest.raises(ChampionMovedError, match="champion is version 2, not version 3"):
        promote(uri, name, "1", expected="3")
    assert _history(uri, name) == ["1", "2"] and champion_version(open_client(uri), name) == "2"


def test_concurrent_pushes_promote_only_against_the_champion_they_were_evaluated_with(
        any_registry: tuple[str, str], model_dirs: list[Path], profile: Path, tmp_path: Path) -> None:
    uri, name = any_registry
    first = tmp_path / "first.json"
    first.write_text(json.dumps({"blessed": True, "reason": "first", "champion_version": None}))
    assert _push(model_dirs[0], uri, name, profile, first, run=f"runs/{name}/first") == "1"
    evaluated = tmp_path / "against-1.json"
    evaluated.write_text(json.dumps({"blessed": True, "reason": "better than version 1", "champion_version": "1"}))
    specs = [{"push": {"model_dir": str(model_dirs[i]), "profile_path": str(profile), "blessing_path": str(evaluated),
                       "registry_uri": uri, "model_name": name, "run_key": f"runs/{name}/p{i}",
                       "infra_validate": False}} for i in (1, 2, 1)]
    results = run_together(tmp_path, "push", specs)
    pushed = [re.search(r"pushed (\d+) \(was (\w+)\)", out) for _, out in results]
    winners = [m.group(1) for m in pushed if m]
    assert len(winners) == 1 and [m.group(2) for m in pushed if m] == ["1"], results
    losers = [out for code, out in results if code == 3]
    assert len(losers) == 2 and all("was NOT promoted" in out and "not version 1 as expected" in out
                                    for out in losers), results
    client = open_client(uri)
    assert champion_version(client, name) == winners[0]
    assert _history(uri, name) == ["1", winners[0]]
    versions = {str(mv.version): mv for mv in client.search_model_versions(f"name = '{name}'")}
    assert sorted(versions) == ["1", "2", "3", "4"]
    for number, mv in versions.items():
        assert mv.tags[STATUS_TAG] == "verified"  # the losers are kept, verified, promotable by hand
        assert (NOT_PROMOTED_TAG in mv.tags) == (number not in ("1", winners[0]))
        if number != "1":
            assert mv.tags["labelgate.evaluated_against"] == "1"


def test_a_push_evaluated_against_an_older_champion_stops_with_the_reason(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path, tmp_path: Path) -> None:
    _push(model_dirs[0], registry_uri, "spam", profile, blessing, run="runs/1")
    _push(model_dirs[1], registry_uri, "spam", profile, blessing, run="runs/2")
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({"blessed": True, "reason": "beats version 1", "champion_version": "1"}))
    with pytest.raises(ChampionMovedError, match=r"version 3 is registered and verified but was NOT promoted.*"
                                                 r"champion is version 2, not version 1"):
        _push(model_dirs[2], registry_uri, "spam", profile, stale, run="runs/3")
    client = open_client(registry_uri)
    assert champion_version(client, "spam") == "2" and _history(registry_uri, "spam") == ["1", "2"]
    version = client.get_model_version("spam", "3")
    assert version.tags[STATUS_TAG] == "verified" and "not version 1" in version.tags[NOT_PROMOTED_TAG]
    run = client.get_run(version.run_id)
    assert run.info.status == "FAILED" and run.data.tags["labelgate.push_state"] == "champion-moved"
    assert promote(registry_uri, "spam", "3", expected="2") == "2"  # by hand, knowingly


@pytest.mark.parametrize(("blessing", "expected"), [
    ({"champion_version": "4"}, "4"), ({"champion_version": None}, None),
    ({"champion_model_dir": "/tmp/labelgate-registry/ab/spam/7/model"}, "7"), ({"champion_model_dir": None}, None),
])
def test_the_evaluated_champion_is_read_from_the_blessing(blessing: dict, expected: str | None) -> None:
    assert evaluated_champion(blessing) == expected
