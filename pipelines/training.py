"""The labelgate training pipeline: raw data to a pushed model, with two gates.

ingest -> repair -> plan_shards -> ParallelFor(apply_lfs) -> weak_label -> validate -> data_gate -> If(passed):
plan_search -> ParallelFor(train) -> select_model -> evaluate -> model_gate -> If(blessed): push. The same function runs locally (`labelgate run`,
kfp.local) and on a cluster (`labelgate compile` / `make submit`); its step names are
``labelgate.run.Step`` and its parameters' defaults ``labelgate.parameters``.

The repair step always runs: with a ``repair`` section in the config it repairs the ingested table, without
one it passes it through unchanged and reports "repair: off". Either way every later step reads its
``repaired`` table and ingest's ``data`` stays an artifact for lineage. (A ``dsl.If`` on a config flag would
need ``dsl.OneOf`` to hand later steps one of two tables, which kfp 2.17's local runner refuses for
artifacts: "Expected 1 artifact in ArtifactSelectorSpec. Got: 2".)
"""

from kfp import dsl

from labelgate.components.apply_lfs import apply_lfs
from labelgate.components.data_gate import data_gate
from labelgate.components.evaluate import evaluate
from labelgate.components.image import CLUSTER_DATA_URI, CLUSTER_REGISTRY_URI
from labelgate.components.ingest import ingest
from labelgate.components.model_gate import model_gate
from labelgate.components.plan_search import plan_search
from labelgate.components.plan_shards import plan_shards
from labelgate.components.push import push
from labelgate.components.repair import repair
from labelgate.components.select_model import select_model
from labelgate.components.train import train
from labelgate.components.validate import validate
from labelgate.components.weak_label import weak_label
from labelgate.parameters import DEFAULTS, PIPELINE_NAME
from labelgate.pipelines.cluster import apply_cluster_settings

__all__ = ["PIPELINE_NAME", "pipeline"]


