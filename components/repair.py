"""Repair step: detect dirty cells and repair them (HoloClean-style inference, AimNet-style imputation)."""

from kfp import dsl
from kfp.dsl import HTML, Dataset, Input, Markdown, Metrics, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def repair(
    data: Input[Dataset],
    constraints_path: str,
    config_path: str,
    repaired: Output[Dataset],
    report: Output[Markdown],
    report_html: Output[HTML],
    metrics: Output[Metrics],
    suite_digest: str = "",
    setup_digest: str = "",
):
    """Write the repaired table (same schema) that every later step reads; without a ``repair`` section in
    the config it is the ingested table unchanged ("repair: off"). The input stays an artifact for lineage;
    ``repaired`` carries ingest's metadata plus a ``repair`` entry (on/off, both tables' SHA-256, cells changed).
    ``*_digest``: content digests of the constraints (``suite_digest``) and config + code (``setup_digest``);
    only kfp's cache reads them (``labelgate.run.DIGESTS``)."""
    from labelgate.repair.step import run_repair
    from labelgate.run import Step, step_failures

    with step_failures(Step.REPAIR, report.path):
        outcome = run_repair(data_path=data.path, constraints_path=constraints_path, config_path=config_path,
                             repaired_path=repaired.path, report_path=report.path,
                             report_html_path=report_html.path)
    for name, value in outcome.metrics.items():
        metrics.log_metric(name, value)
    repaired.metadata.update({**dict(data.metadata), **outcome.metadata, "source_uri": data.uri})
