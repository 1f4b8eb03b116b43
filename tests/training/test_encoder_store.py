"""The encoder's vector store: a rerun on the same texts embeds none of them again; a broken shard is
embedded again rather than failing the run; a read-only store only costs the next run its vectors."""

import numpy as np
import pytest

from labelgate.training import encoder


class CountingEncoder:
    """Stands in for the MiniLM forward pass: a vector from the text's length, and a count of texts embedded."""

    dim = 3

    def __init__(self):
        self.embedded = []

    def encode(self, texts):
        self.embedded += list(texts)
        return np.array([[len(t), 1.0, -len(t)] for t in texts], dtype=np.float32)


@pytest.fixture
def fake(monkeypatch):
    fake = CountingEncoder()
    monkeypatch.setattr(encoder, "load_encoder", lambda name="minilm", max_tokens=64: fake)
    monkeypatch.setattr(encoder, "_CACHE", {})
    monkeypatch.setattr(encoder, "_READ", set())
    return fake


def _new_process(monkeypatch):
    monkeypatch.setattr(encoder, "_CACHE", {})
    monkeypatch.setattr(encoder, "_READ", set())


def test_a_second_run_reads_the_vectors_from_the_store(fake, monkeypatch, tmp_path):
    first = encoder.cached_embeddings(["ab", "abc", "ab"], store=tmp_path)
    assert fake.embedded == ["ab", "abc"]
    shards = list(tmp_path.rglob("*.npz"))
    assert len(shards) == 1 and b"abc" not in shards[0].read_bytes()  # keys are digests, not texts
    _new_process(monkeypatch)
    assert encoder.missing(["abc", "abcd"], store=tmp_path) == ["abcd"]
    again = encoder.cached_embeddings(["ab", "abc", "abcd"], store=tmp_path)
    assert fake.embedded == ["ab", "abc", "abcd"]
    np.testing.assert_array_equal(again[:2], first[:2])
    # another token limit is another store folder
    encoder.cached_embeddings(["ab"], max_tokens=32, store=tmp_path)
    assert fake.embedded[-1] == "ab"


def test_a_broken_shard_is_embedded_again(fake, monkeypatch, tmp_path):
    encoder.cached_embeddings(["ab"], store=tmp_path)
    next(tmp_path.rglob("*.npz")).write_bytes(b"cut short")
    _new_process(monkeypatch)
    np.testing.assert_array_equal(encoder.cached_embeddings(["ab"], store=tmp_path), [[2.0, 1.0, -2.0]])
    assert fake.embedded == ["ab", "ab"]


def test_a_store_that_cannot_be_written_does_not_fail_the_run(fake, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    vectors = encoder.cached_embeddings(["ab", "c"], store=blocked)
    assert vectors.shape == (2, 3) and fake.embedded == ["ab", "c"]


def test_without_a_store_nothing_is_written(fake, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    encoder.cached_embeddings(["ab"])
    assert list(tmp_path.iterdir()) == []
