"""Train step: probabilistic labels -> a PyTorch text classifier saved with its preprocessing."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def train(data: Input[Dataset], probs: Input[Dataset], config_path: str, seed: int, model: Output[Model],
          metrics: Output[Metrics], setup_digest: str = "", lf_module: str = "", lfs_digest: str = "",
          group: int = 0, groups: int = 1):
    """Fit the config's end model to the label model's probabilities (soft cross-entropy) on covered
    train rows, early-stopped on the gold valid split; the model keeps the config and LF module (``lf_module``).
    With ``family: auto`` this task runs search group ``group`` of ``groups`` (select_model keeps the best).
    ``*_digest``: content digests of what this step reads (see ``labelgate.run.DIGESTS``); only kfp's cache reads them."""
    from labelgate.run import Step, step_failures
    from labelgate.training.step import run_train

    with step_failures(Step.TRAIN, model.path):
        lineage = {"data": dict(data.metadata), "probs": dict(probs.metadata)}
        result = run_train(data_path=data.path, probs_path=probs.path, config_path=config_path, seed=seed,
                           model_dir=model.path, lineage=lineage, lf_module=lf_module, group=group, groups=groups)
        for name, value in result.items():
            if not isinstance(value, str):
                metrics.log_metric(name, value)
        model.metadata.update({"framework": "pytorch", "seed": seed, **result})
