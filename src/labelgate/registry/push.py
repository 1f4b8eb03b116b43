"""Push a blessed model: infra-validate it, register it in MLflow with everything it needs, verify the
stored copy, and only then move the ``champion`` alias.

Order matters. Until the alias moves, a crash (or a failed check) leaves a version tagged ``registered``
or ``failed`` that nothing serves, and the previous champion stays in place.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from labelgate.champion import (
    BLESSING_FILE,
    MANIFEST_TAG,
    MODEL_SUBDIR,
    champion_version,
    download_version,
    open_client,
)
from labelgate.errors import ChampionMovedError, RegistryError
from labelgate.registry import tracking
from labelgate.registry.bundle import build_bundle
from labelgate.registry.lease import DEFAULT_LEASE_S, FAILURE_TAG, PushLease, delete_bundle, reconcile
from labelgate.registry.store import BUNDLE_ARTIFACT_PATH, STATUS_TAG, ensure_experiment, promote
from labelgate.run import Step, progress
from labelgate.serving import infra as infra_check
from labelgate.serving.loader import DEFAULT_LOADER, ModelSource, load_model
from labelgate.serving.process import sigterm_raises

if TYPE_CHECKING:
    from mlflow import MlflowClient

INFRA_FILE = "infra_validation.json"
# On a version: the champion its blessing was evaluated against ("none": there was none), and, when the
# champion had moved by the time it was verified, why it was not promoted.
EVALUATED_AGAINST_TAG = "labelgate.evaluated_against"
NOT_PROMOTED_TAG = "labelgate.not_promoted"


@dataclass(frozen=True)
class PushResult:
    """What a push did, for the step's outputs and the run summary."""

    version: str
    previous: str | None
    run_id: str
    source: str
    infra: dict[str, Any]

    def to_markdown(self, model_name: str, registry_uri: str) -> str:
        previous = f"version {self.previous}" if self.previous else "none (first champion)"
        infra = self.infra
        return "\n".join([
            f"# Pushed `{model_name}` version {self.version}",
            "",
            f"- champion: version {self.version} (previous champion: {previous})",
            f"- registry: `{registry_uri}`; artifacts: `{self.source}`",
            f"- MLflow run: `{self.run_id}`",
            f"- infra-validation: server ready in {infra.get('startup_s', 'n/a')} s, {infra.get('requests', 0)} "
            f"requests, max |served - offline| = {infra.get('max_abs_diff', 'n/a')}, malformed request -> "
            f"HTTP {infra.get('bad_request_status', 'n/a')}",
            "",
            "Serve it: `make serve`. Undo it: `labelgate models rollback`.",
        ])


def read_blessing(path: str | Path) -> dict[str, Any]:
    """The evaluate step's blessing; refuses one that says the model is not blessed."""
    path = Path(path)
    try:
        blessing = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RegistryError(f"cannot read the blessing at {path}: {exc}") from exc
    if not isinstance(blessing, dict):
        raise RegistryError(f"the blessing at {path} must be a JSON object")
    if blessing.get("blessed") is False:
        raise RegistryError(f"the model is not blessed ({blessing.get('reason', 'no reason given')}); refusing to push")
    return blessing


def _offline(model_dir: Path, loader: str, texts: Sequence[str]) -> np.ndarray:
    predictor = load_model(ModelSource(model_dir=model_dir), loader).predictor
    return np.asarray(predictor.predict_proba(list(texts)), dtype=np.float64)


def verify_version(*, registry_uri: str, model_name: str, version: str, expected: np.ndarray,
                   texts: Sequence[str], loader: str) -> None:
    """Download the registered version afresh, check it against its manifest, load it and compare its
    predictions with the candidate's."""
    bundle = download_version(registry_uri, model_name, version, refresh=True)
    got = _offline(bundle / MODEL_SUBDIR, loader, texts)
    if got.shape != expected.shape or not np.allclose(got, expected, atol=1e-6):
        raise RegistryError(f"version {version} as stored predicts differently from the candidate that was validated")


class _Unchecked:
    def __repr__(self) -> str:
        return "UNCHECKED"


UNCHECKED = _Unchecked()


def evaluated_champion(blessing: Mapping[str, Any]) -> str | None | _Unchecked:
    """The champion the evaluate step compared the candidate with: ``champion_version`` in the blessing
    (None: there was no champion). A blessing that does not say (written by hand, or by an older
    evaluate) gives :data:`UNCHECKED`."""
    if "champion_version" in blessing:
        found = blessing["champion_version"]
        return None if found in (None, "") else str(found)
    if "champion_model_dir" in blessing:  # older evaluate: the verified copy's folder is named by version
        folder = blessing["champion_model_dir"]
        return None if not folder else Path(str(folder)).parent.name
    return UNCHECKED


