"""The registry's decisions on tagged versions, without pushing bundles: which status may become champion,
what rollback walks back to, what the listing reports. Versions are created straight in a SQLite
registry with the status tag a push would leave; ``verify=False`` skips the bundle check (tested with
real pushes in test_promote_verifies.py)."""

from __future__ import annotations

import contextlib
import json

import pytest

from labelgate.champion import champion_version
from labelgate.errors import ChampionMovedError, RegistryError
from labelgate.registry.store import (
    ANY,
    CHAMPION_ALIAS,
    HISTORY_TAG,
    INPUTS_TAG,
    STATUS_TAG,
    champion_inputs,
    ensure_experiment,
    list_models,
    list_versions,
    open_client,
    promote,
    record_inputs,
    rollback,
)


def _versions(registry_uri: str, *statuses: str | None, name: str = "spam") -> list[str]:
    """One version per status (None: no status tag at all), in order; their version numbers."""
    client = open_client(registry_uri)
    client.create_registered_model(name)
    out = []
    for status in statuses:
        tags = {} if status is None else {STATUS_TAG: status}
        out.append(str(client.create_model_version(name, source=f"file:///nowhere/{len(out)}", tags=tags).version))
    return out


@pytest.mark.parametrize("status", ["registered", "failed", "pending", None])
def test_only_a_verified_version_can_become_champion(registry_uri: str, status: str | None) -> None:
    good, other = _versions(registry_uri, "verified", status)
    assert promote(registry_uri, "spam", good, verify=False) is None
    with pytest.raises(RegistryError, match=rf"version {other} is {status or 'unverified'}, not verified; only a "
                                            r"version whose push completed can become champion"):
        promote(registry_uri, "spam", other, verify=False)
    assert champion_version(open_client(registry_uri), "spam") == good


def test_promote_refuses_a_version_that_does_not_exist(registry_uri: str) -> None:
    _versions(registry_uri, "verified")
    with pytest.raises(RegistryError, match=r"model 'spam' has no version '7'"):
        promote(registry_uri, "spam", "7", verify=False)


def test_promote_returns_the_previous_champion_and_records_the_history(registry_uri: str) -> None:
    v1, v2, v3 = _versions(registry_uri, "verified", "verified", "verified")
    assert promote(registry_uri, "spam", v1, verify=False) is None
    assert promote(registry_uri, "spam", v2, verify=False, expected=v1) == v1
    assert promote(registry_uri, "spam", v2, verify=False) == v2  # promoting the champion again: no new entry
    assert promote(registry_uri, "spam", v3, verify=False, expected=v2) == v2
    client = open_client(registry_uri)
    assert json.loads(client.get_registered_model("spam").tags[HISTORY_TAG]) == [v1, v2, v3]
    assert champion_version(client, "spam") == v3


def test_promote_with_a_stale_expectation_changes_nothing(registry_uri: str) -> None:
    v1, v2 = _versions(registry_uri, "verified", "verified")
    promote(registry_uri, "spam", v1, verify=False, expected=None)
    with pytest.raises(ChampionMovedError, match=r"the champion is version 1, not none \(no champion\)"):
        promote(registry_uri, "spam", v2, verify=False, expected=None)
    with pytest.raises(ChampionMovedError) as caught:
        promote(registry_uri, "spam", v2, verify=False, expected=v2)
    assert str(caught.value) == (
        "model 'spam': the champion is version 1, not version 2 as expected, so promoting version 2 was not done "
        "(another push, promote or rollback moved it first). Look at `labelgate models list`, then run it again "
        "against the champion it shows (--expect-champion)")
    assert champion_version(open_client(registry_uri), "spam") == v1


def test_promote_after_the_alias_was_moved_by_hand_keeps_that_champion_in_the_history(registry_uri: str) -> None:
    v1, v2, v3 = _versions(registry_uri, "verified", "verified", "verified")
    promote(registry_uri, "spam", v1, verify=False)
    open_client(registry_uri).set_registered_model_alias("spam", CHAMPION_ALIAS, v2)  # e.g. in the MLflow UI
    assert promote(registry_uri, "spam", v3, verify=False) == v2
    assert rollback(registry_uri, "spam", verify=False) == (v3, v2)
    assert rollback(registry_uri, "spam", verify=False) == (v2, v1)


