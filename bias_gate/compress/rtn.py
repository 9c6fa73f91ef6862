"""In-house round-to-nearest weight fake-quantization (a cross-check and a fallback
for torchao): weights are quantized and immediately dequantized, so the model runs in
its float dtype with exactly the values an integer kernel would see."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from pydantic import Field

from bias_gate.compress.base import CompressionContext, CompressionResult, CompressorOptions
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
    each row (the whole row when ``None``) and mapped back to floats.

    Symmetric: q in [-2^(b-1), 2^(b-1) - 1], scale = max|w| / (2^(b-1) - 1).
    Asymmetric: q in [0, 2^b - 1], scale = (max - min) / (2^b - 1), zero = round(-min/scale).
    """
    rows, cols = weight.shape
    size = group_size or cols
    if cols % size:
        raise ValueError(f"input dimension {cols} is not a multiple of group_size {size}")
    w = weight.detach().float().reshape(rows, cols // size, size)
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        scale = (w.abs().amax(dim=2, keepdim=True) / qmax).clamp(min=1e-12)
        q = torch.clamp(torch.round(w / scale), -qmax - 1, qmax)
        out = q * scale
    else:
        qmax = 2**bits - 1
        low = w.amin(dim=2, keepdim=True).clamp(max=0)
        high = w.amax(dim=2, keepdim=True).clamp(min=0)
        scale = ((high - low) / qmax).clamp(min=1e-12)
        zero = torch.round(-low / scale)
        q = torch.clamp(torch.round(w / scale) + zero, 0, qmax)
        out = (q - zero) * scale
    return out.reshape(rows, cols).to(weight.dtype)


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
            module.weight.data.copy_(
                fake_quantize(module.weight, options.bits, options.group_size, options.symmetric)
            )
        kind = "symmetric" if options.symmetric else "asymmetric"
        group = options.group_size or "row"
        return CompressionResult.measured(
            model, None, [f"rtn int{options.bits} {kind} fake-quant, group {group}; float storage"]
        )