def push_model(*, model_dir: str | Path, profile_path: str | Path | None, blessing_path: str | Path,
               registry_uri: str, model_name: str, run_key: str, lineage: Mapping[str, str] | None = None,
               model_metrics: Mapping[str, Any] | None = None, loader: str = DEFAULT_LOADER,
               infra_validate: bool = True,
               before_promote: Callable[[str, str], None] | None = None,
               lease_s: float = DEFAULT_LEASE_S) -> PushResult:
    """Validate, register, verify and promote ``model_dir`` as the new champion of ``model_name``.
    ``before_promote(version, source)`` runs after verification, before the alias moves (e.g. pointing
    a KServe InferenceService at the version); if it fails, the alias stays where it was.

    The alias moves only if the champion is still the one the blessing was evaluated against
    (compare-and-set under the registry lock); otherwise :class:`ChampionMovedError`: the version stays
    ``verified`` but not champion (tagged ``labelgate.not_promoted``). While it works the push holds a
    lease on its MLflow run (:mod:`labelgate.registry.lease`); SIGTERM ends it cleanly (server stopped,
    version ``failed``, run FAILED)."""
    with sigterm_raises():
        return _push(model_dir=Path(model_dir), profile_path=profile_path, blessing_path=blessing_path,
                     registry_uri=registry_uri, model_name=model_name, run_key=run_key, lineage=lineage,
                     model_metrics=model_metrics, loader=loader, infra_validate=infra_validate,
                     before_promote=before_promote, lease_s=lease_s)