def test_rollback_walks_back_and_marks_the_version_it_left(registry_uri: str) -> None:
    v1, v2, v3 = _versions(registry_uri, "verified", "verified", "verified")
    for v in (v1, v2, v3):
        promote(registry_uri, "spam", v, verify=False)
    assert rollback(registry_uri, "spam", verify=False, expected=v3) == (v3, v2)
    client = open_client(registry_uri)
    assert champion_version(client, "spam") == v2
    assert client.get_model_version("spam", v3).tags.get("labelgate.rolled_back") == "true"
    assert client.get_model_version("spam", v2).tags.get("labelgate.rolled_back") is None
    assert json.loads(client.get_registered_model("spam").tags[HISTORY_TAG]) == [v1, v2]
    assert rollback(registry_uri, "spam", verify=False) == (v2, v1)
    with pytest.raises(RegistryError, match=r"version 1 is the first champion; there is nothing to roll back to"):
        rollback(registry_uri, "spam", verify=False)
    assert champion_version(client, "spam") == v1


def test_rollback_skips_repeated_entries_and_a_trailing_entry_the_alias_never_reached(registry_uri: str) -> None:
    v1, v2, v3 = _versions(registry_uri, "verified", "verified", "verified")
    client = open_client(registry_uri)
    # A crash between the history tag and the alias leaves v3 trailing; v2 twice in a row (promoted, then
    # moved by hand and back) must not make rollback stay on v2.
    client.set_registered_model_tag("spam", HISTORY_TAG, json.dumps([v1, v2, v2, v3]))
    client.set_registered_model_alias("spam", CHAMPION_ALIAS, v2)
    assert rollback(registry_uri, "spam", verify=False) == (v2, v1)
    assert json.loads(client.get_registered_model("spam").tags[HISTORY_TAG]) == [v1]


# The last two are JSON but not a list: iterating them gives "1", "2" (a dict's keys, a string's characters);
# read as a history they would roll version 2 back to version 1.
@pytest.mark.parametrize("history", ["not json", '{"a": 1}', "[]", '{"1": "a", "2": "b"}', '"12"'])
def test_rollback_with_an_unreadable_or_empty_history_refuses(registry_uri: str, history: str) -> None:
    v1, v2 = _versions(registry_uri, "verified", "verified")
    client = open_client(registry_uri)
    client.set_registered_model_alias("spam", CHAMPION_ALIAS, v2)
    client.set_registered_model_tag("spam", HISTORY_TAG, history)
    with pytest.raises(RegistryError, match=r"version 2 is the first champion"):
        rollback(registry_uri, "spam", verify=False)
    assert champion_version(client, "spam") == v2


def test_rollback_without_a_champion_or_with_a_stale_expectation_refuses(registry_uri: str) -> None:
    v1, v2 = _versions(registry_uri, "verified", "verified")
    with pytest.raises(RegistryError, match=r"model 'spam' has no champion to roll back"):
        rollback(registry_uri, "spam", verify=False)
    promote(registry_uri, "spam", v1, verify=False)
    promote(registry_uri, "spam", v2, verify=False)
    with pytest.raises(ChampionMovedError, match=r"^model 'spam': the champion is version 2, not version 1 as "
                                                 r"expected, so the rollback was not done \(another push"):
        rollback(registry_uri, "spam", verify=False, expected=v1)
    assert champion_version(open_client(registry_uri), "spam") == v2


def test_listing_shows_status_aliases_and_order(registry_uri: str) -> None:
    v1, v2, v3 = _versions(registry_uri, "verified", "failed", None)
    _versions(registry_uri, "verified", name="other")
    promote(registry_uri, "spam", v1, verify=False)
    rows = list_versions(registry_uri, "spam")
    assert [(r.version, r.status, r.aliases) for r in rows] == [
        (v3, "unknown", ()), (v2, "failed", ()), (v1, "verified", (CHAMPION_ALIAS,))]
    assert rows[0].created_ms > 0 and rows[0].source == "file:///nowhere/2" and rows[2].tags[STATUS_TAG] == "verified"
    assert list_models(registry_uri) == [("other", 1, None), ("spam", 3, v1)]
    with pytest.raises(RegistryError, match=r"no registered model named 'absent'"):
        list_versions(registry_uri, "absent")


def test_champion_inputs_follow_the_champion(registry_uri: str) -> None:
    v1, v2 = _versions(registry_uri, "verified", "verified")
    assert champion_inputs(registry_uri, "spam") == (None, None)
    promote(registry_uri, "spam", v1, verify=False)
    assert champion_inputs(registry_uri, "spam") == (v1, None)
    record_inputs(registry_uri, "spam", v1, "abc")
    record_inputs(registry_uri, "spam", v2, "def")
    assert champion_inputs(registry_uri, "spam") == (v1, "abc")
    assert open_client(registry_uri).get_model_version("spam", v2).tags[INPUTS_TAG] == "def"


