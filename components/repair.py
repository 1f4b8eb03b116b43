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
):
    """Write the repaired table (same schema) that later steps use; the input stays an artifact for lineage."""
    from labelgate.contract import file_sha256
    from labelgate.errors import ConfigError
    from labelgate.repair.step import repair_table, settings_from_config
    from labelgate.run import step_failures

    with step_failures("repair", report.path):
        settings = settings_from_config(config_path)
        if settings is None:
            raise ConfigError(f"config {config_path} has no 'repair' section; the pipeline runs repair only with one")
        numbers = repair_table(data_path=data.path, constraints_path=constraints_path, settings=settings,
                               repaired_path=repaired.path, report_path=report.path,
                               report_html_path=report_html.path)
    for name, value in numbers.items():
        metrics.log_metric(name, value)
    repaired.metadata.update(source_uri=data.uri, constraints_sha256=file_sha256(constraints_path))
