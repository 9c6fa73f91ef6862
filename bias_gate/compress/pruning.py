"""What every pruning method shares: its options and how masks become zeros."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from pydantic import Field, field_validator, model_validator

from bias_gate.compress.base import CompressionResult, CompressorOptions
from bias_gate.compress.targets import PROJECTIONS, Projection, projection_linears

_PATTERN_RE = re.compile(r"^(\d+):(\d+)$")


def check_sparsity(value: float | None) -> float | None:
    """Validate a target sparsity: a fraction in [0, 1) (``None`` passes)."""
    if value is None:
        return value
    if not 0.0 <= value < 1.0:
        hint = " (a fraction, not a percent: 0.5 prunes half)" if value > 1 else ""
        raise ValueError(
            f"sparsity must be a fraction in [0, 1){hint}; got {value} "
            "(1.0 would remove every weight)"
        )
    return value


class PruningOptions(CompressorOptions):
    """Options every pruning method accepts.

    ``sparsity``: the fraction of each targeted weight matrix set to zero, in [0, 1).
    ``seed``: seeds every random draw. ``targets``: which projections of every decoder
    block are pruned (default all seven); a subset is reported as such, with the lower
    sparsity over all seven projections.
    """

    sparsity: float | None = Field(None, description="Fraction of weights set to zero, [0, 1).")
    seed: int = 0
    targets: tuple[Projection, ...] = Field(PROJECTIONS, min_length=1)

    @field_validator("sparsity")
    @classmethod
    def _fraction(cls, value: float | None) -> float | None:
        return check_sparsity(value)

    @field_validator("targets")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("targets must not repeat")
        return tuple(p for p in PROJECTIONS if p in value)

    @model_validator(mode="after")
    def _needs_sparsity(self) -> PruningOptions:
        if self.sparsity is None:
            raise ValueError("sparsity is required: the fraction of weights to prune, e.g. 0.5")
        return self

    @property
    def is_subset(self) -> bool:
        """True when the config prunes fewer than all seven projections on purpose."""
        return set(self.targets) != set(PROJECTIONS)

    @property
    def target(self) -> float:
        """The target sparsity as a float (validated present)."""
        assert self.sparsity is not None
        return self.sparsity


@dataclass(frozen=True)
class Pattern:
    """A sparsity pattern: unstructured (``n`` = ``m`` = 0) or N zeros in each M-block."""

    n: int
    m: int

    @property
    def structured(self) -> bool:
        return self.m > 0


def parse_pattern(text: str) -> Pattern:
    """``"unstructured"`` or ``"N:M"`` (0 < N < M), e.g. ``"2:4"``; ``ValueError`` else."""
    if text == "unstructured":
        return Pattern(0, 0)
    match = _PATTERN_RE.match(text)
    if not match or not 0 < int(match[1]) < int(match[2]):
        raise ValueError(f"pattern must be 'unstructured' or 'N:M' with 0 < N < M; got {text!r}")
    return Pattern(int(match[1]), int(match[2]))


class PatternPruningOptions(PruningOptions):
    """Pruning options with a sparsity ``pattern``: ``unstructured`` (default) or ``N:M``
    (exactly N zeros in each block of M consecutive inputs; sparsity is then N/M and may
    be left out)."""

    pattern: str = "unstructured"

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        parse_pattern(value)
        return value

    @model_validator(mode="before")
    @classmethod
    def _sparsity_from_pattern(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("pattern"), str):
            return data
        try:
            pattern = parse_pattern(data["pattern"])
        except ValueError:
            return data
        if not pattern.structured:
            return data
        implied = pattern.n / pattern.m
        given = data.get("sparsity")
        if given is None:
            return {**data, "sparsity": implied}
        if abs(float(given) - implied) > 1e-9:
            raise ValueError(
                f"pattern {data['pattern']} prunes {implied:g} of the weights; "
                f"sparsity {given} contradicts it (leave sparsity out)"
            )
        return data

    @property
    def parsed_pattern(self) -> Pattern:
        return parse_pattern(self.pattern)


MaskFunction = Callable[[str, torch.nn.Linear], torch.Tensor]


@torch.no_grad()
def apply_mask(module: torch.nn.Linear, mask: torch.Tensor) -> None:
    """Set the weights of ``module`` where ``mask`` is True to exactly zero."""
    module.weight.data[mask.to(module.weight.device)] = 0


@torch.no_grad()
def prune_each(model: torch.nn.Module, targets: tuple[str, ...], mask_for: MaskFunction) -> None:
    """Prune every targeted projection with the mask ``mask_for(name, module)`` returns."""
    for name, module in projection_linears(model, targets).items():
        apply_mask(module, mask_for(name, module))


def pruning_result(
    model: torch.nn.Module, options: PruningOptions, notes: list[str] | None = None
) -> CompressionResult:
    """The result of a pruning run: achieved sparsity over all seven projections (so a
    subset shows its real figure) and per layer; a note when only a subset was pruned."""
    result = CompressionResult.measured(model, options.target, notes)
    if options.is_subset:
        result.notes.append(
            f"only {', '.join(options.targets)} pruned; achieved sparsity over all seven "
            f"projections is {result.achieved_sparsity:.4f} for a target of {options.target:g}"
        )
    return result
