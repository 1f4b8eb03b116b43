"""The KServe model that answers text-classification requests (with the registry's champion, or a model
directory; see :mod:`labelgate.serving.loader`).

V1 (``/v1/models/<name>:predict``): ``{"instances": ["a text", {"text": "another"}]}`` ->
``{"predictions": [{"label": "spam", "probabilities": {"ham": 0.1, "spam": 0.9}}, ...]}``. A model trained
with tabular feature columns (``training.feature_columns``) reads them from the objects' other fields,
``{"text": "...", "plan": "pro", "spend": 120}``; a field left out counts as a missing value.
V2 / Open Inference Protocol (``/v2/models/<name>/infer``): one BYTES input (shape ``[n]`` or ``[n, 1]``)
-> outputs ``label`` (BYTES ``[n]``) and ``probabilities`` (FP32 ``[n, k]``, columns in ``classes`` order,
also listed in the response parameters). Requests that break the limits are refused with a 4xx.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# isort: off
import labelgate.serving.kserve_argv  # noqa: F401  (before kserve: it must not parse our sys.argv)
# isort: on
import kserve
import numpy as np
from kserve.errors import InferenceError, InvalidInput
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse

from labelgate.serving.loader import ModelSource, PredictorLoader, load_model
from labelgate.serving.settings import RequestLimits


@dataclass
class _Batch:
    protocol: str
    texts: list[str]
    request_id: str | None = None
    fields: list[dict[str, Any]] = field(default_factory=list)  # V1 objects' fields beside "text", one per text


def _check_texts(texts: Sequence[Any], where: str, limits: RequestLimits,
                 fields: list[dict[str, Any]] | None = None) -> list[str]:
    if len(texts) == 0:
        raise InvalidInput(f"{where} is empty; send at least one text")
    if len(texts) > limits.max_batch:
        raise InvalidInput(
            f"{where} holds {len(texts)} texts; at most {limits.max_batch} per request, split the batch"
        )
    out: list[str] = []
    for i, text in enumerate(texts):
        if isinstance(text, dict):
            if "text" not in text or (fields is None and set(text) != {"text"}):
                raise InvalidInput(f"{where}[{i}] must be a string or {{\"text\": string}} (plus the model's "
                                   f"feature columns), got keys {sorted(text)}")
            if fields is not None:
                fields.append({k: v for k, v in text.items() if k != "text"})
            text = text["text"]
        elif fields is not None:
            fields.append({})
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"{where}[{i}] is not valid UTF-8") from exc
        if not isinstance(text, str):
            raise InvalidInput(f"{where}[{i}] must be a string, got {type(text).__name__}")
        if len(text) > limits.max_text_chars:
            raise InvalidInput(
                f"{where}[{i}] has {len(text)} characters; at most {limits.max_text_chars} per text"
            )
        out.append(text)
    return out


def parse_v1(body: Any, limits: RequestLimits, fields: list[dict[str, Any]] | None = None) -> list[str]:
    """The texts of a V1 request body, or InvalidInput saying what is wrong with it; with ``fields`` given,
    instance objects may carry fields beside "text" (feature columns), appended to it one dict per text."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidInput(f'the request body must be a JSON object {{"instances": [...]}}, got {type(body).__name__}')
    unknown = sorted(set(body) - {"instances", "parameters"})
    if "instances" not in body:
        raise InvalidInput(f'the request body needs an "instances" list of texts; got field(s) {unknown or "none"}')
    if unknown:
        raise InvalidInput(f'unknown field(s) {unknown}; a V1 request holds "instances" (and optional "parameters")')
    instances = body["instances"]
    if not isinstance(instances, list):
        raise InvalidInput(f'"instances" must be a list of texts, got {type(instances).__name__}')
    return _check_texts(instances, "instances", limits, fields)


def parse_v2(request: InferRequest, limits: RequestLimits) -> list[str]:
    """The texts of a V2 inference request, or InvalidInput saying what is wrong with it."""
    inputs = request.inputs
    if len(inputs) == 0:
        raise InvalidInput('the request has no inputs; send one BYTES input named "text"')
    if len(inputs) > 1:
        named = [i for i in inputs if i.name == "text"]
        if len(named) != 1:
            raise InvalidInput(f'expected one input named "text", got {[i.name for i in inputs]}')
        tensor = named[0]
    else:
        tensor = inputs[0]
    if tensor.datatype != "BYTES":
        raise InvalidInput(f'input "{tensor.name}" must have datatype BYTES (texts), got {tensor.datatype}')
    shape = list(tensor.shape)
    if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
        raise InvalidInput(f'input "{tensor.name}" must have shape [n] or [n, 1], got {shape}')
    data = tensor.data
    if isinstance(data, np.ndarray):
        data = data.reshape(-1).tolist()
    if not isinstance(data, list):
        raise InvalidInput(f'input "{tensor.name}" data must be a list of strings')
    if data and isinstance(data[0], list):
        data = [x for row in data for x in (row if isinstance(row, list) else [row])]
    if len(data) != shape[0]:
        raise InvalidInput(f'input "{tensor.name}" has shape {shape} but {len(data)} values')
    return _check_texts(data, f'input "{tensor.name}"', limits)