def _push(*, model_dir: Path, profile_path: str | Path | None, blessing_path: str | Path, registry_uri: str,
          model_name: str, run_key: str, lineage: Mapping[str, str] | None, model_metrics: Mapping[str, Any] | None,
          loader: str, infra_validate: bool, before_promote: Callable[[str, str], None] | None,
          lease_s: float) -> PushResult:
    blessing = read_blessing(blessing_path)
    expected_champion = evaluated_champion(blessing)
    texts = list(infra_check.SMOKE_TEXTS)
    if infra_validate:
        progress(Step.PUSH, "infra-validation: starting the model server on the candidate")
        infra = infra_check.infra_validate(model_dir=model_dir, model_name=model_name, loader=loader).to_dict()
        progress(Step.PUSH, f"infra-validation passed: ready in {infra['startup_s']} s, "
                         f"max |served - offline| {infra['max_abs_diff']:.1e}")
    else:
        infra = {"passed": False, "skipped": True}
    expected = _offline(model_dir, loader, texts)

    client = open_client(registry_uri)
    for line in reconcile(registry_uri, model_name):
        progress(Step.PUSH, f"reconciled a dead push: {line}")
    staging = Path(tempfile.mkdtemp(prefix="labelgate-push-"))
    version: str | None = None
    run_id: str | None = None
    lease: PushLease | None = None
    try:
        bundle = staging / BUNDLE_ARTIFACT_PATH
        (staging / INFRA_FILE).write_text(json.dumps(infra, indent=2))
        digest = build_bundle(out_dir=bundle, model_dir=model_dir, profile_path=profile_path,
                              blessing_path=blessing_path, extra_files={INFRA_FILE: staging / INFRA_FILE})
        ensure_experiment(client, registry_uri, model_name)
        lineage = {k: str(v) for k, v in (lineage or {}).items()}
        run_id = tracking.find_or_create_run(registry_uri=registry_uri, experiment=model_name, run_key=run_key)
        client.update_run(run_id, status="RUNNING")  # evaluate's tracking may have finished it
        lease = PushLease(registry_uri, run_id, lease_s=lease_s)
        tracking.log_step(
            registry_uri=registry_uri, experiment=model_name, run_key=run_key, step="push",
            params=lineage, metrics={"train": dict(model_metrics or {}), "evaluate": blessing, "infra": infra},
            files={BLESSING_FILE: Path(blessing_path), INFRA_FILE: staging / INFRA_FILE},
        )
        progress(Step.PUSH, f"uploading the model bundle to MLflow run {run_id}")
        client.log_artifacts(run_id, str(bundle), BUNDLE_ARTIFACT_PATH)
        source = f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{BUNDLE_ARTIFACT_PATH}"
        try:
            client.create_registered_model(model_name, description="labelgate text classifier")
        except Exception as exc:
            if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
                raise RegistryError(f"cannot create registered model {model_name!r}: {exc}") from exc
        scores = blessing.get("challenger") if isinstance(blessing.get("challenger"), dict) else blessing
        metric_tags = {f"labelgate.test_{k.removeprefix('test_')}": f"{v:.4f}"
                       for k, v in tracking.numeric_items(scores).items()
                       if k.removeprefix("test_") in ("accuracy", "f1")}
        tags = {STATUS_TAG: "registered", MANIFEST_TAG: digest, tracking.RUN_KEY_TAG: run_key, **metric_tags,
                **lineage}
        if not isinstance(expected_champion, _Unchecked):
            tags[EVALUATED_AGAINST_TAG] = expected_champion or "none"
        reason = str(blessing.get("reason", ""))[:5000]
        mv = client.create_model_version(model_name, source, run_id=run_id, tags=tags, description=reason)
        version = str(mv.version)
        progress(Step.PUSH, f"registered {model_name} version {version}; verifying the stored copy")
        verify_version(registry_uri=registry_uri, model_name=model_name, version=version,
                       expected=expected, texts=texts, loader=loader)
        client.set_model_version_tag(model_name, version, STATUS_TAG, "verified")
        if before_promote is not None:
            before_promote(version, source)
        if isinstance(expected_champion, _Unchecked):
            progress(Step.PUSH, "the blessing names no champion it was evaluated against (not written by the "
                                "evaluate step); promoting over whatever champion there is")
            previous = promote(registry_uri, model_name, version, verify=False, purpose="push")
        else:
            previous = promote(registry_uri, model_name, version, expected=expected_champion, verify=False,
                               purpose="push")
        tracking.log_step(registry_uri=registry_uri, experiment=model_name, run_key=run_key, step="push",
                          tags={"labelgate.pushed_version": version})
        lease.stop("done")
        tracking.finish_run(registry_uri=registry_uri, run_id=run_id)
        progress(Step.PUSH, f"champion: {model_name} version {version} (was {previous or 'none'})")
        return PushResult(version=version, previous=previous, run_id=run_id, source=source, infra=infra)
    except ChampionMovedError as exc:
        # verified and kept, but not champion: the evaluation it passed was against another champion
        with contextlib.suppress(Exception):
            client.set_model_version_tag(model_name, str(version), NOT_PROMOTED_TAG, str(exc)[:5000])
        _end(client, registry_uri, lease, run_id, "champion-moved")
        raise ChampionMovedError(
            f"{model_name} version {version} is registered and verified but was NOT promoted: {exc}. "
            f"Re-run the pipeline to evaluate it against the current champion, or promote it by hand "
            f"(`labelgate models promote {version}`)"
        ) from None
    except BaseException as exc:  # Terminated (SIGTERM) and SystemExit included: leave nothing half done
        if version is not None and _is_champion(client, model_name, version):
            # Stopped after the alias moved to this verified version: the push is done, only its bookkeeping was
            # cut short. Marking the champion "failed" (and its run FAILED) would leave a failed champion.
            _end(client, registry_uri, lease, None, "done")
            with contextlib.suppress(Exception):
                tracking.finish_run(registry_uri=registry_uri, run_id=run_id)
            if not isinstance(exc, Exception):
                raise
            raise RegistryError(f"{model_name} version {version} was verified and is the champion, but the push "
                                f"failed after the champion moved: {exc}") from exc
        with contextlib.suppress(Exception):
            if version is not None:
                client.set_model_version_tag(model_name, version, STATUS_TAG, "failed")
                client.set_model_version_tag(model_name, version, FAILURE_TAG, f"{type(exc).__name__}: {exc}"[:5000])
        _end(client, registry_uri, lease, run_id, "failed")
        if run_id is not None and version is None:
            delete_bundle(client, registry_uri, run_id)  # a partial upload no version points at
        if not isinstance(exc, Exception):
            raise
        try:
            current = champion_version(client, model_name)
        except Exception:
            current = "unknown (the registry did not answer)"
        if isinstance(exc, RegistryError):
            raise
        raise RegistryError(
            f"push of {model_name} failed before the champion moved (champion stays {current or 'unset'}): {exc}"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _is_champion(client: MlflowClient, model_name: str, version: str) -> bool:
    """Whether the champion alias points at ``version`` now (False when the registry does not answer)."""
    try:
        return champion_version(client, model_name) == version
    except Exception:  # noqa: BLE001 - the registry may be what failed
        return False


def _end(client: MlflowClient, registry_uri: str, lease: PushLease | None, run_id: str | None, state: str) -> None:
    """Stop the lease and mark the push's MLflow run FAILED (best effort: the registry may be what failed)."""
    if lease is not None:
        lease.stop(state)
    if run_id is not None:
        with contextlib.suppress(Exception):
            tracking.finish_run(registry_uri=registry_uri, run_id=run_id, status="FAILED")
