"""Label models (PyTorch): ``LabelModel`` selects among generative models; ``MajorityLabelVoter`` votes."""

from labelgate.labeling.model.label_model import LabelModel, MajorityLabelVoter

__all__ = ["LabelModel", "MajorityLabelVoter"]
