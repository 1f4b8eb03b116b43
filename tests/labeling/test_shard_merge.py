"""Merging the label-matrix shards of the pipeline's fan-out: order, tiling and LF agreement are checked."""

import numpy as np
import pytest

from labelgate.errors import LabelingError
from labelgate.labeling.step import merge_shards, shard_indices


def _shard(tmp_path, index, start, stop, names=("a", "b"), failures=None):
    path = tmp_path / f"s{index}.npy"
    np.save(path, np.full((stop - start, len(names)), index, dtype=np.int8))
    return str(path), {"shard": index, "start": start, "stop": stop, "lf_names": list(names),
                       "failures": failures or {}}


def test_shards_merge_in_shard_order_whatever_order_they_arrive(tmp_path):
    parts = [_shard(tmp_path, 1, 2, 5, failures={"a": 1}), _shard(tmp_path, 0, 0, 2, failures={"a": 2})]
    merged = merge_shards([p for p, _ in parts], [m for _, m in parts])
    assert merged.matrix[:, 0].tolist() == [0, 0, 1, 1, 1]
    assert merged.lf_names == ["a", "b"] and merged.failures == {"a": 3}


def test_shards_from_different_lfs_are_refused(tmp_path):
    parts = [_shard(tmp_path, 0, 0, 2), _shard(tmp_path, 1, 2, 4, names=("a", "c"))]
    with pytest.raises(LabelingError, match="different LFs"):
        merge_shards([p for p, _ in parts], [m for _, m in parts])


def test_a_missing_shard_is_refused(tmp_path):
    parts = [_shard(tmp_path, 0, 0, 2), _shard(tmp_path, 2, 4, 6)]
    with pytest.raises(LabelingError, match="do not tile the rows"):
        merge_shards([p for p, _ in parts], [m for _, m in parts])


def test_shard_indices():
    assert shard_indices(3) == [0, 1, 2]
    with pytest.raises(LabelingError):
        shard_indices(0)
