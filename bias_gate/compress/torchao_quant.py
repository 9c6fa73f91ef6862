"""Weight-only integer quantization through torchao (CPU paths that work with torch
2.13): ``int8_weight_only`` (one scale per output row) and ``int4_weight_only``
(grouped, through ``IntxWeightOnlyConfig``; torchao's plain int4 config needs a GPU
kernel). Only the seven decoder projections are quantized (embeddings and the tied LM
head stay as they are). Needs ``pip install pytest-bias-gate[quant]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

import torch
from pydantic import Field

from bias_gate.compress.base import CompressionContext, CompressionResult, CompressorOptions
from bias_gate.compress.targets import PROJECTIONS, Projection, projection_linears
from bias_gate.errors import BiasGateError
from bias_gate.fingerprint import library_versions

Scheme = Literal["int8_weight_only", "int4_weight_only"]


class TorchAOOptions(CompressorOptions):
    """Options of ``torchao``: ``scheme``; ``group_size`` (int4 only: inputs per scale);
    ``targets`` (projections quantized, default all seven)."""

    scheme: Scheme = "int8_weight_only"
    group_size: int = Field(32, ge=2)
    seed: int = 0
    targets: tuple[Projection, ...] = Field(PROJECTIONS, min_length=1)


def _torchao() -> Any:
    try:
        import torchao.quantization as quantization
    except ImportError:
        raise BiasGateError(
            "method torchao needs torchao: pip install pytest-bias-gate[quant]", key="method"
        ) from None
    return quantization


def _int8(quantization: Any, options: TorchAOOptions) -> Any:
    return quantization.Int8WeightOnlyConfig()


def _int4(quantization: Any, options: TorchAOOptions) -> Any:
    from torchao.quantization.granularity import PerGroup

    return quantization.IntxWeightOnlyConfig(
        weight_dtype=torch.int4,  # type: ignore[attr-defined]  # torch has it; its stubs do not
        granularity=PerGroup(options.group_size),
    )


_CONFIGS: dict[str, Callable[[Any, TorchAOOptions], Any]] = {
    "int8_weight_only": _int8,
    "int4_weight_only": _int4,
}


class TorchAOCompressor:
    """Quantize the targeted projections in place with torchao's ``quantize_``."""

    Options: ClassVar[type[TorchAOOptions]] = TorchAOOptions
    cacheable: ClassVar[bool] = False

    def fingerprint_inputs(self, options: TorchAOOptions, context: CompressionContext) -> list[Any]:
        """The torchao version: its kernels compute the quantized weights."""
        return [library_versions(("torchao",))]

    def compress(
        self, model: torch.nn.Module, options: TorchAOOptions, context: CompressionContext
    ) -> CompressionResult:
        quantization = _torchao()
        chosen = {id(m) for m in projection_linears(model, options.targets).values()}
        quantization.quantize_(
            model,
            _CONFIGS[options.scheme](quantization, options),
            filter_fn=lambda module, _fqn: id(module) in chosen,
        )
        version = library_versions(("torchao",))["torchao"]
        return CompressionResult.measured(model, None, [f"torchao {version} {options.scheme}"])
