"""Achieved sparsity, measured on the weights as they are, and the shortfall check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from bias_gate.compress.targets import PROJECTIONS, projection_linears
from bias_gate.errors import BiasGateError

if TYPE_CHECKING:
    import torch

#: Largest allowed shortfall of achieved below target sparsity (a fraction: 0.5 points).
SHORTFALL_TOLERANCE = 0.005


class SparsityShortfallError(BiasGateError):
    """A compression pruned fewer weights than its config asked for."""


@dataclass(frozen=True)
class SparsityMeasure:
    """Zeros among the weights of some projections.

    ``fraction``: zeros / total over all measured weights (0 when there are none);
    ``per_layer``: the fraction per module name; ``zeros`` / ``total``: counts.
    """

    fraction: float
    zeros: int
    total: int
    per_layer: dict[str, float] = field(default_factory=dict)


def weight_values(module: torch.nn.Module) -> torch.Tensor:
    """The dense float values of a linear module's weight (dequantized when the weight
    is a quantized tensor subclass that can be dequantized)."""
    weight = cast("torch.Tensor", module.weight)  # a linear's weight, never a module
    dequantize = getattr(weight, "dequantize", None)
    if callable(dequantize) and type(weight).__name__ not in ("Parameter", "Tensor"):
        return dequantize()
    return weight.detach()


def measure_modules(modules: Mapping[str, torch.nn.Module]) -> SparsityMeasure:
    """Fraction of exactly-zero weights of ``modules`` (name -> linear), global and each."""
    zeros = total = 0
    per_layer: dict[str, float] = {}
    for name, module in modules.items():
        values = weight_values(module)
        layer_zeros = int((values == 0).sum())
        per_layer[name] = layer_zeros / values.numel()
        zeros += layer_zeros
        total += values.numel()
    return SparsityMeasure(zeros / total if total else 0.0, zeros, total, per_layer)


def measure_sparsity(
    model: torch.nn.Module, projections: Iterable[str] = PROJECTIONS
) -> SparsityMeasure:
    """Zeros among ``projections`` (default all seven) of every decoder block."""
    return measure_modules(projection_linears(model, tuple(projections)))


def check_shortfall(
    *,
    method: str,
    target: float,
    achieved_all: float,
    achieved_targeted: float,
    subset: bool,
    tolerance: float = SHORTFALL_TOLERANCE,
) -> None:
    """Raise :class:`SparsityShortfallError` when fewer weights were pruned than asked.

    ``achieved_targeted`` is over the weights the config targets and must always reach
    ``target`` (within ``tolerance``, a fraction). ``achieved_all`` is over all seven
    projections and must reach it too unless the config asked for a subset
    (``subset``): then the lower figure is reported, not hidden.
    """
    if target - achieved_targeted > tolerance:
        raise SparsityShortfallError(
            f"{method}: target sparsity {target:.4f} but only {achieved_targeted:.4f} of the "
            "targeted weights are zero; the method pruned less than asked"
        )
    if not subset and target - achieved_all > tolerance:
        raise SparsityShortfallError(
            f"{method}: target sparsity {target:.4f} but only {achieved_all:.4f} of all "
            f"projection weights ({', '.join(PROJECTIONS)}) are zero; to prune a subset on "
            "purpose, list it under 'targets'"
        )