def test_ensure_experiment_creates_once_with_artifacts_beside_the_database(registry_uri: str) -> None:
    client = open_client(registry_uri)
    first = ensure_experiment(client, registry_uri, "labelgate-test")
    assert ensure_experiment(client, registry_uri, "labelgate-test") == first
    location = client.get_experiment(first).artifact_location
    db_dir = registry_uri.removeprefix("sqlite:///").rsplit("/", 1)[0]
    assert location.endswith(f"{db_dir}/artifacts/labelgate-test")


def test_the_default_expectation_reads_as_any_in_signatures() -> None:
    import inspect

    assert "expected: 'str | None | _Any' = ANY" in str(inspect.signature(promote)) and repr(ANY) == "ANY"


def test_the_history_keeps_the_last_hundred_champions(registry_uri: str) -> None:
    v1, v2 = _versions(registry_uri, "verified", "verified")
    client = open_client(registry_uri)
    old = [str(n) for n in range(1000, 1100)]  # a hundred earlier champions
    client.set_registered_model_tag("spam", HISTORY_TAG, json.dumps(old))
    client.set_registered_model_alias("spam", CHAMPION_ALIAS, v1)  # moved by hand: it joins the history
    assert promote(registry_uri, "spam", v2, verify=False) == v1
    assert json.loads(client.get_registered_model("spam").tags[HISTORY_TAG]) == [*old[2:], v1, v2]


def test_a_version_given_as_a_number_is_recorded_as_text(registry_uri: str) -> None:
    v1, v2 = _versions(registry_uri, "verified", "verified")
    assert promote(registry_uri, "spam", int(v1), verify=False) is None
    assert promote(registry_uri, "spam", int(v2), verify=False, expected=int(v1)) == v1
    client = open_client(registry_uri)
    assert client.get_registered_model("spam").tags[HISTORY_TAG] == json.dumps([v1, v2])
    assert champion_version(client, "spam") == v2


def _another_process_first(monkeypatch: pytest.MonkeyPatch, change) -> list[str]:
    """Another process takes the registry lock just before ours and makes ``change``; returns the holder tag
    that model ``spam``'s lock carried each time ours was held (what a process waiting on it is told)."""
    from labelgate.registry import store
    from labelgate.registry.lock import HOLDER_TAG, lock_name

    real_lock, pending, holders = store.registry_lock, [change], []

    @contextlib.contextmanager
    def lock_after_the_other(client, model_name: str, **kwargs):
        while pending:
            pending.pop()()
        with real_lock(client, model_name, **kwargs) as held:
            holders.append(client.get_registered_model(lock_name("spam")).tags[HOLDER_TAG])
            yield held

    monkeypatch.setattr(store, "registry_lock", lock_after_the_other)
    return holders


