"""labelgate.serving: the KServe model server (``loader``, ``options``, ``model``, ``server``), infra-validation
(``infra``) and the KServe InferenceService API (``inference_service``). It reads the registry only through
:mod:`labelgate.champion` and never imports ``labelgate.registry`` or ``labelgate.cli``."""
