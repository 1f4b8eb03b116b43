import numpy as np
import pandas as pd
import pytest

from labelgate.errors import LabelingError
from labelgate.labeling import (
    ABSTAIN,
    LFApplier,
    keyword_lf,
    labeling_function,
    load_lfs,
    merge_label_matrices,
    shard_bounds,
)
from labelgate.labeling.matrix import check_label_matrix, from_sparse, to_sparse


@labeling_function()
def fragile(x):
    if x.text == "boom":
        raise ValueError("cannot label this")
    return 1 if "buy" in x.text else ABSTAIN


FRAME = pd.DataFrame({"text": ["buy now", "hello", "boom", "buy buy", "boom", "ok"]})


def test_lf_that_raises_is_an_error_naming_lf_and_row():
    with pytest.raises(LabelingError, match=r"'fragile' raised ValueError: cannot label this on row 2 \(text='boom'\)"):
        LFApplier([fragile], cardinality=2).apply(FRAME)


def test_fault_tolerant_mode_counts_failures_per_lf():
    applied = LFApplier([fragile], cardinality=2, fault_tolerant=True).apply_frame(FRAME)
    assert applied.failures == {"fragile": 2}
    assert applied.matrix[:, 0].tolist() == [1, -1, -1, 1, -1, -1]


def test_per_row_lfs_across_processes_match_one_process():
    frame = pd.DataFrame({"text": [f"buy {i}" if i % 3 else f"hi {i}" for i in range(300)]})
    lfs = [fragile, keyword_lf("hi", ["hi"], label=0, column="text")]
    one = LFApplier(lfs, cardinality=2, chunk_size=50).apply(frame)
    many = LFApplier(lfs, cardinality=2, chunk_size=50, n_jobs=2).apply(frame)
    np.testing.assert_array_equal(one, many)
    assert (one[:, 0] == 1).sum() == 200


def test_parquet_shards_merge_back_to_the_whole_matrix(tmp_path):
    frame = pd.DataFrame({"text": [f"buy {i}" if i % 2 else "hello" for i in range(103)]})
    frame.to_parquet(tmp_path / "data.parquet")
    applier = LFApplier([fragile, keyword_lf("hello", ["hello"], label=0, column="text")], cardinality=2, chunk_size=17)
    whole = applier.apply_parquet(tmp_path / "data.parquet").matrix
    parts = []
    for index in range(4):
        start, stop = shard_bounds(len(frame), 4, index)
        part = applier.apply_parquet(tmp_path / "data.parquet", start=start, stop=stop).matrix
        np.save(tmp_path / f"shard{index}.npy", part)
        parts.append(tmp_path / f"shard{index}.npy")
    merged = merge_label_matrices(parts)
    np.testing.assert_array_equal(merged, whole)
    np.testing.assert_array_equal(whole, applier.apply(frame))
    assert [shard_bounds(10, 3, i) for i in range(3)] == [(0, 4), (4, 7), (7, 10)]
    with pytest.raises(LabelingError, match="disagree"):
        merge_label_matrices([whole, whole[:, :1]])


def test_matrix_checks_and_sparse_round_trip():
    L = np.array([[0, -1, 2], [-1, -1, 1]])
    np.testing.assert_array_equal(from_sparse(to_sparse(L)), L)
    assert check_label_matrix(L, cardinality=3).dtype == np.int8
    with pytest.raises(LabelingError, match="below -1"):
        check_label_matrix(np.array([[0, -2]]))
    with pytest.raises(LabelingError, match="holds no votes"):
        check_label_matrix(np.full((3, 2), -1))
    with pytest.raises(LabelingError, match="at least 3"):
        check_label_matrix(L[:, :2], min_lfs=3)


def test_load_lfs_from_path_and_module(tmp_path, monkeypatch):
    lfs = load_lfs("examples/youtube_spam/lfs.py")
    assert len(lfs) >= 8 and len({lf.name for lf in lfs}) == len(lfs)
    (tmp_path / "my_lfs.py").write_text(
        "from labelgate.labeling import labeling_function\n"
        "@labeling_function()\ndef one(x):\n    return 1\n"
        "@labeling_function()\ndef two(x):\n    return 0\n"
        "LFS = [two]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [lf.name for lf in load_lfs("my_lfs")] == ["two"]
    with pytest.raises(LabelingError, match="not found"):
        load_lfs("nope/missing.py")
    (tmp_path / "empty_lfs.py").write_text("x = 1\n")
    with pytest.raises(LabelingError, match="defines no labeling functions"):
        load_lfs(str(tmp_path / "empty_lfs.py"))


def test_snorkel_applier_name_works_without_cardinality():
    from labelgate.labeling import PandasLFApplier

    L = PandasLFApplier([fragile]).apply(pd.DataFrame({"text": ["buy", "no"]}))
    assert L.tolist() == [[1], [-1]]