@dsl.pipeline(
    name=PIPELINE_NAME,
    description="Weak supervision to a served model: ingest, repair, label, validate, train, evaluate, push.",
)
def pipeline(
    data_uri: str = CLUSTER_DATA_URI,
    lf_module: str = DEFAULTS.lf_module,
    config_path: str = DEFAULTS.config_path,
    suite_path: str = DEFAULTS.suite_path,
    constraints_path: str = DEFAULTS.constraints_path,
    registry_uri: str = CLUSTER_REGISTRY_URI,
    model_name: str = DEFAULTS.model_name,
    seed: int = DEFAULTS.seed,
    min_test_accuracy: float = DEFAULTS.min_test_accuracy,
    min_test_f1: float = DEFAULTS.min_test_f1,
    champion_tolerance: float = DEFAULTS.champion_tolerance,
    lf_shards: int = DEFAULTS.lf_shards,
    search_groups: int = DEFAULTS.search_groups,
    inference_service: str = DEFAULTS.inference_service,
    namespace: str = DEFAULTS.namespace,
    canary_traffic_percent: int = DEFAULTS.canary_traffic_percent,
    serving_image: str = DEFAULTS.serving_image,
    prediction_log: str = DEFAULTS.prediction_log,
    data_digest: str = DEFAULTS.data_digest,
    lfs_digest: str = DEFAULTS.lfs_digest,
    suite_digest: str = DEFAULTS.suite_digest,
    setup_digest: str = DEFAULTS.setup_digest,
    champion_digest: str = DEFAULTS.champion_digest,
):
    """Defaults come from ``labelgate.parameters`` (their one home), except the data and registry URIs: the
    compiled YAML carries a cluster's (deploy-time settings read at compile time, components/image.py) for a
    run started from the KFP UI or a trigger without parameters; `labelgate run` passes every parameter
    itself. ``lf_shards`` splits LF application into that many parallel tasks (useful on a cluster with large
    data; 1 on one machine, where the applier already streams in chunks); ``search_groups`` splits the
``training.family: auto`` model search into that many parallel train tasks, each with its share of the trials
and the whole time budget, and select_model keeps the best group's model (more help on a cluster; one task
when the config names a family). Cluster-only parameters: ``inference_service`` (the KServe InferenceService push creates or
    patches; empty = none, as locally), its ``namespace``, the ``canary_traffic_percent`` a new
    version gets first, the predictor's ``serving_image``, and where it appends its ``prediction_log`` (an
    object store prefix the monitor reads). The ``*_digest`` parameters
    (``labelgate.run.DIGESTS``) are content digests each step takes for what it reads, so that a cache keyed on
    a task's arguments (kfp.local's, for `labelgate run --resume`) keys on content; push is never cached."""
    ingested = ingest(data_uri=data_uri, config_path=config_path, lf_module=lf_module, suite_path=suite_path,
                      constraints_path=constraints_path, data_digest=data_digest, setup_digest=setup_digest)
    repaired = repair(data=ingested.outputs["data"], constraints_path=constraints_path, config_path=config_path,
                      suite_digest=suite_digest, setup_digest=setup_digest)
    data = repaired.outputs["repaired"]  # what every later step reads (the data gate checks it too)

    shards = plan_shards(n_shards=lf_shards)
    with dsl.ParallelFor(shards.output, name="lf-shards") as shard:
        applied = apply_lfs(data=data, lf_module=lf_module, config_path=config_path, shard=shard,
                            n_shards=lf_shards, lfs_digest=lfs_digest, setup_digest=setup_digest)
    labeled = weak_label(data=data, label_matrix_shards=dsl.Collected(applied.outputs["label_matrix"]),
                         lf_module=lf_module, config_path=config_path, seed=seed, lfs_digest=lfs_digest,
                         setup_digest=setup_digest)

    validated = validate(
        data=data,
        label_matrix=labeled.outputs["label_matrix"],
        probs=labeled.outputs["probs"],
        suite_path=suite_path,
        constraints_path=constraints_path,
        config_path=config_path,
        registry_uri=registry_uri,
        model_name=model_name,
        pipeline_run=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        suite_digest=suite_digest,
        setup_digest=setup_digest,
        champion_digest=champion_digest,
    )
    data_ok = data_gate(passed=validated.outputs["passed"], reason=validated.outputs["reason"])

    with dsl.If(data_ok.outputs["Output"] == True, name="data-gate-passed"):  # noqa: E712 (KFP condition syntax)
        searches = plan_search(config_path=config_path, search_groups=search_groups, setup_digest=setup_digest)
        with dsl.ParallelFor(searches.output, name="search-groups") as group:
            grouped = train(data=data, probs=labeled.outputs["probs"], config_path=config_path, seed=seed,
                            setup_digest=setup_digest, lf_module=lf_module, lfs_digest=lfs_digest, group=group,
                            groups=search_groups)
        trained = select_model(models=dsl.Collected(grouped.outputs["model"]), setup_digest=setup_digest)
        evaluated = evaluate(
            data=data,
            model=trained.outputs["model"],
            lf_analysis=labeled.outputs["lf_analysis"],
            validation_report=validated.outputs["report"],
            config_path=config_path,
            registry_uri=registry_uri,
            model_name=model_name,
            min_test_accuracy=min_test_accuracy,
            min_test_f1=min_test_f1,
            champion_tolerance=champion_tolerance,
            seed=seed,
            pipeline_run=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
            setup_digest=setup_digest,
            champion_digest=champion_digest,
        )
        blessed = model_gate(blessed=evaluated.outputs["blessed"], reason=evaluated.outputs["reason"])

        with dsl.If(blessed.outputs["Output"] == True, name="model-blessed"):  # noqa: E712
            push(
                model=trained.outputs["model"],
                profile=validated.outputs["profile"],
                blessing=evaluated.outputs["blessing"],
                registry_uri=registry_uri,
                model_name=model_name,
                pipeline_run=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
                inference_service=inference_service,
                namespace=namespace,
                canary_traffic_percent=canary_traffic_percent,
                serving_image=serving_image,
                prediction_log=prediction_log,
            ).set_caching_options(False)  # a push acts on the registry: never reused from an earlier run

    apply_cluster_settings()  # Kubernetes resources/secrets for cluster runs (pipelines/cluster.py); kfp.local ignores them
