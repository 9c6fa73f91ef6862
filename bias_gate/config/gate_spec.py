"""The whole of model.yaml (:class:`GateSpec`): its sections, by name."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from bias_gate.config.base import Runtime, Strict
from bias_gate.config.model_spec import ModelSpec, default_model
from bias_gate.config.scoring_spec import ScoringSpec
from bias_gate.config.sections import (
    CompressionSpec,
    DataSpec,
    MeasureSpec,
    OutputSpec,
    PerplexitySpec,
    SequentialSpec,
    ThresholdsRef,
)


class GateSpec(Strict):
    """The whole of model.yaml."""

    model: ModelSpec = Field(default_factory=default_model)
    data: DataSpec = Field(default_factory=DataSpec)
    compressions: list[CompressionSpec] = Field(min_length=1)
    scoring: ScoringSpec = Field(default_factory=ScoringSpec)
    perplexity: PerplexitySpec = Field(default_factory=PerplexitySpec)
    sequential: SequentialSpec = Field(default_factory=SequentialSpec)
    measure: MeasureSpec = Field(default_factory=MeasureSpec)
    thresholds: ThresholdsRef = Field(default_factory=ThresholdsRef)
    output: OutputSpec = Field(default_factory=OutputSpec)
    source_path: Path | None = Field(None, exclude=True)
    source_lines: dict[str, int] = Field(default_factory=dict, exclude=True)

    @field_validator("compressions")
    @classmethod
    def _unique_names(cls, value: list[CompressionSpec]) -> list[CompressionSpec]:
        seen: set[str] = set()
        for spec in value:
            if spec.name in seen:
                raise ValueError(f"compression name {spec.name!r} is used twice")
            seen.add(spec.name)
        return value

    def compression(self, name: str) -> CompressionSpec:
        for spec in self.compressions:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def runtime_of(self, name: str) -> Runtime:
        """The runtime config ``name`` is answered in: its own, else ``model.runtime``."""
        return self.compression(name).runtime or self.model.runtime

    def line_of_compression(self, name: str) -> int | None:
        """The line in model.yaml where compression ``name`` starts."""
        return self.source_lines.get(name)
