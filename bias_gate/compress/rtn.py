"""In-house round-to-nearest weight fake-quantization (a cross-check and a fallback
for torchao): weights are quantized and immediately dequantized, so the model runs in
its float dtype with exactly the values an integer kernel would see."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from pydantic import Field

from bias_gate.compress.base import CompressionContext, CompressionResult, CompressorOptions
from bias_gate.compress.int_pack import Packed, dequantize, pack, quantize
from bias_gate.compress.targets import PROJECTIONS, Projection, projection_linears


class RTNOptions(CompressorOptions):
    """Options of ``rtn``: ``bits`` (8 or 4); ``group_size`` (inputs sharing one scale;
    ``null`` = one scale per output row); ``symmetric`` (scale only) or asymmetric
    (scale and zero point); ``targets`` (projections quantized, default all seven)."""

    bits: Literal[4, 8] = 8
    group_size: int | None = Field(32, ge=2)
    symmetric: bool = True
    seed: int = 0
    targets: tuple[Projection, ...] = Field(PROJECTIONS, min_length=1)


def fake_quantize(weight: torch.Tensor, bits: int, group_size: int | None, symmetric: bool):
    """``weight`` rounded to ``bits``-bit integers per group of ``group_size`` inputs of
    each row (the whole row when ``None``) and mapped back to floats
    (:func:`bias_gate.compress.int_pack.quantize`, then ``dequantize``)."""
    return dequantize(quantize(weight, bits, group_size, symmetric))


class RTNCompressor:
    """Fake-quantize the targeted projections' weights with :func:`fake_quantize`."""

    Options: ClassVar[type[RTNOptions]] = RTNOptions
    cacheable: ClassVar[bool] = True

    def fingerprint_inputs(self, options: RTNOptions, context: CompressionContext) -> list[Any]:
        """Nothing besides the options determines the result."""
        return []

    @torch.no_grad()
    def compress(
        self, model: torch.nn.Module, options: RTNOptions, context: CompressionContext
    ) -> CompressionResult:
        for module in projection_linears(model, options.targets).values():
            codes = quantize(module.weight, options.bits, options.group_size, options.symmetric)
            module.weight.data.copy_(dequantize(codes))
        kind = "symmetric" if options.symmetric else "asymmetric"
        group = options.group_size or "row"
        return CompressionResult.measured(
            model, None, [f"rtn int{options.bits} {kind} fake-quant, group {group}; float storage"]
        )

    @torch.no_grad()
    def pack(self, name: str, dense: torch.Tensor, options: RTNOptions) -> Packed | None:
        """The integer codes of projection ``name`` (``...q_proj.weight``), computed again
        from its ``dense`` weights as :meth:`compress` computed them (the cache stores
        them; holding every projection's codes from compressing to storing would cost a
        quarter of the weights at int8); ``None`` for a projection not quantized."""
        if name.removesuffix(".weight").rsplit(".", 1)[-1] not in options.targets:
            return None
        return pack(quantize(dense, options.bits, options.group_size, options.symmetric))
