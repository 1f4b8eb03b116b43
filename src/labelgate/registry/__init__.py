"""labelgate.registry: MLflow tracking and model registry (bundles, the ``champion`` alias, rollback)."""

from labelgate.champion import CHAMPION_ALIAS
from labelgate.registry.store import champion_file, champion_model_dir, promote, rollback

__all__ = ["CHAMPION_ALIAS", "champion_file", "champion_model_dir", "promote", "rollback"]
