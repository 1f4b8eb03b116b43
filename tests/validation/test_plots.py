from labelgate.validation.plots import drift_png

REFERENCE = {"numeric": {"CONTENT:length": {"edges": [10.0, 50.0], "counts": [5, 10, 5]}},
             "lf_coverage": {"a": 0.3, "b": 0.2}, "class_balance": [0.4, 0.6]}
CURRENT = {"numeric": {"CONTENT:length": {"edges": [10.0, 50.0], "counts": [1, 4, 15]}},
           "lf_coverage": {"a": 0.0, "b": 0.25}, "class_balance": [0.7, 0.3]}


def test_drift_png_is_a_png():
    png = drift_png(REFERENCE, CURRENT)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_nothing_in_common_draws_nothing():
    assert drift_png({"numeric": {}}, {"numeric": {}}) is None