class TextClassifierModel(kserve.Model):
    """Loads a labelgate predictor (the champion, or a given model directory) and serves it over V1/V2.

    ``load`` can run again while serving (the V2 repository ``load`` endpoint): the new predictor is built
    first and swapped in whole, so requests never see a half-loaded model. Requests waiting at the same
    time share one predictor call (see :meth:`predict`).
    """

    def __init__(self, name: str, *, source: ModelSource, loader: PredictorLoader, limits: RequestLimits):
        super().__init__(name)
        self.source = source
        self.loader = loader
        self.limits = limits
        self._lock = threading.Lock()
        self._state: tuple[Any, list[str], str] | None = None
        self._queue: collections.deque[tuple[_Batch, asyncio.Future]] = collections.deque()
        self._draining = False
        self.batch_texts = max(limits.max_batch, 64)

    @property
    def version(self) -> str | None:
        return None if self._state is None else self._state[2]

    @property
    def classes(self) -> list[str]:
        return [] if self._state is None else list(self._state[1])

    def load(self) -> bool:
        with self._lock:
            loaded = load_model(self.source, self.loader)
            self._state = (loaded.predictor, loaded.classes, loaded.version)
            self.ready = True
        return self.ready

    def get_input_types(self) -> list[dict]:
        return [{"name": "text", "datatype": "BYTES", "shape": [-1]}]

    def get_output_types(self) -> list[dict]:
        k = len(self.classes) or -1
        return [
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP32", "shape": [-1, k]},
        ]

    async def preprocess(self, payload: dict | InferRequest, headers: dict[str, str] | None = None) -> _Batch:
        if isinstance(payload, InferRequest):
            return _Batch("v2", parse_v2(payload, self.limits), request_id=payload.id)
        fields: list[dict[str, Any]] = []
        texts = parse_v1(payload, self.limits, fields)
        if any(fields):
            self._check_fields(fields)
        return _Batch("v1", texts, fields=fields)

    def _check_fields(self, fields: list[dict[str, Any]]) -> None:
        """Fields beside "text" must be feature columns of the loaded model, with usable values."""
        check = getattr(self._state[0], "check_features", None) if self._state is not None else None
        if check is None:
            raise InvalidInput(f"instances carry field(s) {sorted({k for f in fields for k in f})}; this model "
                               "reads only the text")
        try:
            check(fields)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc

    def _predict_texts(self, texts: list[str],
                       fields: list[dict[str, Any]] | None = None) -> tuple[np.ndarray, list[str], str]:
        if self._state is None:
            raise InferenceError("the model is not loaded")
        predictor, classes, version = self._state
        if fields and any(fields):
            columns = sorted({k for f in fields for k in f})
            raw = predictor.predict_proba(texts, {c: [f.get(c) for f in fields] for c in columns})
        else:
            raw = predictor.predict_proba(texts)
        probs = np.asarray(raw, dtype=np.float64)
        if probs.shape != (len(texts), len(classes)) or not np.all(np.isfinite(probs)):
            raise InferenceError(
                f"the predictor returned probabilities of shape {probs.shape} (finite: "
                f"{bool(np.all(np.isfinite(probs)))}) for {len(texts)} texts and {len(classes)} classes"
            )
        return probs, classes, version

    def _run_batch(self, items: list[tuple[_Batch, asyncio.Future]]) -> None:
        """One predictor call for the texts of several requests; each request gets its own rows back."""
        texts = [t for batch, _ in items for t in batch.texts]
        fields = [f for batch, _ in items for f in (batch.fields or [{}] * len(batch.texts))]
        self.observe_batch(len(items), len(texts))
        try:
            probs, classes, version = self._predict_texts(texts, fields)
        except Exception as exc:
            for _, future in items:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for batch, future in items:
            end = start + len(batch.texts)
            if not future.done():
                future.set_result({"batch": batch, "probs": probs[start:end], "classes": classes, "version": version})
            start = end

    def observe_batch(self, requests: int, texts: int) -> None:
        """Called once per predictor call (a hook for metrics)."""

    async def predict(self, payload: _Batch, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Predict, batching with requests that wait at the same time (no added wait: the first request
        yields once to the event loop, then runs every queued request through the predictor together)."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((payload, future))
        if not self._draining:
            self._draining = True
            try:
                await asyncio.sleep(0)
            finally:  # drains even if this request was cancelled, so no queued request is left waiting
                self._draining = False
                self._drain()
        return await future

    def _drain(self) -> None:
        while self._queue:
            items, size = [], 0
            while self._queue and (not items or size + len(self._queue[0][0].texts) <= self.batch_texts):
                item = self._queue.popleft()
                items.append(item)
                size += len(item[0].texts)
            self._run_batch(items)

    async def postprocess(
        self, result: dict[str, Any], headers: dict[str, str] | None = None, response_headers: dict | None = None
    ) -> dict | InferResponse:
        batch: _Batch = result["batch"]
        probs: np.ndarray = result["probs"]
        classes: list[str] = result["classes"]
        labels = [classes[i] for i in probs.argmax(axis=1)]
        if batch.protocol == "v1":
            return {
                "predictions": [
                    {"label": label, "probabilities": dict(zip(classes, row.tolist(), strict=True))}
                    for label, row in zip(labels, probs, strict=True)
                ],
                "model_name": self.name,
                "model_version": result["version"],
            }
        outputs = [
            InferOutput(name="label", shape=[len(labels)], datatype="BYTES", data=labels),
            InferOutput(
                name="probabilities",
                shape=[len(labels), len(classes)],
                datatype="FP32",
                data=probs.astype(np.float32).reshape(-1).tolist(),
            ),
        ]
        return InferResponse(
            response_id=batch.request_id or str(uuid.uuid4()),
            model_name=self.name,
            model_version=result["version"],
            infer_outputs=outputs,
            parameters={"classes": json.dumps(classes)},
        )
