"""Label models (PyTorch): ``LabelModel`` selects among generative models; ``MajorityLabelVoter`` votes."""

from labelgate.labeling.model.baselines import MajorityLabelVoter
from labelgate.labeling.model.label_model import LabelModel

__all__ = ["LabelModel", "MajorityLabelVoter"]
