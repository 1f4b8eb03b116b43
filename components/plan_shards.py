"""Plan step: the shard indices the LF application fans out over (`dsl.ParallelFor`)."""

from typing import List  # noqa: UP035 (KFP reads the typing annotation)

from kfp import dsl

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def plan_shards(n_shards: int) -> List[int]:  # noqa: UP006
    """One index per LF-application task; more shards spread large data over more pods on a cluster."""
    from labelgate.labeling.step import shard_indices

    return shard_indices(n_shards)
