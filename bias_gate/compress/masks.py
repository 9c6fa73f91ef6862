"""Pruning masks: which entries of a weight matrix become zero.

Every function returns a boolean tensor shaped like the weight, ``True`` where the
weight is pruned (set to zero). Counts are exact: ties are broken by position, never
by pruning more.
"""

from __future__ import annotations

import math

import torch


def count_for(numel: int, sparsity: float) -> int:
    """How many of ``numel`` weights a per-matrix target ``sparsity`` prunes:
    ``round(sparsity * numel)``."""
    return round(sparsity * numel)


def random_mask(shape: torch.Size, sparsity: float, generator: torch.Generator) -> torch.Tensor:
    """Exactly ``round(sparsity * numel)`` positions, drawn uniformly without replacement
    from ``generator`` (so a seed reproduces the mask)."""
    numel = math.prod(shape)
    chosen = torch.randperm(numel, generator=generator)[: count_for(numel, sparsity)]
    mask = torch.zeros(numel, dtype=torch.bool)
    mask[chosen] = True
    return mask.view(shape)


def smallest_mask(score: torch.Tensor, sparsity: float) -> torch.Tensor:
    """The ``round(sparsity * numel)`` smallest entries of ``score`` over the whole matrix:
    one threshold per matrix (every pruned score <= every kept score)."""
    flat = score.reshape(-1)
    order = torch.argsort(flat, stable=True)
    mask = torch.zeros_like(flat, dtype=torch.bool)
    mask[order[: count_for(flat.numel(), sparsity)]] = True
    return mask.view(score.shape)


def row_mask(score: torch.Tensor, sparsity: float) -> torch.Tensor:
    """In each output row (dim 0), the ``floor(in_features * sparsity)`` smallest scores."""
    per_row = int(score.shape[1] * sparsity)
    order = torch.argsort(score, dim=1, stable=True)
    mask = torch.zeros_like(score, dtype=torch.bool)
    mask.scatter_(1, order[:, :per_row], True)
    return mask


def n_m_mask(score: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """In each block of ``m`` consecutive inputs of each row, the ``n`` smallest scores.

    Raises ``ValueError`` when the input dimension is not a multiple of ``m``.
    """
    rows, cols = score.shape
    if cols % m:
        raise ValueError(f"input dimension {cols} is not a multiple of M={m}")
    blocks = score.reshape(rows, cols // m, m)
    order = torch.argsort(blocks, dim=2, stable=True)
    mask = torch.zeros_like(blocks, dtype=torch.bool)
    mask.scatter_(2, order[:, :, :n], True)
    return mask.reshape(rows, cols)
