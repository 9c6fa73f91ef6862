"""bias-gate plug-in: weight-only quantization of the decoder projections by optimum-quanto.

Registered as method ``quanto`` through the ``bias_gate.compressors`` entry point.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from pydantic import Field

from bias_gate.compress.base import CompressionContext, CompressionResult, CompressorOptions
from bias_gate.compress.pruning import Projection
from bias_gate.compress.targets import PROJECTIONS, projection_linears
from bias_gate.fingerprint import library_versions


class QuantoOptions(CompressorOptions):
    """Options of ``quanto``: ``weights`` (int8 or int4 weight-only); ``targets``
    (projections quantized, default all seven); ``seed`` (unused)."""

    weights: Literal["int8", "int4"] = "int8"
    targets: tuple[Projection, ...] = Field(PROJECTIONS, min_length=1)
    seed: int = 0


def _quanto() -> Any:
    from optimum import quanto

    return quanto


class QuantoCompressor:
    """Quantize the targeted projections with ``optimum.quanto.quantize`` and freeze them."""

    Options: ClassVar[type[QuantoOptions]] = QuantoOptions
    cacheable: ClassVar[bool] = False

    def fingerprint_inputs(self, options: QuantoOptions, context: CompressionContext) -> list[Any]:
        """The optimum-quanto version: its kernels compute the quantized weights."""
        return [library_versions(("optimum-quanto",))]

    def compress(
        self, model: torch.nn.Module, options: QuantoOptions, context: CompressionContext
    ) -> CompressionResult:
        quanto = _quanto()
        names = list(projection_linears(model, options.targets))
        dtype = {"int8": quanto.qint8, "int4": quanto.qint4}[options.weights]
        quanto.quantize(model, weights=dtype, include=names)
        quanto.freeze(model)
        version = library_versions(("optimum-quanto",))["optimum-quanto"]
        note = f"optimum-quanto {version} {options.weights} weight-only"
        return CompressionResult.measured(model, None, [note])
