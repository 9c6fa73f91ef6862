"""Magnitude pruning: the smallest |W|, one threshold per weight matrix, or N:M."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from bias_gate.compress.base import CompressionContext, CompressionResult
from bias_gate.compress.masks import n_m_mask, smallest_mask
from bias_gate.compress.pruning import PatternPruningOptions, prune_each, pruning_result


class MagnitudeOptions(PatternPruningOptions):
    """Options of ``magnitude``: ``sparsity``, ``seed`` (unused: deterministic),
    ``targets``, ``pattern`` (``unstructured`` or ``N:M``)."""


class MagnitudeCompressor:
    """Unstructured: zero the ``round(sparsity * numel)`` smallest |W| of each matrix (one
    threshold per matrix, as upstream Wanda's magnitude baseline). ``N:M``: the N smallest
    |W| in each block of M consecutive inputs of each row."""

    Options: ClassVar[type[MagnitudeOptions]] = MagnitudeOptions
    cacheable: ClassVar[bool] = True

    def fingerprint_inputs(
        self, options: MagnitudeOptions, context: CompressionContext
    ) -> list[Any]:
        """Nothing besides the options determines the result."""
        return []

    def compress(
        self, model: torch.nn.Module, options: MagnitudeOptions, context: CompressionContext
    ) -> CompressionResult:
        pattern = options.parsed_pattern

        def mask_for(_name: str, module: torch.nn.Linear) -> torch.Tensor:
            score = module.weight.detach().abs()
            if pattern.structured:
                return n_m_mask(score, pattern.n, pattern.m)
            return smallest_mask(score, options.target)

        prune_each(model, options.targets, mask_for)
        return pruning_result(model, options)
