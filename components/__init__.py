"""The pipeline's steps, one KFP component per module; each is a thin wrapper over the library."""

from labelgate.components.apply_lfs import apply_lfs
from labelgate.components.data_gate import data_gate
from labelgate.components.evaluate import evaluate
from labelgate.components.ingest import ingest
from labelgate.components.model_gate import model_gate
from labelgate.components.monitor import monitor
from labelgate.components.plan_search import plan_search
from labelgate.components.plan_shards import plan_shards
from labelgate.components.push import push
from labelgate.components.repair import repair
from labelgate.components.select_model import select_model
from labelgate.components.train import train
from labelgate.components.validate import validate
from labelgate.components.weak_label import weak_label

__all__ = ["apply_lfs", "data_gate", "evaluate", "ingest", "model_gate", "monitor", "plan_search", "plan_shards", "push", "repair",
           "select_model", "train", "validate", "weak_label"]
