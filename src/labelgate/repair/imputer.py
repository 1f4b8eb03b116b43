"""An AimNet-style imputer (Wu et al., MLSys 2020): each cell is predicted by attention over the row's other
attributes. Categorical values and numbers are embedded into one space (a value embedding, or a number
times a learned direction, plus an attribute embedding); a learned query per target attribute attends over
the row's present attributes; categorical targets score every value of their domain against the context
(including null, so structurally missing values are learned), continuous targets are regressed.
Trained on the cells believed clean; used as a repair signal and alone for nulls."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from labelgate.repair.table import EncodedTable

# Local token ids per categorical column: 0 = null, 1 = a value outside the kept vocabulary, 2.. = values.
NULL_TOKEN, OTHER_TOKEN = 0, 1


class _Network(nn.Module):
    def __init__(self, vocab_sizes: list[int], continuous: list[bool], dim: int, heads: int) -> None:
        super().__init__()
        self.n_attrs = len(vocab_sizes)
        self.heads, self.dim = heads, dim
        offsets = np.r_[0, np.cumsum(vocab_sizes)[:-1]]
        self.register_buffer("offsets", torch.as_tensor(offsets, dtype=torch.long))
        self.register_buffer("continuous", torch.as_tensor(continuous, dtype=torch.bool))
        total = int(sum(vocab_sizes))
        self.values_in = nn.Embedding(total, dim)
        self.values_out = nn.Embedding(total, dim)
        self.bias_out = nn.Embedding(total, 1)
        self.attr = nn.Embedding(self.n_attrs, dim)
        self.number_dir = nn.Parameter(torch.randn(self.n_attrs, dim) * 0.1)
        self.query = nn.Parameter(torch.randn(self.n_attrs, dim) * 0.1)
        self.target = nn.Embedding(self.n_attrs, dim)
        self.empty_key = nn.Parameter(torch.zeros(dim))  # an always-present slot: rows with no context
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))
        self.reg_w = nn.Parameter(torch.zeros(self.n_attrs, dim))
        self.reg_b = nn.Parameter(torch.zeros(self.n_attrs))
        for emb in (self.values_in, self.values_out, self.attr, self.target):
            nn.init.normal_(emb.weight, std=0.1)
        nn.init.zeros_(self.bias_out.weight)

    def context(self, tokens: torch.Tensor, numbers: torch.Tensor, present: torch.Tensor,
                targets: torch.Tensor) -> torch.Tensor:
        """Context vectors [B, T, dim] for target attributes ``targets`` (T of them) of each row."""
        batch = tokens.shape[0]
        embedded = self.values_in(tokens + self.offsets)
        numeric = numbers.unsqueeze(-1) * self.number_dir
        x = torch.where(self.continuous.view(1, -1, 1), numeric, embedded) + self.attr.weight
        x = torch.cat([x, self.empty_key.expand(batch, 1, -1)], dim=1)  # [B, A+1, d]
        head = self.dim // self.heads
        keys = self.key(x).view(batch, -1, self.heads, head)
        vals = self.value(x).view(batch, -1, self.heads, head)
        q = self.query[targets].view(-1, self.heads, head)  # [T, H, h]
        scores = torch.einsum("thk,bshk->bths", q, keys) / math.sqrt(head)  # [B, T, H, A+1]
        allowed = torch.cat([present, torch.ones(batch, 1, dtype=torch.bool)], dim=1)  # [B, A+1]
        allowed = allowed.unsqueeze(1).repeat(1, len(targets), 1)
        allowed[:, torch.arange(len(targets)), targets] = False  # a cell never sees itself
        scores = scores.masked_fill(~allowed.unsqueeze(2), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        ctx = torch.einsum("bths,bshk->bthk", weights, vals).reshape(batch, len(targets), self.dim)
        h = self.out(ctx) + self.target(targets)
        return h + self.mlp(h)

    def logits(self, h: torch.Tensor, target: int, size: int) -> torch.Tensor:
        ids = torch.arange(size) + self.offsets[target]
        return h @ self.values_out(ids).T + self.bias_out(ids).squeeze(-1)

    def regress(self, h: torch.Tensor, target: int) -> torch.Tensor:
        return h @ self.reg_w[target] + self.reg_b[target]


class AttentionImputer:
    """Fit on a table's clean cells; then predict distributions over a categorical column's codes, or
    numbers for a continuous column, from each row's other known cells."""

    def __init__(self, table: EncodedTable, *, dim: int = 64, heads: int = 4, max_categories: int = 2000,
                 seed: int = 0) -> None:
        self.table = table
        self.seed = seed
        self.token_of: list[np.ndarray] = []  # per column: code -> local token
        self.code_of: list[np.ndarray] = []  # per column: local token -> code (-1 for OTHER)
        self.mean = np.zeros(len(table.columns))
        self.scale = np.ones(len(table.columns))
        sizes, continuous = [], []
        for j, column in enumerate(table.columns):
            if column.kind == "continuous":
                self.mean[j] = np.nanmean(column.numbers)
                self.scale[j] = np.nanstd(column.numbers) or 1.0
                self.token_of.append(np.zeros(column.size, dtype=np.int64))
                self.code_of.append(np.array([0, -1]))
                sizes.append(2)
                continuous.append(True)
                continue
            counts = np.bincount(column.codes, minlength=column.size)
            counts[0] = 0
            keep = np.argsort(-counts, kind="stable")[:max_categories]
            keep = np.sort(keep[counts[keep] > 0])
            token_of = np.full(column.size, OTHER_TOKEN, dtype=np.int64)
            token_of[0] = NULL_TOKEN
            token_of[keep] = np.arange(len(keep)) + 2
            self.token_of.append(token_of)
            self.code_of.append(np.r_[0, -1, keep])
            sizes.append(len(keep) + 2)
            continuous.append(False)
        self.sizes = sizes
        self.is_continuous = continuous
        torch.manual_seed(seed)
        self.net = _Network(sizes, continuous, dim, heads)

    def _inputs(self, rows: np.ndarray, unknown: np.ndarray | None) -> tuple[torch.Tensor, ...]:
        tokens = np.stack([self.token_of[j][c.codes[rows]] for j, c in enumerate(self.table.columns)], axis=1)
        numbers = np.zeros(tokens.shape, dtype=np.float32)
        present = tokens != NULL_TOKEN
        for j, c in enumerate(self.table.columns):
            if c.kind == "continuous":
                value = (c.numbers[rows] - self.mean[j]) / self.scale[j]
                present[:, j] = ~np.isnan(value)
                numbers[:, j] = np.nan_to_num(value)
        if unknown is not None:
            present &= ~unknown[rows]
        return torch.as_tensor(tokens), torch.as_tensor(numbers), torch.as_tensor(present)

    def fit(self, rows: np.ndarray, unknown: np.ndarray | None = None, *, steps: int = 600, batch: int = 256,
            lr: float = 3e-3, dropout: float = 0.2) -> list[float]:
        """Train on ``rows``; cells marked in ``unknown`` (rows x columns) are neither inputs nor targets."""
        rng = np.random.default_rng(self.seed)
        optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
        all_targets = torch.arange(len(self.table.columns))
        losses = []
        self.net.train()
        for _ in range(steps):
            pick = rows[rng.integers(0, len(rows), min(batch, len(rows)))]
            tokens, numbers, present = self._inputs(pick, None)
            label_ok = torch.ones_like(present) if unknown is None else ~torch.as_tensor(unknown[pick])
            sources = present & label_ok & (torch.rand(present.shape) > dropout)
            h = self.net.context(tokens, numbers, sources, all_targets)
            loss = torch.zeros(())
            for j in range(len(self.table.columns)):
                ok = label_ok[:, j]
                if self.is_continuous[j]:
                    ok = ok & present[:, j]
                    if ok.any():
                        pred = self.net.regress(h[ok, j], j)
                        loss = loss + nn.functional.smooth_l1_loss(pred, numbers[ok, j])
                elif ok.any() and self.sizes[j] > 2:
                    logits = self.net.logits(h[ok, j], j, self.sizes[j])
                    loss = loss + nn.functional.cross_entropy(logits, tokens[ok, j])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
        self.net.eval()
        return losses

    @torch.no_grad()
    def token_log_proba(self, rows: np.ndarray, col: int, unknown: np.ndarray | None = None) -> np.ndarray:
        """log P(token | row's other known cells) over column ``col``'s local tokens: [rows, tokens]
        (``code_of[col]`` maps a token back to a code; OTHER gets -inf)."""
        parts = []
        for h in self._context(rows, col, unknown):
            logits = self.net.logits(h, col, self.sizes[col])
            logits[:, OTHER_TOKEN] = float("-inf")
            parts.append(torch.log_softmax(logits, dim=-1).numpy())
        return np.concatenate(parts) if parts else np.zeros((0, self.sizes[col]), dtype=np.float32)

    @torch.no_grad()
    def _context(self, rows: np.ndarray, col: int, unknown: np.ndarray | None, chunk: int = 8192):
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            tokens, numbers, present = self._inputs(part, unknown)
            yield self.net.context(tokens, numbers, present, torch.tensor([col]))[:, 0]

    @torch.no_grad()
    def log_proba(self, rows: np.ndarray, col: int, unknown: np.ndarray | None = None,
                  allow_null: bool = True) -> np.ndarray:
        """log P(code | row's other known cells) for every code of categorical column ``col``: [rows, size].
        Codes outside the kept vocabulary share the OTHER token's mass; null gets -inf unless allowed."""
        column = self.table.columns[col]
        out = np.full((len(rows), column.size), -np.inf, dtype=np.float32)
        kept = self.code_of[col][2:]
        at = 0
        for h in self._context(rows, col, unknown):
            logits = self.net.logits(h, col, self.sizes[col])
            if not allow_null:
                logits[:, NULL_TOKEN] = float("-inf")
            logits[:, OTHER_TOKEN] = float("-inf")
            logp = torch.log_softmax(logits, dim=-1).numpy()
            out[at:at + len(h), kept] = logp[:, 2:]
            if allow_null:
                out[at:at + len(h), 0] = logp[:, NULL_TOKEN]
            at += len(h)
        return out

    @torch.no_grad()
    def predict_number(self, rows: np.ndarray, col: int, unknown: np.ndarray | None = None) -> np.ndarray:
        parts = [self.net.regress(h, col).numpy() for h in self._context(rows, col, unknown)]
        values = np.concatenate(parts) if parts else np.array([])
        return values * self.scale[col] + self.mean[col]
