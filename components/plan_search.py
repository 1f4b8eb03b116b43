"""Plan step: the search groups the train step fans out over (`dsl.ParallelFor`)."""

from typing import List  # noqa: UP035 (KFP reads the typing annotation)

from kfp import dsl

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def plan_search(config_path: str, search_groups: int, setup_digest: str = "") -> List[int]:  # noqa: UP006
    """One index per train task: ``search_groups`` groups of the model search's trials (at most one per trial),
    or one task when the config names a family. ``setup_digest``: only kfp's cache reads it."""
    from labelgate.training.step import run_plan_search

    return run_plan_search(config_path=config_path, search_groups=search_groups)
