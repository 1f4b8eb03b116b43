"""Serving a model trained with tabular feature columns: V1 instances carry them beside the text; a field the
model does not read, or an unusable value, is the client's mistake (4xx), never a server error."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from kserve.errors import InvalidInput

from labelgate.serving.loader import ModelSource
from labelgate.serving.model import TextClassifierModel
from labelgate.serving.settings import RequestLimits
from labelgate.training import load_predictor
from tests.training.test_tabular import _table, _train


@pytest.fixture(scope="module")
def feature_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("features") / "model"
    _train(("plan", "spend")).predictor.save(path)
    return path


def _serve(model_dir) -> TextClassifierModel:
    model = TextClassifierModel("m", source=ModelSource(model_dir=model_dir), loader=load_predictor,
                                limits=RequestLimits())
    model.load()
    return model


def test_v1_objects_carry_the_feature_columns(feature_model):
    test = _table(6, 3)
    model = _serve(feature_model)
    instances = [{"text": t, "plan": p, "spend": s} for t, p, s in zip(test["text"], test["plan"], test["spend"],
                                                                       strict=True)]
    instances[1].pop("spend")  # a field left out is a missing value
    answer, _ = asyncio.run(model({"instances": [*instances, "plain text"]}))
    got = np.array([[p["probabilities"][c] for c in ("no", "yes")] for p in answer["predictions"]])
    predictor = load_predictor(feature_model)
    spend = [s for s in test["spend"]]
    spend[1] = None
    expected = predictor.predict_proba([*test["text"], "plain text"],
                                       {"plan": [*test["plan"], None], "spend": [*spend, None]})
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # The features matter: the same text with another plan and spend is answered differently.
    assert not np.allclose(expected[0], predictor.predict_proba([test["text"][0]])[0])


@pytest.mark.parametrize(("instance", "message"), [
    ({"text": "a", "age": 3}, r"field\(s\) \['age'\] the model does not use"),
    ({"text": "a", "spend": "lots"}, r"spend must be a number or null, got 'lots'"),
    ({"plan": "pro"}, r"got keys \['plan'\]"),
])
def test_bad_feature_fields_are_refused_with_a_reason(feature_model, instance, message):
    with pytest.raises(InvalidInput, match=message):
        asyncio.run(_serve(feature_model)({"instances": [instance]}))


def test_a_text_only_model_refuses_extra_fields(tmp_path):
    _train(()).predictor.save(tmp_path / "model")
    with pytest.raises(InvalidInput, match=r"field\(s\) \['plan'\] but the model reads only the text"):
        asyncio.run(_serve(tmp_path / "model")({"instances": [{"text": "a", "plan": "pro"}]}))
