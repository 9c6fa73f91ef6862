"""The dense no-op: the model unchanged (null runs, sparsity-0 baselines, tests)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from pydantic import field_validator

from bias_gate.compress.base import CompressionContext, CompressionResult, CompressorOptions


class DenseOptions(CompressorOptions):
    """Options of ``dense``: ``sparsity`` may only be 0 (kept for symmetric configs)."""

    sparsity: float = 0.0
    seed: int = 0

    @field_validator("sparsity")
    @classmethod
    def _zero(cls, value: float) -> float:
        if value != 0.0:
            raise ValueError("method dense changes nothing; sparsity must be 0 (or left out)")
        return value


class DenseCompressor:
    """Returns the model unchanged, with its measured sparsity."""

    Options: ClassVar[type[DenseOptions]] = DenseOptions
    cacheable: ClassVar[bool] = False
    #: Never changes the model it is given: no copy is made for it.
    needs_copy: ClassVar[bool] = False

    def fingerprint_inputs(self, options: DenseOptions, context: CompressionContext) -> list[Any]:
        """Nothing besides the options determines the result."""
        return []

    def runs_as_gguf(self, options: DenseOptions) -> bool:
        """The dense model itself: llama.cpp runs it as its F32 GGUF."""
        return True

    def compress(
        self, model: torch.nn.Module, options: DenseOptions, context: CompressionContext
    ) -> CompressionResult:
        return CompressionResult.measured(model, 0.0, ["dense: weights unchanged"])
