"""The registry's decisions on tagged versions, without pushing bundles: which status may become champion,
what rollback walks back to, what the listing reports. Versions are created straight in a SQLite
registry with the status tag a push would leave; ``verify=False`` skips the bundle check (tested with
real pushes in test_promote_verifies.py)."""

from __future__ import annotations

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
    with pytest.raises(ChampionMovedError, match=r"the champion is version 1, not version 2"):
        promote(registry_uri, "spam", v2, verify=False, expected=v2)
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


@pytest.mark.parametrize("history", ["not json", '{"a": 1}', "[]"])
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
    with pytest.raises(ChampionMovedError, match=r"the champion is version 2, not version 1 as expected, so the "
                                                 r"rollback was not done"):
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
