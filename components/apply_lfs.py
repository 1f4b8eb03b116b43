"""Apply step: the labeling functions over one shard of the ingested rows -> that shard's label matrix."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def apply_lfs(data: Input[Dataset], lf_module: str, config_path: str, shard: int, n_shards: int,
              label_matrix: Output[Dataset], lfs_digest: str = "", setup_digest: str = ""):
    """Label rows of shard ``shard`` of ``n_shards`` (contiguous ranges) with the LFs of ``lf_module``.
    ``*_digest``: content digests of what this step reads (see ``labelgate.run.DIGESTS``); only kfp's cache reads them."""
    from labelgate.labeling.step import run_apply_shard
    from labelgate.run import Step, step_failures

    with step_failures(Step.APPLY_LFS, label_matrix.path):
        label_matrix.metadata.update(run_apply_shard(
            data_path=data.path, lf_module=lf_module, config_path=config_path, shard=shard, n_shards=n_shards,
            out_path=label_matrix.path,
        ))
