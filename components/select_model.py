"""Select step: the best model of the train step's search groups, with every group's trials."""

from typing import List  # noqa: UP035 (KFP reads the typing annotation)

from kfp import dsl
from kfp.dsl import Input, Metrics, Model, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def select_model(models: Input[List[Model]], model: Output[Model], metrics: Output[Metrics],  # noqa: UP006
                 setup_digest: str = ""):
    """Keep the model of the search group with the best valid score (one group: its model as it is), and merge
    every group's trials into its ``trials.json``; the kept model's metadata and metrics go on.
    ``setup_digest``: only kfp's cache reads it."""
    from labelgate.run import Step, step_failures
    from labelgate.training.step import run_select_model

    with step_failures(Step.SELECT_MODEL, model.path):
        best, changed = run_select_model(model_dirs=[m.path for m in models], out_dir=model.path)
        kept = {**dict(models[best].metadata), **changed}
        for name, value in kept.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name != "seed":
                metrics.log_metric(name, value)
        model.metadata.update(kept)
