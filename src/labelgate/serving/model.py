"""The KServe model that answers text-classification requests (with the registry's champion, or a model
directory; see :mod:`labelgate.serving.loader`).

V1 (``/v1/models/<name>:predict``): ``{"instances": ["a text", {"text": "another"}]}`` ->
``{"predictions": [{"label": "spam", "probabilities": {"ham": 0.1, "spam": 0.9}}, ...]}``. A model trained
with tabular feature columns (``training.feature_columns``) reads them from the objects' other fields,
``{"text": "...", "plan": "pro", "spend": 120}``; a field left out counts as a missing value.
V2 / Open Inference Protocol (``/v2/models/<name>/infer``): one BYTES input (shape ``[n]`` or ``[n, 1]``),
as JSON or as binary tensor data after a JSON header -> outputs ``label`` (BYTES ``[n]``) and
``probabilities`` (FP32 ``[n, k]``, columns in ``classes`` order, also listed in the response parameters);
the request's ``outputs`` list picks outputs, and ``binary_data_output`` / per-output ``binary_data`` ask for
binary output. Requests that break the limits are refused with a 4xx.

Predictions run in a small thread pool, never on the event loop, in chunks (see :class:`InferenceLimits`), so
health checks and short requests are answered while large requests are being predicted.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import struct
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

# isort: off
import labelgate.serving.kserve_argv  # noqa: F401  (before kserve: it must not parse our sys.argv)
# isort: on
import kserve
import numpy as np
from kserve.errors import InferenceError, InvalidInput, ModelNotReady
from kserve.protocol.infer_type import InferInput, InferOutput, InferRequest, InferResponse, RequestedOutput

from labelgate.serving.loader import ModelSource, PredictorLoader, load_model
from labelgate.serving.settings import InferenceLimits, RequestLimits

OUTPUTS = ("label", "probabilities")


class Overloaded(Exception):
    """More requests are admitted than the server takes at once: answered 503 with ``Retry-After``."""

    def __init__(self, pending: int, retry_after_s: int):
        super().__init__(f"the server is busy ({pending} requests in progress, the most it takes at once); "
                         f"retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass
class _Batch:
    protocol: str
    texts: list[str]
    request_id: str | None = None
    outputs: list[tuple[str, bool]] = field(default_factory=list)  # V2: (output name, as binary data)
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


def json_error(raw: Any, exc: Exception) -> str:
    """What is wrong with a body that is not JSON, from its parser's error: NaN and Infinity named (Python
    writes them, JSON has no such values)."""
    pos = getattr(exc, "pos", None)
    if isinstance(raw, bytes | str) and isinstance(pos, int):
        rest = raw[pos:pos + 9]
        rest = rest.decode("utf-8", "replace") if isinstance(rest, bytes) else rest
        if rest.lstrip("-").startswith(("NaN", "Infinity", "inf", "nan")):
            return f"{exc}: NaN and Infinity are not JSON (send null or a string)"
    return str(exc)


def _loads(raw: bytes | str) -> Any:
    """JSON as the server's JSON path reads it (orjson: nesting deeper than 1024 levels, NaN and Infinity
    refused); ValueError saying why for anything that is not such JSON, never RecursionError."""
    import orjson

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(json_error(raw, exc)) from exc
    except RecursionError as exc:  # orjson stops at 1024 levels; kept in case a parser recurses
        raise ValueError("the JSON is nested too deeply") from exc


def parse_v1(body: Any, limits: RequestLimits, fields: list[dict[str, Any]] | None = None) -> list[str]:
    """The texts of a V1 request body, or InvalidInput saying what is wrong with it; with ``fields`` given,
    instance objects may carry fields beside "text" (feature columns), appended to it one dict per text."""
    if isinstance(body, bytes):  # a body KServe left undecoded (a content type other than JSON's)
        try:
            body = _loads(body)
        except ValueError as exc:
            raise InvalidInput(f"the body is not valid JSON ({exc}); send {{\"instances\": [\"text\", ...]}}") from exc
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


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{where} must be true or false, got {json.dumps(value, default=str)[:80]}")
    return value


def requested_outputs(request: InferRequest) -> list[tuple[str, bool]]:
    """The outputs a V2 request asks for, in its order, each with whether it goes as binary data (the
    output's ``binary_data`` parameter, else the request's ``binary_data_output``, else JSON)."""
    parameters = request.parameters if isinstance(request.parameters, dict) else {}
    default = _flag(parameters.get("binary_data_output", False), 'the request parameter "binary_data_output"')
    if not request.request_outputs:
        return [(name, default) for name in OUTPUTS]
    out: list[tuple[str, bool]] = []
    for wanted in request.request_outputs:
        if wanted.name not in OUTPUTS:
            raise InvalidInput(f'unknown output "{wanted.name}"; this model has outputs {list(OUTPUTS)}')
        if any(name == wanted.name for name, _ in out):
            raise InvalidInput(f'output "{wanted.name}" is requested twice')
        params = wanted.parameters or {}
        if not isinstance(params, dict):
            raise InvalidInput(f'the parameters of output "{wanted.name}" must be an object')
        out.append((wanted.name, _flag(params.get("binary_data", default),
                                       f'the parameter "binary_data" of output "{wanted.name}"')))
    return out


def _bytes_elements(raw: bytes, name: str, max_batch: int) -> list[str]:
    """A BYTES tensor's elements (each a 4-byte little-endian length, then that many bytes) as texts."""
    texts: list[str] = []
    offset = 0
    while offset < len(raw):
        if len(texts) >= max_batch:
            raise InvalidInput(f'input "{name}" holds more than {max_batch} texts; at most {max_batch} per request, '
                               "split the batch")
        if offset + 4 > len(raw):
            raise InvalidInput(f'input "{name}": element {len(texts)} has a length prefix of {len(raw) - offset} '
                               "bytes; BYTES elements are a 4-byte little-endian length followed by that many bytes")
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise InvalidInput(f'input "{name}": element {len(texts)} declares {length} bytes but only '
                               f"{len(raw) - offset} remain in its binary data")
        try:
            texts.append(raw[offset:offset + length].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidInput(f'input "{name}"[{len(texts)}] is not valid UTF-8 ({exc.reason} at byte {exc.start})') from exc
        offset += length
    return texts


def parse_binary_request(body: bytes, header_length: str | None, model_name: str, limits: RequestLimits) -> InferRequest:
    """A V2 request sent with binary tensor data (the Open Inference Protocol's binary extension): a JSON
    header of ``Inference-Header-Content-Length`` bytes, then each input's ``binary_data_size`` bytes.
    Anything malformed is InvalidInput naming the part."""
    header_name = "Inference-Header-Content-Length"
    if header_length is None:
        raise InvalidInput(f"the body is not JSON and has no {header_name} header; send a JSON V2 request, or "
                           "binary tensor data after a JSON header of that many bytes")
    if not header_length.strip().isascii() or not header_length.strip().isdigit():
        raise InvalidInput(f"the {header_name} header must be the JSON header's size in bytes (an integer), "
                           f"got {header_length[:40]!r}")
    json_length = int(header_length.strip())
    if json_length > len(body):
        raise InvalidInput(f"the {header_name} header says {json_length} bytes but the body has {len(body)}")
    try:
        header = _loads(body[:json_length])
    except ValueError as exc:
        raise InvalidInput(f"the JSON header (the first {json_length} bytes of the body) is not valid JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise InvalidInput(f"the JSON header must be an object with \"inputs\", got {type(header).__name__}")
    inputs = header.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInput('the JSON header needs a non-empty "inputs" list')
    offset = json_length
    tensors: list[InferInput] = []
    for i, spec in enumerate(inputs):
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or \
                not isinstance(spec.get("datatype"), str) or not isinstance(spec.get("shape"), list) or \
                not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in spec["shape"]):
            raise InvalidInput(f"inputs[{i}] needs a string name and datatype and a shape of non-negative integers")
        name, params = spec["name"], spec.get("parameters") or {}
        if not isinstance(params, dict):
            raise InvalidInput(f'the parameters of input "{name}" must be an object')
        if spec["datatype"] != "BYTES":
            raise InvalidInput(f'input "{name}" must have datatype BYTES (texts), got {spec["datatype"]}')
        if "data" in spec:
            data = spec["data"]
        else:
            size = params.get("binary_data_size")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise InvalidInput(f'input "{name}" has no "data" and no integer "binary_data_size" parameter')
            if offset + size > len(body):
                raise InvalidInput(f'input "{name}" declares {size} bytes of binary data but only '
                                   f"{len(body) - offset} remain in the body")
            data = _bytes_elements(body[offset:offset + size], name, limits.max_batch)
            offset += size
        params = {k: v for k, v in params.items() if k != "binary_data_size"}
        tensors.append(InferInput(name=name, shape=spec["shape"], datatype="BYTES", data=data, parameters=params))
    if offset != len(body):
        raise InvalidInput(f"the body has {len(body) - offset} bytes after the inputs' declared binary data")
    outputs = header.get("outputs")
    if outputs is not None and (not isinstance(outputs, list) or
                                not all(isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs)):
        raise InvalidInput('"outputs" must be a list of objects with a string "name"')
    parameters = header.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise InvalidInput('the request "parameters" must be an object')
    request_id = header.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput('the request "id" must be a string')
    return InferRequest(
        model_name=model_name, request_id=request_id, parameters=parameters, infer_inputs=tensors,
        request_outputs=[RequestedOutput(name=o["name"], parameters=o.get("parameters")) for o in outputs]
        if outputs else None,
    )


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


