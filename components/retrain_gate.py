"""Retrain gate (monitoring pipeline): whether the monitor step wrote retraining data, as the one boolean
``dsl.If`` reads. A condition on the monitor's own named output would do on a cluster, but kfp.local (2.17)
resolves only a task's single ``Output`` in a condition, so this step makes the pipeline run the same way on both."""

from kfp import dsl

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def retrain_gate(retrain_uri: str) -> bool:
    """True when ``retrain_uri`` names a retraining folder (drift, with retraining asked for): the training runs."""
    return bool(retrain_uri)
