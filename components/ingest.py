"""Ingest step: raw files -> one typed, fingerprinted, split Parquet table."""

from kfp import dsl
from kfp.dsl import Dataset, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def ingest(data_uri: str, config_path: str, data: Output[Dataset], lf_module: str = "", suite_path: str = "",
           constraints_path: str = "", data_digest: str = "", setup_digest: str = ""):
    """Check every input of the run first (preflight), then read CSV/Parquet/JSONL files under ``data_uri``,
    check them, and split them as the config says. ``*_digest``: content digests of what this step reads (see ``labelgate.run.DIGESTS``); only kfp's cache reads them."""
    from labelgate.ingest.step import run_ingest
    from labelgate.preflight import already_checked, preflight
    from labelgate.run import Step, step_failures

    def check(ingested):  # `labelgate run` checked these inputs already; on a cluster this is the first check
        if lf_module and not already_checked(data_digest, setup_digest):
            preflight(data_uri=data_uri, lf_module=lf_module, config_path=config_path, suite_path=suite_path,
                      constraints_path=constraints_path, ingested=ingested).raise_if_failed()

    with step_failures(Step.INGEST, data.path):
        data.metadata.update(run_ingest(data_uri=data_uri, config_path=config_path, out_path=data.path,
                                       check=check))