@dataclass(eq=False)
class _Job:
    """One admitted request: its texts go to the pool in chunks, all with the predictor it was admitted with."""

    batch: _Batch
    future: asyncio.Future
    state: tuple[Any, list[str], str]
    seq: int
    ends: list[int]  # cumulative characters after each text (the cost of a prefix of the texts)
    taken: int = 0  # texts handed to the pool
    parts: list[tuple[int, np.ndarray]] = field(default_factory=list)
    predicted: int = 0

    @property
    def remaining_chars(self) -> int:
        return self.ends[-1] - (self.ends[self.taken - 1] if self.taken else 0)


class TextClassifierModel(kserve.Model):
    """Loads a labelgate predictor (the champion, or a given model directory) and serves it over V1/V2.

    ``load`` can run again while serving (the V2 repository ``load`` endpoint): the new predictor is built
    first and swapped in whole, so requests never see a half-loaded model (a request finishes on the
    predictor it started with). ``unload`` drops the predictor: the model stays registered, not ready,
    until a ``load`` succeeds. Predictions run in a thread pool (:meth:`predict`).
    """

    def __init__(self, name: str, *, source: ModelSource, loader: PredictorLoader, limits: RequestLimits,
                 inference: InferenceLimits | None = None):
        super().__init__(name)
        self.source = source
        self.loader = loader
        self.limits = limits
        self.inference = inference or InferenceLimits()
        self._lock = threading.Lock()
        self._state: tuple[Any, list[str], str] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._waiting: list[_Job] = []  # admitted jobs with texts not yet handed to the pool
        self._pending = 0  # admitted requests not yet answered
        self._running = 0  # predictor calls in the pool
        self._running_large = 0  # of which over ``express_chars`` characters
        self._seq = itertools.count()
        self._pump_scheduled = False

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

    def unload(self) -> None:
        """Drop the predictor (requests already admitted finish on it); not ready until the next load."""
        with self._lock:
            self._state = None
            self.ready = False

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

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
            outputs = requested_outputs(payload)
            return _Batch("v2", parse_v2(payload, self.limits), request_id=payload.id, outputs=outputs)
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

    @staticmethod
    def _predict_texts(state: tuple[Any, list[str], str], texts: list[str],
                       fields: list[dict[str, Any]] | None = None) -> np.ndarray:
        predictor, classes, _ = state
        if fields and any(fields):  # feature columns beside the text (a V1 object's other fields)
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
        return probs

    def observe_batch(self, requests: int, texts: int) -> None:
        """Called once per predictor call (a hook for metrics)."""

    def observe_pending(self, pending: int) -> None:
        """Called when a request is admitted or answered, with the number in progress (a hook for metrics)."""

    async def predict(self, payload: _Batch, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Predict in the thread pool. Requests waiting at the same time share predictor calls, at most
        ``chunk_texts`` texts and about ``chunk_chars`` characters each; the request with the fewest
        characters left goes first, so a short request waits for one chunk, not for a large request.
        More than ``max_pending`` requests at once: :class:`Overloaded` (503 with Retry-After)."""
        state = self._state
        if state is None:
            raise ModelNotReady(self.name, "It is unloaded; load it with POST /v2/repository/models/<name>/load.")
        if self._pending >= self.inference.max_pending:
            raise Overloaded(self._pending, self.inference.retry_after_s)
        loop = asyncio.get_running_loop()
        job = _Job(payload, loop.create_future(), state, next(self._seq),
                   list(itertools.accumulate(len(t) + 1 for t in payload.texts)))
        self._pending += 1
        self.observe_pending(self._pending)
        self._waiting.append(job)
        if not self._pump_scheduled:  # once per loop iteration: requests parsed together are batched together
            self._pump_scheduled = True
            loop.call_soon(self._pump)
        try:
            return await job.future
        finally:
            self._pending -= 1
            self.observe_pending(self._pending)
            if job in self._waiting:  # cancelled before all its texts were handed out
                self._waiting.remove(job)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.inference.threads, thread_name_prefix="labelgate-predict")
        return self._pool

    def _take_chunk(self, max_chars: int) -> tuple[list[tuple[_Job, int, int]], int]:
        """The next predictor call's texts, (job, start, end) slices taken fewest remaining characters first,
        and their characters (at most ``max_chars`` unless one text is longer)."""
        state = self._waiting[0].state
        pieces: list[tuple[_Job, int, int]] = []
        texts = chars = 0
        for job in list(self._waiting):
            if job.state is not state:
                continue
            start = end = job.taken
            base = job.ends[start - 1] if start else 0
            while end < len(job.ends) and texts < self.inference.chunk_texts and \
                    (texts == 0 or chars + job.ends[end] - base <= max_chars):
                end += 1
                texts += 1
            chars += (job.ends[end - 1] if end else 0) - base
            if end > start:
                pieces.append((job, start, end))
                job.taken = end
            if job.taken == len(job.ends):
                self._waiting.remove(job)
            else:
                break  # the chunk is full
        return pieces, chars

    def _pump(self) -> None:
        self._pump_scheduled = False
        loop = asyncio.get_running_loop()
        limits = self.inference
        while self._waiting and self._running < limits.threads:
            self._waiting.sort(key=lambda j: (j.remaining_chars, j.seq))
            # The last free thread (of two or more) is kept for short work.
            express = limits.threads > 1 and self._running_large >= limits.threads - 1
            if express and self._waiting[0].remaining_chars > limits.express_chars:
                break
            pieces, chars = self._take_chunk(limits.express_chars if express else limits.chunk_chars)
            large = chars > limits.express_chars
            texts = [t for job, start, end in pieces for t in job.batch.texts[start:end]]
            fields = [f for job, start, end in pieces
                      for f in (job.batch.fields or [{}] * len(job.batch.texts))[start:end]]
            self.observe_batch(len(pieces), len(texts))
            self._running += 1
            self._running_large += large
            call = loop.run_in_executor(self._executor(), self._predict_texts, pieces[0][0].state, texts, fields)
            call.add_done_callback(functools.partial(self._chunk_done, pieces, large))

    def _chunk_done(self, pieces: list[tuple[_Job, int, int]], large: bool, call: asyncio.Future) -> None:
        self._running -= 1
        self._running_large -= large
        error = call.exception() if not call.cancelled() else asyncio.CancelledError()
        offset = 0
        for job, start, end in pieces:
            rows = slice(offset, offset + end - start)
            offset = rows.stop
            if job.future.done():  # cancelled, or failed in another chunk
                continue
            if error is not None:
                job.future.set_exception(error)
                if job in self._waiting:
                    self._waiting.remove(job)
                continue
            job.parts.append((start, call.result()[rows]))
            job.predicted += end - start
            if job.predicted == len(job.ends):
                job.parts.sort(key=lambda part: part[0])
                probs = job.parts[0][1] if len(job.parts) == 1 else np.concatenate([p for _, p in job.parts])
                job.future.set_result({"batch": job.batch, "probs": probs, "classes": job.state[1],
                                       "version": job.state[2]})
        self._pump()

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
        tensors = {
            "label": lambda: InferOutput(name="label", shape=[len(labels)], datatype="BYTES", data=labels),
            "probabilities": lambda: InferOutput(name="probabilities", shape=[len(labels), len(classes)],
                                                 datatype="FP32", data=probs.astype(np.float32).reshape(-1).tolist()),
        }
        return InferResponse(
            response_id=batch.request_id or str(uuid.uuid4()),
            model_name=self.name,
            model_version=result["version"],
            infer_outputs=[tensors[name]() for name, _ in batch.outputs],
            parameters={"classes": json.dumps(classes)},
            requested_outputs=[RequestedOutput(name, {"binary_data": binary}) for name, binary in batch.outputs],
        )
