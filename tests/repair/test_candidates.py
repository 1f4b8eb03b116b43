import numpy as np
import pandas as pd

from labelgate.repair.candidates import CandidateFeaturizer, functional_dependencies
from labelgate.repair.table import CountIndex, encode
from labelgate.validation.constraints import parse_constraints


def _featurizer(frame, text):
    table = encode(frame, continuous_min_distinct=50)
    fds = functional_dependencies(parse_constraints(text), table)
    unknown = np.zeros((len(frame), frame.shape[1]), dtype=bool)
    return table, CandidateFeaturizer(table, fds, None, unknown, max_candidates=5, per_source=2)


def test_only_functional_dependencies_become_features():
    frame = pd.DataFrame({"a": ["x"], "b": ["y"], "c": [1]})
    table = encode(frame, continuous_min_distinct=50)
    fds = functional_dependencies(parse_constraints(
        "t1&t2&EQ(t1.a,t2.a)&IQ(t1.b,t2.b)\nt1&t2&EQ(t1.a,t2.a)&GT(t1.c,t2.c)\nt1&LT(t1.c,\"0\")"), table)
    assert [(fd.keys, fd.target, fd.line) for fd in fds] == [((0,), 1, 1)]


def test_violation_counts_for_the_target_and_the_key_side():
    # zip -> city. Row 3 has the minority city of zip 1.
    frame = pd.DataFrame({"zip": ["1", "1", "1", "1", "2", "2"], "city": ["a", "a", "a", "b", "c", "c"]})
    table, featurizer = _featurizer(frame, "t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.city,t2.city)")
    city = table.columns[1]
    code = {v: i for i, v in enumerate(city.values)}
    features = featurizer.featurize(1, np.array([3]))
    counts = {city.values[c]: v for c, v in zip(features.candidates[0], features.violations[0, :, 0], strict=True)
              if c >= 0}
    # As "b" it disagrees with the three other rows of zip 1; as "a" with none.
    assert np.isclose(counts["b"], np.log1p(3)) and counts["a"] == 0
    assert code["a"] in features.candidates[0]
    zip_column = table.columns[0]
    features = featurizer.featurize(0, np.array([4]))  # row 4: zip 2, city c
    counts = {zip_column.values[c]: v for c, v in zip(features.candidates[0], features.violations[0, :, 0],
                                                      strict=True) if c >= 0}
    assert counts["2"] == 0
    if "1" in counts:  # as zip 1, city c would disagree with all four rows of zip 1
        assert np.isclose(counts["1"], np.log1p(4))


def test_co_occurrence_leaves_the_cell_itself_out():
    frame = pd.DataFrame({"k": ["p", "p", "q"], "v": ["x", "y", "z"]})
    table, featurizer = _featurizer(frame, "")
    features = featurizer.featurize(1, np.array([2]))  # v=z with k=q: q appears only here
    assert np.all(features.cooc[0, :, 0, 0] == 0)  # no other row with k=q: no evidence for any value
    features = featurizer.featurize(1, np.array([0]))  # v=x with k=p: the other p row says y
    by_value = {table.columns[1].values[c]: p for c, p in zip(features.candidates[0], features.cooc[0, :, 0, 0],
                                                              strict=True) if c >= 0}
    assert by_value["y"] == 1.0 and by_value["x"] == 0.0


def test_count_index_finds_counts_and_zero_for_missing_keys():
    index = CountIndex(np.array([5, 3, 5, 9, 5]))
    assert index.lookup(np.array([5, 3, 4, 9, 100])).tolist() == [3, 1, 0, 1, 0]
