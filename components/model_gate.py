"""Model gate: turns the evaluate step's blessing into the boolean that guards the push."""

from kfp import dsl
from kfp.dsl import Artifact, Output

from labelgate.components.image import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def model_gate(blessed: bool, reason: str, decision: Output[Artifact]) -> bool:
    """Record whether the model may be pushed, and why; its output feeds ``dsl.If``."""
    from labelgate.run import Step, decide

    return decide(gate=Step.MODEL_GATE, passed=blessed, reason=reason, out_path=decision.path)
