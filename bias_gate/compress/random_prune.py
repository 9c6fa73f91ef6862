"""Random pruning: a seeded, uniform, unstructured baseline."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from bias_gate.compress.base import CompressionContext, CompressionResult
from bias_gate.compress.masks import random_mask
from bias_gate.compress.pruning import PruningOptions, prune_each, pruning_result


class RandomOptions(PruningOptions):
    """Options of ``random``: ``sparsity``, ``seed``, ``targets`` (see PruningOptions)."""


class RandomCompressor:
    """Zero exactly ``round(sparsity * numel)`` weights of each targeted matrix, drawn
    uniformly from one ``torch.Generator`` seeded with ``seed`` (matrices in model order)."""

    Options: ClassVar[type[RandomOptions]] = RandomOptions
    cacheable: ClassVar[bool] = True

    def fingerprint_inputs(self, options: RandomOptions, context: CompressionContext) -> list[Any]:
        """Nothing besides the options determines the result."""
        return []

    def compress(
        self, model: torch.nn.Module, options: RandomOptions, context: CompressionContext
    ) -> CompressionResult:
        generator = torch.Generator().manual_seed(options.seed)
        prune_each(
            model,
            options.targets,
            lambda _name, module: random_mask(module.weight.shape, options.target, generator),
        )
        return pruning_result(model, options)