def test_each_lock_names_what_its_holder_is_doing(registry_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    v1, v2 = _versions(registry_uri, "verified", "verified")
    holders = _another_process_first(monkeypatch, lambda: None)
    promote(registry_uri, "spam", v1, verify=False)
    promote(registry_uri, "spam", v2, verify=False, purpose="push")
    rollback(registry_uri, "spam", verify=False)
    assert [h.split(": ", 1)[1] for h in holders] == [
        f"promote spam version {v1}", f"push spam version {v2}", f"rollback spam from version {v2}"]


def test_a_version_marked_failed_while_it_was_verified_is_not_promoted(
        registry_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    v1, v2 = _versions(registry_uri, "verified", "verified")
    promote(registry_uri, "spam", v1, verify=False)
    client = open_client(registry_uri)
    _another_process_first(monkeypatch, lambda: client.set_model_version_tag("spam", v2, STATUS_TAG, "failed"))
    with pytest.raises(RegistryError, match=rf"version {v2} is failed, not verified"):
        promote(registry_uri, "spam", v2, verify=False)
    assert champion_version(client, "spam") == v1
    assert json.loads(client.get_registered_model("spam").tags[HISTORY_TAG]) == [v1]


def test_a_rollback_overtaken_by_a_promote_changes_nothing(registry_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    v1, v2, v3 = _versions(registry_uri, "verified", "verified", "verified")
    for v in (v1, v2, v3):
        promote(registry_uri, "spam", v, verify=False)
    _another_process_first(monkeypatch, lambda: promote(registry_uri, "spam", v1, verify=False))
    with pytest.raises(ChampionMovedError) as caught:
        rollback(registry_uri, "spam", verify=False)
    assert str(caught.value).startswith(
        f"model 'spam': the champion is version {v1}, not version {v3} as expected, so the rollback from version "
        f"{v3} to {v2} was not done (another push, promote or rollback moved it first)")
    client = open_client(registry_uri)
    assert champion_version(client, "spam") == v1
    assert json.loads(client.get_registered_model("spam").tags[HISTORY_TAG]) == [v1, v2, v3, v1]
    assert client.get_model_version("spam", v3).tags.get("labelgate.rolled_back") is None


def test_a_rollback_whose_history_changed_meanwhile_changes_nothing(
        registry_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    v1, v2, v3 = _versions(registry_uri, "verified", "verified", "verified")
    for v in (v1, v2, v3):
        promote(registry_uri, "spam", v, verify=False)
    client = open_client(registry_uri)
    # The champion is still v3, but the version before it is now v1: rolling back to v2 is no longer right.
    _another_process_first(monkeypatch, lambda: client.set_registered_model_tag("spam", HISTORY_TAG,
                                                                                json.dumps([v1, v3])))
    with pytest.raises(ChampionMovedError, match=r"^model 'spam': the champion history changed during the "
                                                 r"rollback \(another process moved it\); nothing was changed, "
                                                 r"run it again$"):
        rollback(registry_uri, "spam", verify=False)
    assert champion_version(client, "spam") == v3
    assert json.loads(client.get_registered_model("spam").tags[HISTORY_TAG]) == [v1, v3]
    assert client.get_model_version("spam", v3).tags.get("labelgate.rolled_back") is None


class _RacingClient:
    """A client whose first look for an experiment finds none because another step creates it just then
    (``create_as_well``), or whose create fails for a reason of its own (``create_error``)."""

    def __init__(self, client, *, create_as_well: bool, create_error: Exception | None = None) -> None:
        self._client, self._create_as_well, self._create_error, self._looked = (
            client, create_as_well, create_error, False)

    def get_experiment_by_name(self, name: str):
        if not self._looked:
            self._looked = True
            if self._create_as_well:
                self._client.create_experiment(name)
            return None
        return self._client.get_experiment_by_name(name)

    def create_experiment(self, name: str, **kwargs):
        if self._create_error is not None:
            raise self._create_error
        return self._client.create_experiment(name, **kwargs)


def test_ensure_experiment_reads_back_an_experiment_another_step_created_first(registry_uri: str) -> None:
    client = open_client(registry_uri)
    found = ensure_experiment(_RacingClient(client, create_as_well=True), registry_uri, "labelgate-race")
    assert found == client.get_experiment_by_name("labelgate-race").experiment_id


def test_ensure_experiment_raises_the_create_error_when_nobody_created_it(registry_uri: str) -> None:
    client = open_client(registry_uri)
    racing = _RacingClient(client, create_as_well=False, create_error=RegistryError("the store is read-only"))
    with pytest.raises(RegistryError, match="the store is read-only"):
        ensure_experiment(racing, registry_uri, "labelgate-absent")
    assert client.get_experiment_by_name("labelgate-absent") is None


def test_listing_skips_a_held_lock_and_sorts_a_version_s_aliases(registry_uri: str) -> None:
    from labelgate.registry.lock import registry_lock

    (v1,) = _versions(registry_uri, "verified")
    _versions(registry_uri, "verified", "verified", name="zeta")  # listed after the lock's name
    client = open_client(registry_uri)
    promote(registry_uri, "spam", v1, verify=False)
    client.set_registered_model_alias("spam", "backup", v1)
    with registry_lock(client, "spam", purpose="a listing test"):
        assert list_models(registry_uri) == [("spam", 1, v1), ("zeta", 2, None)]
    assert [r.aliases for r in list_versions(registry_uri, "spam")] == [("backup", CHAMPION_ALIAS)]


class _RecordingClient:
    """Stands in for a tracking server's client: records the artifact location each new experiment asks for."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    def get_experiment_by_name(self, name: str) -> None:
        return None

    def create_experiment(self, name: str, artifact_location: str | None = None) -> str:
        self.asked.append((name, artifact_location))
        return "17"


def test_ensure_experiment_leaves_a_remote_registry_s_artifact_location_to_the_server() -> None:
    client = _RecordingClient()
    assert ensure_experiment(client, "http://mlflow.example:5000", "labelgate-remote") == "17"
    assert client.asked == [("labelgate-remote", None)]
