"""The KServe model in-process: request parsing (V1 and V2) and answers equal to the predictor's."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferInput, InferRequest

from labelgate.serving.loader import ModelSource
from labelgate.serving.model import TextClassifierModel, parse_v1, parse_v2
from labelgate.serving.settings import InferenceLimits, RequestLimits
from labelgate.training import load_predictor

LIMITS = RequestLimits(max_batch=4, max_text_chars=50, max_body_bytes=10_000)


def _v2(data: list, *, datatype: str = "BYTES", shape: list[int] | None = None, name: str = "text") -> InferRequest:
    tensor = InferInput(name=name, shape=shape if shape is not None else [len(data)], datatype=datatype, data=data)
    return InferRequest(model_name="m", infer_inputs=[tensor])


def test_v1_accepts_strings_and_text_objects() -> None:
    assert parse_v1({"instances": ["a", {"text": "b"}]}, LIMITS) == ["a", "b"]
    assert parse_v1(json.dumps({"instances": ["raw body"]}).encode(), LIMITS) == ["raw body"]


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "not valid JSON"),
    ({"instance": ["a"]}, "needs an \"instances\" list.*'instance'"),
    ({"instances": ["a"], "extra": 1}, "unknown field"),
    ({"instances": []}, "empty"),
    ({"instances": "a"}, "must be a list"),
    ({"instances": [1]}, r"instances\[0\] must be a string, got int"),
    ({"instances": [None]}, "got NoneType"),
    ({"instances": [{"txt": "a"}]}, "got keys \\['txt'\\]"),
    ({"instances": ["a"] * 5}, "at most 4 per request"),
    ({"instances": ["x" * 51]}, "51 characters; at most 50"),
    ([1, 2], "must be a JSON object"),
])
def test_v1_rejections_say_what_is_wrong(body: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_v1(body, LIMITS)


def test_v2_accepts_n_and_n_by_1_shapes() -> None:
    assert parse_v2(_v2(["a", "b"]), LIMITS) == ["a", "b"]
    assert parse_v2(_v2(["a", "b"], shape=[2, 1]), LIMITS) == ["a", "b"]


@pytest.mark.parametrize(("request_", "message"), [
    (_v2([1.0], datatype="FP32"), "datatype BYTES"),
    (_v2(["a"], shape=[2]), r"shape \[2\] but 1 values"),
    (_v2(["a", "b"], shape=[1, 2]), r"shape \[n\] or \[n, 1\]"),
    (_v2([5]), "must be a string, got int"),
    (_v2([]), "empty"),
    (InferRequest(model_name="m", infer_inputs=[]), "no inputs"),
])
def test_v2_rejections_say_what_is_wrong(request_: InferRequest, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_v2(request_, LIMITS)


def test_model_answers_v1_and_v2_with_the_predictor_probabilities(model_dirs: list[Path]) -> None:
    model = TextClassifierModel("spam", source=ModelSource(model_dir=model_dirs[0]), loader=load_predictor,
                                limits=RequestLimits())
    model.load()
    texts = ["free gift cards", "lovely song", ""]
    expected = load_predictor(model_dirs[0]).predict_proba(texts)

    v1, _ = asyncio.run(model({"instances": texts}))
    got = np.array([[p["probabilities"][c] for c in ("ham", "spam")] for p in v1["predictions"]])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert [p["label"] for p in v1["predictions"]] == [["ham", "spam"][i] for i in expected.argmax(axis=1)]

    v2, _ = asyncio.run(model(_v2(texts)))
    rest, _ = v2.to_rest()
    outputs = {o["name"]: o for o in rest["outputs"]}
    assert outputs["probabilities"]["shape"] == [3, 2]
    np.testing.assert_allclose(np.reshape(outputs["probabilities"]["data"], (3, 2)), expected, atol=1e-6)
    assert json.loads(rest["parameters"]["classes"]) == ["ham", "spam"]


def test_source_serves_the_champion_or_a_pinned_version(registry_uri: str, model_dirs: list[Path], profile: Path,
                                                         blessing: Path) -> None:
    from labelgate.registry.push import push_model

    for i in (0, 1):
        push_model(model_dir=model_dirs[i], profile_path=profile, blessing_path=blessing, registry_uri=registry_uri,
                   model_name="spam", run_key=f"runs/{i}", infra_validate=False)
    champion_dir, champion = ModelSource(registry_uri=registry_uri, registered_name="spam").resolve()
    pinned_dir, pinned = ModelSource(registry_uri=registry_uri, registered_name="spam", version="1").resolve()
    assert (champion, pinned) == ("2", "1")
    texts = ["free gift cards", "lovely song"]
    np.testing.assert_allclose(load_predictor(pinned_dir).predict_proba(texts),
                               load_predictor(model_dirs[0]).predict_proba(texts), atol=1e-5)
    np.testing.assert_allclose(load_predictor(champion_dir).predict_proba(texts),
                               load_predictor(model_dirs[1]).predict_proba(texts), atol=1e-5)


def test_concurrent_requests_share_predictor_calls_and_get_their_own_rows(model_dirs: list[Path]) -> None:
    calls: list[int] = []

    class Counting:
        def __init__(self, inner: object) -> None:
            self.inner, self.classes = inner, inner.classes

        def predict_proba(self, texts: list[str]) -> np.ndarray:
            calls.append(len(texts))
            return self.inner.predict_proba(texts)

    model = TextClassifierModel("spam", source=ModelSource(model_dir=model_dirs[0]),
                                loader=lambda d: Counting(load_predictor(d)), limits=RequestLimits(max_batch=64),
                                inference=InferenceLimits(max_pending=64))
    model.load()
    requests = [[f"text {i}", "free gift cards"] if i % 2 else [f"song {i}"] for i in range(40)]

    async def send_all() -> list:
        return await asyncio.gather(*(model({"instances": texts}) for texts in requests))

    answers = asyncio.run(send_all())
    assert sum(calls) == sum(len(r) for r in requests) and len(calls) < len(requests)
    assert max(calls) <= model.inference.chunk_texts
    reference = load_predictor(model_dirs[0])
    for texts, (answer, _) in zip(requests, answers, strict=True):
        got = [[p["probabilities"]["ham"], p["probabilities"]["spam"]] for p in answer["predictions"]]
        np.testing.assert_allclose(got, reference.predict_proba(texts), atol=1e-5)


def test_a_large_request_is_predicted_in_chunks_after_a_short_one_and_reassembled_in_order(
        model_dirs: list[Path]) -> None:
    calls: list[list[str]] = []

    class Recording:
        def __init__(self, inner: object) -> None:
            self.inner, self.classes = inner, inner.classes

        def predict_proba(self, texts: list[str]) -> np.ndarray:
            calls.append(list(texts))
            return self.inner.predict_proba(texts)

    model = TextClassifierModel("spam", source=ModelSource(model_dir=model_dirs[0]),
                                loader=lambda d: Recording(load_predictor(d)), limits=RequestLimits(),
                                inference=InferenceLimits(threads=1, chunk_chars=100, chunk_texts=64))
    model.load()
    big = [f"{'free gift ' * 6}{i}" for i in range(6)]  # 62 characters each: one per chunk of 100

    async def send_both() -> list:
        return await asyncio.gather(model({"instances": big}), model({"instances": ["short"]}))

    (big_answer, _), (short_answer, _) = asyncio.run(send_both())
    assert calls[0][0] == "short"  # the short request is not queued behind the large one
    assert len(calls) == len(big) and all(sum(len(t) + 1 for t in call) <= 100 for call in calls)
    reference = load_predictor(model_dirs[0])
    got = [[p["probabilities"]["ham"], p["probabilities"]["spam"]] for p in big_answer["predictions"]]
    np.testing.assert_allclose(got, reference.predict_proba(big), atol=1e-5)
    assert len(short_answer["predictions"]) == 1


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000,
                                 b'{"instances": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"])
def test_deeply_nested_json_is_a_client_error_on_every_body_path(raw: bytes) -> None:
    """A body KServe leaves undecoded (text/plain, say) and a binary request's JSON header are parsed here: a
    body nested 100,000 deep was a RecursionError (500) on both, where the JSON path said 400."""
    from labelgate.serving.model import parse_binary_request

    with pytest.raises(InvalidInput, match="not valid JSON"):
        parse_v1(raw, LIMITS)
    with pytest.raises(InvalidInput, match="not valid JSON"):
        parse_binary_request(raw, str(len(raw)), "m", LIMITS)


def test_a_json_string_body_is_refused_as_not_an_object_not_as_invalid_json() -> None:
    with pytest.raises(InvalidInput, match=r"must be a JSON object .*got str"):
        parse_v1("instances", LIMITS)  # what KServe hands over for the (valid JSON) body "instances"
    with pytest.raises(InvalidInput, match="NaN"):
        parse_v1(b'{"instances": [NaN]}', LIMITS)
