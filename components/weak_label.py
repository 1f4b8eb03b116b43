"""Weak-label step: LFs over the ingested rows -> label matrix, probabilistic labels, label model, LF analysis."""

from typing import List  # noqa: UP035 (KFP reads the typing annotation)

from kfp import dsl
from kfp.dsl import HTML, Dataset, Input, Markdown, Metrics, Model, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def weak_label(
    data: Input[Dataset],
    label_matrix_shards: Input[List[Dataset]],  # noqa: UP006
    lf_module: str,
    config_path: str,
    seed: int,
    label_matrix: Output[Dataset],
    probs: Output[Dataset],
    label_model: Output[Model],
    lf_analysis: Output[Markdown],
    lf_analysis_html: Output[HTML],
    metrics: Output[Metrics],
    lfs_digest: str = "",
    setup_digest: str = "",
):
    """Merge the label-matrix shards of the ``apply_lfs`` fan-out, fit the label model, and report on
    every LF of ``lf_module``. ``*_digest``: content digests of what this step reads (see ``labelgate.run.DIGESTS``); only kfp's cache reads them."""
    from labelgate.labeling.step import run_weak_label
    from labelgate.run import Step, step_failures

    with step_failures(Step.WEAK_LABEL, label_matrix.path):
        result = run_weak_label(
            data_path=data.path, lf_module=lf_module, config_path=config_path, seed=seed,
            label_matrix_path=label_matrix.path, probs_path=probs.path, label_model_path=label_model.path,
            analysis_md_path=lf_analysis.path, analysis_html_path=lf_analysis_html.path,
            shard_paths=[shard.path for shard in label_matrix_shards],
            shard_metadata=[dict(shard.metadata) for shard in label_matrix_shards],
        )
        label_matrix.metadata.update(result["label_matrix"])
        probs.metadata.update(result["probs"])
        label_model.metadata.update(result["label_model"])
        lf_analysis_html.metadata.update(result["lf_analysis"])
        for name, value in result["metrics"].items():
            metrics.log_metric(name, value)
