"""Data gate: turns the validate step's verdict into the boolean that guards training."""

from kfp import dsl
from kfp.dsl import Artifact, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def data_gate(passed: bool, reason: str, decision: Output[Artifact]) -> bool:
    """Record whether the data may be trained on, and why; its output feeds ``dsl.If``."""
    from labelgate.run import Step, decide

    return decide(gate=Step.DATA_GATE, passed=passed, reason=reason, out_path=decision.path)
